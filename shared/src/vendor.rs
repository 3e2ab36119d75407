//! The systems a metric value can come from, spelled once: each vendor's id in the
//! `vendor` table, its key (CLI `--vendor`, the collection log, `vendors` in JSON), its
//! label, its name in the metric catalogue's `source` field, and whether the product
//! collects it. Values that no vendor supplied (typed in, imported, computed) are
//! stored under [`MANUAL_VENDOR_ID`].
use serde::{Deserialize, Serialize};

/// The `vendor` row of values typed in, imported or computed.
pub const MANUAL_VENDOR_ID: i32 = 1;

/// A system the product reads metric values from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
pub enum Vendor {
    #[serde(rename = "connectwise")]
    ConnectWise,
    #[serde(rename = "ninjaone")]
    NinjaOne,
    #[serde(rename = "quickbooks")]
    QuickBooks,
}

/// Everything that names a vendor, in one row.
struct VendorSpelling {
    id: i32,
    key: &'static str,
    label: &'static str,
    catalogue_name: &'static str,
    collected: bool,
}

impl Vendor {
    /// Every vendor, in the order status pages list them.
    pub const ALL: [Vendor; 3] = [Vendor::ConnectWise, Vendor::NinjaOne, Vendor::QuickBooks];

    const fn spelling(self) -> VendorSpelling {
        match self {
            Vendor::ConnectWise => VendorSpelling {
                id: 3,
                key: "connectwise",
                label: "ConnectWise",
                catalogue_name: "connect_wise",
                collected: true,
            },
            Vendor::NinjaOne => VendorSpelling {
                id: 2,
                key: "ninjaone",
                label: "NinjaOne",
                catalogue_name: "ninja_one",
                collected: true,
            },
            Vendor::QuickBooks => VendorSpelling {
                id: 4,
                key: "quickbooks",
                label: "QuickBooks",
                catalogue_name: "quick_books",
                // Typed in or imported until its collector exists.
                collected: false,
            },
        }
    }

    /// The id in the `vendor` table (`vendor_id` of stored values).
    pub const fn id(self) -> i32 {
        self.spelling().id
    }

    /// `connectwise`, `ninjaone`, `quickbooks`.
    pub const fn key(self) -> &'static str {
        self.spelling().key
    }

    /// `ConnectWise`, `NinjaOne`, `QuickBooks`.
    pub const fn label(self) -> &'static str {
        self.spelling().label
    }

    /// The value of `source` in the metric catalogue's JSON (`connect_wise`).
    pub const fn catalogue_name(self) -> &'static str {
        self.spelling().catalogue_name
    }

    /// Whether a collector fills this vendor's metrics (the backend's collector
    /// registry holds exactly these vendors; a test checks it).
    pub const fn is_collected(self) -> bool {
        self.spelling().collected
    }

    pub fn from_id(id: i32) -> Option<Vendor> {
        Vendor::ALL.into_iter().find(|v| v.id() == id)
    }

    pub fn from_key(key: &str) -> Option<Vendor> {
        Vendor::ALL
            .into_iter()
            .find(|v| v.key().eq_ignore_ascii_case(key.trim()))
    }

    /// The catalogue metrics this vendor feeds.
    pub fn metrics(self) -> impl Iterator<Item = &'static crate::catalogue::MetricDef> {
        crate::catalogue::METRICS
            .iter()
            .filter(move |m| m.source.vendor() == Some(self))
    }
}

impl std::fmt::Display for Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

impl std::str::FromStr for Vendor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Vendor::from_key(s).ok_or_else(|| {
            let keys: Vec<&str> = Vendor::ALL.iter().map(|v| v.key()).collect();
            format!("unknown vendor '{s}' ({})", keys.join(", "))
        })
    }
}

/// The label shown for a stored value's `vendor_id` (`manual` for values no vendor supplied).
pub fn vendor_label(id: i32) -> &'static str {
    Vendor::from_id(id).map_or("manual", Vendor::label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_leads_back_to_the_vendor() {
        for v in Vendor::ALL {
            assert_eq!(Vendor::from_id(v.id()), Some(v));
            assert_eq!(Vendor::from_key(v.key()), Some(v));
            assert_eq!(v.key().parse::<Vendor>(), Ok(v));
            assert_eq!(
                serde_json::to_value(v).ok(),
                Some(serde_json::json!(v.key()))
            );
            assert_ne!(v.id(), MANUAL_VENDOR_ID);
        }
        assert_eq!(vendor_label(MANUAL_VENDOR_ID), "manual");
        assert_eq!(vendor_label(3), "ConnectWise");
        assert!("sage".parse::<Vendor>().is_err());
    }

    #[test]
    fn vendors_feed_the_catalogue_metrics_of_their_source() {
        let cw: Vec<&str> = Vendor::ConnectWise.metrics().map(|m| m.key).collect();
        assert!(cw.contains(&"reactive_tickets_created"), "{cw:?}");
        let ninja: Vec<&str> = Vendor::NinjaOne.metrics().map(|m| m.key).collect();
        assert!(ninja.contains(&"endpoints_managed"), "{ninja:?}");
        assert!(Vendor::QuickBooks.metrics().count() > 0);
    }
}
