//! The words of collection runs, typed: a run's status and trigger, a vendor's
//! freshness, the data-quality flags of a collected value, what a run did with each
//! value, and drift. Their JSON and database spellings are the serde names below.
use crate::words::words;
use serde::{Deserialize, Serialize};

words! {
    /// Where a collection run stands (`qbr_collection_log.status`).
    pub enum RunStatus {
        Running = "running",
        Success = "success",
        Failed = "failed",
        /// Another run held the lock: this one did nothing.
        Refused = "refused",
        /// Stopped by a user before anything was written.
        Cancelled = "cancelled",
    }
}

words! {
    /// What started a run (`qbr_collection_log.trigger`).
    pub enum Trigger {
        Schedule = "schedule",
        Cli = "cli",
        Api = "api",
        /// QuickBooks Desktop's Web Connector delivered a report.
        WebConnector = "web_connector",
        /// A QuickBooks account mapping changed: the stored reports were mapped again.
        Remap = "remap",
    }
}

words! {
    /// How recent a vendor's last successful collection is.
    pub enum Freshness {
        /// Within a day and a bit (a nightly run plus slack).
        Fresh = "fresh",
        Stale = "stale",
        /// No successful run yet.
        Never = "never",
    }
}

words! {
    /// A data-quality flag on a collected value (`qbr_metrics_monthly.flags`).
    pub enum Flag {
        /// Zero where a count is expected: the vendor data may be incomplete.
        Suspicious = "suspicious",
        /// More than 50 % away from the month before.
        Warning = "warning",
        /// QuickBooks: the month's mapped and ignored accounts don't add up to the
        /// report's totals (an unmapped account, or a mapping that counts one twice).
        Unreconciled = "unreconciled",
    }
}

words! {
    /// What a collection run did with one value it read.
    pub enum Outcome {
        Written = "written",
        Unchanged = "unchanged",
        /// A manual or imported value is kept.
        KeptManual = "kept_manual",
        /// A closed month's collected value is kept (see [`Drift`]).
        Frozen = "frozen",
    }
}

/// Flags of stored spellings; words this version does not know are left out.
pub fn parse_flags(words: &[String]) -> Vec<Flag> {
    words.iter().filter_map(|w| Flag::parse(w)).collect()
}

/// The stored spellings of flags.
pub fn flag_words(flags: &[Flag]) -> Vec<String> {
    flags.iter().map(|f| f.as_str().to_string()).collect()
}

/// One value a run read, with its flags and what the run did with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
pub struct CollectedValue {
    pub period: String,
    pub metric: String,
    pub value: f64,
    pub flags: Vec<Flag>,
    pub outcome: Outcome,
}

/// A frozen (closed-month) value that the vendor now reports differently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
pub struct Drift {
    pub period: String,
    pub metric: String,
    pub stored: f64,
    pub collected: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_through_serde_and_parse() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(*s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::json!(s.as_str()))
            );
        }
        assert_eq!(Outcome::KeptManual.as_str(), "kept_manual");
        assert_eq!(Trigger::parse("cli"), Some(Trigger::Cli));
        assert_eq!(RunStatus::parse("succeeded"), None);
        assert_eq!(
            parse_flags(&["warning".into(), "later".into()]),
            vec![Flag::Warning]
        );
        assert_eq!(flag_words(&[Flag::Suspicious]), vec!["suspicious"]);
    }
}
