//! `EmbeddedStore`: the analytics store of the one-process default.
//!
//! Entries and pre-aggregated windows live in memory per user (see
//! [`super::state`]); a snapshot (Arrow IPC file plus the log offset it covers)
//! makes a restart replay only the tail of the log. Analysts query the same
//! state through DataFusion (see [`crate::sql`]).

use super::arrow::{Decoded, Row, from_batch, schema, to_batch};
use super::state::UserState;
use arrow::array::RecordBatch;
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use async_trait::async_trait;
use jiff::civil::Date;
use parking_lot::RwLock;
use spendstream_core::period::local_date;
use spendstream_core::ports::{AnalyticsStore, ListQuery, Page, Position, Processed, StoreError, UserProfile};
use spendstream_core::report::RangeSummary;
use spendstream_core::{EntryId, ProcessedEntry, UserId, UserSettings};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, watch};

const SNAPSHOT_FILE: &str = "snapshot.arrow";
const META_OFFSET: &str = "spendstream.next_offset";
const META_USERS: &str = "spendstream.users";
/// Learned rules, budgets and alerts per user (JSON), beside the entry rows.
const META_PROFILES: &str = "spendstream.profiles";

type Users = HashMap<UserId, Arc<RwLock<UserState>>>;
/// One user's entries captured for a snapshot: owner, zone, (id, entry or tombstone).
type Captured = (UserId, jiff::tz::TimeZone, Vec<(EntryId, Option<Arc<ProcessedEntry>>)>);
/// What a snapshot holds: next offset, settings per user, rows, profiles.
type SnapshotContent = (u64, Vec<(UserId, UserSettings)>, Vec<Decoded>, Vec<(UserId, UserProfile)>);

/// In-memory analytics state with snapshots on local disk.
pub struct EmbeddedStore {
    users: RwLock<Users>,
    /// Next log offset not yet applied.
    applied: watch::Sender<u64>,
    /// Next log offset covered by the snapshot loaded at start.
    recovered: u64,
    dir: Option<PathBuf>,
    /// Serialises apply and snapshot capture so a snapshot is consistent with its offset.
    writer: Mutex<()>,
}

fn other(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(e.to_string())
}

impl EmbeddedStore {
    /// A store with no persistence (tests, the `sql` command's scratch copy).
    pub fn in_memory() -> Self {
        Self::empty(None, 0)
    }

    fn empty(dir: Option<PathBuf>, recovered: u64) -> Self {
        EmbeddedStore {
            users: RwLock::new(HashMap::new()),
            applied: watch::channel(recovered).0,
            recovered,
            dir,
            writer: Mutex::new(()),
        }
    }

