//! The seams between spendstream and its engines. Each trait has an embedded
//! implementation and a scale-out one, and one conformance suite runs on both.

use crate::categories::CategoryId;
use crate::entry::{EntryId, Event, ProcessedEntry, UserId, UserSettings};
use crate::insight::{Alert, Budget, LearnedRule};
use crate::report::RangeSummary;
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// Where a record sits on the log: a partition and an offset inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// Partition number (the embedded log has one, 0).
    pub partition: u32,
    /// Offset within the partition, from 0.
    pub offset: u64,
}

/// An event read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Where it was read from.
    pub position: Position,
    /// The event.
    pub event: Event,
}

/// A failure of the event log. `Unavailable` is worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The engine cannot be reached or timed out; retry later.
    #[error("event log unavailable: {0}")]
    Unavailable(String),
    /// A record could not be decoded.
    #[error("corrupt record at {partition}/{offset}: {reason}")]
    Corrupt {
        /// Partition.
        partition: u32,
        /// Offset.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// Anything else.
    #[error("event log error: {0}")]
    Other(String),
}

/// A durable, partitioned, replayable log of events.
///
/// Contract: `append` returns only once every event is durable (an acked event
/// survives a crash of any process); events of one user keep their order;
/// consumers of a group resume after the last committed position and may see
/// events again after a crash (at-least-once), so processing is idempotent.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Appends events durably and returns their positions, in order.
    async fn append(&self, events: Vec<Event>) -> Result<Vec<Position>, LogError>;
    /// Opens a consumer for `group`, starting after its committed positions.
    async fn consumer(&self, group: &str) -> Result<Box<dyn LogConsumer>, LogError>;
    /// Opens a consumer for `group` of the alerts the processors raise
    /// ([`Event::AlertRaised`](crate::Event::AlertRaised)). A log that keeps one stream
    /// hands out all its events and readers skip the others.
    async fn alerts_consumer(&self, group: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        self.consumer(group).await
    }
    /// Answers whether the log can take writes now.
    async fn healthcheck(&self) -> Result<(), LogError>;
}

/// A consumer in a group; one task owns it.
#[async_trait]
pub trait LogConsumer: Send {
    /// Records after the current position worth up to `max` events (see
    /// [`Event::weight`](crate::Event::weight)); the last one may go past `max`,
    /// and one record always fits. Waits up to `wait` for new ones and returns
    /// an empty batch if none came.
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Record>, LogError>;
    /// Durably records that every record up to and including `through` is processed.
    async fn commit(&mut self, through: &[Position]) -> Result<(), LogError>;
    /// Moves the read position so that the next poll starts at `from` (inclusive).
    async fn seek(&mut self, from: Position) -> Result<(), LogError>;
}

/// A failure of the analytics store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine cannot be reached or timed out; retry later.
    #[error("analytics store unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("analytics store error: {0}")]
    Other(String),
}

/// An event after processing, ready for the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Processed {
    /// A categorised entry.
    Added(ProcessedEntry),
    /// A tombstone.
    Removed {
        /// Owner.
        user_id: UserId,
        /// Removed entry.
        entry_id: EntryId,
        /// When.
        removed_at: Timestamp,
    },
    /// New settings for a user (the store re-cuts its daily windows).
    Settings {
        /// Owner.
        user_id: UserId,
        /// New settings.
        settings: UserSettings,
    },
    /// The user set an entry's category. With a learned rule (the entry had a
    /// merchant) the store keeps the rule; with `apply_to_past` it also moves
    /// every live entry with the rule's merchant key whose category the user did
    /// not set, giving them the reason.
    Recategorised {
        /// Owner.
        user_id: UserId,
        /// The corrected entry.
        entry_id: EntryId,
        /// Its new category.
        category: CategoryId,
        /// The rule learned, with the reason entries it moves get.
        learned: Option<(String, LearnedRule)>,
        /// Move the earlier entries of the merchant too.
        apply_to_past: bool,
    },
    /// A budget created or changed.
    BudgetSet(Budget),
    /// A budget deleted.
    BudgetRemoved {
        /// Owner.
        user_id: UserId,
        /// The budget.
        budget_id: Uuid,
    },
    /// A raised alert; an id already stored is ignored.
    Alert(Alert),
    /// A bill reminder: kept while due (for due-soon alerts), dropped once paid.
    Bill(crate::inbox::Bill),
    /// Bills paid: dropped.
    BillsSettled {
        /// Owner.
        user_id: UserId,
        /// The bills.
        bill_ids: Vec<Uuid>,
    },
    /// An alert acknowledged by its user.
    AlertAcked {
        /// Owner.
        user_id: UserId,
        /// The alert.
        alert_id: Uuid,
        /// When.
        at: Timestamp,
    },
}

