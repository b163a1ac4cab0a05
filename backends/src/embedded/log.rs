//! `EmbeddedEventLog`: a durable log in a local SQLite database.
//!
//! One row per event, one table of committed offsets per consumer group. The
//! database runs in WAL mode with `synchronous=FULL`. All writes go through one
//! writer task that batches concurrent appends into one transaction (group
//! commit), so durability costs one fsync per batch, not per request. Readers
//! use their own connections and are woken by a watch channel.

use async_trait::async_trait;
use futures::TryStreamExt;
use spendstream_core::Event;
use spendstream_core::ports::{EventLog, LogConsumer, LogError, Position, Record};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use std::path::Path;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Events taken into one transaction at most.
const MAX_BATCH_EVENTS: usize = 4096;

enum WriteOp {
    Append(Vec<(String, String)>, oneshot::Sender<Result<Vec<Position>, LogError>>),
    Commit(String, u64, oneshot::Sender<Result<(), LogError>>),
}

/// The embedded, SQLite-backed event log (one partition).
#[derive(Clone)]
pub struct EmbeddedEventLog {
    writes: mpsc::Sender<WriteOp>,
    high: watch::Receiver<u64>,
    readers: SqlitePool,
}

fn unavailable(e: impl std::fmt::Display) -> LogError {
    LogError::Unavailable(e.to_string())
}

impl EmbeddedEventLog {
    /// Opens (or creates) the log at `path`.
    pub async fn open(path: &Path) -> Result<Self, LogError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let mut writer = SqliteConnection::connect_with(&opts).await.map_err(unavailable)?;
        for ddl in [
            "CREATE TABLE IF NOT EXISTS events (\
               offset INTEGER PRIMARY KEY, user_id TEXT NOT NULL, payload TEXT NOT NULL, appended_at INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS consumer_offsets (grp TEXT PRIMARY KEY, next_offset INTEGER NOT NULL)",
        ] {
            sqlx::query(ddl).execute(&mut writer).await.map_err(unavailable)?;
        }
        let next: i64 = sqlx::query("SELECT COALESCE(MAX(offset) + 1, 0) FROM events")
            .fetch_one(&mut writer)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(unavailable)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(true))
            .await
            .map_err(unavailable)?;
        let (tx, rx) = mpsc::channel(1024);
        let (high_tx, high) = watch::channel(next as u64);
        tokio::spawn(writer_task(writer, rx, high_tx));
        Ok(EmbeddedEventLog { writes: tx, high, readers })
    }

    /// Offset the next append will get.
    pub fn next_offset(&self) -> u64 {
        *self.high.borrow()
    }
}

async fn writer_task(mut conn: SqliteConnection, mut rx: mpsc::Receiver<WriteOp>, high: watch::Sender<u64>) {
    while let Some(first) = rx.recv().await {
        let mut ops = vec![first];
        let mut events = op_len(&ops[0]);
        while events < MAX_BATCH_EVENTS {
            match rx.try_recv() {
                Ok(op) => {
                    events += op_len(&op);
                    ops.push(op);
                }
                Err(_) => break,
            }
        }
        match write_batch(&mut conn, &ops).await {
            Ok(new_next) => {
                let appended: u64 = ops
                    .iter()
                    .map(|op| match op {
                        WriteOp::Append(evs, _) => evs.len() as u64,
                        WriteOp::Commit(..) => 0,
                    })
                    .sum();
                let mut offset = new_next - appended;
                for op in ops {
                    match op {
                        WriteOp::Append(evs, reply) => {
                            let positions = (offset..offset + evs.len() as u64)
                                .map(|o| Position { partition: 0, offset: o })
                                .collect();
                            offset += evs.len() as u64;
                            let _ = reply.send(Ok(positions));
                        }
                        WriteOp::Commit(_, _, reply) => {
                            let _ = reply.send(Ok(()));
                        }
                    }
                }
                high.send_replace(new_next);
            }
            Err(e) => {
                tracing::error!(error = %e, "event log write failed");
                for op in ops {
                    match op {
                        WriteOp::Append(_, reply) => {
                            let _ = reply.send(Err(unavailable(&e)));
                        }
                        WriteOp::Commit(_, _, reply) => {
                            let _ = reply.send(Err(unavailable(&e)));
                        }
                    }
                }
            }
        }
    }
}

fn op_len(op: &WriteOp) -> usize {
    match op {
        WriteOp::Append(evs, _) => evs.len(),
        WriteOp::Commit(..) => 1,
    }
}

