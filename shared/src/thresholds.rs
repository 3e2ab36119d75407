//! Threshold bands and the green/yellow/red judgement of a SmartNumber.
use serde::{Deserialize, Serialize};

/// A number's status against its thresholds. `None`: no value or no threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Green,
    Yellow,
    Red,
    None,
}

impl Status {
    /// Higher is worse; `None` has no rank.
    pub fn severity(self) -> Option<u8> {
        match self {
            Status::Green => Some(0),
            Status::Yellow => Some(1),
            Status::Red => Some(2),
            Status::None => None,
        }
    }

    /// Whether `self` is worse than `before` (both must be judged).
    pub fn is_worse_than(self, before: Status) -> bool {
        matches!((self.severity(), before.severity()), (Some(a), Some(b)) if a > b)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Green => "green",
            Status::Yellow => "yellow",
            Status::Red => "red",
            Status::None => "none",
        }
    }
}

/// The green and yellow bands of a SmartNumber; a `None` end is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
pub struct Bands {
    // Stored as NUMERIC(30, 10): ends are within ±10^20.
    #[cfg_attr(feature = "openapi", salvo(schema(exclusive_minimum = -1e20, exclusive_maximum = 1e20)))]
    pub green_min: Option<f64>,
    #[cfg_attr(feature = "openapi", salvo(schema(exclusive_minimum = -1e20, exclusive_maximum = 1e20)))]
    pub green_max: Option<f64>,
    #[cfg_attr(feature = "openapi", salvo(schema(exclusive_minimum = -1e20, exclusive_maximum = 1e20)))]
    pub yellow_min: Option<f64>,
    #[cfg_attr(feature = "openapi", salvo(schema(exclusive_minimum = -1e20, exclusive_maximum = 1e20)))]
    pub yellow_max: Option<f64>,
}

fn inside(v: f64, min: Option<f64>, max: Option<f64>) -> bool {
    min.is_none_or(|lo| v >= lo) && max.is_none_or(|hi| v <= hi)
}

impl Bands {
    /// Both ends of both bands open: nothing to judge against.
    pub fn is_empty(&self) -> bool {
        self.green_min.is_none()
            && self.green_max.is_none()
            && self.yellow_min.is_none()
            && self.yellow_max.is_none()
    }

    /// Green inside the green band, else yellow inside the yellow band, else red.
    pub fn status(&self, value: Option<f64>) -> Status {
        let Some(v) = value else { return Status::None };
        if self.is_empty() {
            Status::None
        } else if inside(v, self.green_min, self.green_max) {
            Status::Green
        } else if inside(v, self.yellow_min, self.yellow_max) {
            Status::Yellow
        } else {
            Status::Red
        }
    }

