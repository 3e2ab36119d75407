//! Reading settings: one helper for every variable the server, sign-in and the
//! collectors read, from the process environment or, for tests and the demo, from a
//! given list. Values are trimmed; an empty value counts as unset; a malformed one is
//! an error that names the variable.
use anyhow::Context;
use std::collections::HashMap;
use std::str::FromStr;

/// A source of settings.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `None`: the process environment.
    given: Option<HashMap<String, String>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Env {
        Env { given: None }
    }

    /// Exactly these variables (nothing from the process).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            given: Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// The trimmed value of `name`; unset or empty → `None`.
    pub fn var(&self, name: &str) -> Option<String> {
        let raw = match &self.given {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        raw.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// `name` parsed, or `default` when unset.
    pub fn parsed<T: FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.var(name) {
            Some(v) => v
                .parse()
                .ok()
                .with_context(|| format!("{name} has an invalid value: '{v}'")),
            None => Ok(default),
        }
    }

    /// A comma-separated list (blank items dropped), or `default` when unset.
    pub fn list(&self, name: &str, default: &[&str]) -> Vec<String> {
        match self.var(name) {
            Some(v) => v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => default.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// `1`, `true`, `yes` or `on` (any case).
    pub fn flag(&self, name: &str) -> bool {
        self.var(name)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
    }

    /// Those of `names` that are unset.
    pub fn missing<'a>(&self, names: &[&'a str]) -> Vec<&'a str> {
        names
            .iter()
            .copied()
            .filter(|n| self.var(n).is_none())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_trimmed_and_empty_is_unset() {
        let env = Env::from_pairs([("A", " 5 "), ("B", "  "), ("L", "x, ,y"), ("F", "Yes")]);
        assert_eq!(env.var("A").as_deref(), Some("5"));
        assert_eq!(env.var("B"), None);
        assert_eq!(env.parsed("A", 1).ok(), Some(5));
        assert_eq!(env.parsed("B", 1).ok(), Some(1));
        assert!(env
            .parsed::<u32>("L", 1)
            .err()
            .is_some_and(|e| e.to_string().contains("L has an invalid value")));
        assert_eq!(env.list("L", &[]), vec!["x", "y"]);
        assert_eq!(env.list("M", &["d"]), vec!["d"]);
        assert!(env.flag("F") && !env.flag("A"));
        assert_eq!(env.missing(&["A", "B", "C"]), vec!["B", "C"]);
    }
}
