//! Drill-down of one SmartNumber: the formula with the period's numbers filled in, the
//! monthly inputs behind it (source, who, when), and its trend with threshold bands;
//! for a quarter in progress, where it is expected to end (a dashed segment in its
//! 80 % band), and its unusual months marked on the trend.
use super::period_label;
use crate::api::{self, ApiError};
use crate::components::chart::{ChartSpec, EChart};
use crate::components::charts::{trend_chart_with, ForecastMark, Overlay, SeriesData, UnusualMark};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::status::StatusPill;
use crate::{time, Route, Session};
use qbr_shared::api::{Granularity, MetricValue, SmartNumber, SmartNumbersResponse, TrendResponse};
use qbr_shared::catalogue::metric_def;
use qbr_shared::expr::{EvalContext, Values};
use qbr_shared::insight::api::{Anomaly, ForecastResponse, NumberForecast, SeriesKind};
use qbr_shared::smartnumbers::smartnumber_def;
use qbr_shared::thresholds::Bands;
use qbr_shared::{format, Period};
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DrilldownProps {
    /// The SmartNumber's key (`key` is reserved by Yew).
    pub number: String,
    pub period: String,
}

struct Loaded {
    numbers: SmartNumbersResponse,
    /// The period's (aggregated) input values.
    values: Values,
    /// Each month's stored values.
    months: Vec<(String, Vec<MetricValue>)>,
    trend: Option<TrendResponse>,
    /// The quarter's forecast, while it is in progress.
    forecast: Option<ForecastResponse>,
    /// The unusual months of the trend's range (every series; the view picks its own).
    anomalies: Vec<Anomaly>,
}

async fn load((key, period): (String, String)) -> Result<Loaded, ApiError> {
    let numbers = api::smartnumbers(&period).await?;
    let parsed: Period = period
        .parse()
        .map_err(|e: qbr_shared::PeriodError| ApiError {
            code: Some(qbr_shared::ErrorCode::InvalidPeriod),
            message: e.to_string(),
        })?;
    let mut values = Values::new();
    let mut months = Vec::new();
    match parsed {
        Period::Month(_) => {}
        _ => {
            for a in api::quarterly(&period)
                .await
                .map(|q| q.metrics)
                .unwrap_or_default()
            {
                if let Some(v) = a.value {
                    values.insert(a.metric_name, v);
                }
            }
        }
    }
    for m in &numbers.monthly_periods {
        let month = api::monthly(m).await.map(|r| r.metrics).unwrap_or_default();
        if matches!(parsed, Period::Month(_)) {
            for v in &month {
                if let Some(x) = v.value {
                    values.insert(v.metric_name.clone(), x);
                }
            }
        }
        months.push((m.clone(), month));
    }
    // The trend: the last 8 quarters or 13 months up to the period.
    let (granularity, from, to) = match parsed {
        Period::Month(m) => (
            Granularity::Month,
            m.add_months(-12).to_string(),
            m.to_string(),
        ),
        Period::Quarter(q) => {
            let mut first = q;
            for _ in 0..7 {
                first = first.prev();
            }
            (Granularity::Quarter, first.to_string(), q.to_string())
        }
        Period::Year(y) => (
            Granularity::Quarter,
            format!("{}-Q1", y - 1),
            format!("{y}-Q4"),
        ),
    };
    let trend = api::trend(&from, &to, granularity, std::slice::from_ref(&key))
        .await
        .ok();
    // The extras: the chart is drawn without them when they fail.
    let forecast = match parsed {
        Period::Quarter(_) => api::forecast(&period)
            .await
            .ok()
            .filter(|f| f.months_elapsed < 3),
        _ => None,
    };
    let first_month = |p: &str| p.parse::<Period>().ok().map(|p| p.first_month());
    let anomalies = match (first_month(&from), parsed.last_month()) {
        (Some(a), b) => api::anomalies(&a.to_string(), &b.to_string())
            .await
            .map(|r| r.anomalies)
            .unwrap_or_default(),
        (None, _) => Vec::new(),
    };
    Ok(Loaded {
        numbers,
        values,
        months,
        trend,
        forecast,
        anomalies,
    })
}

