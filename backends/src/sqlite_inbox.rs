//! The SMS inbox in the accounts SQLite file (tables from migration 0002).
//!
//! Check-and-insert operations run in `BEGIN IMMEDIATE` transactions, which take
//! SQLite's write lock up front: two requests carrying the same SMS, or two
//! reports of one transaction, are serialised and agree on one item and one entry.

use crate::inbox_rows::{self, bad, bill_key, micros, window_micros};
use crate::sqlite_accounts::SqliteAccounts;
use async_trait::async_trait;
use jiff::Timestamp;
use spendstream_core::inbox::{Bill, Inbox, InboxError, InboxItem, Payment, SmsStatus};
use spendstream_core::{EntryId, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};
use std::time::Duration;
use uuid::Uuid;

fn err(e: sqlx::Error) -> InboxError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            InboxError::Unavailable(e.to_string())
        }
        _ => InboxError::Other(e.to_string()),
    }
}

fn item_from_row(r: &SqliteRow) -> Result<InboxItem, InboxError> {
    inbox_rows::item_from_row(r, err)
}

fn bill_from_row(r: &SqliteRow) -> Result<Bill, InboxError> {
    inbox_rows::bill_from_row(r, err)
}

/// Runs a check-and-insert transaction on its own task, so that a caller
/// giving up (a request timeout) cannot cut it short between its steps.
async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, InboxError>> + Send + 'static,
) -> Result<T, InboxError> {
    tokio::spawn(work).await.map_err(bad)?
}

#[async_trait]
impl Inbox for SqliteAccounts {
    async fn receive(&self, item: &InboxItem, window: Duration) -> Result<(InboxItem, bool), InboxError> {
        let pool = self.pool.clone();
        let item = item.clone();
        detached(async move {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(err)?;
            let w = window_micros(window);
            let at = micros(item.received_at);
            let existing = sqlx::query(
                "SELECT * FROM sms_inbox WHERE user_id = ? AND body_hash = ? AND received_at BETWEEN ? AND ? \
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
                return Ok((item_from_row(&row)?, false));
            }
            sqlx::query(
                "INSERT INTO sms_inbox (id, user_id, sender, body, body_hash, received_at, class, status, reason, \
                 entry_id, bill_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            Ok((item, true))
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
        let pool = self.pool.clone();
        let (exact, near) = (exact.to_vec(), near.to_vec());
        detached(async move {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(err)?;
            let (u, w, t) = (user.to_string(), window_micros(window), micros(at));
            let mine = entry.to_string();
            for key in &exact {
                let holder: Option<String> =
                    sqlx::query_scalar("SELECT entry_id FROM sms_txn_keys WHERE user_id = ? AND key = ? LIMIT 1")
                        .bind(&u)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                if let Some(h) = holder.filter(|h| *h != mine) {
                    return Ok(Some(EntryId(Uuid::parse_str(&h).map_err(bad)?)));
                }
            }
            for key in &near {
                let holder: Option<String> = sqlx::query_scalar(
                    "SELECT entry_id FROM sms_txn_keys WHERE user_id = ? AND key = ? AND at BETWEEN ? AND ? \
                     AND entry_id <> ? LIMIT 1",
                )
                .bind(&u)
                .bind(key)
                .bind(t.saturating_sub(w))
                .bind(t.saturating_add(w))
                .bind(&mine)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
                if let Some(h) = holder {
                    return Ok(Some(EntryId(Uuid::parse_str(&h).map_err(bad)?)));
                }
            }
            for key in exact.iter().chain(&near) {
                sqlx::query("INSERT OR IGNORE INTO sms_txn_keys (user_id, key, at, entry_id) VALUES (?, ?, ?, ?)")
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
        sqlx::query(
            "UPDATE sms_inbox SET class = ?, status = ?, reason = ?, entry_id = ?, bill_id = ?, updated_at = ? \
             WHERE id = ?",
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
    }

    async fn items(
        &self,
        user: UserId,
        status: SmsStatus,
        before: Option<(Timestamp, Uuid)>,
        limit: usize,
    ) -> Result<Vec<InboxItem>, InboxError> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM sms_inbox WHERE user_id = ");
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
        q.push(" ORDER BY received_at DESC, id DESC LIMIT ").push_bind(limit as i64);
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(item_from_row).collect()
    }

    async fn pending(
        &self,
        statuses: &[SmsStatus],
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<InboxItem>, InboxError> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM sms_inbox WHERE status IN (");
        let mut sep = q.separated(", ");
        for s in statuses {
            sep.push_bind(s.as_str());
        }
        q.push(")");
        if let Some(a) = after {
            q.push(" AND id > ").push_bind(a.to_string());
        }
        q.push(" ORDER BY id LIMIT ").push_bind(limit as i64);
        let rows = q.build().fetch_all(&self.pool).await.map_err(err)?;
        rows.iter().map(item_from_row).collect()
    }

    async fn upsert_bill(&self, bill: &Bill) -> Result<Bill, InboxError> {
        let pool = self.pool.clone();
        let bill = bill.clone();
        detached(async move {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(err)?;
            let key = bill_key(&bill);
            sqlx::query(
                "INSERT INTO bills (id, user_id, sender, account_last4, currency, amount_due, min_due, due_date, \
                 bill_key, status, sms_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'due', ?, ?) \
                 ON CONFLICT (user_id, bill_key) DO UPDATE SET amount_due = excluded.amount_due, \
                 min_due = COALESCE(excluded.min_due, bills.min_due), sms_id = excluded.sms_id",
            )
            .bind(bill.id.to_string())
            .bind(bill.user_id.to_string())
            .bind(&bill.sender)
            .bind(&bill.account_last4)
            .bind(&bill.currency)
            .bind(bill.amount_due_minor)
            .bind(bill.min_due_minor)
            .bind(bill.due_date.map(|d| d.to_string()))
            .bind(&key)
            .bind(bill.sms_id.to_string())
            .bind(micros(bill.received_at))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            let row = sqlx::query("SELECT * FROM bills WHERE user_id = ? AND bill_key = ?")
                .bind(bill.user_id.to_string())
                .bind(&key)
                .fetch_one(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
            bill_from_row(&row)
        })
        .await
    }

    async fn bills(&self, user: UserId) -> Result<Vec<Bill>, InboxError> {
        let rows = sqlx::query(
            "SELECT * FROM bills WHERE user_id = ? \
             ORDER BY status = 'paid', due_date IS NULL, due_date, received_at DESC",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(bill_from_row).collect()
    }

    async fn settle(&self, payment: &Payment) -> Result<Vec<Uuid>, InboxError> {
        let pool = self.pool.clone();
        let p = payment.clone();
        detached(async move {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(err)?;
            let rows = sqlx::query(
                "SELECT * FROM bills WHERE user_id = ? AND status = 'due' ORDER BY due_date IS NULL, due_date",
            )
            .bind(p.user_id.to_string())
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
            let mut paid = Vec::new();
            for row in &rows {
                let bill = bill_from_row(row)?;
                if !bill.settled_by(&p) {
                    continue;
                }
                sqlx::query("UPDATE bills SET status = 'paid', paid_by = ?, paid_at = ? WHERE id = ?")
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
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(err)?;
        Ok(())
    }
}
