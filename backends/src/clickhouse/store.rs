//! `ClickhouseStore`: reads and idempotent batch writes over the tables of
//! `sql/clickhouse/`.
//!
//! Writes (one processor per user at a time) read what the batch touches,
//! work out the new state in memory, then insert in this order: entry rows
//! (old versions again with sign -1, new ones with sign +1), tombstones, one
//! `user_state` row per user of the batch (its new version, written after the
//! data so a reader that saw the version sees the data), and the offsets
//! applied. A crash in between is repaired by the redelivery: every step
//! reads the state it changes, so repeating the batch writes only what is
//! missing.

use super::rows::{
    CHANGE_COLUMNS, CellRow, ChangeRow, Collapsed, IdPair, MerchantRow, OffsetRow, TombstoneRow, UserStateRow,
    VersionRow, collapse, date_from_ch, date_param, id_sql,
};
use super::{client, deadline, within};
use crate::embedded::state::UserState;
use async_trait::async_trait;
use clickhouse::Client;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use spendstream_core::config::ClickhouseConfig;
use spendstream_core::insight::{best_rule, merchant_key};
use spendstream_core::period::parse_time_zone;
use spendstream_core::ports::{AnalyticsStore, Cursor, ListQuery, Page, Position, Processed, StoreError, UserProfile};
use spendstream_core::report::{DayCell, MerchantTotal, RangeSummary};
use spendstream_core::{CategoryId, CategorySource, Currency, EntryId, EntryKind, ProcessedEntry, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{Mutex, Notify, mpsc, oneshot, watch};

/// How often a waiting `wait_applied` looks at the offsets other processes applied.
const POLL_EVERY: Duration = Duration::from_millis(10);
/// Look-back windows of `list`, in days, before it reads the whole history.
const LIST_WINDOWS_DAYS: [i64; 3] = [8, 64, 512];
/// The server's default `max_query_size`: a lookup query longer than this raises it.
const DEFAULT_MAX_QUERY_SIZE: usize = 256 * 1024;

/// Most users asked about in one version query.
const VERSIONS_PER_QUERY: usize = 1000;

/// A request for a user's version and where its answer goes.
type VersionAsk = (UserId, oneshot::Sender<Result<u64, StoreError>>);

/// Offsets applied, per partition, as this process last saw them.
struct Applied {
    next: watch::Sender<BTreeMap<u32, u64>>,
    waiters: AtomicUsize,
}

/// The analytics store on ClickHouse; cheap to share, safe across processes.
pub struct ClickhouseStore {
    client: Client,
    timeout: Duration,
    applied: Arc<Applied>,
    wake: Arc<Notify>,
    /// Serialises this instance's applies (each user has one writer anyway).
    writer: Mutex<()>,
    /// Version lookups, answered in batches by `answer_versions`.
    versions: mpsc::UnboundedSender<VersionAsk>,
}

fn other(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("clickhouse: {e}"))
}

fn user_sql(u: UserId) -> String {
    id_sql(u.0)
}

impl Drop for ClickhouseStore {
    fn drop(&mut self) {
        // Lets the offset poller see that the store is gone.
        self.wake.notify_one();
    }
}

/// Counts a waiter for as long as it lives.
struct Waiting<'a>(&'a Applied);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiters.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers version lookups with one query for all the requests waiting when
/// it starts (every API request asks, so under load this saves most of the
/// round trips). A request joins only a query that starts after it arrived,
/// so its answer is never older than a write acknowledged before it.
async fn answer_versions(client: Client, timeout: Duration, mut asks: mpsc::UnboundedReceiver<VersionAsk>) {
    let mut waiting: Vec<VersionAsk> = Vec::new();
    while let Some(first) = asks.recv().await {
        waiting.push(first);
        while waiting.len() < VERSIONS_PER_QUERY
            && let Ok(next) = asks.try_recv()
        {
            waiting.push(next);
        }
        let users: HashSet<UserId> = waiting.iter().map(|(u, _)| *u).collect();
        let list: Vec<String> = users.iter().map(|u| user_sql(*u)).collect();
        let sql = format!(
            "SELECT user_id, max(version) AS version FROM user_state WHERE user_id IN ({}) GROUP BY user_id",
            list.join(",")
        );
        match within(timeout, client.query(&sql).fetch_all::<VersionRow>()).await {
            Ok(rows) => {
                let found: HashMap<UserId, u64> =
                    rows.into_iter().map(|r| (UserId(uuid::Uuid::from_bytes(r.user_id)), r.version)).collect();
                for (user, reply) in waiting.drain(..) {
                    let _ = reply.send(Ok(found.get(&user).copied().unwrap_or(0)));
                }
            }
            Err(e) => {
                for (_, reply) in waiting.drain(..) {
                    let _ = reply.send(Err(match &e {
                        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
                        StoreError::Other(m) => StoreError::Other(m.clone()),
                    }));
                }
            }
        }
    }
}

