//! OpenAPI schemas that a derive can't write from a field's Rust type: the spellings of
//! periods as patterns, and the catalogue's keys as enums, so that a generated client or
//! a fuzzer knows exactly which values the server accepts. The API types point at them
//! with `#[salvo(schema(value_type = ...))]`; the backend's parameters name them (or
//! `Month`, `Quarter`, `Period`, which use the patterns below) as their type.
use crate::catalogue::{MetricDef, METRICS};
use crate::smartnumbers::SMARTNUMBERS;
use crate::{Month, Period, Quarter};
use salvo_oapi::schema::{BasicType, Object, Schema};
use salvo_oapi::{Components, Ref, RefOr, ToSchema};

/// The supported years, 1900–2999 (`period::check_year`).
const YEAR: &str = "(19|2[0-9])[0-9]{2}";
/// `YYYY-MM`. `[0-9]` rather than `\d`, which matches other digits in some regex engines.
pub const MONTH_PATTERN: &str = "^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$";
/// `YYYY-Qn`, uppercase `Q`.
pub const QUARTER_PATTERN: &str = "^(19|2[0-9])[0-9]{2}-Q[1-4]$";

/// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
pub fn period_pattern() -> String {
    format!("^{YEAR}(-(0[1-9]|1[0-2])|-Q[1-4])?$")
}

/// Registers `schema` under `T`'s name (as the derive names types) and answers a
/// reference to it.
pub fn named<T: 'static>(
    components: &mut Components,
    schema: impl Into<RefOr<Schema>>,
) -> RefOr<Schema> {
    let name = salvo_oapi::naming::assign_name::<T>(salvo_oapi::naming::NameRule::Auto);
    components.schemas.insert(name.clone(), schema);
    RefOr::Ref(Ref::from_schema_name(name))
}

fn text(pattern: &str, description: &str) -> Object {
    Object::new()
        .schema_type(BasicType::String)
        .pattern(pattern)
        .description(description)
}

impl ToSchema for Month {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        named::<Self>(
            components,
            text(MONTH_PATTERN, "A month, YYYY-MM (1900–2999)"),
        )
    }
}

impl ToSchema for Quarter {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        named::<Self>(
            components,
            text(QUARTER_PATTERN, "A quarter, YYYY-Qn (1900–2999)"),
        )
    }
}

impl ToSchema for Period {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        let description = "A month (YYYY-MM), a quarter (YYYY-Qn) or a year (YYYY), 1900–2999";
        named::<Self>(components, text(&period_pattern(), description))
    }
}

fn words<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> Object {
    Object::new()
        .schema_type(BasicType::String)
        .enum_values(values)
        .description(description)
}

fn metric_keys(keep: impl Fn(&MetricDef) -> bool, description: &str) -> Object {
    words(
        METRICS.iter().filter(|d| keep(d)).map(|d| d.key),
        description,
    )
}

/// Any key of the metric catalogue (`metric_name` of reads).
pub struct MetricKey;

impl ToSchema for MetricKey {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        let schema = metric_keys(|_| true, "A key of the metric catalogue");
        named::<Self>(components, schema)
    }
}

/// A metric a person may type that can't be negative (counts, hours).
pub struct UnsignedInputKey;

impl ToSchema for UnsignedInputKey {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        let schema = metric_keys(
            |d| !d.is_derived() && !d.allows_negative(),
            "A metric that may be typed in and is never negative (counts, hours)",
        );
        named::<Self>(components, schema)
    }
}

/// A metric a person may type that may be negative (money, ratios, percentages).
pub struct SignedInputKey;

impl ToSchema for SignedInputKey {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        let schema = metric_keys(
            |d| !d.is_derived() && d.allows_negative(),
            "A metric that may be typed in and may be negative (money, ratios, percentages)",
        );
        named::<Self>(components, schema)
    }
}

/// A metric a collector provides (what `recollect` may hand back).
pub struct CollectedMetricKey;

impl ToSchema for CollectedMetricKey {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        let schema = metric_keys(
            |d| d.source.is_collected(),
            "A metric that a collector provides",
        );
        named::<Self>(components, schema)
    }
}

/// One of the 18 SmartNumbers.
pub struct SmartNumberKey;

impl ToSchema for SmartNumberKey {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        let schema = words(SMARTNUMBERS.iter().map(|d| d.key), "A SmartNumber's key");
        named::<Self>(components, schema)
    }
}

/// An IANA time zone name as the server knows it (`America/Chicago`).
#[cfg(feature = "tz")]
pub struct TimeZoneName;

#[cfg(feature = "tz")]
impl ToSchema for TimeZoneName {
    fn to_schema(components: &mut Components) -> RefOr<Schema> {
        let schema = words(
            chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()),
            "An IANA time zone name, e.g. America/Chicago",
        );
        named::<Self>(components, schema)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The words of the enum `reference` points at.
    fn words_of(c: &Components, reference: RefOr<Schema>) -> Vec<String> {
        let RefOr::Ref(r) = reference else {
            panic!("not a reference")
        };
        let name = r.ref_location.trim_start_matches("#/components/schemas/");
        let v = serde_json::to_value(&c.schemas).unwrap();
        v[name]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn every_input_metric_is_in_exactly_one_input_list() {
        let mut c = Components::new();
        let unsigned = UnsignedInputKey::to_schema(&mut c);
        let signed = SignedInputKey::to_schema(&mut c);
        let (unsigned, signed) = (words_of(&c, unsigned), words_of(&c, signed));
        for d in METRICS {
            let key = d.key.to_string();
            let n = usize::from(unsigned.contains(&key)) + usize::from(signed.contains(&key));
            assert_eq!(n, usize::from(!d.is_derived()), "{key}");
        }
    }
}
