//! `AppState`: the ports and config every handler shares.

use crate::tokens::Tokens;
use spendstream_core::Config;
use spendstream_core::ports::{Accounts, AnalyticsStore, EventLog, SharedState};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    /// Access and refresh tokens.
    pub tokens: Arc<Tokens>,
}

impl AppState {
    /// Wires the state; `jwt_secret` must be at least 32 bytes.
    pub fn new(
        config: Arc<Config>,
        log: Arc<dyn EventLog>,
        store: Arc<dyn AnalyticsStore>,
        accounts: Arc<dyn Accounts>,
        shared: Arc<dyn SharedState>,
        jwt_secret: &[u8],
    ) -> Self {
        BODY_LIMIT.store(config.server.max_body_bytes, Ordering::Relaxed);
        let tokens = Arc::new(Tokens::new(jwt_secret, &config.auth));
        AppState { config, log, store, accounts, shared, tokens }
    }
}