    /// Opens the store in `dir`, loading the snapshot if there is one.
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(other)?;
        let path = dir.join(SNAPSHOT_FILE);
        if !path.exists() {
            return Ok(Self::empty(Some(dir.to_owned()), 0));
        }
        let started = std::time::Instant::now();
        let (offset, settings, rows, profiles) =
            tokio::task::spawn_blocking(move || read_snapshot(&path)).await.map_err(other)??;
        let store = Self::empty(Some(dir.to_owned()), offset);
        {
            let mut users = store.users.write();
            for (user, s) in settings {
                users.entry(user).or_default().write().set_settings(s);
            }
            for row in rows {
                match row {
                    Decoded::Live(e) => {
                        let u = users.entry(e.entry.user_id).or_default().clone();
                        u.write().add(e);
                    }
                    Decoded::Removed(user, id) => {
                        users.entry(user).or_default().write().remove(id);
                    }
                }
            }
            for (user, p) in profiles {
                users.entry(user).or_default().write().restore_profile(p);
            }
        }
        tracing::info!(next_offset = offset, elapsed_ms = started.elapsed().as_millis() as u64, "loaded snapshot");
        Ok(store)
    }

    fn user(&self, id: UserId) -> Option<Arc<RwLock<UserState>>> {
        self.users.read().get(&id).cloned()
    }

    fn user_or_new(&self, id: UserId) -> Arc<RwLock<UserState>> {
        if let Some(u) = self.user(id) {
            return u;
        }
        self.users.write().entry(id).or_default().clone()
    }

    /// Every entry as Arrow: live ones, plus tombstones when `with_removed`.
    pub fn to_batch(&self, with_removed: bool) -> Result<RecordBatch, StoreError> {
        batch_of(&self.capture(with_removed))
    }

    /// A cheap, consistent copy of the entries (shared pointers, no deep copies),
    /// so that building and writing a snapshot happens outside any lock.
    fn capture(&self, with_removed: bool) -> Vec<Captured> {
        let users: Vec<(UserId, Arc<RwLock<UserState>>)> =
            self.users.read().iter().map(|(k, v)| (*k, v.clone())).collect();
        users
            .iter()
            .map(|(uid, u)| {
                let u = u.read();
                let rows = if with_removed {
                    u.entries.iter().map(|(id, e)| (*id, e.clone())).collect()
                } else {
                    u.live().map(|e| (e.entry.id, Some(e.clone()))).collect()
                };
                (*uid, u.time_zone().clone(), rows)
            })
            .collect()
    }

    /// Settings per user, as the stream knows them.
    pub fn settings(&self) -> Vec<(UserId, UserSettings)> {
        self.users.read().iter().filter_map(|(k, v)| v.read().settings.clone().map(|s| (*k, s))).collect()
    }

    /// Learned rules, budgets and alerts of every user that has any (settings apart).
    fn profiles(&self) -> Vec<(UserId, UserProfile)> {
        self.users
            .read()
            .iter()
            .filter_map(|(k, v)| {
                let mut p = v.read().profile();
                p.settings = None;
                let empty = p.learned.is_empty() && p.budgets.is_empty() && p.alerts.is_empty() && p.bills.is_empty();
                (!empty).then_some((*k, p))
            })
            .collect()
    }

    /// Next log offset not yet applied.
    pub fn next_offset(&self) -> u64 {
        *self.applied.borrow()
    }
}

fn batch_of(captured: &[Captured]) -> Result<RecordBatch, StoreError> {
    let rows: Vec<Row<'_>> = captured
        .iter()
        .flat_map(|(user, tz, entries)| {
            entries.iter().map(move |(id, e)| Row {
                user: *user,
                id: *id,
                entry: e.as_deref(),
                local_date: e.as_ref().map(|e| local_date(e.entry.occurred_at, tz)),
            })
        })
        .collect();
    to_batch(&rows).map_err(other)
}

fn read_snapshot(path: &Path) -> Result<SnapshotContent, StoreError> {
    let file = std::fs::File::open(path).map_err(other)?;
    let reader = FileReader::try_new(std::io::BufReader::new(file), None).map_err(other)?;
    let meta = reader.schema().metadata().clone();
    let offset: u64 =
        meta.get(META_OFFSET).and_then(|s| s.parse().ok()).ok_or_else(|| other("snapshot has no offset"))?;
    let settings: Vec<(UserId, UserSettings)> =
        serde_json::from_str(meta.get(META_USERS).map_or("[]", |s| s.as_str())).map_err(other)?;
    let profiles: Vec<(UserId, UserProfile)> =
        serde_json::from_str(meta.get(META_PROFILES).map_or("[]", |s| s.as_str())).map_err(other)?;
    let mut rows = Vec::new();
    for batch in reader {
        rows.extend(from_batch(&batch.map_err(other)?).map_err(other)?);
    }
    Ok((offset, settings, rows, profiles))
}

fn write_snapshot(
    dir: &Path,
    batch: &RecordBatch,
    offset: u64,
    settings: &[(UserId, UserSettings)],
    profiles: &[(UserId, UserProfile)],
) -> Result<(), StoreError> {
    let mut meta = HashMap::new();
    meta.insert(META_PROFILES.to_owned(), serde_json::to_string(profiles).map_err(other)?);
    meta.insert(META_OFFSET.to_owned(), offset.to_string());
    meta.insert(META_USERS.to_owned(), serde_json::to_string(settings).map_err(other)?);
    let schema = Arc::new(schema().as_ref().clone().with_metadata(meta));
    let tmp = dir.join(format!("{SNAPSHOT_FILE}.tmp"));
    let file = std::fs::File::create(&tmp).map_err(other)?;
    let mut w = FileWriter::try_new(std::io::BufWriter::new(file), &schema).map_err(other)?;
    let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec()).map_err(other)?;
    w.write(&batch).map_err(other)?;
    w.finish().map_err(other)?;
    let mut buf = w.into_inner().map_err(other)?;
    buf.flush().map_err(other)?;
    buf.into_inner().map_err(other)?.sync_all().map_err(other)?;
    std::fs::rename(&tmp, dir.join(SNAPSHOT_FILE)).map_err(other)?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(other)?;
    Ok(())
}

