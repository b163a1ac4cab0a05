//! `AppState`: the ports and config every handler shares.

use crate::cache::ReportCache;
use crate::error::ApiError;
use crate::tokens::Tokens;
use parking_lot::Mutex;
use spendstream_core::Config;
use spendstream_core::UserId;
use spendstream_core::chats::ChatStore;
use spendstream_core::inbox::Inbox;
use spendstream_core::ports::User;
use spendstream_core::ports::{Accounts, AnalyticsStore, EventLog, SharedState};
use spendstream_ingest::pipeline::SmsIngest;
use spendstream_ingest::sms::SmsRules;
use spendstream_processors::tips::TipRules;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static BODY_LIMIT: AtomicUsize = AtomicUsize::new(65536);

/// The body limit in force (for error messages).
pub fn body_limit() -> usize {
    BODY_LIMIT.load(Ordering::Relaxed)
}

/// What handlers need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Where entries go.
    pub log: Arc<dyn EventLog>,
    /// Where lists and reports come from.
    pub store: Arc<dyn AnalyticsStore>,
    /// Users and credentials.
    pub accounts: Arc<dyn Accounts>,
    /// Rate limits and idempotency keys.
    pub shared: Arc<dyn SharedState>,
    /// Forwarded SMS and bills.
    pub inbox: Arc<dyn Inbox>,
    /// Messenger chats and link codes.
    pub chats: Arc<dyn ChatStore>,
    /// SMS to entries.
    pub sms: Arc<SmsIngest>,
    /// Access and refresh tokens.
    pub tokens: Arc<Tokens>,
    /// Serialized reports, per user and store version.
    pub report_cache: Arc<ReportCache>,
    /// Tip rules and recurring-charge thresholds.
    pub tips: Arc<TipRules>,
    users: Arc<Mutex<HashMap<UserId, (Instant, User)>>>,
}

impl AppState {
    /// Wires the state; `jwt_secret` must be at least 32 bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Arc<Config>,
        log: Arc<dyn EventLog>,
        store: Arc<dyn AnalyticsStore>,
        accounts: Arc<dyn Accounts>,
        shared: Arc<dyn SharedState>,
        inbox: Arc<dyn Inbox>,
        chats: Arc<dyn ChatStore>,
        sms_rules: Arc<SmsRules>,
        tips: Arc<TipRules>,
        jwt_secret: &[u8],
    ) -> Self {
        BODY_LIMIT.store(config.server.max_body_bytes, Ordering::Relaxed);
        let tokens = Arc::new(Tokens::new(jwt_secret, &config.auth));
        let users = Arc::new(Mutex::new(HashMap::new()));
        let sms = Arc::new(SmsIngest::new(sms_rules, log.clone(), inbox.clone(), &config.ingest));
        let report_cache = Arc::new(ReportCache::new(config.api.report_cache_users));
        AppState { config, log, store, accounts, shared, inbox, chats, sms, tokens, report_cache, tips, users }
    }

    /// The signed-in user, from a short-lived cache (saves a database round
    /// trip on every report) or from accounts.
    pub async fn user(&self, id: UserId) -> Result<User, ApiError> {
        let ttl = Duration::from_millis(self.config.api.user_cache_ms);
        if let Some((at, u)) = self.users.lock().get(&id)
            && at.elapsed() < ttl
        {
            return Ok(u.clone());
        }
        let user = self.accounts.user(id).await?.ok_or_else(|| ApiError::Unauthorized("account is gone".into()))?;
        let mut cache = self.users.lock();
        if cache.len() > 100_000 {
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        cache.insert(id, (Instant::now(), user.clone()));
        Ok(user)
    }

    /// Appends `events` durably, then waits (at most `api.read_your_writes_ms`)
    /// until the store shows them; false if the processors had not caught up.
    pub async fn append_and_wait(&self, events: Vec<spendstream_core::Event>) -> Result<bool, ApiError> {
        let positions = self.log.append(events).await?;
        Ok(match positions.last() {
            Some(p) => self.store.wait_applied(*p, Duration::from_millis(self.config.api.read_your_writes_ms)).await,
            None => true,
        })
    }

    /// Drops a user from the cache after a change made through this process.
    pub fn forget_user(&self, id: UserId) {
        self.users.lock().remove(&id);
    }
}
