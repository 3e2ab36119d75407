//! What the tests and benchmarks need besides the product: local servers that speak the
//! vendors' protocols exactly (paging, errors, rate limits), so the code under test
//! runs unchanged against them; the receivers of what the product sends (an SMTP
//! server, a chat webhook); and the plain web servers the hosting tests put in front
//! of it (a static file server, a reverse proxy). The simulated ConnectWise and
//! NinjaOne are product code (`vendor-sim`, the demo's vendors), re-exported as
//! `vendors`.
pub mod intuit;
pub mod quickbooks;
pub mod reverse_proxy;
pub mod smtp;
pub mod static_site;
pub mod vendors;
pub mod webhook;
