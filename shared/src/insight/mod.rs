//! Insight: the business health score, goals on SmartNumbers and the written summary
//! of a period, as pure rules.
//!
//! The server computes all three and serves them; the SPA only shows them. The
//! statistics (anomalies, the quarter forecast) are computed elsewhere and handed in
//! through the small structs of [`summary`], so the text here never depends on how
//! they were found.
//!
//! This module also holds the words the sentences share: the short name of a
//! SmartNumber ("RHEM"), the noun of an input metric ("reactive hours") and English
//! list joining ("A, B, and C").
use crate::catalogue::metric_def;
use crate::smartnumbers::{smartnumber_def, SmartNumberDef};

pub mod api;
pub mod goals;
pub mod health;
pub mod summary;

/// A metric's name as it reads inside a sentence, and whether it takes a plural verb
/// ("reactive hours were", "MRR was").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Noun {
    pub text: String,
    pub plural: bool,
}

impl Noun {
    /// The noun with its first letter in upper case, to open a sentence.
    pub fn capitalized(&self) -> String {
        capitalize(&self.text)
    }

    /// `was` or `were`.
    pub fn was(&self) -> &'static str {
        if self.plural {
            "were"
        } else {
            "was"
        }
    }
}

/// A typical range as text, "250.0 h – 420.0 h". A count's ends are the whole numbers
/// inside it ("24 – 34", not "23.81 – 34.19"): a count is never fractional, and those
/// are the values that would not have been flagged.
pub fn typical_range(unit: crate::catalogue::Unit, low: f64, high: f64) -> String {
    let (low, high) = match unit {
        crate::catalogue::Unit::Count if low.ceil() <= high.floor() => (low.ceil(), high.floor()),
        crate::catalogue::Unit::Count => (low.round(), high.round()),
        _ => (low, high),
    };
    let fmt = |v: f64| crate::format::value(unit, Some(v));
    crate::thresholds::Bands::describe(Some(low), Some(high), &fmt)
}

/// The words people use in a review for the inputs of the SmartNumbers' formulas:
/// the catalogue's labels are column headings ("Total Time on Reactive Tickets"), too
/// long and too formal for a sentence. Keys not listed fall back to the label.
const NOUNS: &[(&str, &str, bool)] = &[
    ("reactive_tickets_created", "tickets opened", true),
    ("reactive_tickets_closed", "tickets closed", true),
    ("reactive_time_spent", "reactive hours", true),
    ("endpoints_managed", "endpoints", true),
    ("technical_employees", "technicians", true),
    ("employees", "employees", true),
    ("nrr", "NRR", false),
    ("mrr", "MRR", false),
    ("orr", "ORR", false),
    ("total_revenue", "revenue", false),
    ("net_profit", "net profit", false),
    ("seats_managed", "seats", true),
    ("agreements", "agreements", true),
    ("new_mrr", "new MRR", false),
    ("lost_mrr", "lost MRR", false),
    ("telemarketing_dials", "dials", true),
    ("first_time_appointments", "first-time appointments", true),
    ("new_agreements", "new agreements", true),
];

/// The noun of a metric or a SmartNumber key: the table above, else the catalogue
/// label lower-cased sensibly (see [`label_noun`]), else a SmartNumber's short label.
pub fn noun(key: &str) -> Option<Noun> {
    if let Some((_, text, plural)) = NOUNS.iter().find(|(k, _, _)| *k == key) {
        return Some(Noun {
            text: (*text).to_string(),
            plural: *plural,
        });
    }
    if let Some(def) = metric_def(key) {
        return Some(label_noun(def.label));
    }
    smartnumber_def(key).map(|d| Noun {
        text: short_label(d).to_string(),
        plural: false,
    })
}

/// A catalogue label as a noun: "# of Seats Managed" → "seats managed" (plural),
/// "Cash Reserve" → "cash reserve"; a trailing abbreviation in parentheses is dropped
/// and words in capitals (MRR, A/R) keep them.
pub fn label_noun(label: &str) -> Noun {
    let (body, plural) = match label.strip_prefix("# of ") {
        Some(rest) => (rest, true),
        None => (label, false),
    };
    let body = match body.rfind(" (") {
        Some(i) if body.ends_with(')') => &body[..i],
        _ => body,
    };
    let words: Vec<String> = body
        .split_whitespace()
        .map(|w| {
            if w.chars().filter(|c| c.is_alphabetic()).count() > 1
                && !w.chars().any(char::is_lowercase)
            {
                w.to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect();
    Noun {
        text: words.join(" "),
        plural,
    }
}

/// A SmartNumber's name without its explanation in parentheses:
/// "RHEM (Reactive Hours / Endpoint / Month)" → "RHEM".
pub fn short_label(def: &SmartNumberDef) -> &'static str {
    match def.label.find(" (") {
        Some(i) if def.label.ends_with(')') => &def.label[..i],
        _ => def.label,
    }
}

/// English list joining with the serial comma: "A", "A and B", "A, B, and C". The
/// serial comma keeps labels such as "% of Revenue from Services" apart.
pub fn join_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [a, b] => format!("{} and {}", a.as_ref(), b.as_ref()),
        [init @ .., last] => {
            let head: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{}, and {}", head.join(", "), last.as_ref())
        }
    }
}

/// The text with its first letter in upper case.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::smartnumbers::SMARTNUMBERS;

    #[test]
    fn lists_join_in_english() {
        assert_eq!(join_list::<&str>(&[]), "");
        assert_eq!(join_list(&["RHEM"]), "RHEM");
        assert_eq!(
            join_list(&["RHEM", "Net Profit %"]),
            "RHEM and Net Profit %"
        );
        assert_eq!(
            join_list(&["A", "% of Revenue from Services", "C"]),
            "A, % of Revenue from Services, and C"
        );
    }

    #[test]
    fn every_formula_input_has_a_written_noun() {
        for d in SMARTNUMBERS {
            for input in d.formula.inputs() {
                assert!(
                    NOUNS.iter().any(|(k, _, _)| *k == input),
                    "{} reads {input}, which has no noun",
                    d.key
                );
            }
        }
    }

    #[test]
    fn labels_become_nouns() {
        assert_eq!(
            label_noun("# of Seats Managed"),
            Noun {
                text: "seats managed".into(),
                plural: true
            }
        );
        assert_eq!(
            label_noun("Non-recurring Revenue (NRR)").text,
            "non-recurring revenue"
        );
        assert_eq!(label_noun("A/R > 90 days").text, "A/R > 90 days");
        assert_eq!(
            noun("reactive_time_spent").unwrap().capitalized(),
            "Reactive hours"
        );
        assert_eq!(noun("cash_reserve").unwrap().text, "cash reserve");
        assert_eq!(noun("rhem").unwrap().text, "RHEM");
        assert_eq!(noun("nope"), None);
    }

    #[test]
    fn short_labels_drop_the_explanation() {
        let label = |k| short_label(smartnumber_def(k).unwrap());
        assert_eq!(label("rhem"), "RHEM");
        assert_eq!(label("avg_aisp"), "Average AISP");
        assert_eq!(
            label("tickets_per_endpoint_per_month"),
            "Tickets / Endpoint / Month"
        );
    }
}
