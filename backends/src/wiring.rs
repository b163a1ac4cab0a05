//! Picks the engine behind each port from config: the one `match` per port.

use crate::embedded::{EmbeddedEventLog, EmbeddedStore};
use crate::in_process::InProcessShared;
use crate::kafka::KafkaEventLog;
use crate::redis_shared::RedisShared;
use crate::sqlite_accounts::SqliteAccounts;
use spendstream_core::Config;
use spendstream_core::chats::ChatStore;
use spendstream_core::config::{AccountsKind, EventLogKind, SharedKind, StoreKind};
use spendstream_core::inbox::Inbox;
use spendstream_core::ports::{Accounts, AnalyticsStore, EventLog, LogError, SharedState};
use std::sync::Arc;

/// The ports, ready to use.
#[derive(Clone)]
pub struct Ports {
    /// Event log.
    pub log: Arc<dyn EventLog>,
    /// Analytics store.
    pub store: Arc<dyn AnalyticsStore>,
    /// Accounts.
    pub accounts: Arc<dyn Accounts>,
    /// Shared state.
    pub shared: Arc<dyn SharedState>,
    /// Forwarded SMS, transaction keys and bills (kept beside the accounts).
    pub inbox: Arc<dyn Inbox>,
    /// Messenger chats, dialogue state and link codes (kept beside the accounts).
    pub chats: Arc<dyn ChatStore>,
    /// Offset the log will give the next append, at start (embedded log only).
    pub log_head: Option<u64>,
}

/// Why a port could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{port}: {message}")]
pub struct WiringError {
    /// Which port.
    pub port: &'static str,
    /// What went wrong.
    pub message: String,
}

fn fail(port: &'static str) -> impl Fn(String) -> WiringError {
    move |message| WiringError { port, message }
}

/// With the embedded store only one process may run the processors on a data dir
/// (they write its snapshots): takes `<data_dir>/processing.lock` for as long as the
/// returned file lives (the system drops it when the process ends, however it ends),
/// or says that the data dir is busy. Other stores need no lock: `None`.
pub fn lock_processing(config: &Config) -> Result<Option<std::fs::File>, WiringError> {
    if config.backends.store != StoreKind::Embedded {
        return Ok(None);
    }
    let dir = &config.storage.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| fail("storage.data_dir")(format!("{}: {e}", dir.display())))?;
    let path = dir.join("processing.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| fail("storage.data_dir")(format!("{}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(fail("storage.data_dir")(format!(
            "{} is in use: another spendstream process (serve, process or chat) runs the processors on it; \
             stop it first or give this one its own storage.data_dir",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(fail("storage.data_dir")(format!("{}: {e}", path.display()))),
    }
}

/// Opens every port as `config.backends` says.
pub async fn open(config: &Config) -> Result<Ports, WiringError> {
    let dir = &config.storage.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| fail("storage.data_dir")(format!("{}: {e}", dir.display())))?;
    let (log, log_head): (Arc<dyn EventLog>, _) = match config.backends.event_log {
        EventLogKind::Embedded => {
            let log = EmbeddedEventLog::open(&dir.join("events.db"))
                .await
                .map_err(|e| fail("backends.event_log")(e.to_string()))?;
            let head = log.next_offset();
            (Arc::new(log), Some(head))
        }
        EventLogKind::Kafka => {
            let log = KafkaEventLog::connect(&config.kafka).map_err(|e| fail("backends.event_log")(e.to_string()))?;
            match log.check_topics().await {
                Ok(partitions) => tracing::info!(partitions, brokers = %config.kafka.brokers, "event log on kafka"),
                // A broker that is down is an outage to ride out (503s, retries), not a reason not to start.
                Err(LogError::Unavailable(e)) => tracing::warn!(error = %e, "kafka is not answering yet"),
                Err(e) => return Err(fail("backends.event_log")(e.to_string())),
            }
            (Arc::new(log), None)
        }
    };
    let store: Arc<dyn AnalyticsStore> = match config.backends.store {
        StoreKind::Embedded => {
            Arc::new(EmbeddedStore::open(&dir.join("store")).await.map_err(|e| fail("backends.store")(e.to_string()))?)
        }
        StoreKind::Clickhouse => Arc::new(
            crate::clickhouse::ClickhouseStore::connect(&config.clickhouse)
                .await
                .map_err(|e| fail("backends.store")(e.to_string()))?,
        ),
    };
    let (accounts, inbox, chats): (Arc<dyn Accounts>, Arc<dyn Inbox>, Arc<dyn ChatStore>) =
        match config.backends.accounts {
            AccountsKind::Sqlite => {
                let db = Arc::new(
                    SqliteAccounts::open(&dir.join("accounts.db"))
                        .await
                        .map_err(|e| fail("backends.accounts")(e.to_string()))?,
                );
                (db.clone(), db.clone(), db)
            }
            AccountsKind::Postgres => {
                let db = Arc::new(
                    crate::pg_accounts::PgAccounts::connect(&config.postgres)
                        .await
                        .map_err(|e| fail("backends.accounts")(e.to_string()))?,
                );
                (db.clone(), db.clone(), db)
            }
        };
    let shared: Arc<dyn SharedState> = match config.backends.shared {
        SharedKind::InProcess => Arc::new(InProcessShared::new()),
        SharedKind::Redis => {
            let r = &config.redis;
            let timeout = std::time::Duration::from_millis(r.timeout_ms);
            Arc::new(
                RedisShared::connect(r.url.expose(), &r.key_prefix, timeout)
                    .await
                    .map_err(|e| fail("backends.shared")(e.to_string()))?,
            )
        }
    };
    Ok(Ports { log, store, accounts, shared, inbox, chats, log_head })
}

/// The HMAC secret: from config, or generated once and kept in the data dir.
pub fn jwt_secret(config: &Config) -> Result<Vec<u8>, WiringError> {
    let configured = config.auth.jwt_secret.expose();
    if !configured.is_empty() {
        return Ok(configured.as_bytes().to_vec());
    }
    let path = config.storage.data_dir.join("jwt.secret");
    let err = |e: std::io::Error| fail("auth.jwt_secret")(format!("{}: {e}", path.display()));
    if let Ok(s) = std::fs::read_to_string(&path)
        && s.trim().len() >= 32
    {
        return Ok(s.trim().as_bytes().to_vec());
    }
    let secret = random_secret().map_err(|e| fail("auth.jwt_secret")(e.to_string()))?;
    write_private(&path, &secret).map_err(err)?;
    Ok(secret.into_bytes())
}

fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}