/// What the processors keep per user besides entries: the settings as the
/// stream knows them, learned category rules, budgets and alerts (newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    /// Settings, once a settings event was seen.
    pub settings: Option<UserSettings>,
    /// Rules learned from the user's corrections.
    pub learned: Vec<LearnedRule>,
    /// Budgets in force.
    pub budgets: Vec<Budget>,
    /// Every alert raised, acknowledged ones included, newest first.
    pub alerts: Vec<Alert>,
    /// Bills due, as the processors know them (for due-soon alerts).
    #[serde(default)]
    pub bills: Vec<crate::inbox::Bill>,
}

/// Filters and cursor for listing entries, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// Only entries at or after this instant.
    pub from: Option<Timestamp>,
    /// Only entries before this instant.
    pub to: Option<Timestamp>,
    /// Only this category.
    pub category: Option<CategoryId>,
    /// Only merchants (or notes) containing this text, case-insensitively.
    pub text: Option<String>,
    /// Continue after this entry (from the previous page).
    pub after: Option<Cursor>,
    /// Page size.
    pub limit: usize,
}

/// Where a page ended: the last entry's time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// `occurred_at` of the last entry shown.
    pub occurred_at: Timestamp,
    /// Its id (ties are broken by id).
    pub id: EntryId,
}

/// One page of entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Entries, newest first.
    pub entries: Vec<std::sync::Arc<ProcessedEntry>>,
    /// Present when more entries follow.
    pub next: Option<Cursor>,
}

/// Analytics state: entries and pre-aggregated daily windows, kept by the processors.
///
/// Contract: `apply` is idempotent (an entry id counts once; a tombstone removes
/// it for good, even if the add is seen again later); after `apply` returns the
/// data is visible to reads; `resume_from` says from where the processors must
/// replay so that the store's durable state plus the replay is complete.
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Applies processed events in order; `through` are the log positions they came from.
    async fn apply(&self, batch: Vec<Processed>, through: &[Position]) -> Result<(), StoreError>;
    /// Positions the store's durable state covers; `None` for a partition means
    /// "trust the consumer group's committed offset".
    async fn resume_from(&self) -> Result<Vec<Position>, StoreError>;
    /// Waits until the event at `position` is applied (visible to reads), at
    /// most `timeout`; true if it is.
    async fn wait_applied(&self, position: Position, timeout: Duration) -> bool;
    /// Persists what has been applied, if the engine needs a step for it.
    async fn checkpoint(&self) -> Result<(), StoreError>;
    /// One live entry of a user.
    async fn entry(&self, user: UserId, id: EntryId) -> Result<Option<ProcessedEntry>, StoreError>;
    /// Whether the id was ever seen for this user, live or removed.
    async fn known(&self, user: UserId, id: EntryId) -> Result<bool, StoreError>;
    /// A page of a user's live entries, newest first.
    async fn list(&self, user: UserId, query: &ListQuery) -> Result<Page, StoreError>;
    /// Totals per day and category and the top merchants for `[from, to)`,
    /// cut in `time_zone`. With `by_month` and a range of whole months the
    /// cells may be per month (dated the 1st): a year is then 12 rows, not 365.
    async fn summarize(
        &self,
        user: UserId,
        from: Date,
        to: Date,
        time_zone: &str,
        top_merchants: usize,
        by_month: bool,
    ) -> Result<RangeSummary, StoreError>;
    /// The user's learned rules, budgets and alerts.
    async fn profile(&self, user: UserId) -> Result<UserProfile, StoreError>;
    /// A number that changes whenever anything of `user` that reads can see
    /// changes (an entry added or removed, new settings); caches key on it.
    /// Read it before the data it guards, so a race can only cause a miss.
    async fn version(&self, user: UserId) -> Result<u64, StoreError>;
    /// Answers whether the store can serve reads now.
    async fn healthcheck(&self) -> Result<(), StoreError>;
}

/// A failure of the accounts store.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// A user with this email exists.
    #[error("an account with this email already exists")]
    DuplicateEmail,
    /// No such user or token.
    #[error("not found")]
    NotFound,
    /// The engine cannot be reached; retry later.
    #[error("accounts store unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("accounts store error: {0}")]
    Other(String),
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable id.
    pub id: UserId,
    /// Login email, lower-cased.
    pub email: String,
    /// Preferences.
    pub settings: UserSettings,
    /// Sign-up instant.
    pub created_at: Timestamp,
}

