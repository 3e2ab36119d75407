//! The worked example of `smartnumbers.md` (Q1 2025), the reference every test of
//! the formulas checks against: unit tests here, the HTTP API and the browser tests.

/// SmartNumber key, its Q1 2025 value, and its January 2025 value (`None` = null).
pub const WORKED_EXAMPLE: &[(&str, f64, Option<f64>)] = &[
    ("tickets_per_tech_per_month", 65.4545, Some(64.5455)),
    ("total_close_pct", 0.999075, Some(1.00282)),
    ("tickets_per_endpoint_per_month", 0.606622, Some(0.592965)),
    ("rhem", 0.253692, Some(0.245327)),
    ("avg_resolution_time", 0.418593, Some(0.412563)),
    ("reactive_service_pct", 0.164065, Some(0.159456)),
    ("net_profit_pct", 0.104759, Some(0.0971476)),
    ("revenue_from_services_pct", 0.702709, Some(0.706778)),
    ("services_from_mrr_pct", 0.91089, Some(1.01899)),
    ("annual_service_rev_per_employee", 220818.0, Some(191743.0)),
    ("annual_service_rev_per_tech", 341264.0, Some(296330.0)),
    ("avg_aisp", 202.305, Some(200.883)),
    ("avg_mrr_per_agreement", 3027.15, Some(2964.38)),
    ("new_mrr_added", 2902.0, Some(0.0)),
    ("lost_mrr", 2536.0, Some(0.0)),
    ("net_mrr_gain", 366.0, Some(0.0)),
    ("dials_per_appointment", 0.0, None),
    ("sales_call_close_pct", 0.5, None),
];
