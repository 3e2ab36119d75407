//! Answers kept in memory because they cost large queries to build and a free check to
//! trust: each is stored with the organization's `data_version` (bumped by triggers on
//! every change of its monthly values, SmartNumbers and thresholds, and read by every
//! request with the organization row), and used only while that version is unchanged.
//! Several replicas each keep their own copy and none can serve stale answers: the
//! version lives in PostgreSQL.
use qbr_shared::api::{RangeResponse, SmartNumbersResponse};
use qbr_shared::Month;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Most answers kept per cache; past it, older versions go first, then everything.
const MAX_ENTRIES: usize = 256;

/// What a months × metrics request asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RangeKey {
    pub org: i32,
    pub from: Month,
    pub to: Month,
    /// The metric filter, as asked (empty: all metrics).
    pub metrics: Vec<String>,
}

/// The SmartNumbers of an organization's period (`YYYY-Qn`, `YYYY-MM`, `YYYY`).
pub type NumbersKey = (i32, String);

/// The caches a server keeps.
#[derive(Default)]
pub struct Caches {
    /// `GET /api/qbr/metrics/range`.
    pub range: VersionedCache<RangeKey, RangeResponse>,
    /// `GET /api/qbr/smartnumbers`.
    pub smartnumbers: VersionedCache<NumbersKey, SmartNumbersResponse>,
}

/// Answers by key, each with the data version it was built at.
pub struct VersionedCache<K, V> {
    entries: Mutex<HashMap<K, (i64, Arc<V>)>>,
}

impl<K, V> Default for VersionedCache<K, V> {
    fn default() -> Self {
        VersionedCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V> VersionedCache<K, V> {
    /// The stored answer, if it was built at `version`.
    pub fn get(&self, key: &K, version: i64) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some((v, answer)) if *v == version => Some(answer.clone()),
            _ => None,
        }
    }

    /// Keeps `answer`, built at `version`.
    pub fn put(&self, key: K, version: i64, answer: Arc<V>) {
        // A poisoned lock only means a panic elsewhere: skip caching, never fail.
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (v, _)| *v >= version);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (version, answer));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_used_only_at_its_version() {
        let cache: VersionedCache<&str, String> = VersionedCache::default();
        cache.put("2025-Q1", 7, Arc::new("answer".to_string()));
        assert_eq!(*cache.get(&"2025-Q1", 7).unwrap(), "answer");
        assert!(cache.get(&"2025-Q1", 8).is_none(), "data changed since");
        assert!(cache.get(&"2025-Q2", 7).is_none(), "another request");
    }

    #[test]
    fn the_cache_stays_bounded_and_drops_old_versions_first() {
        let cache: VersionedCache<usize, usize> = VersionedCache::default();
        for k in 0..MAX_ENTRIES {
            cache.put(k, 1, Arc::new(k));
        }
        cache.put(MAX_ENTRIES, 2, Arc::new(0));
        assert_eq!(cache.len(), 1, "version 1 answers dropped");
        for k in 0..3 * MAX_ENTRIES {
            cache.put(k, 2, Arc::new(k));
        }
        assert!(cache.len() <= MAX_ENTRIES);
        assert!(
            cache.get(&(3 * MAX_ENTRIES - 1), 2).is_some(),
            "the newest is kept"
        );
    }
}
