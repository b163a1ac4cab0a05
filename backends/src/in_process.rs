//! `InProcessShared`: rate-limit windows and idempotency keys in this process.

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
}

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

    async fn healthcheck(&self) -> Result<(), SharedError> {
        Ok(())
    }
}