fn formula_view(n: &SmartNumber, l: &Loaded) -> Html {
    let Some(def) = smartnumber_def(&n.key) else {
        return html! {};
    };
    let ctx = EvalContext {
        months: l.numbers.months_counted.max(1),
        working_hours: l.numbers.working_hours_per_tech,
    };
    let label = |k: &str| metric_def(k).map_or_else(|| k.to_string(), |d| d.label.to_string());
    let text = def.formula.to_text(&label);
    let filled = def.formula.filled_in(&l.values, ctx, &|k, v| {
        metric_def(k).map_or_else(
            || format::plain_number(v),
            |d| format::value(d.unit, Some(v)),
        )
    });
    html! {
        <div class="panel formula">
            <h2>{ "Formula" }</h2>
            <div class="formula-text">{ format!("{} = {}", n.label, text) }</div>
            <div class="formula-filled" id="formula-filled">
                { format!("= {filled} = {}", format::value(n.unit, n.value)) }
            </div>
            <div class="muted small">{ format!("m = {} month{} counted in this period; {} working hours per technician per month.", ctx.months, if ctx.months == 1 { "" } else { "s" }, format::plain_number(ctx.working_hours)) }</div>
            if let Some(reason) = &n.null_reason {
                <div class="na-reason">{ format!("N/A — {reason}") }</div>
            }
            <h2 class="spaced">{ "Thresholds" }</h2>
            <div id="drill-bands">
                { n.threshold.filter(|b| !b.is_empty()).map_or_else(
                    || "No threshold set.".to_string(),
                    |b| qbr_shared::alerts::describe_bands(&b, n.unit)) }
            </div>
            <div class="muted small">{ match def.better {
                qbr_shared::smartnumbers::Better::Higher => "Higher is better.",
                qbr_shared::smartnumbers::Better::Lower => "Lower is better.",
                qbr_shared::smartnumbers::Better::Range => "Best inside the green band; worse on either side.",
            } }</div>
            if let Some(prev) = n.previous.value {
                <h2 class="spaced">{ "Previous period" }</h2>
                <div>{ format!("{}: {}", period_label(&n.previous.period), format::value(n.unit, Some(prev))) }</div>
            }
        </div>
    }
}

fn inputs_view(n: &SmartNumber, l: &Loaded) -> Html {
    let inputs: Vec<&'static str> = smartnumber_def(&n.key)
        .map(|d| d.formula.inputs())
        .unwrap_or_default();
    html! {
        <div class="panel">
            <h2>{ "Inputs by month" }</h2>
            <div class="table-scroll">
            <table class="table">
                <thead><tr>
                    <th scope="col">{ "Input" }</th><th scope="col">{ "Month" }</th><th scope="col" class="num">{ "Value" }</th>
                    <th scope="col">{ "Source" }</th><th scope="col">{ "Entered by" }</th><th scope="col">{ "Updated" }</th>
                </tr></thead>
                <tbody>
                { for inputs.iter().map(|k| {
                    let def = metric_def(k);
                    let label = def.map_or(k.to_string(), |d| d.label.to_string());
                    let unit = def.map_or(qbr_shared::catalogue::Unit::Count, |d| d.unit);
                    let rows = l.months.iter().map(|(m, vals)| {
                        let v = vals.iter().find(|v| v.metric_name == *k);
                        html! {
                            <tr>
                                <td>{ &label }</td>
                                <td>{ period_label(m) }</td>
                                <td class="num">{ v.and_then(|v| v.value).map_or_else(|| html!{ <span class="missing">{ "missing" }</span> }, |x| html!{ { format::value(unit, Some(x)) } }) }</td>
                                <td>{ v.map_or(html!{ "—" }, |v| html!{ <span class={classes!("src", v.data_source.as_str())}>{ v.data_source.as_str() }</span> }) }</td>
                                <td>{ v.and_then(|v| v.entered_by.clone()).unwrap_or_else(|| "—".into()) }</td>
                                <td>{ v.map_or_else(|| "—".to_string(), |v| time::format_timestamp(&v.updated_at)) }</td>
                            </tr>
                        }
                    });
                    html! { <>{ for rows }</> }
                }) }
                </tbody>
            </table>
            </div>
        </div>
    }
}

/// The forecast of the quarter shown, as the chart draws it: from the last complete
/// quarter's value to the expected one. The quarter's value so far leaves the solid
/// line (it is not where the quarter ends).
fn forecast_mark(
    f: &NumberForecast,
    periods: &[String],
    values: &mut [Option<f64>],
    period: &str,
) -> Option<ForecastMark> {
    let (expected, low, high) = (f.expected?, f.low?, f.high?);
    let to = periods.iter().position(|p| p == period)?;
    values[to] = None;
    let (from, start) = (0..to)
        .rev()
        .find_map(|i| values[i].map(|v| (i, v)))
        .unwrap_or((to, expected));
    let short = |v: f64| match f.unit {
        qbr_shared::catalogue::Unit::Hours => format!("{} h", format::grouped(v, 2)),
        u => format::value(u, Some(v)),
    };
    Some(ForecastMark {
        from,
        start,
        to,
        expected,
        low,
        high,
        name: format!("Forecast (80 %: {}–{})", short(low), short(high)),
    })
}

