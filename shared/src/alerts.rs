//! The alert rules of `smartnumbers.md`: a red number, a number that moved to a worse
//! status than the previous period, and inputs flagged by collection.
use crate::api::{Alert, AlertKind};
use crate::catalogue::metric_def;
use crate::collection::Flag;
use crate::format;
use crate::smartnumbers::smartnumber_def;
use crate::thresholds::{Bands, Status};

/// A judged SmartNumber of a period and its previous period.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged<'a> {
    pub key: &'a str,
    pub value: Option<f64>,
    pub status: Status,
    pub previous_status: Status,
    pub bands: Option<Bands>,
}

/// Describes both bands: "green ≤ 0.2, yellow ≤ 0.3".
pub fn describe_bands(bands: &Bands, unit: crate::catalogue::Unit) -> String {
    let f = |v: f64| format::value(unit, Some(v));
    format!(
        "green {}, yellow {}",
        Bands::describe(bands.green_min, bands.green_max, &f),
        Bands::describe(bands.yellow_min, bands.yellow_max, &f)
    )
}

/// Alerts for the SmartNumbers of `period`.
pub fn smartnumber_alerts(period: &str, judged: &[Judged<'_>]) -> Vec<Alert> {
    let mut out = Vec::new();
    for j in judged {
        let Some(def) = smartnumber_def(j.key) else {
            continue;
        };
        let kind = if j.status == Status::Red {
            AlertKind::Red
        } else if j.status.is_worse_than(j.previous_status) {
            AlertKind::Worsened
        } else {
            continue;
        };
        let shown = format::value(def.unit, j.value);
        let message = match kind {
            AlertKind::Red => format!("{} is {} (red)", def.label, shown),
            _ => format!(
                "{} worsened from {} to {} ({})",
                def.label,
                j.previous_status.label(),
                j.status.label(),
                shown
            ),
        };
        out.push(Alert {
            kind,
            period: period.to_string(),
            key: def.key.to_string(),
            label: def.label.to_string(),
            value: j.value,
            unit: def.unit,
            status: j.status,
            previous_status: (j.previous_status != Status::None).then_some(j.previous_status),
            band: j.bands.map(|b| describe_bands(&b, def.unit)),
            inputs: def.formula.inputs().iter().map(|s| s.to_string()).collect(),
            flags: Vec::new(),
            message,
        });
    }
    out
}

/// A data-quality alert for an input value that collection flagged.
pub fn flag_alert(
    period: &str,
    metric_key: &str,
    value: Option<f64>,
    flags: &[Flag],
) -> Option<Alert> {
    if flags.is_empty() {
        return None;
    }
    let def = metric_def(metric_key)?;
    Some(Alert {
        kind: AlertKind::DataQuality,
        period: period.to_string(),
        key: def.key.to_string(),
        label: def.label.to_string(),
        value,
        unit: def.unit,
        status: Status::None,
        previous_status: None,
        band: None,
        inputs: vec![def.key.to_string()],
        flags: flags.to_vec(),
        message: format!(
            "{} for {} is flagged: {}",
            def.label,
            period,
            flags
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thresholds::default_bands;

    #[test]
    fn red_and_worsened_raise_alerts_green_does_not() {
        let judged = [
            Judged {
                key: "rhem",
                value: Some(0.4),
                status: Status::Red,
                previous_status: Status::Red,
                bands: default_bands("rhem"),
            },
            Judged {
                key: "net_profit_pct",
                value: Some(0.15),
                status: Status::Yellow,
                previous_status: Status::Green,
                bands: default_bands("net_profit_pct"),
            },
            Judged {
                key: "avg_aisp",
                value: Some(200.0),
                status: Status::Green,
                previous_status: Status::Yellow,
                bands: default_bands("avg_aisp"),
            },
            Judged {
                key: "total_close_pct",
                value: None,
                status: Status::None,
                previous_status: Status::Green,
                bands: None,
            },
        ];
        let alerts = smartnumber_alerts("2025-Q1", &judged);
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].kind, AlertKind::Red);
        assert_eq!(
            alerts[0].band.as_deref(),
            Some("green ≤ 0.20 h (12 min), yellow ≤ 0.30 h (18 min)")
        );
        assert!(alerts[0]
            .inputs
            .contains(&"reactive_time_spent".to_string()));
        assert_eq!(alerts[1].kind, AlertKind::Worsened);
        assert_eq!(alerts[1].previous_status, Some(Status::Green));
    }

    #[test]
    fn flags_make_data_quality_alerts() {
        assert!(flag_alert("2025-01", "endpoints_managed", Some(0.0), &[]).is_none());
        let a = flag_alert(
            "2025-01",
            "endpoints_managed",
            Some(0.0),
            &[Flag::Suspicious],
        )
        .unwrap_or_else(|| unreachable!());
        assert_eq!(a.kind, AlertKind::DataQuality);
        assert!(a.message.contains("suspicious"));
    }
}