/// A stored refresh token (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// SHA-256 of the token, hex.
    pub hash: String,
    /// Rotation family: reuse of any retired member revokes them all.
    pub family: String,
    /// Owner.
    pub user_id: UserId,
    /// Expiry.
    pub expires_at: Timestamp,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was current: it is now retired and `next` is current.
    Rotated(UserId),
    /// It had already been used or revoked: the whole family is now revoked.
    Reused,
    /// Unknown or expired.
    Invalid,
}

/// An API token limited to one scope (e.g. `ingest:sms` for a phone's SMS
/// forwarder), so the phone never holds the password. Only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Token id (for listing and revoking).
    pub id: uuid::Uuid,
    /// Owner.
    pub user_id: UserId,
    /// The user's name for it, e.g. "Pixel 8 SMS forwarder".
    pub name: String,
    /// What it may do, e.g. `ingest:sms`.
    pub scope: String,
    /// The token's first characters, to recognise it in a list.
    pub prefix: String,
    /// Creation instant.
    pub created_at: Timestamp,
    /// Last time it was presented.
    pub last_used_at: Option<Timestamp>,
}

/// Users, credentials, refresh tokens and API tokens.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates a user; `DuplicateEmail` if the email is taken.
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<(), AccountsError>;
    /// A user and their password hash, by email.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, AccountsError>;
    /// A user by id.
    async fn user(&self, id: UserId) -> Result<Option<User>, AccountsError>;
    /// Replaces a user's settings.
    async fn update_settings(&self, id: UserId, settings: &UserSettings) -> Result<(), AccountsError>;
    /// Stores a new current refresh token.
    async fn insert_refresh(&self, token: &RefreshToken) -> Result<(), AccountsError>;
    /// Retires `hash` and makes `next` current in one transaction, if `hash` is current.
    async fn rotate_refresh(&self, hash: &str, next: &RefreshToken, now: Timestamp) -> Result<Rotation, AccountsError>;
    /// Revokes the family of `hash` (logout); true if it existed.
    async fn revoke_family_of(&self, hash: &str) -> Result<bool, AccountsError>;
    /// Stores a new API token under the SHA-256 `hash` of its secret.
    async fn create_api_token(&self, token: &ApiToken, hash: &str) -> Result<(), AccountsError>;
    /// A user's live API tokens, newest first.
    async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, AccountsError>;
    /// Revokes one of the user's tokens; false if it is not theirs or already revoked.
    async fn revoke_api_token(&self, user: UserId, id: uuid::Uuid) -> Result<bool, AccountsError>;
    /// The live token with this hash, noting that it was used at `now`.
    async fn use_api_token(&self, hash: &str, now: Timestamp) -> Result<Option<ApiToken>, AccountsError>;
    /// Answers whether the store can serve now.
    async fn healthcheck(&self) -> Result<(), AccountsError>;
}

/// A failure of the shared state (cache, rate limits, idempotency keys).
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// The engine cannot be reached; retry later.
    #[error("shared state unavailable: {0}")]
    Unavailable(String),
}

/// What a rate limiter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Under the limit.
    Allowed,
    /// Over the limit; retry after this many seconds.
    Limited {
        /// Seconds until the window frees a slot.
        retry_after_secs: u64,
    },
}

/// State that API instances share: rate-limit counters, idempotency keys and
/// cached report answers.
#[async_trait]
pub trait SharedState: Send + Sync {
    /// Whether `key` is over `limit` hits in the current `window` (does not count a hit).
    async fn check(&self, key: &str, limit: u32, window: Duration) -> Result<RateDecision, SharedError>;
    /// Counts one hit for `key` in a fixed window.
    async fn hit(&self, key: &str, window: Duration) -> Result<(), SharedError>;
    /// Forgets the hits of `key`.
    async fn reset(&self, key: &str) -> Result<(), SharedError>;
    /// Stores `value` under `key` unless present; returns the value in force.
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<String, SharedError>;
    /// A cached answer under `key`, if present and not expired. Callers put
    /// the data version in the key, so an entry never goes stale, only unused.
    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, SharedError>;
    /// Keeps `value` under `key` for `ttl`.
    async fn cache_put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedError>;
    /// Answers whether the engine can serve now.
    async fn healthcheck(&self) -> Result<(), SharedError>;
}
