//! `GET /api/qbr/alerts`: red numbers, worsened numbers and flagged inputs of a period.
use super::metrics::default_period;
use super::response::{ok, ApiOk};
use super::smartnumbers::{judge, load_rows};
use super::{conn, organization, params};
use crate::error::AppResult;
use crate::store::{metrics, thresholds};
use qbr_shared::alerts::{flag_alert, smartnumber_alerts, Judged};
use qbr_shared::api::AlertsResponse;
use qbr_shared::smartnumbers::SMARTNUMBERS;
use salvo::prelude::*;

/// The alerts of `smartnumbers.md` for a period, plus data-quality flags of its inputs.
#[endpoint(
    tags("smartnumbers"),
    parameters(
        ("period" = Option<String>, Query, description = "YYYY-Qn, YYYY-MM or YYYY; default as for smartnumbers"),
        ("organization_id" = Option<i32>, Query, description = "Organization (default 1)"),
    )
)]
pub async fn get_alerts(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<AlertsResponse>> {
    let period = params::period(req, "period")?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let period = default_period(&mut conn, &org, period).await?;
    let previous = period.previous();
    let rows = load_rows(&mut conn, &org, &[period, previous]).await?;
    let bands = thresholds::bands_by_key(&mut conn, org.id).await?;
    let (p, pp) = (period.to_string(), previous.to_string());
    let value = |per: &str, key: &str| {
        rows.iter()
            .find(|r| r.period == per && r.kpi_name == key)
            .and_then(|r| r.value())
    };
    let judged: Vec<Judged<'_>> = SMARTNUMBERS
        .iter()
        .map(|d| {
            let v = value(&p, d.key);
            Judged {
                key: d.key,
                value: v,
                status: judge(d, &period, bands.get(d.key), v),
                previous_status: judge(d, &previous, bands.get(d.key), value(&pp, d.key)),
                bands: bands.get(d.key).copied(),
            }
        })
        .collect();
    let mut alerts = smartnumber_alerts(&p, &judged);
    let month_rows = metrics::rows_for_months(&mut conn, org.id, &period.months()).await?;
    alerts.extend(
        month_rows
            .iter()
            .filter_map(|r| flag_alert(&r.period, &r.metric_name, Some(r.value()), &r.flags)),
    );
    Ok(ok(AlertsResponse { period: p, alerts }))
}
