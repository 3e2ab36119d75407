//! Answers kept in memory because they cost queries and computation to build and a free
//! check to trust: each is stored with the organization's `data_version` (bumped by
//! triggers on every change of its monthly values, SmartNumbers, thresholds and
//! settings, and read by every request with the organization row), and used only while
//! that version is unchanged. Several replicas each keep their own copy and none can
//! serve stale answers: the version lives in PostgreSQL.
//!
//! Answers are kept encoded ([`Encoded`]): a warm request writes bytes and does no JSON
//! work. What an answer depends on besides the data (the month in progress, a query
//! parameter) is part of its key.
use qbr_shared::api::{
    AlertsResponse, FlatSmartNumbersResponse, HistoryResponse, MonthlyMetricsResponse,
    PeriodsResponse, QuarterlyMetricsResponse, RangeResponse, SmartNumbersResponse,
    ThresholdsResponse, TrendResponse,
};
use qbr_shared::{Month, Period, Quarter};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Most answers kept per cache; past it, older versions go first, then everything.
const MAX_ENTRIES: usize = 256;

/// An answer and its JSON, encoded once.
pub struct Encoded<T> {
    value: T,
    json: Vec<u8>,
}

impl<T: Serialize> Encoded<T> {
    pub fn new(value: T) -> Result<Encoded<T>, serde_json::Error> {
        let json = serde_json::to_vec(&value)?;
        Ok(Encoded { value, json })
    }
}

impl<T> Encoded<T> {
    pub fn value(&self) -> &T {
        &self.value
    }

    pub fn json(&self) -> &[u8] {
        &self.json
    }
}

/// What a months × metrics request asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RangeKey {
    pub org: i32,
    pub from: Month,
    pub to: Month,
    /// The metric filter, as asked (empty: all metrics).
    pub metrics: Vec<String>,
}

/// What a one-month request asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MonthlyKey {
    pub org: i32,
    pub month: Month,
    pub vendor_id: Option<i32>,
    pub metric: Option<&'static str>,
}

/// What a trend request asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrendKey {
    pub org: i32,
    pub periods: Vec<Period>,
    pub keys: Vec<&'static str>,
}

/// What a history request asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HistoryKey {
    pub org: i32,
    pub month: Option<Month>,
    pub metric: Option<&'static str>,
    pub limit: i64,
}

/// The periods list depends on the month in progress and the organization's name too.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeriodsKey {
    pub org: i32,
    pub current: Month,
    pub name: String,
}

/// Answers of an organization's period (`YYYY-Qn`, `YYYY-MM`, `YYYY`).
pub type PeriodKey = (i32, Period);

/// The caches a server keeps, one per read endpoint.
#[derive(Default)]
pub struct Caches {
    pub smartnumbers: AnswerCache<PeriodKey, SmartNumbersResponse>,
    pub flat_smartnumbers: AnswerCache<PeriodKey, FlatSmartNumbersResponse>,
    pub trend: AnswerCache<TrendKey, TrendResponse>,
    pub alerts: AnswerCache<PeriodKey, AlertsResponse>,
    pub monthly: AnswerCache<MonthlyKey, MonthlyMetricsResponse>,
    pub quarterly: AnswerCache<(i32, Quarter), QuarterlyMetricsResponse>,
    pub range: AnswerCache<RangeKey, RangeResponse>,
    pub periods: AnswerCache<PeriodsKey, PeriodsResponse>,
    pub thresholds: AnswerCache<i32, ThresholdsResponse>,
    /// Every history row is written with a change of a monthly value.
    pub history: AnswerCache<HistoryKey, HistoryResponse>,
    /// The latest month with data (the default period of most reads).
    pub latest_month: VersionedCache<i32, Option<Month>>,
}

/// A cache of encoded answers.
pub type AnswerCache<K, T> = VersionedCache<K, Encoded<T>>;

/// Values by key, each with the data version it was built at.
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
    /// The stored value, if it was built at `version`.
    pub fn get(&self, key: &K, version: i64) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some((v, value)) if *v == version => Some(value.clone()),
            _ => None,
        }
    }

    /// Keeps `value`, built at `version`.
    pub fn put(&self, key: K, version: i64, value: Arc<V>) {
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
        entries.insert(key, (version, value));
    }

    /// The value at `version`, built by `build` (and kept) when there is none. Two
    /// requests that miss at once both build; the answers are equal.
    pub async fn get_or_build<E, Fut>(
        &self,
        key: K,
        version: i64,
        build: impl FnOnce() -> Fut,
    ) -> Result<Arc<V>, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(hit) = self.get(&key, version) {
            return Ok(hit);
        }
        let value = Arc::new(build().await?);
        self.put(key, version, value.clone());
        Ok(value)
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

    #[tokio::test]
    async fn get_or_build_builds_once_per_version() {
        let cache: VersionedCache<i32, i32> = VersionedCache::default();
        let built = std::cell::Cell::new(0);
        for version in [1, 1, 2] {
            let v = cache
                .get_or_build(0, version, || async {
                    built.set(built.get() + 1);
                    Ok::<_, ()>(version as i32 * 10)
                })
                .await
                .unwrap();
            assert_eq!(*v, version as i32 * 10);
        }
        assert_eq!(built.get(), 2);
        let failed = cache
            .get_or_build(1, 1, || async { Err::<i32, _>("no") })
            .await;
        assert!(failed.is_err());
        assert!(cache.get(&1, 1).is_none(), "a failure is not kept");
    }

    #[test]
    fn encoded_answers_keep_their_json() {
        let e = Encoded::new(vec![1, 2]).unwrap();
        assert_eq!(e.json(), b"[1,2]");
        assert_eq!(e.value(), &vec![1, 2]);
    }
}