/// Polls `applied_offsets` while someone waits, until the store is dropped.
async fn poll_offsets(client: Client, timeout: Duration, applied: Weak<Applied>, wake: Arc<Notify>) {
    loop {
        let waiting = match applied.upgrade() {
            Some(a) => a.waiters.load(Ordering::Acquire) > 0,
            None => return,
        };
        if !waiting {
            wake.notified().await;
            continue;
        }
        let q = client.query("SELECT partition, max(next_offset) FROM applied_offsets GROUP BY partition");
        match within(timeout, q.fetch_all::<(u32, u64)>()).await {
            Ok(rows) => {
                let Some(a) = applied.upgrade() else { return };
                publish(&a, rows);
            }
            Err(e) => tracing::debug!(error = %e, "polling applied offsets"),
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn publish(a: &Applied, offsets: impl IntoIterator<Item = (u32, u64)>) {
    let offsets: Vec<(u32, u64)> = offsets.into_iter().collect();
    a.next.send_if_modified(|m| {
        let mut grew = false;
        for (p, n) in &offsets {
            let cur = m.entry(*p).or_insert(0);
            if *n > *cur {
                *cur = *n;
                grew = true;
            }
        }
        grew
    });
}

/// One entry as a batch sees it: what the table holds and what it should hold.
#[derive(Debug, Default)]
struct Slot {
    /// The live row in the table.
    stored: Option<ChangeRow>,
    /// The id has rows or a tombstone already.
    seen: bool,
    /// A tombstone is stored.
    tombstoned: bool,
    /// The entry after this batch (`None`: not live).
    want: Option<ProcessedEntry>,
    /// Write a tombstone.
    remove_at: Option<Timestamp>,
}

impl Slot {
    fn known(&self) -> bool {
        self.seen || self.tombstoned || self.want.is_some() || self.remove_at.is_some()
    }
}

/// One user of a batch.
struct UserBatch {
    version: u64,
    tz_name: String,
    tz: TimeZone,
    profile: UserState,
    slots: HashMap<EntryId, Slot>,
}

impl UserBatch {
    fn new(version: u64, tz_name: String, profile: UserProfile) -> Self {
        let tz = parse_time_zone(&tz_name).unwrap_or(TimeZone::UTC);
        let mut state = UserState::default();
        state.settings = profile.settings.clone();
        state.restore_profile(profile);
        UserBatch { version, tz_name, tz, profile: state, slots: HashMap::new() }
    }

    /// Sets an entry's category, as the embedded store does (no-op for ids not live).
    fn recategorise(&mut self, id: EntryId, category: &CategoryId, source: CategorySource, reason: &str) {
        let Some(e) = self.slots.get_mut(&id).and_then(|s| s.want.as_mut()) else { return };
        e.category = category.clone();
        e.category_source = source;
        e.category_reason = reason.to_owned();
    }

    /// Adds rows read from the table for ids the batch has not seen yet.
    fn merge_live(&mut self, rows: Vec<ChangeRow>) {
        for ((_, id), c) in collapse(rows) {
            if self.slots.contains_key(&id) {
                continue;
            }
            let want = c.live.as_ref().and_then(|r| r.to_entry().ok());
            self.slots.insert(id, Slot { stored: c.live, seen: c.seen, want, ..Slot::default() });
        }
    }
}

/// Everything a batch writes.
#[derive(Default)]
struct Writes {
    changes: Vec<ChangeRow>,
    tombstones: Vec<TombstoneRow>,
    users: Vec<UserStateRow>,
}

impl ClickhouseStore {
    /// Connects to the database of `cfg` (which `migrate` must have set up).
    /// An unreachable server is `Unavailable`.
    pub async fn connect(cfg: &ClickhouseConfig) -> Result<Self, StoreError> {
        let db = super::database_name(cfg)?;
        let client = client(cfg).with_database(db);
        let timeout = deadline(cfg);
        let q =
            client.query("SELECT count() FROM system.tables WHERE database = ? AND name = 'entry_changes'").bind(db);
        let tables: u64 = within(timeout, q.fetch_one::<u64>()).await?;
        if tables == 0 {
            return Err(StoreError::Other(format!(
                "clickhouse: database '{db}' has no spendstream tables; run `spendstream migrate` first"
            )));
        }
        let applied = Arc::new(Applied { next: watch::channel(BTreeMap::new()).0, waiters: AtomicUsize::new(0) });
        let wake = Arc::new(Notify::new());
        tokio::spawn(poll_offsets(client.clone(), timeout, Arc::downgrade(&applied), wake.clone()));
        let (versions, asks) = mpsc::unbounded_channel();
        tokio::spawn(answer_versions(client.clone(), timeout, asks));
        Ok(ClickhouseStore { client, timeout, applied, wake, writer: Mutex::new(()), versions })
    }

    async fn fetch<T>(&self, sql: &str) -> Result<Vec<T>, StoreError>
    where
        T: clickhouse::RowOwned + clickhouse::RowRead,
    {
        within(self.timeout, self.client.query(sql).fetch_all::<T>()).await
    }

    async fn insert<T>(&self, table: &str, rows: &[T]) -> Result<(), StoreError>
    where
        T: clickhouse::RowOwned + clickhouse::RowWrite,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let limit = self.timeout;
        let fut = async {
            let mut insert = self.client.insert::<T>(table).await?.with_timeouts(Some(limit), Some(limit));
            for r in rows {
                insert.write(r).await?;
            }
            insert.end().await
        };
        within(limit, fut).await
    }

    /// Rows of `table` (`columns` of them) of `users` with one of `ids`, in one
    /// query: `entry_changes` is keyed by time, so each query reads the id column of
    /// all the users' rows, and a batch's ids asked in chunks read it once a chunk.
    async fn rows_by_ids<T>(
        &self,
        table: &str,
        columns: &str,
        users: &HashSet<UserId>,
        ids: &[EntryId],
    ) -> Result<Vec<T>, StoreError>
    where
        T: clickhouse::RowOwned + clickhouse::RowRead,
    {
        if users.is_empty() || ids.is_empty() {
            return Ok(Vec::new());
        }
        let users: Vec<String> = users.iter().map(|u| user_sql(*u)).collect();
        // The ids go in as one array of hex strings turned into a set by a subquery:
        // ClickHouse folds 500 `unhex('…')` literals of an IN list one by one, about
        // five times slower than this (18.16, measured in the scale-out bench).
        let list: Vec<String> = ids.iter().map(|i| format!("'{}'", i.0.simple())).collect();
        let sql = format!(
            "SELECT {columns} FROM {table} WHERE user_id IN ({}) \
             AND entry_id IN (SELECT toFixedString(unhex(arrayJoin([{}])), 16))",
            users.join(","),
            list.join(",")
        );
        // About 35 bytes an id: a batch of 10,000 needs more than the default limit.
        let limit = (sql.len() + 1024).max(DEFAULT_MAX_QUERY_SIZE);
        let query = self.client.query(&sql).with_setting("max_query_size", limit.to_string());
        within(self.timeout, query.fetch_all::<T>()).await
    }

    /// Rows of `entry_changes` of `users` with one of `ids` (any version).
    async fn rows_of(&self, users: &HashSet<UserId>, ids: &[EntryId]) -> Result<Vec<ChangeRow>, StoreError> {
        self.rows_by_ids("entry_changes", CHANGE_COLUMNS, users, ids).await
    }

    /// Entries of `users` among `ids` that were removed (removals are permanent).
    async fn tombstones_of(
        &self,
        users: &HashSet<UserId>,
        ids: &[EntryId],
    ) -> Result<HashSet<(UserId, EntryId)>, StoreError> {
        let pairs: Vec<IdPair> = self.rows_by_ids("entry_tombstones", "user_id, entry_id", users, ids).await?;
        Ok(pairs
            .into_iter()
            .map(|p| (UserId(uuid::Uuid::from_bytes(p.user_id)), EntryId(uuid::Uuid::from_bytes(p.entry_id))))
            .collect())
    }

    /// Rows of every entry of `user` (all versions), optionally only of
    /// merchants whose key is `key` or starts with `key` and a space.
    async fn user_rows(&self, user: UserId, merchant_prefix: Option<&str>) -> Result<Vec<ChangeRow>, StoreError> {
        let mut sql = format!("SELECT {CHANGE_COLUMNS} FROM entry_changes WHERE user_id = {}", user_sql(user));
        let q = match merchant_prefix {
            Some(key) => {
                sql.push_str(" AND (merchant_key = ? OR startsWith(merchant_key, ?))");
                self.client.query(&sql).bind(key).bind(format!("{key} "))
            }
            None => self.client.query(&sql),
        };
        within(self.timeout, q.fetch_all::<ChangeRow>()).await
    }

    /// Version, zone and profile of users, as the latest `user_state` rows say.
    async fn user_states(&self, users: &HashSet<UserId>) -> Result<HashMap<UserId, UserBatch>, StoreError> {
        let mut out = HashMap::new();
        if !users.is_empty() {
            let list: Vec<String> = users.iter().map(|u| user_sql(*u)).collect();
            let sql = format!(
                "SELECT user_id, max(version), argMax(time_zone, version), argMax(profile, version) \
                 FROM user_state WHERE user_id IN ({}) GROUP BY user_id",
                list.join(",")
            );
            for r in self.fetch::<UserStateRow>(&sql).await? {
                let profile: UserProfile = serde_json::from_str(&r.profile).map_err(other)?;
                out.insert(UserId(uuid::Uuid::from_bytes(r.user_id)), UserBatch::new(r.version, r.time_zone, profile));
            }
        }
        for u in users {
            out.entry(*u).or_insert_with(|| UserBatch::new(0, "UTC".into(), UserProfile::default()));
        }
        Ok(out)
    }

    /// The zone the user's daily cells are cut in.
    async fn user_zone(&self, user: UserId) -> Result<String, StoreError> {
        let sql =
            format!("SELECT argMax(time_zone, version), count() FROM user_state WHERE user_id = {}", user_sql(user));
        let rows = self.fetch::<(String, u64)>(&sql).await?;
        Ok(match rows.into_iter().next() {
            Some((tz, n)) if n > 0 => tz,
            _ => "UTC".into(),
        })
    }

    /// Works out a batch against the stored state; returns what to write.
    async fn plan(&self, batch: Vec<Processed>) -> Result<Writes, StoreError> {
        let users: HashSet<UserId> = batch.iter().map(owner).collect();
        let ids: Vec<EntryId> = {
            let mut seen = HashSet::new();
            batch.iter().filter_map(entry_of).filter(|id| seen.insert(*id)).collect()
        };
        // Three independent lookups, asked at once.
        let (mut state, rows, tombs) =
            tokio::try_join!(self.user_states(&users), self.rows_of(&users, &ids), self.tombstones_of(&users, &ids))?;
        let rows = collapse(rows);
        for p in &batch {
            let (u, Some(id)) = (owner(p), entry_of(p)) else { continue };
            let ub = state.get_mut(&u).ok_or_else(|| other("user missing from the batch"))?;
            ub.slots.entry(id).or_insert_with(|| {
                let c = rows.get(&(u, id));
                let stored = c.and_then(|c| c.live.clone());
                Slot {
                    want: stored.as_ref().and_then(|r| r.to_entry().ok()),
                    stored,
                    seen: c.is_some_and(|c: &Collapsed| c.seen),
                    tombstoned: tombs.contains(&(u, id)),
                    remove_at: None,
                }
            });
        }
        for p in batch {
            let u = owner(&p);
            let ub = state.get_mut(&u).ok_or_else(|| other("user missing from the batch"))?;
            match p {
                Processed::Added(e) => {
                    let slot = ub.slots.entry(e.entry.id).or_default();
                    if !slot.known() {
                        slot.want = Some(e);
                    }
                }
                Processed::Removed { entry_id, removed_at, .. } => {
                    let slot = ub.slots.entry(entry_id).or_default();
                    slot.want = None;
                    if !slot.tombstoned && slot.remove_at.is_none() {
                        slot.remove_at = Some(removed_at);
                    }
                }
                Processed::Settings { settings, .. } => {
                    if settings.time_zone != ub.tz_name {
                        // Every live entry is cut again in the new zone.
                        let rows = self.user_rows(u, None).await?;
                        ub.merge_live(rows);
                        ub.tz = parse_time_zone(&settings.time_zone).unwrap_or(TimeZone::UTC);
                        ub.tz_name = settings.time_zone.clone();
                    }
                    ub.profile.settings = Some(settings);
                }
                Processed::Recategorised { entry_id, category, learned, apply_to_past, .. } => {
                    ub.recategorise(entry_id, &category, CategorySource::User, "set by the user");
                    let Some((reason, rule)) = learned else { continue };
                    let key = rule.merchant_key.clone();
                    ub.profile.learned.insert(key.clone(), rule);
                    if apply_to_past && !key.is_empty() {
                        let rows = self.user_rows(u, Some(&key)).await?;
                        ub.merge_live(rows);
                        let movers: Vec<EntryId> = ub
                            .slots
                            .iter()
                            .filter_map(|(id, s)| s.want.as_ref().map(|e| (id, e)))
                            .filter(|(_, e)| e.category_source != CategorySource::User)
                            .filter(|(_, e)| {
                                let k = e.entry.merchant.as_deref().map(merchant_key).unwrap_or_default();
                                best_rule(ub.profile.learned.values(), &k).is_some_and(|r| r.merchant_key == key)
                            })
                            .map(|(id, _)| *id)
                            .collect();
                        for id in movers {
                            ub.recategorise(id, &category, CategorySource::Learned, &reason);
                        }
                    }
                }
                change @ (Processed::BudgetSet(_)
                | Processed::BudgetRemoved { .. }
                | Processed::Alert(_)
                | Processed::Bill(_)
                | Processed::BillsSettled { .. }
                | Processed::AlertAcked { .. }) => {
                    ub.profile.apply_profile_change(change);
                }
            }
        }
        let now = Timestamp::now().as_microsecond().max(0) as u64;
        let mut w = Writes::default();
        for (u, ub) in state {
            let mut next = now.max(ub.version + 1);
            for (id, slot) in &ub.slots {
                let want = slot.want.as_ref().map(|e| ChangeRow::new(e, &ub.tz, 0));
                let same = match (&slot.stored, &want) {
                    (Some(a), Some(b)) => a.same_content(b),
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    if let Some(old) = &slot.stored {
                        w.changes.push(ChangeRow { sign: -1, ..old.clone() });
                    }
                    if let Some(new) = want {
                        w.changes.push(ChangeRow { version: next, ..new });
                        next += 1;
                    }
                }
                if let Some(at) = slot.remove_at {
                    w.tombstones.push(TombstoneRow {
                        user_id: *u.0.as_bytes(),
                        entry_id: *id.0.as_bytes(),
                        removed_at_us: at.as_microsecond(),
                    });
                }
            }
            // A new version for every user of the batch, even when nothing
            // changed: a redelivery after a crash between the data and this
            // row then still moves the version.
            w.users.push(UserStateRow {
                user_id: *u.0.as_bytes(),
                version: next,
                time_zone: ub.tz_name.clone(),
                profile: serde_json::to_string(&ub.profile.profile()).map_err(other)?,
            });
        }
        Ok(w)
    }

    /// Up to `limit` live rows of a user passing `filter` (SQL on
    /// `entry_changes` columns, with `texts` bound to its `?`), newest first.
    async fn list_rows(
        &self,
        user: UserId,
        filter: &str,
        texts: &[String],
        limit: usize,
    ) -> Result<Vec<ChangeRow>, StoreError> {
        let limit = limit.min(i64::MAX as usize);
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM entry_changes \
             WHERE user_id = {u}{filter} AND sign = 1 AND (entry_id, version) IN ( \
                 SELECT entry_id, max(version) FROM entry_changes WHERE user_id = {u}{filter} \
                 GROUP BY occurred_at_us, entry_id HAVING sum(sign) > 0 \
                 ORDER BY occurred_at_us DESC, entry_id DESC LIMIT {limit}) \
             ORDER BY occurred_at_us DESC, entry_id DESC LIMIT 1 BY entry_id",
            u = user_sql(user)
        );
        let mut q = self.client.query(&sql);
        // The filter appears twice: outer rows and inner ids.
        for t in texts.iter().chain(texts) {
            q = q.bind(t.as_str());
        }
        within(self.timeout, q.fetch_all::<ChangeRow>()).await
    }
}

fn owner(p: &Processed) -> UserId {
    match p {
        Processed::Added(e) => e.entry.user_id,
        Processed::BudgetSet(b) => b.user_id,
        Processed::Alert(a) => a.user_id,
        Processed::Bill(b) => b.user_id,
        Processed::Removed { user_id, .. }
        | Processed::Settings { user_id, .. }
        | Processed::Recategorised { user_id, .. }
        | Processed::BudgetRemoved { user_id, .. }
        | Processed::BillsSettled { user_id, .. }
        | Processed::AlertAcked { user_id, .. } => *user_id,
    }
}

fn entry_of(p: &Processed) -> Option<EntryId> {
    match p {
        Processed::Added(e) => Some(e.entry.id),
        Processed::Removed { entry_id, .. } | Processed::Recategorised { entry_id, .. } => Some(*entry_id),
        _ => None,
    }
}

/// `[from, to)` as instants in `tz` (open ends where a date does not exist there).
fn instants(from: Date, to: Date, tz: &TimeZone) -> (i64, i64) {
    let at = |d: Date| d.to_zoned_datetime(tz.clone()).map(|z| z.timestamp().as_microsecond());
    (at(from).unwrap_or(i64::MIN), at(to).unwrap_or(i64::MAX))
}

fn cells(rows: Vec<CellRow>) -> Result<Vec<DayCell>, StoreError> {
    rows.into_iter()
        .map(|r| {
            Ok(DayCell {
                date: date_from_ch(r.day),
                category: CategoryId(r.category),
                currency: Currency::parse(&r.currency).map_err(other)?,
                kind: if r.kind == "income" { EntryKind::Income } else { EntryKind::Expense },
                amount_minor: r.amount,
                count: u64::try_from(r.n).unwrap_or(0),
            })
        })
        .collect()
}

fn merchants(rows: Vec<MerchantRow>) -> Result<Vec<MerchantTotal>, StoreError> {
    rows.into_iter()
        .map(|r| {
            Ok(MerchantTotal {
                merchant: r.display,
                currency: Currency::parse(&r.currency).map_err(other)?,
                amount_minor: r.amount,
                count: u64::try_from(r.n).unwrap_or(0),
            })
        })
        .collect()
}

#[async_trait]
impl AnalyticsStore for ClickhouseStore {
    async fn apply(&self, batch: Vec<Processed>, through: &[Position]) -> Result<(), StoreError> {
        let _w = self.writer.lock().await;
        let started = std::time::Instant::now();
        if !batch.is_empty() {
            let w = self.plan(batch).await?;
            let planned = started.elapsed();
            tokio::try_join!(self.insert("entry_changes", &w.changes), self.insert("entry_tombstones", &w.tombstones))?;
            let changes = started.elapsed();
            // Last: a reader that sees the new version finds the rows behind it.
            self.insert("user_state", &w.users).await?;
            tracing::debug!(
                rows = w.changes.len(),
                users = w.users.len(),
                plan_ms = planned.as_millis() as u64,
                changes_ms = (changes - planned).as_millis() as u64,
                rest_ms = (started.elapsed() - changes).as_millis() as u64,
                "clickhouse apply"
            );
        }
        let mut next: BTreeMap<u32, u64> = BTreeMap::new();
        for p in through {
            let n = next.entry(p.partition).or_insert(0);
            *n = (*n).max(p.offset + 1);
        }
        let offsets: Vec<OffsetRow> = next.iter().map(|(p, n)| OffsetRow { partition: *p, next_offset: *n }).collect();
        self.insert("applied_offsets", &offsets).await?;
        publish(&self.applied, next);
        Ok(())
    }

    async fn resume_from(&self) -> Result<Vec<Position>, StoreError> {
        // Applies are idempotent: the consumer group's committed offsets are enough.
        Ok(Vec::new())
    }

    async fn wait_applied(&self, position: Position, timeout: Duration) -> bool {
        let done = |m: &BTreeMap<u32, u64>| m.get(&position.partition).is_some_and(|n| *n > position.offset);
        let mut rx = self.applied.next.subscribe();
        if done(&rx.borrow_and_update()) {
            return true;
        }
        self.applied.waiters.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.applied);
        self.wake.notify_one();
        tokio::time::timeout(timeout, rx.wait_for(done)).await.is_ok_and(|r| r.is_ok())
    }

    async fn checkpoint(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn entry(&self, user: UserId, id: EntryId) -> Result<Option<ProcessedEntry>, StoreError> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM entry_changes WHERE user_id = {} AND entry_id = {}",
            user_sql(user),
            id_sql(id.0)
        );
        let rows = self.fetch::<ChangeRow>(&sql).await?;
        match collapse(rows).remove(&(user, id)).and_then(|c| c.live) {
            Some(r) => Ok(Some(r.to_entry().map_err(other)?)),
            None => Ok(None),
        }
    }

    async fn known(&self, user: UserId, id: EntryId) -> Result<bool, StoreError> {
        let (u, e) = (user_sql(user), id_sql(id.0));
        let sql = format!(
            "SELECT (SELECT count() FROM entry_changes WHERE user_id = {u} AND entry_id = {e}) \
             + (SELECT count() FROM entry_tombstones WHERE user_id = {u} AND entry_id = {e})"
        );
        Ok(self.fetch::<u64>(&sql).await?.first().is_some_and(|n| *n > 0))
    }

    async fn list(&self, user: UserId, query: &ListQuery) -> Result<Page, StoreError> {
        let mut filter = String::new();
        let mut texts: Vec<String> = Vec::new();
        if let Some(from) = query.from {
            filter.push_str(&format!(" AND occurred_at_us >= {}", from.as_microsecond()));
        }
        if let Some(to) = query.to {
            filter.push_str(&format!(" AND occurred_at_us < {}", to.as_microsecond()));
        }
        if let Some(c) = query.after {
            let at = c.occurred_at.as_microsecond();
            filter.push_str(&format!(
                " AND (occurred_at_us < {at} OR (occurred_at_us = {at} AND entry_id < {}))",
                id_sql(c.id.0)
            ));
        }
        if let Some(c) = &query.category {
            filter.push_str(" AND category = ?");
            texts.push(c.to_string());
        }
        if let Some(t) = &query.text {
            filter.push_str(
                " AND (positionCaseInsensitiveUTF8(ifNull(merchant, ''), ?) > 0 \
                 OR positionCaseInsensitiveUTF8(ifNull(note, ''), ?) > 0)",
            );
            texts.push(t.clone());
            texts.push(t.clone());
        }
        let want = query.limit.saturating_add(1);
        // Newest first without reading all the user's rows: look back a window
        // from the page's upper end, widening it until the page is full.
        let upper = query.after.map(|c| c.occurred_at).or(query.to).unwrap_or_else(Timestamp::now).as_microsecond();
        let floor = query.from.map(|f| f.as_microsecond());
        let mut rows = Vec::new();
        for days in LIST_WINDOWS_DAYS.iter().map(Some).chain([None]) {
            let lower = days.map(|d| upper.saturating_sub(d * 86_400_000_000));
            let last = lower.is_none_or(|l| floor.is_some_and(|f| f >= l));
            let mut window = filter.clone();
            if let (Some(l), false) = (lower, last) {
                window.push_str(&format!(" AND occurred_at_us >= {l}"));
            }
            rows = self.list_rows(user, &window, &texts, want).await?;
            if last || rows.len() >= want {
                break;
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(Arc::new(r.to_entry().map_err(other)?));
        }
        let next = if out.len() > query.limit {
            out.truncate(query.limit);
            out.last().map(|e| Cursor { occurred_at: e.entry.occurred_at, id: e.entry.id })
        } else {
            None
        };
        Ok(Page { entries: out, next })
    }

    async fn summarize(
        &self,
        user: UserId,
        from: Date,
        to: Date,
        time_zone: &str,
        top_merchants: usize,
        by_month: bool,
    ) -> Result<RangeSummary, StoreError> {
        let u = user_sql(user);
        let top = top_merchants.min(i64::MAX as usize);
        let whole_months = from.day() == 1 && to.day() == 1;
        let tz = parse_time_zone(time_zone).unwrap_or(TimeZone::UTC);
        let (a, b) = instants(from, to, &tz);
        // The pre-aggregated cells are read together with the user's zone; only
        // when the zone asked for is another one are the entries scanned instead.
        let day =
            if by_month && whole_months { "toUInt16(toStartOfMonth(local_date))" } else { "toUInt16(local_date)" };
        let sql = format!(
            "SELECT {day} AS day, category, currency, kind, sum(amount_minor) AS amount, sum(entries) AS n \
             FROM daily_cells WHERE user_id = {u} AND local_date >= toDate(?) AND local_date < toDate(?) \
             GROUP BY day, category, currency, kind HAVING n > 0"
        );
        let cells_q = self.client.query(&sql).bind(date_param(from)).bind(date_param(to));
        let merchants_fut = async {
            if whole_months {
                let sql = format!(
                    "SELECT argMin(merchant_display, month) AS display, currency, sum(amount_minor) AS amount, \
                     sum(entries) AS n FROM merchant_months \
                     WHERE user_id = {u} AND month >= toDate(?) AND month < toDate(?) \
                     GROUP BY merchant_agg, currency HAVING n > 0 ORDER BY amount DESC, display ASC LIMIT {top}"
                );
                let q = self.client.query(&sql).bind(date_param(from)).bind(date_param(to));
                within(self.timeout, q.fetch_all::<MerchantRow>()).await
            } else {
                self.merchants_by_scan(user, a, b, top).await
            }
        };
        let (zone, c, m) = tokio::try_join!(
            self.user_zone(user),
            within(self.timeout, cells_q.fetch_all::<CellRow>()),
            merchants_fut
        )?;
        if zone == time_zone {
            return Ok(RangeSummary { cells: cells(c)?, merchants: merchants(m)? });
        }
        let zone = tz.iana_name().unwrap_or("UTC").to_owned();
        let sql = format!(
            "SELECT toUInt16(toDate(occurred_at, ?)) AS day, category, currency, kind, \
             sum(amount_minor * sign) AS amount, sum(sign) AS n FROM entry_changes \
             WHERE user_id = {u} AND occurred_at_us >= {a} AND occurred_at_us < {b} \
             GROUP BY day, category, currency, kind HAVING n > 0"
        );
        let q = self.client.query(&sql).bind(zone);
        let (c, m) = if whole_months {
            tokio::try_join!(within(self.timeout, q.fetch_all::<CellRow>()), self.merchants_by_scan(user, a, b, top))?
        } else {
            (within(self.timeout, q.fetch_all::<CellRow>()).await?, m)
        };
        Ok(RangeSummary { cells: cells(c)?, merchants: merchants(m)? })
    }

    async fn profile(&self, user: UserId) -> Result<UserProfile, StoreError> {
        let sql = format!("SELECT argMax(profile, version) FROM user_state WHERE user_id = {}", user_sql(user));
        match self.fetch::<String>(&sql).await?.into_iter().next() {
            Some(json) if !json.is_empty() => serde_json::from_str(&json).map_err(other),
            _ => Ok(UserProfile::default()),
        }
    }

    async fn version(&self, user: UserId) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Unavailable("clickhouse: version lookups stopped".into());
        self.versions.send((user, reply)).map_err(|_| gone())?;
        // The query ahead of this one counts against the same limit.
        match tokio::time::timeout(self.timeout, answer).await {
            Ok(r) => r.map_err(|_| gone())?,
            Err(_) => {
                Err(StoreError::Unavailable(format!("clickhouse: no answer within {} ms", self.timeout.as_millis())))
            }
        }
    }

    async fn healthcheck(&self) -> Result<(), StoreError> {
        self.fetch::<u8>("SELECT 1").await.map(|_| ())
    }
}

impl ClickhouseStore {
    /// Top merchants of the expenses in `[a, b)` (microseconds), from the entries.
    async fn merchants_by_scan(
        &self,
        user: UserId,
        a: i64,
        b: i64,
        top: usize,
    ) -> Result<Vec<MerchantRow>, StoreError> {
        let sql = format!(
            "SELECT argMin(merchant_display, occurred_at_us) AS display, currency, \
             sum(amount_minor * sign) AS amount, sum(sign) AS n FROM entry_changes \
             WHERE user_id = {u} AND occurred_at_us >= {a} AND occurred_at_us < {b} \
             AND kind = 'expense' AND isNotNull(merchant) \
             GROUP BY merchant_agg, currency HAVING n > 0 ORDER BY amount DESC, display ASC LIMIT {top}",
            u = user_sql(user)
        );
        self.fetch::<MerchantRow>(&sql).await
    }
}
