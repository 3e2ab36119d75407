//! The sheet: a column per month and the Total, a section per category, a row per
//! metric, and the year before under the compared totals.
use super::cell::CellEvents;
use super::row::{MetricRow, PrevYearRow};
use super::state::{CellKey, Editing};
use qbr_shared::api::{DataSource, RangeResponse};
use qbr_shared::catalogue::MetricDef;
use qbr_shared::workbook::{self, COMPARED_WITH_PREVIOUS_YEAR, MONTH_HEADERS};
use std::collections::HashMap;
use std::rc::Rc;
use yew::prelude::*;

/// A year's values and, for the compared totals, the year before's (if it loaded).
#[derive(PartialEq)]
pub struct Sheet {
    pub this: RangeResponse,
    pub prev: Option<RangeResponse>,
}

/// A metric's values and sources, one per month (empty when it has none).
fn row_values(r: &RangeResponse, key: &str) -> (Vec<Option<f64>>, Vec<Option<DataSource>>) {
    r.metrics
        .iter()
        .find(|m| m.metric_name == key)
        .map(|m| (m.values.clone(), m.sources.clone()))
        .unwrap_or_else(|| (vec![None; r.months.len()], vec![None; r.months.len()]))
}

#[derive(Properties, PartialEq)]
pub struct ReviewTableProps {
    pub sheet: Rc<Sheet>,
    pub editing: Option<Editing>,
    pub pending: HashMap<CellKey, Option<f64>>,
    pub current_month: AttrValue,
    pub events: CellEvents,
}

#[function_component(ReviewTable)]
pub fn review_table(props: &ReviewTableProps) -> Html {
    let this = &props.sheet.this;
    let prev_year = this
        .months
        .first()
        .and_then(|m| m.get(..4))
        .and_then(|y| y.parse::<i32>().ok())
        .map(|y| y - 1);
    let rows = |def: &'static MetricDef| {
        let (values, sources) = row_values(this, def.key);
        let pending = props
            .pending
            .iter()
            .filter(|((key, _), _)| *key == def.key)
            .map(|((_, month), v)| (month.clone(), *v))
            .collect::<HashMap<_, _>>();
        let editing = props.editing.clone().filter(|e| e.key == def.key);
        let prev = props
            .sheet
            .prev
            .as_ref()
            .filter(|_| COMPARED_WITH_PREVIOUS_YEAR.contains(&def.key))
            .map(|p| row_values(p, def.key).0);
        html! {
            <>
                <MetricRow {def} months={this.months.clone()} {values} {sources} {pending} {editing}
                    current_month={props.current_month.clone()} events={props.events.clone()} />
                if let Some(values) = prev { <PrevYearRow {def} year={prev_year} {values} /> }
            </>
        }
    };
    html! {
        <div class="table-scroll review-scroll">
        <table class="table review" id="review-table">
            <thead><tr>
                <th scope="col" class="label-col"></th>
                { for MONTH_HEADERS.iter().map(|m| html! { <th scope="col" class="num">{ *m }</th> }) }
                <th scope="col" class="num">{ "Total" }</th>
            </tr></thead>
            <tbody>
            { for workbook::sections().into_iter().map(|sec| html! {
                <>
                    <tr class="section-row"><th colspan="14" scope="colgroup">{ sec.category.label() }</th></tr>
                    { for sec.rows.into_iter().map(rows) }
                </>
            }) }
            </tbody>
        </table>
        </div>
    }
}
