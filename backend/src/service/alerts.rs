//! The alerts of a period: red numbers, numbers that worsened since the previous
//! period, and inputs that collection flagged.
use super::{encode, periods, smartnumbers, Answer};
use crate::cache::Caches;
use crate::error::AppResult;
use crate::store::org::Org;
use crate::store::{metrics, thresholds};
use diesel_async::AsyncPgConnection;
use qbr_shared::alerts::{flag_alert, smartnumber_alerts, Judged};
use qbr_shared::api::AlertsResponse;
use qbr_shared::collection::parse_flags;
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::Period;

/// The alerts of `smartnumbers.md` for a period (default as for the SmartNumbers),
/// plus data-quality flags of its inputs.
pub async fn for_period(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    period: Option<Period>,
) -> AppResult<Answer<AlertsResponse>> {
    let period = periods::default_period(conn, caches, org, period).await?;
    caches
        .alerts
        .get_or_build((org.id, period), org.data_version, || async {
            encode(build(conn, org, period).await?)
        })
        .await
}

async fn build(
    conn: &mut AsyncPgConnection,
    org: &Org,
    period: Period,
) -> AppResult<AlertsResponse> {
    let previous = period.previous();
    let rows = smartnumbers::load_rows(conn, org, &[period, previous]).await?;
    let bands = thresholds::bands_by_key(conn, org.id).await?;
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
                status: d.judge(&period, bands.get(d.key), v),
                previous_status: d.judge(&previous, bands.get(d.key), value(&pp, d.key)),
                bands: bands.get(d.key).copied(),
            }
        })
        .collect();
    let mut alerts = smartnumber_alerts(&p, &judged);
    let month_rows = metrics::rows_for_months(conn, org.id, &period.months()).await?;
    alerts.extend(month_rows.iter().filter_map(|r| {
        flag_alert(
            &r.period,
            &r.metric_name,
            Some(r.value()),
            &parse_flags(&r.flags),
        )
    }));
    Ok(AlertsResponse { period: p, alerts })
}
