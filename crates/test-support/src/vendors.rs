//! The simulated ConnectWise and NinjaOne servers (`vendor-sim`, product code since the
//! demo runs them), under the names the tests use.
pub use vendor_sim::*;
pub use vendor_sim::{ConnectWiseSim as FakeConnectWise, NinjaOneSim as FakeNinja};
