//! Statistics on an organization's monthly values, for the dashboard's "is this normal?"
//! and "where will the quarter land?" questions. Pure: no database, no HTTP, no clock —
//! the server passes the values and the current month in.
//!
//! - [`anomaly`]: a month's value against its own history (robust z-score, seasonality
//!   removed with two years of history), and the run rate of the month in progress.
//! - [`forecast`]: the quarter in progress — each input forecast (`augurs-ets`, or the
//!   recent mean when history is short) and each SmartNumber's end-of-quarter value with
//!   an 80 % interval by seeded simulation, and the status it would land in.
//! - [`backtest`]: rolling-origin accuracy of the forecasts (MAPE and interval coverage).
pub mod anomaly;
pub mod backtest;
pub mod forecast;

pub use anomaly::{
    anomalies, run_rate, score_series, score_series_with, AnomalyScore, Direction, Noise,
};
pub use forecast::{forecast_quarter, ForecastOptions, NumberForecast, QuarterForecast};
