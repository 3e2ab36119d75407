//! Keeps derived values and SmartNumbers in step with their inputs. Called inside the
//! transaction of every write that changes inputs, so readers never see new inputs
//! with old results.
use super::metrics::{inputs_by_month, rows_for_months, set_calculated, MetricRow};
use super::numeric::{storable, VALUE_LIMIT};
use super::org::Org;
use super::smartnumbers;
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use qbr_shared::expr::Values;
use qbr_shared::values::{aggregate_inputs, average_monthly_expenses, derived_only, with_derived};
use qbr_shared::{smartnumbers as sn, Month, Period};
use std::collections::{BTreeMap, BTreeSet};

fn year_months(year: i32) -> Vec<Month> {
    Period::Year(year).months()
}

/// Inputs of every month of the given years, loaded in one query.
struct YearData {
    rows: Vec<MetricRow>,
    inputs: BTreeMap<Month, Values>,
}

impl YearData {
    async fn load(
        conn: &mut AsyncPgConnection,
        org: i32,
        years: &BTreeSet<i32>,
    ) -> QueryResult<YearData> {
        let months: Vec<Month> = years.iter().flat_map(|y| year_months(*y)).collect();
        let rows = rows_for_months(conn, org, &months).await?;
        let inputs = inputs_by_month(&rows);
        Ok(YearData { rows, inputs })
    }

    fn inputs_of(&self, months: &[Month]) -> Vec<&Values> {
        months.iter().filter_map(|m| self.inputs.get(m)).collect()
    }

    /// The previous calendar year's average monthly expenses, if that year is stored.
    fn prior_year_average(&self, year: i32) -> Option<f64> {
        average_monthly_expenses(&self.inputs_of(&year_months(year - 1)))
    }
}

/// After the inputs of `changed` months were written: recomputes their derived values
/// (and the next year's, whose prior-year average may have moved) and the SmartNumbers
/// of every month, quarter and year that contains a changed month. Returns those periods.
pub async fn after_inputs_changed(
    conn: &mut AsyncPgConnection,
    org: &Org,
    changed: &BTreeSet<Month>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    let years: BTreeSet<i32> = changed
        .iter()
        .flat_map(|m| [m.year() - 1, m.year(), m.year() + 1])
        .collect();
    let data = YearData::load(conn, org.id, &years).await?;
    let next_year: BTreeSet<Month> = changed
        .iter()
        .flat_map(|m| year_months(m.year() + 1))
        .collect();
    for month in changed.iter().chain(next_year.iter()) {
        store_derived(conn, org, &data, *month).await?;
    }
    let periods: BTreeSet<String> = changed
        .iter()
        .flat_map(|m| Period::enclosing(*m))
        .map(|p| p.to_string())
        .collect();
    for p in &periods {
        if let Ok(period) = p.parse::<Period>() {
            store_smartnumbers(conn, org, &data, period, now).await?;
        }
    }
    Ok(periods.into_iter().collect())
}

/// Recomputes the SmartNumbers of the given periods (e.g. the periods in progress,
/// whose `m` grows as months pass).
pub async fn refresh_periods(
    conn: &mut AsyncPgConnection,
    org: &Org,
    periods: &[Period],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let years: BTreeSet<i32> = periods
        .iter()
        .flat_map(|p| [p.first_month().year() - 1, p.first_month().year()])
        .collect();
    let data = YearData::load(conn, org.id, &years).await?;
    for p in periods {
        store_smartnumbers(conn, org, &data, *p, now).await?;
    }
    Ok(())
}

async fn store_derived(
    conn: &mut AsyncPgConnection,
    org: &Org,
    data: &YearData,
    month: Month,
) -> QueryResult<()> {
    let existing: Vec<&MetricRow> = data
        .rows
        .iter()
        .filter(|r| r.month() == Some(month))
        .collect();
    let empty = Values::new();
    let inputs = data.inputs.get(&month).unwrap_or(&empty);
    let mut derived = if inputs.is_empty() {
        Values::new()
    } else {
        derived_only(inputs, data.prior_year_average(month.year()))
    };
    derived.retain(|_, v| storable(*v, VALUE_LIMIT).is_some());
    if existing.is_empty() && derived.is_empty() {
        return Ok(());
    }
    set_calculated(conn, org.id, month, &existing, &derived).await
}

/// The values of a period: aggregated inputs with derived metrics recomputed.
pub fn period_values(month_inputs: &[&Values], prior_year_average: Option<f64>) -> Values {
    with_derived(&aggregate_inputs(month_inputs), prior_year_average)
}

async fn store_smartnumbers(
    conn: &mut AsyncPgConnection,
    org: &Org,
    data: &YearData,
    period: Period,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let inputs = data.inputs_of(&period.months());
    if inputs.is_empty() {
        return smartnumbers::delete_period(conn, org.id, &period.to_string()).await;
    }
    let values = period_values(
        &inputs,
        data.prior_year_average(period.first_month().year()),
    );
    let m = period.months_elapsed(org.current_month(now));
    let computed = sn::compute(&values, m, org.working_hours);
    smartnumbers::replace(conn, org.id, &period.to_string(), m, &computed).await
}
