//! Answers kept in memory because they cost queries and computation to build and a free
//! check to trust: each is stored with the organization's `data_version` (bumped by
//! triggers on every change of its monthly values, SmartNumbers, thresholds and
//! settings, and read by every request with the organization row), and used only while
//! that version is unchanged. Several replicas each keep their own copy and none can
//! serve stale answers: the version lives in PostgreSQL.
//!
//! Answers are kept encoded ([`Encoded`]): a warm request writes bytes and does no JSON
//! work. What an answer depends on besides the data (the organization, the month in
//! progress, a query parameter) is part of its key.
//!
//! Each cache is bounded by the bytes of its answers' JSON ([`MAX_BYTES`]), not by a
//! count, so that a server with many organizations keeps every organization's answers
//! that fit; past the bound the least recently used answers go first. Versions are
//! never compared across keys (each organization counts its own): an answer built at
//! an old version is simply never used again, and ages out.
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

/// Most bytes of JSON a cache keeps (an answer also holds its decoded value, about as
/// big): about 4,000 SmartNumbers answers of 8 KiB, 200 organizations' 20 quarters. Past
/// it, the least recently used answers go until a quarter of it is free.
pub const MAX_BYTES: usize = 32 << 20;

/// What an entry's key and bookkeeping cost besides its value, counted with it.
const ENTRY_OVERHEAD: usize = 64;

/// What a cached value weighs against [`MAX_BYTES`].
pub trait Weigh {
    fn weight(&self) -> usize;
}

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

impl<T> Weigh for Encoded<T> {
    fn weight(&self) -> usize {
        self.json.len()
    }
}

impl Weigh for Option<Month> {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
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
    /// The forecast of a quarter, as of a day in the organization's zone (the month in
    /// progress counts at its run rate, which moves with the day).
    pub forecast:
        AnswerCache<(i32, Quarter, chrono::NaiveDate), qbr_shared::insight::api::ForecastResponse>,
    /// The latest month with data (the default period of most reads).
    pub latest_month: VersionedCache<i32, Option<Month>>,
}

/// A cache of encoded answers.
pub type AnswerCache<K, T> = VersionedCache<K, Encoded<T>>;

/// Values by key, each with the data version it was built at.
pub struct VersionedCache<K, V> {
    inner: Mutex<Entries<K, V>>,
    max_bytes: usize,
}

struct Entries<K, V> {
    map: HashMap<K, Entry<V>>,
    /// The weights of `map`'s entries, summed.
    bytes: usize,
    /// Moves at every use: entries with the smallest `used` go first.
    clock: u64,
}

struct Entry<V> {
    version: i64,
    value: Arc<V>,
    weight: usize,
    used: u64,
}

impl<K, V> Default for VersionedCache<K, V> {
    fn default() -> Self {
        VersionedCache::with_max_bytes(MAX_BYTES)
    }
}

impl<K, V> VersionedCache<K, V> {
    /// A cache keeping at most `max_bytes` of values (by [`Weigh`]).
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        VersionedCache {
            inner: Mutex::new(Entries {
                map: HashMap::new(),
                bytes: 0,
                clock: 0,
            }),
            max_bytes,
        }
    }
}

impl<K: Hash + Eq, V: Weigh> VersionedCache<K, V> {
    /// The stored value, if it was built at `version`.
    pub fn get(&self, key: &K, version: i64) -> Option<Arc<V>> {
        let mut guard = self.inner.lock().ok()?;
        let entries = &mut *guard;
        entries.clock += 1;
        match entries.map.get_mut(key) {
            Some(e) if e.version == version => {
                e.used = entries.clock;
                Some(e.value.clone())
            }
            _ => None,
        }
    }

    /// Keeps `value`, built at `version` (in place of what `key` held).
    pub fn put(&self, key: K, version: i64, value: Arc<V>) {
        // A poisoned lock only means a panic elsewhere: skip caching, never fail.
        let Ok(mut guard) = self.inner.lock() else {
            return;
        };
        let entries = &mut *guard;
        entries.clock += 1;
        let weight = value.weight() + ENTRY_OVERHEAD;
        let entry = Entry {
            version,
            value,
            weight,
            used: entries.clock,
        };
        if let Some(old) = entries.map.insert(key, entry) {
            entries.bytes -= old.weight;
        }
        entries.bytes += weight;
        if entries.bytes > self.max_bytes {
            entries.evict(self.max_bytes / 4 * 3);
        }
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
        self.inner.lock().map_or(0, |e| e.map.len())
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.inner.lock().map_or(0, |e| e.bytes)
    }
}

