//! The SMS inbox on PostgreSQL, beside the accounts (tables from migration
//! 0002); the semantics of [`crate::sqlite_inbox`].
//!
//! Where SQLite takes its write lock up front (`BEGIN IMMEDIATE`), the
//! check-and-insert operations here take a transaction-scoped advisory lock on
//! what they decide about: `receive` on the user and the SMS's hash, `claim` on
//! the user's transaction keys. Two API processes given the same SMS, or two
//! reports of one transaction, are thus serialised and agree on one item and
//! one entry. `upsert_bill` is one `INSERT ... ON CONFLICT` statement; `settle`
//! locks the user's due bills (`FOR UPDATE`), so a bill is paid once.

use crate::inbox_rows::{self, bad, bill_key, micros, window_micros};
use crate::pg_accounts::{Fault, PgAccounts, fault, lock, within};
use async_trait::async_trait;
use jiff::Timestamp;
use spendstream_core::inbox::{Bill, Inbox, InboxError, InboxItem, Payment, SmsStatus};
use spendstream_core::{EntryId, UserId};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder};
use std::future::Future;
use std::time::Duration;
use uuid::Uuid;

fn err(e: sqlx::Error) -> InboxError {
    match fault(&e) {
        Fault::Unavailable => InboxError::Unavailable(format!("postgres: {e}")),
        Fault::Duplicate | Fault::Other => InboxError::Other(format!("postgres: {e}")),
    }
}

fn item_from_row(r: &PgRow) -> Result<InboxItem, InboxError> {
    inbox_rows::item_from_row(r, err)
}

fn bill_from_row(r: &PgRow) -> Result<Bill, InboxError> {
    inbox_rows::bill_from_row(r, err)
}

impl PgAccounts {
    /// Runs an inbox operation within the deadline.
    async fn run_inbox<T>(&self, work: impl Future<Output = Result<T, InboxError>>) -> Result<T, InboxError> {
        within(self.timeout, InboxError::Unavailable, work).await
    }
}

