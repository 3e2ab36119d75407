//! Rate limits with `governor` (GCRA): per API key (reads and writes apart) and per
//! client IP on the sign-in endpoints. The counters live in this process, so with
//! several replicas each one applies the limits on its own.
use super::config::RateLimitConfig;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct Limiters {
    key_reads: DefaultKeyedRateLimiter<i64>,
    key_writes: DefaultKeyedRateLimiter<i64>,
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

/// `Err(seconds to wait)` when over the limit.
fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), u64> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    })
}

impl Limiters {
    pub fn new(config: &RateLimitConfig) -> Self {
        Limiters {
            key_reads: RateLimiter::keyed(per_minute(config.key_reads_per_minute)),
            key_writes: RateLimiter::keyed(per_minute(config.key_writes_per_minute)),
            sign_in: RateLimiter::keyed(per_minute(config.sign_in_per_minute)),
        }
    }

    /// One request of API key `id`.
    pub fn api_key(&self, id: i64, write: bool) -> Result<(), u64> {
        if write {
            check(&self.key_writes, &id)
        } else {
            check(&self.key_reads, &id)
        }
    }

    /// One request to a sign-in endpoint from `ip`.
    pub fn sign_in(&self, ip: IpAddr) -> Result<(), u64> {
        check(&self.sign_in, &ip)
    }

    /// Forgets keys whose limits have fully replenished (keeps memory bounded).
    pub fn forget_idle(&self) {
        self.key_reads.retain_recent();
        self.key_writes.retain_recent();
        self.sign_in.retain_recent();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_says_how_long_to_wait() {
        let limiters = Limiters::new(&RateLimitConfig {
            key_reads_per_minute: 2,
            key_writes_per_minute: 1,
            sign_in_per_minute: 1,
        });
        assert!(limiters.api_key(1, false).is_ok());
        assert!(limiters.api_key(1, false).is_ok());
        let wait = limiters.api_key(1, false).unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(limiters.api_key(2, false).is_ok(), "keys are counted apart");
        assert!(limiters.api_key(1, true).is_ok());
        assert!(limiters.api_key(1, true).is_err());
    }
}
