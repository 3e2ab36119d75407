//! Simulated ConnectWise Manage and NinjaOne servers (real HTTP on 127.0.0.1), following
//! the vendors' documented behaviour for what the collectors use: Basic auth and the
//! `clientId` header, `conditions` (comparisons, `in`, `like`, `= null`, datetime
//! brackets, AND/OR/NOT, parentheses, nested fields such as `board/name`), `fields`,
//! `page`/`pageSize` with the Link header, `/count`, `POST .../search`; NinjaOne OAuth
//! client credentials and `after` paging. Faults can be injected: 500s, 429s with
//! `Retry-After`, a vendor that always fails, latency.
//!
//! `qbr serve --demo` (the backend's default `demo` feature) runs them as the demo
//! organization's vendors, with data `msp` generates to the demo's figures; the tests
//! and benchmarks run them with datasets of their own. `env()` gives the variables
//! `qbr` needs to read one, so a collector is configured exactly as an administrator
//! would configure it.
pub mod conditions;
pub mod connectwise;
pub mod msp;
pub mod ninjaone;
mod server;

pub use conditions::{eval, parse_conditions, project, Cond, Lit};
pub use connectwise::{
    agreement, cancelled, classified, for_company, on_agreement, ticket, time_entry, Billing,
    ConnectWiseSim, CwData, CW_CLIENT_ID, CW_COMPANY, CW_PRIVATE, CW_PUBLIC,
};
pub use ninjaone::{device, NinjaData, NinjaOneSim, NINJA_CLIENT, NINJA_SECRET};
pub use server::Faults;
