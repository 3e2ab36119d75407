//! Every vendor the product collects: one line per vendor module. Adding a vendor is a
//! module implementing `VendorSettings` and `Collector`, a line here, its fake (in the
//! `test-support` crate) and its tests; `shared::Vendor` names it.
use super::collector::VendorSettings;
use super::{connectwise, ninjaone};
use crate::config::Env;
use qbr_shared::Vendor;

/// How a vendor's collector is configured.
pub struct VendorModule {
    pub vendor: Vendor,
    /// The variables without which the vendor is not collected.
    pub required: &'static [&'static str],
    /// The variables it reads besides those (with defaults).
    pub optional: &'static [&'static str],
    /// The metrics it writes, with their column header in `qbr collect`'s summary.
    pub columns: &'static [(&'static str, &'static str)],
    /// Reads the vendor's settings (called when every `required` variable is set).
    pub settings: fn(&Env) -> anyhow::Result<Box<dyn VendorSettings>>,
}

/// The collected vendors, in the order a run reads them.
pub const VENDORS: &[VendorModule] = &[connectwise::MODULE, ninjaone::MODULE];

/// The registry's entry of `vendor`.
pub fn module(vendor: Vendor) -> Option<&'static VendorModule> {
    VENDORS.iter().find(|m| m.vendor == vendor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_holds_exactly_the_vendors_shared_calls_collected() {
        let registered: Vec<Vendor> = VENDORS.iter().map(|m| m.vendor).collect();
        let collected: Vec<Vendor> = Vendor::ALL
            .into_iter()
            .filter(|v| v.is_collected())
            .collect();
        assert_eq!(registered, collected);
    }

    #[test]
    fn every_module_writes_catalogue_metrics_of_its_vendor() {
        for m in VENDORS {
            let fed: Vec<&str> = m.vendor.metrics().map(|d| d.key).collect();
            assert!(!m.columns.is_empty() && !m.required.is_empty());
            for (metric, _) in m.columns {
                assert!(
                    fed.contains(metric),
                    "{metric} is not a {:?} metric",
                    m.vendor
                );
            }
        }
    }
}
