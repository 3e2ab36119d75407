//! Pieces shared by the pages.
pub mod card;
pub mod chart;
pub mod charts;
pub mod downloads;
pub mod fetch;
pub mod layout;
pub mod notice;
pub mod status;
