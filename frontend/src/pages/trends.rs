//! Trends: one or more SmartNumbers over time, by month or quarter, over 1 y, 2 y or
//! everything, with an optional year-over-year overlay. One chart per unit.
use super::{event_checked, event_value, period_label};
use crate::api::{self, ApiError};
use crate::components::chart::{ChartSpec, EChart};
use crate::components::charts::{trend_chart, SeriesData};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::Session;
use qbr_shared::api::{Granularity, TrendResponse};
use qbr_shared::smartnumbers::{SmartCategory, SMARTNUMBERS};
use qbr_shared::{Month, Quarter};
use yew::prelude::*;

#[derive(Clone, Copy, PartialEq)]
enum Span {
    OneYear,
    TwoYears,
    All,
}

#[derive(Clone, PartialEq)]
struct Query {
    keys: Vec<String>,
    granularity: Granularity,
    from: String,
    to: String,
}

fn bounds(s: &Session, g: Granularity, span: Span, yoy: bool) -> Option<(String, String)> {
    let p = &s.periods;
    match g {
        Granularity::Month => {
            let to: Month = p.months.first()?.parse().ok()?;
            let oldest: Month = p.months.last()?.parse().ok()?;
            let mut from = match span {
                Span::OneYear => to.add_months(-11),
                Span::TwoYears => to.add_months(-23),
                Span::All => oldest,
            };
            if yoy {
                from = from.add_months(-12);
            }
            Some((from.to_string(), to.to_string()))
        }
        Granularity::Quarter => {
            let to: Quarter = p.quarters.first()?.parse().ok()?;
            let oldest: Quarter = p.quarters.last()?.parse().ok()?;
            let n = match span {
                Span::OneYear => 3,
                Span::TwoYears => 7,
                Span::All => 0,
            };
            let mut from = to;
            for _ in 0..n {
                from = from.prev();
            }
            if span == Span::All {
                from = oldest;
            }
            if yoy {
                for _ in 0..4 {
                    from = from.prev();
                }
            }
            Some((from.to_string(), to.to_string()))
        }
    }
}

async fn load(q: Query) -> Result<TrendResponse, ApiError> {
    api::trend(&q.from, &q.to, q.granularity, &q.keys).await
}

fn charts(t: &TrendResponse, yoy: bool) -> Html {
    let per_year = match t.granularity {
        Granularity::Month => 12,
        Granularity::Quarter => 4,
    };
    let skip = if yoy {
        per_year.min(t.periods.len())
    } else {
        0
    };
    let labels: Vec<String> = t
        .periods
        .iter()
        .skip(skip)
        .map(|p| period_label(p))
        .collect();
    let mut units: Vec<qbr_shared::catalogue::Unit> = Vec::new();
    for s in &t.series {
        if !units.contains(&s.unit) {
            units.push(s.unit);
        }
    }
    html! {
        <div class="charts">
        { for units.iter().enumerate().map(|(i, unit)| {
            let group: Vec<_> = t.series.iter().filter(|s| s.unit == *unit).collect();
            let mut lines = Vec::new();
            for s in &group {
                lines.push(SeriesData { name: s.label.clone(), values: s.values.iter().skip(skip).copied().collect(), dashed: false });
                if yoy {
                    let prev: Vec<Option<f64>> = (0..labels.len()).map(|j| s.values.get(j).copied().flatten()).collect();
                    lines.push(SeriesData { name: format!("{} (year before)", s.label), values: prev, dashed: true });
                }
            }
            let bands = if group.len() == 1 { group[0].threshold } else { None };
            let names: Vec<String> = group.iter().map(|s| s.label.clone()).collect();
            let spec = ChartSpec::new(trend_chart(&labels, *unit, lines, bands.as_ref()));
            html! {
                <div class="panel">
                    <h2>{ names.join(" · ") }</h2>
                    <EChart id={format!("trend-chart-{i}")} {spec} height={340} label={format!("Trend of {}", names.join(", "))} />
                </div>
            }
        }) }
        </div>
    }
}

