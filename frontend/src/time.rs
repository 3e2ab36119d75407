//! Timestamps for people: always in the browser's zone, e.g. "Nov 15, 2025, 10:30 PM CST".
use chrono::{DateTime, Utc};
use wasm_bindgen::JsValue;

fn set(obj: &js_sys::Object, key: &str, value: &str) {
    let _ = js_sys::Reflect::set(obj, &key.into(), &value.into());
}

/// Formats an instant in the browser's time zone with the zone's abbreviation.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    format(
        t,
        &[
            ("month", "short"),
            ("day", "numeric"),
            ("year", "numeric"),
            ("hour", "numeric"),
            ("minute", "2-digit"),
            ("timeZoneName", "short"),
        ],
    )
}

/// The day of an instant in the browser's time zone ("Nov 15, 2025"), for narrow
/// columns (the full timestamp goes in a tooltip).
pub fn format_date(t: &DateTime<Utc>) -> String {
    format(
        t,
        &[("month", "short"), ("day", "numeric"), ("year", "numeric")],
    )
}

fn format(t: &DateTime<Utc>, parts: &[(&str, &str)]) -> String {
    let options = js_sys::Object::new();
    for (k, v) in parts {
        set(&options, k, v);
    }
    set(&options, "timeZone", crate::api::browser_time_zone());
    let locales = js_sys::Array::of1(&JsValue::from_str("en-US"));
    let formatter = js_sys::Intl::DateTimeFormat::new(&locales, &options);
    let date = js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64));
    formatter
        .format()
        .call1(&formatter, &date)
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| t.to_rfc3339())
}

/// An optional timestamp, "—" (never "null") when there is none.
pub fn format_optional(t: Option<&DateTime<Utc>>) -> String {
    t.map_or_else(|| "—".to_string(), format_timestamp)
}
