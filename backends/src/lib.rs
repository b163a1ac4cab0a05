//! Implementations of the ports in `spendstream-core`, one module per engine.
//!
//! - [`embedded`]: `EmbeddedEventLog` (SQLite, group commit) and
//!   `EmbeddedStore` (in-memory windows, Arrow snapshots).
//! - [`sql`]: read-only SQL over the embedded store through DataFusion.
//! - [`sqlite_accounts`]: `SqliteAccounts` (users, refresh and API tokens).
//! - [`sqlite_inbox`]: the SMS inbox and bills, in the same SQLite file.
//! - [`sqlite_chats`]: messenger chats, dialogue state and link codes, there too.
//! - [`pg_accounts`], [`pg_inbox`], [`pg_chats`]: `PgAccounts`, the same on PostgreSQL (scale-out).
//! - [`kafka`]: `KafkaEventLog` (rdkafka: idempotent producer, consumer groups).
//! - [`clickhouse`]: `ClickhouseStore` and `migrate`, the scale-out analytics store.
//! - [`in_process`]: `InProcessShared` rate limits and idempotency keys.

mod chat_rows;
pub mod clickhouse;
pub mod embedded;
pub mod in_process;
mod inbox_rows;
pub mod kafka;
pub mod pg_accounts;
pub mod pg_chats;
pub mod pg_inbox;
pub mod redis_shared;
pub mod sql;
pub mod sqlite_accounts;
pub mod sqlite_chats;
pub mod sqlite_inbox;
pub mod wiring;

pub use self::clickhouse::{ClickhouseStore, migrate};

use std::sync::atomic::AtomicU64;

/// Log records skipped because they could not be decoded (dead letters).
pub static SKIPPED_RECORDS: AtomicU64 = AtomicU64::new(0);

/// A log record's event, or `None` (logged, counted in [`SKIPPED_RECORDS`])
/// when this build cannot read it or it fails [`Event::check`]: a bad record
/// is data, not a crash.
fn decode_event(payload: &[u8], partition: u32, offset: u64) -> Option<spendstream_core::Event> {
    let decoded = serde_json::from_slice::<spendstream_core::Event>(payload)
        .map_err(|e| e.to_string())
        .and_then(|event| event.check().map(|()| event));
    match decoded {
        Ok(event) => Some(event),
        Err(error) => {
            SKIPPED_RECORDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(partition, offset, %error, "skipping undecodable event");
            None
        }
    }
}
