//! `RedisShared`: rate-limit windows, idempotency keys and cached report
//! answers in Redis, so that any
//! number of API processes share them. Every command has a deadline
//! (`redis.timeout_ms`); past it, or with Redis down, callers get
//! `SharedError::Unavailable` (the API answers 503 with Retry-After).

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use spendstream_core::ports::{RateDecision, SharedError, SharedState};
use std::time::Duration;

/// Shared state in one Redis database; keys are prefixed with `prefix`.
#[derive(Clone)]
pub struct RedisShared {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

fn unavailable(e: impl std::fmt::Display) -> SharedError {
    SharedError::Unavailable(format!("redis: {e}"))
}

/// Milliseconds of a duration, at least 1 (Redis refuses a zero expiry).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisShared {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/0`) within `timeout`.
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self, SharedError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = tokio::time::timeout(timeout, ConnectionManager::new(client))
            .await
            .map_err(|_| unavailable(format!("no connection to {url} within {} ms", timeout.as_millis())))?
            .map_err(unavailable)?;
        Ok(RedisShared { conn, prefix: prefix.to_owned(), timeout })
    }

    fn key(&self, kind: &str, key: &str) -> String {
        format!("{}{kind}:{key}", self.prefix)
    }

    /// Runs one command or pipeline with the deadline.
    async fn run<T: redis::FromRedisValue>(
        &self,
        f: impl AsyncFnOnce(ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, SharedError> {
        tokio::time::timeout(self.timeout, f(self.conn.clone()))
            .await
            .map_err(|_| unavailable(format!("no answer within {} ms", self.timeout.as_millis())))?
            .map_err(unavailable)
    }
}

#[async_trait]
impl SharedState for RedisShared {
    async fn check(&self, key: &str, limit: u32, _window: Duration) -> Result<RateDecision, SharedError> {
        let k = self.key("hits", key);
        let (count, pttl): (Option<u32>, i64) =
            self.run(async |mut c| redis::pipe().get(&k).cmd("PTTL").arg(&k).query_async(&mut c).await).await?;
        Ok(match count {
            Some(n) if n >= limit => {
                let secs = u64::try_from(pttl.max(0)).unwrap_or(0).div_ceil(1000).max(1);
                RateDecision::Limited { retry_after_secs: secs }
            }
            _ => RateDecision::Allowed,
        })
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<(), SharedError> {
        let k = self.key("hits", key);
        // One fixed window: the first hit creates the counter with its expiry,
        // atomically with the increment (MULTI/EXEC).
        let ms = millis(window);
        let _: (Option<String>, u64) = self
            .run(async |mut c| {
                redis::pipe()
                    .atomic()
                    .cmd("SET")
                    .arg(&k)
                    .arg(0)
                    .arg("PX")
                    .arg(ms)
                    .arg("NX")
                    .incr(&k, 1)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<(), SharedError> {
        let k = self.key("hits", key);
        let _: u64 = self.run(async |mut c| redis::cmd("DEL").arg(&k).query_async(&mut c).await).await?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<String, SharedError> {
        let k = self.key("keys", key);
        let ms = millis(ttl);
        // SET .. NX GET answers the value in force, or nil when this one was stored.
        let old: Option<String> = self
            .run(async |mut c| {
                redis::cmd("SET").arg(&k).arg(value).arg("NX").arg("GET").arg("PX").arg(ms).query_async(&mut c).await
            })
            .await?;
        Ok(old.unwrap_or_else(|| value.to_owned()))
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, SharedError> {
        let k = self.key("cache", key);
        self.run(async |mut c| redis::cmd("GET").arg(&k).query_async(&mut c).await).await
    }

    async fn cache_put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedError> {
        let k = self.key("cache", key);
        let ms = millis(ttl);
        let _: () = self
            .run(async |mut c| redis::cmd("SET").arg(&k).arg(value).arg("PX").arg(ms).query_async(&mut c).await)
            .await?;
        Ok(())
    }

    async fn healthcheck(&self) -> Result<(), SharedError> {
        let _: String = self.run(async |mut c| redis::cmd("PING").query_async(&mut c).await).await?;
        Ok(())
    }
}