#[async_trait]
impl Inbox for PgAccounts {
    async fn receive(&self, item: &InboxItem, window: Duration) -> Result<(InboxItem, bool), InboxError> {
        self.run_inbox(async {
            let mut tx = self.pool.begin().await.map_err(err)?;
            lock(&mut tx, "sms", &format!("{}:{}", item.user_id, item.body_hash)).await.map_err(err)?;
            let w = window_micros(window);
            let at = micros(item.received_at);
            let existing = sqlx::query(
                "SELECT * FROM sms_inbox WHERE user_id = $1 AND body_hash = $2 AND received_at BETWEEN $3 AND $4 \
                 ORDER BY received_at LIMIT 1",
            )
            .bind(item.user_id.to_string())
            .bind(&item.body_hash)
            .bind(at.saturating_sub(w))
            .bind(at.saturating_add(w))
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
            if let Some(row) = existing {
                tx.rollback().await.map_err(err)?;
                return Ok((item_from_row(&row)?, false));
            }
            sqlx::query(
                "INSERT INTO sms_inbox (id, user_id, sender, body, body_hash, received_at, class, status, reason, \
                 entry_id, bill_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(item.id.to_string())
            .bind(item.user_id.to_string())
            .bind(&item.sender)
            .bind(&item.body)
            .bind(&item.body_hash)
            .bind(at)
            .bind(&item.class)
            .bind(item.status.as_str())
            .bind(&item.reason)
            .bind(item.entry_id.map(|e| e.to_string()))
            .bind(item.bill_id.map(|b| b.to_string()))
            .bind(micros(item.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            tx.commit().await.map_err(err)?;
            Ok((item.clone(), true))
        })
        .await
    }

    async fn claim(
        &self,
        user: UserId,
        exact: &[String],
        near: &[String],
        at: Timestamp,
        window: Duration,
        entry: EntryId,
    ) -> Result<Option<EntryId>, InboxError> {
        self.run_inbox(async {
            let (u, w, t) = (user.to_string(), window_micros(window), micros(at));
            let mine = entry.to_string();
            let mut tx = self.pool.begin().await.map_err(err)?;
            lock(&mut tx, "txn-keys", &u).await.map_err(err)?;
            let mut held = None;
            for key in exact {
                let holder: Option<String> =
                    sqlx::query_scalar("SELECT entry_id FROM sms_txn_keys WHERE user_id = $1 AND key = $2 LIMIT 1")
                        .bind(&u)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                if let Some(h) = holder.filter(|h| *h != mine) {
                    held = Some(h);
                    break;
                }
            }
            if held.is_none() {
                for key in near {
                    let holder: Option<String> = sqlx::query_scalar(
                        "SELECT entry_id FROM sms_txn_keys WHERE user_id = $1 AND key = $2 \
                         AND at BETWEEN $3 AND $4 AND entry_id <> $5 LIMIT 1",
                    )
                    .bind(&u)
                    .bind(key)
                    .bind(t.saturating_sub(w))
                    .bind(t.saturating_add(w))
                    .bind(&mine)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
                    if holder.is_some() {
                        held = holder;
                        break;
                    }
                }
            }
            if let Some(h) = held {
                tx.rollback().await.map_err(err)?;
                return Ok(Some(EntryId(Uuid::parse_str(&h).map_err(bad)?)));
            }
            for key in exact.iter().chain(near) {
                sqlx::query(
                    "INSERT INTO sms_txn_keys (user_id, key, at, entry_id) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&u)
                .bind(key)
                .bind(t)
                .bind(&mine)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            }
            tx.commit().await.map_err(err)?;
            Ok(None)
        })
        .await
    }

    async fn update(&self, item: &InboxItem) -> Result<(), InboxError> {
        self.run_inbox(async {
            sqlx::query(
                "UPDATE sms_inbox SET class = $1, status = $2, reason = $3, entry_id = $4, bill_id = $5, \
                 updated_at = $6 WHERE id = $7",
            )
            .bind(&item.class)
            .bind(item.status.as_str())
            .bind(&item.reason)
            .bind(item.entry_id.map(|e| e.to_string()))
            .bind(item.bill_id.map(|b| b.to_string()))
            .bind(micros(item.updated_at))
            .bind(item.id.to_string())
            .execute(&self.pool)
            .await
            .map_err(err)?;
            Ok(())
        })
        .await
    }

    async fn items(
        &self,
        user: UserId,
        status: SmsStatus,
        before: Option<(Timestamp, Uuid)>,
        limit: usize,
    ) -> Result<Vec<InboxItem>, InboxError> {
        self.run_inbox(async {
            let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM sms_inbox WHERE user_id = ");
            q.push_bind(user.to_string()).push(" AND status = ").push_bind(status.as_str());
            if let Some((at, id)) = before {
                q.push(" AND (received_at < ")
                    .push_bind(micros(at))
                    .push(" OR (received_at = ")
                    .push_bind(micros(at))
                    .push(" AND id < ")
                    .push_bind(id.to_string())
                    .push("))");
            }
            q.push(" ORDER BY received_at DESC, id DESC LIMIT ").push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
            let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
            rows.iter().map(item_from_row).collect()
        })
        .await
    }

    async fn pending(
        &self,
        statuses: &[SmsStatus],
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<InboxItem>, InboxError> {
        if statuses.is_empty() {
            // `status IN ()` is an error in PostgreSQL (SQLite matches nothing).
            return Ok(Vec::new());
        }
        self.run_inbox(async {
            let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM sms_inbox WHERE status IN (");
            let mut sep = q.separated(", ");
            for s in statuses {
                sep.push_bind(s.as_str());
            }
            q.push(")");
            if let Some(a) = after {
                q.push(" AND id > ").push_bind(a.to_string());
            }
            q.push(" ORDER BY id LIMIT ").push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
            let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
            rows.iter().map(item_from_row).collect()
        })
        .await
    }

    async fn upsert_bill(&self, bill: &Bill) -> Result<Bill, InboxError> {
        self.run_inbox(async {
            let row = sqlx::query(
                "INSERT INTO bills (id, user_id, sender, account_last4, currency, amount_due, min_due, due_date, \
                 bill_key, status, sms_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'due', $10, $11) \
                 ON CONFLICT (user_id, bill_key) DO UPDATE SET amount_due = excluded.amount_due, \
                 min_due = COALESCE(excluded.min_due, bills.min_due), sms_id = excluded.sms_id RETURNING *",
            )
            .bind(bill.id.to_string())
            .bind(bill.user_id.to_string())
            .bind(&bill.sender)
            .bind(&bill.account_last4)
            .bind(&bill.currency)
            .bind(bill.amount_due_minor)
            .bind(bill.min_due_minor)
            .bind(bill.due_date.map(|d| d.to_string()))
            .bind(bill_key(bill))
            .bind(bill.sms_id.to_string())
            .bind(micros(bill.received_at))
            .fetch_one(&self.pool)
            .await
            .map_err(err)?;
            bill_from_row(&row)
        })
        .await
    }

    async fn bills(&self, user: UserId) -> Result<Vec<Bill>, InboxError> {
        self.run_inbox(async {
            let rows = sqlx::query(
                "SELECT * FROM bills WHERE user_id = $1 \
                 ORDER BY status = 'paid', due_date IS NULL, due_date, received_at DESC",
            )
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
            rows.iter().map(bill_from_row).collect()
        })
        .await
    }

    async fn settle(&self, payment: &Payment) -> Result<Vec<Uuid>, InboxError> {
        self.run_inbox(async {
            let p = payment;
            let mut tx = self.pool.begin().await.map_err(err)?;
            // A concurrent settle waits for these locks, then no longer sees
            // the bills this one paid as due.
            let rows = sqlx::query(
                "SELECT * FROM bills WHERE user_id = $1 AND status = 'due' \
                 ORDER BY due_date IS NULL, due_date, id FOR UPDATE",
            )
            .bind(p.user_id.to_string())
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
            let mut paid = Vec::new();
            for row in &rows {
                let bill = bill_from_row(row)?;
                if !bill.settled_by(p) {
                    continue;
                }
                sqlx::query("UPDATE bills SET status = 'paid', paid_by = $1, paid_at = $2 WHERE id = $3")
                    .bind(p.entry_id.to_string())
                    .bind(micros(p.at))
                    .bind(bill.id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                paid.push(bill.id);
            }
            tx.commit().await.map_err(err)?;
            Ok(paid)
        })
        .await
    }

    async fn healthcheck(&self) -> Result<(), InboxError> {
        self.run_inbox(async {
            sqlx::query("SELECT 1").execute(&self.pool).await.map_err(err)?;
            Ok(())
        })
        .await
    }
}
