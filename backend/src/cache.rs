//! Answers kept in memory because they cost a large query to build and a free check to
//! trust: each is stored with the organization's `data_version` (bumped by a trigger on
//! every change of its monthly values, and read by every request with the organization
//! row), and used only while that version is unchanged. Several replicas each keep
//! their own copy and none can serve stale values: the version lives in PostgreSQL.
use qbr_shared::api::RangeResponse;
use qbr_shared::Month;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most matrices kept; past it, entries of older versions go first, then everything.
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

/// The months × metrics matrices of `GET /api/qbr/metrics/range`.
#[derive(Default)]
pub struct RangeCache {
    entries: Mutex<HashMap<RangeKey, (i64, Arc<RangeResponse>)>>,
}

impl RangeCache {
    /// The stored answer, if it was built at `version`.
    pub fn get(&self, key: &RangeKey, version: i64) -> Option<Arc<RangeResponse>> {
        let entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some((v, answer)) if *v == version => Some(answer.clone()),
            _ => None,
        }
    }

    /// Keeps `answer`, built at `version`.
    pub fn put(&self, key: RangeKey, version: i64, answer: Arc<RangeResponse>) {
        // A poisoned lock only means a panic elsewhere: skip caching, never fail.
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|k, (v, _)| k.org != key.org || *v >= version);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (version, answer));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(from: &str) -> RangeKey {
        RangeKey {
            org: 1,
            from: from.parse().unwrap(),
            to: "2025-12".parse().unwrap(),
            metrics: Vec::new(),
        }
    }

    fn answer(from: &str) -> Arc<RangeResponse> {
        Arc::new(RangeResponse {
            from: from.to_string(),
            to: "2025-12".to_string(),
            organization_id: 1,
            months: Vec::new(),
            metrics: Vec::new(),
        })
    }

    #[test]
    fn an_answer_is_used_only_at_its_version() {
        let cache = RangeCache::default();
        cache.put(key("2025-01"), 7, answer("2025-01"));
        assert_eq!(cache.get(&key("2025-01"), 7).unwrap().from, "2025-01");
        assert!(
            cache.get(&key("2025-01"), 8).is_none(),
            "data changed since"
        );
        assert!(cache.get(&key("2025-02"), 7).is_none(), "another request");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = RangeCache::default();
        let months: Vec<Month> =
            Month::range("2000-01".parse().unwrap(), "2040-12".parse().unwrap(), 1000).unwrap();
        for m in &months {
            cache.put(key(&m.to_string()), 1, answer(&m.to_string()));
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
        let last = months.last().unwrap().to_string();
        assert!(cache.get(&key(&last), 1).is_some(), "the newest is kept");
    }
}