impl<K, V> Entries<K, V> {
    /// Drops the least recently used entries until at most `target` bytes are kept.
    fn evict(&mut self, target: usize) {
        let mut by_use: Vec<(u64, usize)> = self.map.values().map(|e| (e.used, e.weight)).collect();
        by_use.sort_unstable();
        let mut kept = self.bytes;
        let mut last_dropped = None;
        for (used, weight) in by_use {
            if kept <= target {
                break;
            }
            kept -= weight;
            last_dropped = Some(used);
        }
        if let Some(cutoff) = last_dropped {
            // `used` values are unique: exactly the entries counted above go.
            self.map.retain(|_, e| e.used > cutoff);
            self.bytes = kept;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A value that weighs what it says.
    struct Blob(usize);

    impl Weigh for Blob {
        fn weight(&self) -> usize {
            self.0
        }
    }

    impl Weigh for String {
        fn weight(&self) -> usize {
            self.len()
        }
    }

    impl Weigh for i32 {
        fn weight(&self) -> usize {
            4
        }
    }

    /// Room for `n` entries of `weight` bytes.
    fn room(n: usize, weight: usize) -> usize {
        n * (weight + ENTRY_OVERHEAD)
    }

    #[test]
    fn an_answer_is_used_only_at_its_version() {
        let cache: VersionedCache<&str, String> = VersionedCache::default();
        cache.put("2025-Q1", 7, Arc::new("answer".to_string()));
        assert_eq!(*cache.get(&"2025-Q1", 7).unwrap(), "answer");
        assert!(cache.get(&"2025-Q1", 8).is_none(), "data changed since");
        assert!(cache.get(&"2025-Q2", 7).is_none(), "another request");
    }

    #[test]
    fn the_cache_stays_within_its_bytes_and_drops_the_least_recently_used() {
        let cache: VersionedCache<usize, Blob> = VersionedCache::with_max_bytes(room(100, 1000));
        for k in 0..100 {
            cache.put(k, 1, Arc::new(Blob(1000)));
        }
        assert_eq!(cache.len(), 100, "all fit");
        assert!(
            cache.get(&0, 1).is_some(),
            "0 used again: now the most recent"
        );
        cache.put(100, 1, Arc::new(Blob(1000)));
        assert_eq!(cache.len(), 75, "down to three quarters");
        assert!(cache.bytes() <= room(75, 1000));
        assert!(cache.get(&0, 1).is_some(), "recently used: kept");
        assert!(cache.get(&100, 1).is_some(), "the newest: kept");
        assert!(cache.get(&1, 1).is_none(), "the least recently used: gone");
        assert!(cache.get(&26, 1).is_none());
        assert!(cache.get(&27, 1).is_some());
        for k in 0..1000 {
            cache.put(k, 2, Arc::new(Blob(1000)));
            assert!(cache.bytes() <= room(100, 1000));
        }
        assert!(cache.get(&999, 2).is_some(), "the newest is kept");
    }

    #[test]
    fn a_new_answer_replaces_the_old_one_of_its_key() {
        let cache: VersionedCache<usize, Blob> = VersionedCache::default();
        cache.put(1, 1, Arc::new(Blob(500)));
        cache.put(1, 2, Arc::new(Blob(700)));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), 700 + ENTRY_OVERHEAD);
        assert!(cache.get(&1, 1).is_none());
        assert!(cache.get(&1, 2).is_some());
    }

    #[test]
    fn organizations_do_not_evict_each_other_by_version() {
        // Each organization counts its own versions: organization 2 at version 90
        // says nothing about organization 1's answers at version 3.
        let cache: VersionedCache<(i32, usize), Blob> = VersionedCache::default();
        for q in 0..20 {
            cache.put((1, q), 3, Arc::new(Blob(8000)));
        }
        for org in 2..=100 {
            for q in 0..20 {
                cache.put((org, q), 90, Arc::new(Blob(8000)));
            }
        }
        assert_eq!(cache.len(), 2000, "100 organizations' 20 quarters fit");
        assert!(cache.get(&(1, 0), 3).is_some());
    }

    #[test]
    fn a_value_heavier_than_the_cache_is_not_kept() {
        let cache: VersionedCache<usize, Blob> = VersionedCache::with_max_bytes(1000);
        cache.put(1, 1, Arc::new(Blob(10)));
        cache.put(2, 1, Arc::new(Blob(5000)));
        assert!(cache.get(&2, 1).is_none());
        assert!(cache.bytes() <= 1000);
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