    /// Checks that each band has min ≤ max, values are finite, and the green band lies
    /// inside the yellow band (an open green end needs an open yellow end).
    pub fn validate(&self) -> Result<(), String> {
        let all = [
            self.green_min,
            self.green_max,
            self.yellow_min,
            self.yellow_max,
        ];
        if all.iter().flatten().any(|v| !v.is_finite()) {
            return Err("threshold values must be finite numbers".into());
        }
        if let (Some(lo), Some(hi)) = (self.green_min, self.green_max) {
            if lo > hi {
                return Err(format!("green_min {lo} is above green_max {hi}"));
            }
        }
        if let (Some(lo), Some(hi)) = (self.yellow_min, self.yellow_max) {
            if lo > hi {
                return Err(format!("yellow_min {lo} is above yellow_max {hi}"));
            }
        }
        match (self.yellow_min, self.green_min) {
            (Some(y), Some(g)) if g < y => {
                return Err(format!(
                    "green band starts at {g}, below the yellow band's start {y}"
                ))
            }
            (Some(y), None) => {
                return Err(format!(
                    "green band is open below but the yellow band starts at {y}"
                ))
            }
            _ => {}
        }
        match (self.yellow_max, self.green_max) {
            (Some(y), Some(g)) if g > y => {
                return Err(format!(
                    "green band ends at {g}, above the yellow band's end {y}"
                ))
            }
            (Some(y), None) => {
                return Err(format!(
                    "green band is open above but the yellow band ends at {y}"
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// "40 – 60", "≤ 0.3", "≥ 150000": a band as text, with `fmt` for the numbers.
    pub fn describe(min: Option<f64>, max: Option<f64>, fmt: &dyn Fn(f64) -> String) -> String {
        match (min, max) {
            (Some(lo), Some(hi)) => format!("{} – {}", fmt(lo), fmt(hi)),
            (Some(lo), None) => format!("≥ {}", fmt(lo)),
            (None, Some(hi)) => format!("≤ {}", fmt(hi)),
            (None, None) => "any".to_string(),
        }
    }

    /// The middle of the green band, for judging "range" numbers' improvement.
    pub fn green_target(&self) -> Option<f64> {
        match (self.green_min, self.green_max) {
            (Some(lo), Some(hi)) => Some((lo + hi) / 2.0),
            _ => None,
        }
    }
}

/// The seeded defaults of `smartnumbers.md`, by SmartNumber key.
pub fn default_bands(key: &str) -> Option<Bands> {
    let b = |gmin, gmax, ymin, ymax| {
        Some(Bands {
            green_min: gmin,
            green_max: gmax,
            yellow_min: ymin,
            yellow_max: ymax,
        })
    };
    match key {
        "tickets_per_tech_per_month" => b(Some(40.0), Some(60.0), Some(30.0), Some(70.0)),
        "total_close_pct" => b(Some(0.95), Some(1.05), Some(0.90), Some(1.10)),
        "tickets_per_endpoint_per_month" => b(None, Some(0.30), None, Some(0.45)),
        "rhem" => b(None, Some(0.20), None, Some(0.30)),
        "avg_resolution_time" => b(None, Some(1.0), None, Some(1.5)),
        "reactive_service_pct" => b(None, Some(0.15), None, Some(0.25)),
        "net_profit_pct" => b(Some(0.20), None, Some(0.10), None),
        "revenue_from_services_pct" => b(Some(0.70), None, Some(0.60), None),
        "services_from_mrr_pct" => b(Some(0.80), None, Some(0.70), None),
        "annual_service_rev_per_employee" => b(Some(150000.0), None, Some(120000.0), None),
        "annual_service_rev_per_tech" => b(Some(200000.0), None, Some(160000.0), None),
        "avg_aisp" => b(Some(125.0), None, Some(100.0), None),
        "avg_mrr_per_agreement" => b(Some(1500.0), None, Some(1000.0), None),
        "net_mrr_gain" => b(Some(0.0), None, Some(-2000.0), None),
        "dials_per_appointment" => b(None, Some(25.0), None, Some(40.0)),
        "sales_call_close_pct" => b(Some(0.30), None, Some(0.20), None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::smartnumbers::SMARTNUMBERS;

    #[test]
    fn range_bands() {
        let b = default_bands("tickets_per_tech_per_month").unwrap();
        assert_eq!(b.status(Some(50.0)), Status::Green);
        assert_eq!(b.status(Some(60.0)), Status::Green, "ends are inside");
        assert_eq!(b.status(Some(65.4545)), Status::Yellow);
        assert_eq!(b.status(Some(29.9)), Status::Red);
        assert_eq!(b.status(None), Status::None);
    }

    #[test]
    fn open_ended_bands_and_the_worked_example() {
        assert_eq!(
            default_bands("rhem").unwrap().status(Some(0.253692)),
            Status::Yellow
        );
        assert_eq!(
            default_bands("net_profit_pct")
                .unwrap()
                .status(Some(0.104759)),
            Status::Yellow
        );
        assert_eq!(
            default_bands("avg_aisp").unwrap().status(Some(202.3)),
            Status::Green
        );
        assert_eq!(
            default_bands("tickets_per_endpoint_per_month")
                .unwrap()
                .status(Some(0.606622)),
            Status::Red
        );
        assert_eq!(
            default_bands("net_mrr_gain").unwrap().status(Some(-2500.0)),
            Status::Red
        );
    }

    #[test]
    fn defaults_are_valid_and_cover_all_but_two() {
        let with: Vec<_> = SMARTNUMBERS
            .iter()
            .filter(|d| default_bands(d.key).is_some())
            .collect();
        assert_eq!(with.len(), 16);
        for d in with {
            default_bands(d.key).unwrap().validate().unwrap();
        }
    }

    #[test]
    fn validation_rejects_green_outside_yellow() {
        let bad = Bands {
            green_min: Some(10.0),
            green_max: Some(80.0),
            yellow_min: Some(20.0),
            yellow_max: Some(70.0),
        };
        assert!(bad.validate().is_err());
        let reversed = Bands {
            green_min: Some(5.0),
            green_max: Some(1.0),
            ..Bands::default()
        };
        assert!(reversed.validate().is_err());
        let open_green = Bands {
            green_min: None,
            green_max: Some(1.0),
            yellow_min: Some(0.0),
            yellow_max: Some(2.0),
        };
        assert!(open_green.validate().is_err());
        assert!(Bands {
            green_min: Some(f64::NAN),
            ..Bands::default()
        }
        .validate()
        .is_err());
        assert!(Bands::default().validate().is_ok());
    }

    #[test]
    fn worse_is_ordered() {
        assert!(Status::Red.is_worse_than(Status::Yellow));
        assert!(!Status::Green.is_worse_than(Status::Yellow));
        assert!(!Status::Red.is_worse_than(Status::None));
    }
}
