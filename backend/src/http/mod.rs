//! What every HTTP handler shares, used by both `api/` and `auth/`: the request
//! context (state, connection, identity, organization, client address, request id),
//! query and body parsing, the response envelope, and the hoops that run on every
//! request (request ids, access log, security headers, error catcher).
pub mod context;
pub mod csp;
pub mod middleware;
pub mod page;
pub mod params;
pub mod read_log;
pub mod response;
pub mod state;

pub use context::Identity;
pub use response::{ok, ApiOk, Cached};
pub use state::AppState;