async fn write_batch(conn: &mut SqliteConnection, ops: &[WriteOp]) -> Result<u64, sqlx::Error> {
    // BEGIN IMMEDIATE takes the write lock up front, and offsets are read inside
    // it, so another process appending to the same file (`spendstream import`)
    // can never collide with this one.
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    match write_ops(conn, ops).await {
        Ok(next) => {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Ok(next)
        }
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}

async fn write_ops(conn: &mut SqliteConnection, ops: &[WriteOp]) -> Result<u64, sqlx::Error> {
    let now = jiff::Timestamp::now().as_millisecond();
    let first: i64 =
        sqlx::query("SELECT COALESCE(MAX(offset) + 1, 0) FROM events").fetch_one(&mut *conn).await?.try_get(0)?;
    let mut next = first as u64;
    for op in ops {
        match op {
            WriteOp::Append(evs, _) => {
                for (user, payload) in evs {
                    sqlx::query("INSERT INTO events (offset, user_id, payload, appended_at) VALUES (?, ?, ?, ?)")
                        .bind(next as i64)
                        .bind(user)
                        .bind(payload)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    next += 1;
                }
            }
            WriteOp::Commit(group, offset, _) => {
                sqlx::query(
                    "INSERT INTO consumer_offsets (grp, next_offset) VALUES (?, ?) \
                     ON CONFLICT(grp) DO UPDATE SET next_offset = excluded.next_offset",
                )
                .bind(group)
                .bind(*offset as i64)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(next)
}

#[async_trait]
impl EventLog for EmbeddedEventLog {
    async fn append(&self, events: Vec<Event>) -> Result<Vec<Position>, LogError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let rows = events
            .iter()
            .map(|e| {
                serde_json::to_string(e)
                    .map(|p| (e.user_id().to_string(), p))
                    .map_err(|e| LogError::Other(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (tx, rx) = oneshot::channel();
        self.writes.send(WriteOp::Append(rows, tx)).await.map_err(|_| unavailable("writer stopped"))?;
        rx.await.map_err(|_| unavailable("writer stopped"))?
    }

    async fn consumer(&self, group: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        let committed: Option<i64> = sqlx::query("SELECT next_offset FROM consumer_offsets WHERE grp = ?")
            .bind(group)
            .fetch_optional(&self.readers)
            .await
            .map_err(unavailable)?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(unavailable)?;
        Ok(Box::new(EmbeddedConsumer {
            log: self.clone(),
            group: group.to_owned(),
            next: committed.unwrap_or(0) as u64,
        }))
    }

    async fn healthcheck(&self) -> Result<(), LogError> {
        if self.writes.is_closed() {
            return Err(unavailable("writer stopped"));
        }
        sqlx::query("SELECT 1").execute(&self.readers).await.map_err(unavailable)?;
        Ok(())
    }
}

/// A consumer of the embedded log.
pub struct EmbeddedConsumer {
    log: EmbeddedEventLog,
    group: String,
    next: u64,
}

#[async_trait]
impl LogConsumer for EmbeddedConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Record>, LogError> {
        let mut high = self.log.high.clone();
        if *high.borrow_and_update() <= self.next {
            // Woken by our own appends; the timeout also picks up appends made
            // by another process (e.g. `spendstream import`).
            let _ = tokio::time::timeout(wait, high.changed()).await;
        }
        // Streamed: records of many events each (imports) fill the batch
        // before `max` rows are read.
        let mut rows = sqlx::query("SELECT offset, payload FROM events WHERE offset >= ? ORDER BY offset LIMIT ?")
            .bind(self.next as i64)
            .bind(max as i64)
            .fetch(&self.log.readers);
        let (mut out, mut weight) = (Vec::new(), 0);
        while weight < max {
            let Some(row) = rows.try_next().await.map_err(unavailable)? else { break };
            let offset: i64 = row.try_get(0).map_err(unavailable)?;
            let payload: &str = row.try_get(1).map_err(unavailable)?;
            self.next = offset as u64 + 1;
            if let Some(event) = crate::decode_event(payload.as_bytes(), 0, offset as u64) {
                weight += event.weight();
                out.push(Record { position: Position { partition: 0, offset: offset as u64 }, event });
            }
        }
        Ok(out)
    }

    async fn commit(&mut self, through: &[Position]) -> Result<(), LogError> {
        let Some(last) = through.iter().map(|p| p.offset).max() else {
            return Ok(());
        };
        let (tx, rx) = oneshot::channel();
        self.log
            .writes
            .send(WriteOp::Commit(self.group.clone(), last + 1, tx))
            .await
            .map_err(|_| unavailable("writer stopped"))?;
        rx.await.map_err(|_| unavailable("writer stopped"))?
    }

    async fn seek(&mut self, from: Position) -> Result<(), LogError> {
        self.next = from.offset;
        Ok(())
    }
}