/// The number's unusual months, at their month (or their quarter on a quarterly chart).
fn unusual_marks(
    key: &str,
    anomalies: &[Anomaly],
    periods: &[String],
    values: &[Option<f64>],
    granularity: Granularity,
) -> Vec<UnusualMark> {
    anomalies
        .iter()
        .filter(|a| a.kind == SeriesKind::SmartNumber && a.key == key)
        .filter_map(|a| {
            let at = match granularity {
                Granularity::Month => a.month.clone(),
                Granularity::Quarter => match a.month.parse::<Period>().ok()? {
                    Period::Month(m) => m.quarter().to_string(),
                    _ => return None,
                },
            };
            let index = periods.iter().position(|p| *p == at)?;
            let value = match granularity {
                Granularity::Month => a.value,
                Granularity::Quarter => values[index].unwrap_or(a.value),
            };
            Some(UnusualMark::of(a, index, value))
        })
        .collect()
}

fn trend_view(n: &SmartNumber, l: &Loaded, period: &str) -> Html {
    let Some(t) = &l.trend else { return html! {} };
    let Some(s) = t.series.first() else {
        return html! {};
    };
    let labels: Vec<String> = t.periods.iter().map(|p| period_label(p)).collect();
    let bands: Option<Bands> = s.threshold.or(n.threshold);
    let mut values = s.values.clone();
    let number_forecast = l
        .forecast
        .as_ref()
        .and_then(|f| f.numbers.iter().find(|x| x.key == n.key));
    let forecast = number_forecast
        .filter(|_| t.granularity == Granularity::Quarter)
        .and_then(|f| forecast_mark(f, &t.periods, &mut values, period));
    let unusual = unusual_marks(&n.key, &l.anomalies, &t.periods, &values, t.granularity);
    let notes: Vec<String> = unusual.iter().map(|u| u.text.clone()).collect();
    let forecast_note = forecast.as_ref().zip(number_forecast).map(|(m, f)| {
        let so_far = f
            .so_far
            .map(|v| format!(" So far {}.", format::value(f.unit, Some(v))))
            .unwrap_or_default();
        format!(
            "Expected at the end of {}: {} ({}), {}.{so_far}",
            period_label(period),
            format::value(f.unit, Some(m.expected)),
            m.name
                .trim_start_matches("Forecast (")
                .trim_end_matches(')'),
            crate::components::status::text(f.status).to_lowercase()
        )
    });
    let spec = ChartSpec::new(trend_chart_with(
        &labels,
        s.unit,
        vec![SeriesData {
            name: s.label.clone(),
            values,
            dashed: false,
        }],
        bands.as_ref(),
        Overlay { forecast, unusual },
    ));
    let title = match t.granularity {
        Granularity::Month => "Last 13 months",
        Granularity::Quarter => "Last 8 quarters",
    };
    html! {
        <div class="panel">
            <h2>{ title }</h2>
            <EChart id="drill-chart" {spec} label={format!("{} trend with green and yellow threshold bands", n.label)} />
            <div class="legend-note small muted">
                <span class="swatch green"></span>{ "green band " }
                <span class="swatch yellow"></span>{ "yellow band" }
                if forecast_note.is_some() { <span class="swatch forecast"></span>{ "forecast, 80 % range" } }
                if !notes.is_empty() { <span class="swatch unusual"></span>{ "unusual" } }
            </div>
            if let Some(text) = forecast_note { <p class="small drill-forecast" id="drill-forecast">{ text }</p> }
            if !notes.is_empty() {
                <ul class="small drill-unusual" id="drill-unusual">
                    { for notes.iter().map(|t| html! { <li>{ t.trim_start_matches("Unusual: ") }</li> }) }
                </ul>
            }
        </div>
    }
}

#[function_component(Drilldown)]
pub fn drilldown(props: &DrilldownProps) -> Html {
    let data = use_fetch((props.number.clone(), props.period.clone()), load);
    let org = use_context::<Session>()
        .map(|s| s.slug())
        .unwrap_or_default();
    let key = props.number.clone();
    let period = props.period.clone();
    html! {
        <div class="page drill">
            <Link<Route> to={Route::Dashboard { org, period: period.clone() }} classes="back">{ "← Dashboard" }</Link<Route>>
            { view_fetch("the SmartNumber", &data, |l| {
                let Some(n) = l.numbers.smartnumbers.iter().find(|n| n.key == key) else {
                    return html! { <div class="error-box">{ format!("Unknown SmartNumber {key}") }</div> };
                };
                html! {
                    <>
                        <div class="page-head">
                            <div>
                                <h1>{ &n.label }</h1>
                                <div class="meta">{ period_label(&period) }</div>
                            </div>
                            <div class="big-value">
                                <span class="card-value" id="drill-value">{ format::value(n.unit, n.value) }</span>
                                if n.value.is_some() { <StatusPill status={n.status} /> }
                            </div>
                        </div>
                        <div class="grid-2">
                            { formula_view(n, l) }
                            { trend_view(n, l, &period) }
                        </div>
                        { inputs_view(n, l) }
                    </>
                }
            }) }
        </div>
    }
}