#[async_trait]
impl AnalyticsStore for EmbeddedStore {
    async fn apply(&self, batch: Vec<Processed>, through: &[Position]) -> Result<(), StoreError> {
        let _w = self.writer.lock().await;
        for p in batch {
            match p {
                Processed::Added(e) => {
                    self.user_or_new(e.entry.user_id).write().add(e);
                }
                Processed::Removed { user_id, entry_id, .. } => {
                    self.user_or_new(user_id).write().remove(entry_id);
                }
                Processed::Settings { user_id, settings } => {
                    self.user_or_new(user_id).write().set_settings(settings);
                }
                Processed::Recategorised { user_id, entry_id, category, learned, apply_to_past } => {
                    self.user_or_new(user_id).write().apply_correction(entry_id, &category, learned, apply_to_past);
                }
                Processed::BudgetSet(ref b) => {
                    let user = b.user_id;
                    self.user_or_new(user).write().apply_profile_change(p);
                }
                Processed::Alert(ref a) => {
                    let user = a.user_id;
                    self.user_or_new(user).write().apply_profile_change(p);
                }
                Processed::Bill(ref b) => {
                    let user = b.user_id;
                    self.user_or_new(user).write().apply_profile_change(p);
                }
                Processed::BudgetRemoved { user_id, .. }
                | Processed::AlertAcked { user_id, .. }
                | Processed::BillsSettled { user_id, .. } => {
                    self.user_or_new(user_id).write().apply_profile_change(p);
                }
            }
        }
        if let Some(max) = through.iter().map(|p| p.offset + 1).max() {
            self.applied.send_if_modified(|cur| {
                let grew = max > *cur;
                *cur = (*cur).max(max);
                grew
            });
        }
        Ok(())
    }

    async fn resume_from(&self) -> Result<Vec<Position>, StoreError> {
        Ok(vec![Position { partition: 0, offset: self.recovered }])
    }

    async fn wait_applied(&self, position: Position, timeout: Duration) -> bool {
        let mut rx = self.applied.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n > position.offset)).await.is_ok_and(|r| r.is_ok())
    }

    async fn checkpoint(&self) -> Result<(), StoreError> {
        let Some(dir) = self.dir.clone() else { return Ok(()) };
        // Only the capture holds the writer lock; the processors go on while
        // the batch is built and written.
        let (captured, offset, settings, profiles) = {
            let _w = self.writer.lock().await;
            (self.capture(true), self.next_offset(), self.settings(), self.profiles())
        };
        let started = std::time::Instant::now();
        tokio::task::spawn_blocking(move || write_snapshot(&dir, &batch_of(&captured)?, offset, &settings, &profiles))
            .await
            .map_err(other)??;
        tracing::info!(next_offset = offset, elapsed_ms = started.elapsed().as_millis() as u64, "snapshot written");
        Ok(())
    }

    async fn entry(&self, user: UserId, id: EntryId) -> Result<Option<ProcessedEntry>, StoreError> {
        Ok(self.user(user).and_then(|u| u.read().get(id)).map(|e| e.as_ref().clone()))
    }

    async fn known(&self, user: UserId, id: EntryId) -> Result<bool, StoreError> {
        Ok(self.user(user).is_some_and(|u| u.read().entries.contains_key(&id)))
    }

    async fn list(&self, user: UserId, query: &ListQuery) -> Result<Page, StoreError> {
        Ok(match self.user(user) {
            Some(u) => u.read().list(query),
            None => Page { entries: Vec::new(), next: None },
        })
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
        Ok(match self.user(user) {
            Some(u) => u.read().summarize(from, to, time_zone, top_merchants, by_month),
            None => RangeSummary::default(),
        })
    }

    async fn profile(&self, user: UserId) -> Result<UserProfile, StoreError> {
        Ok(self.user(user).map(|u| u.read().profile()).unwrap_or_default())
    }

    async fn version(&self, user: UserId) -> Result<u64, StoreError> {
        Ok(self.user(user).map_or(0, |u| u.read().version))
    }

    async fn healthcheck(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
