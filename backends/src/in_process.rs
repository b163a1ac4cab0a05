//! `InProcessShared`: rate-limit windows, idempotency keys and cached answers in this process.

use async_trait::async_trait;
use parking_lot::Mutex;
use spendstream_core::ports::{RateDecision, SharedError, SharedState};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Shared state for a single API process.
#[derive(Default)]
pub struct InProcessShared {
    hits: Mutex<HashMap<String, (Instant, u32)>>,
    keys: Mutex<HashMap<String, (Instant, String)>>,
    cache: Mutex<HashMap<String, (Instant, Vec<u8>)>>,
}

/// Cached answers kept at most; past it the expired ones go, then all.
const MAX_CACHED: usize = 10_000;

impl InProcessShared {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SharedState for InProcessShared {
    async fn check(&self, key: &str, limit: u32, window: Duration) -> Result<RateDecision, SharedError> {
        let hits = self.hits.lock();
        Ok(match hits.get(key) {
            Some((start, n)) if start.elapsed() < window && *n >= limit => {
                RateDecision::Limited { retry_after_secs: (window - start.elapsed()).as_secs().max(1) }
            }
            _ => RateDecision::Allowed,
        })
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<(), SharedError> {
        let mut hits = self.hits.lock();
        if hits.len() > 100_000 {
            hits.retain(|_, (start, _)| start.elapsed() < window);
        }
        let slot = hits.entry(key.to_owned()).or_insert((Instant::now(), 0));
        if slot.0.elapsed() >= window {
            *slot = (Instant::now(), 0);
        }
        slot.1 += 1;
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<(), SharedError> {
        self.hits.lock().remove(key);
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<String, SharedError> {
        let mut keys = self.keys.lock();
        if keys.len() > 100_000 {
            keys.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        match keys.get(key) {
            Some((at, v)) if at.elapsed() < ttl => Ok(v.clone()),
            _ => {
                keys.insert(key.to_owned(), (Instant::now(), value.to_owned()));
                Ok(value.to_owned())
            }
        }
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, SharedError> {
        Ok(self.cache.lock().get(key).filter(|(until, _)| Instant::now() < *until).map(|(_, v)| v.clone()))
    }

    async fn cache_put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedError> {
        let mut cache = self.cache.lock();
        if cache.len() >= MAX_CACHED {
            let now = Instant::now();
            cache.retain(|_, (until, _)| now < *until);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(key.to_owned(), (Instant::now() + ttl, value.to_vec()));
        Ok(())
    }

    async fn healthcheck(&self) -> Result<(), SharedError> {
        Ok(())
    }
}