#[function_component(Trends)]
pub fn trends() -> Html {
    let session = use_context::<Session>();
    let keys = use_state(|| {
        vec![
            "net_profit_pct".to_string(),
            "revenue_from_services_pct".to_string(),
        ]
    });
    let granularity = use_state(|| Granularity::Quarter);
    let span = use_state(|| Span::TwoYears);
    let yoy = use_state(|| false);
    let query = session
        .as_ref()
        .and_then(|s| bounds(s, *granularity, *span, *yoy))
        .map(|(from, to)| Query {
            keys: (*keys).clone(),
            granularity: *granularity,
            from,
            to,
        });
    let data = use_fetch(query.clone(), |q: Option<Query>| async move {
        match q {
            Some(q) if !q.keys.is_empty() => load(q).await.map(Some),
            _ => Ok(None),
        }
    });
    let toggle_key = |k: &'static str| {
        let keys = keys.clone();
        Callback::from(move |e: Event| {
            let mut v = (*keys).clone();
            if event_checked(&e) {
                if !v.iter().any(|x| x == k) {
                    v.push(k.to_string());
                }
            } else {
                v.retain(|x| x != k);
            }
            keys.set(v);
        })
    };
    let on_gran = {
        let g = granularity.clone();
        Callback::from(move |e: Event| {
            g.set(if event_value(&e) == "month" {
                Granularity::Month
            } else {
                Granularity::Quarter
            })
        })
    };
    let on_span = {
        let s = span.clone();
        Callback::from(move |e: Event| {
            s.set(match event_value(&e).as_str() {
                "1y" => Span::OneYear,
                "all" => Span::All,
                _ => Span::TwoYears,
            })
        })
    };
    let on_yoy = {
        let y = yoy.clone();
        Callback::from(move |e: Event| y.set(event_checked(&e)))
    };
    html! {
        <div class="page trends">
            <div class="page-head">
                <div><h1>{ "Trends" }</h1><div class="meta">{ "Pick SmartNumbers to compare; charts group numbers of the same unit." }</div></div>
                <div class="head-actions">
                    <label class="field inline"><span>{ "Granularity" }</span>
                        <select id="granularity" onchange={on_gran}>
                            <option value="quarter" selected={*granularity == Granularity::Quarter}>{ "Quarter" }</option>
                            <option value="month" selected={*granularity == Granularity::Month}>{ "Month" }</option>
                        </select>
                    </label>
                    <label class="field inline"><span>{ "Range" }</span>
                        <select id="range" onchange={on_span}>
                            <option value="1y" selected={*span == Span::OneYear}>{ "1 year" }</option>
                            <option value="2y" selected={*span == Span::TwoYears}>{ "2 years" }</option>
                            <option value="all" selected={*span == Span::All}>{ "All" }</option>
                        </select>
                    </label>
                    <label class="check"><input type="checkbox" id="yoy" checked={*yoy} onchange={on_yoy} />{ " Year-over-year overlay" }</label>
                </div>
            </div>
            <div class="trend-layout">
                <fieldset class="panel picker">
                    <legend>{ "SmartNumbers" }</legend>
                    { for SmartCategory::ALL.iter().map(|cat| html! {
                        <div class="picker-group">
                            <div class="picker-title">{ cat.label() }</div>
                            { for SMARTNUMBERS.iter().filter(|d| d.category == *cat).map(|d| html! {
                                <label class="check">
                                    <input type="checkbox" checked={keys.iter().any(|k| k == d.key)} onchange={toggle_key(d.key)} />
                                    { format!(" {}", d.label) }
                                </label>
                            }) }
                        </div>
                    }) }
                </fieldset>
                <div>
                    { view_fetch("the trends", &data, |t| match t {
                        Some(t) => charts(t, *yoy),
                        None => html! { <div class="empty">{ "Select at least one SmartNumber (and make sure there is data)." }</div> },
                    }) }
                </div>
            </div>
        </div>
    }
}
