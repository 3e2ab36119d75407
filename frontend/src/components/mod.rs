//! Pieces shared by the pages.
pub mod card;
pub mod chart;
pub mod charts;
pub mod choice;
pub mod downloads;
pub mod fetch;
pub mod health;
pub mod layout;
pub mod nav;
pub mod notice;
pub mod org_switcher;
pub mod status;
pub mod topbar;
