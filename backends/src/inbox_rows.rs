//! Row decoding, bill keys and time conversions shared by the SQLite and
//! PostgreSQL inboxes: one schema, two SQL dialects, the same rows.

use jiff::Timestamp;
use jiff::civil::Date;
use spendstream_core::inbox::{Bill, BillStatus, InboxError, InboxItem, SmsStatus};
use spendstream_core::{EntryId, UserId};
use sqlx::{ColumnIndex, Decode, Row, Type};
use std::time::Duration;
use uuid::Uuid;

/// Maps a driver error to the inbox's (each engine says what is unavailable).
pub(crate) type ErrFn = fn(sqlx::Error) -> InboxError;

/// The column types the inbox tables use, read by name from any sqlx row.
pub(crate) trait InboxRow {
    fn text(&self, name: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, name: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, name: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, name: &str) -> Result<Option<i64>, sqlx::Error>;
}

impl<R> InboxRow for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    String: Type<R::Database> + for<'r> Decode<'r, R::Database>,
    i64: Type<R::Database> + for<'r> Decode<'r, R::Database>,
{
    fn text(&self, name: &str) -> Result<String, sqlx::Error> {
        self.try_get(name)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        self.try_get(name)
    }
    fn int(&self, name: &str) -> Result<i64, sqlx::Error> {
        self.try_get(name)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(name)
    }
}

pub(crate) fn bad(e: impl std::fmt::Display) -> InboxError {
    InboxError::Other(format!("sms inbox: {e}"))
}

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn ts(v: i64) -> Result<Timestamp, InboxError> {
    Timestamp::from_microsecond(v).map_err(bad)
}

pub(crate) fn window_micros(w: Duration) -> i64 {
    i64::try_from(w.as_micros()).unwrap_or(i64::MAX / 4)
}

fn uuid(r: &impl InboxRow, name: &str, err: ErrFn) -> Result<Uuid, InboxError> {
    Uuid::parse_str(&r.text(name).map_err(err)?).map_err(bad)
}

fn opt_uuid(r: &impl InboxRow, name: &str, err: ErrFn) -> Result<Option<Uuid>, InboxError> {
    r.opt_text(name).map_err(err)?.map(|s| Uuid::parse_str(&s).map_err(bad)).transpose()
}

/// An `sms_inbox` row.
pub(crate) fn item_from_row(r: &impl InboxRow, err: ErrFn) -> Result<InboxItem, InboxError> {
    let s = |n: &str| r.text(n).map_err(err);
    let status = s("status")?;
    Ok(InboxItem {
        id: uuid(r, "id", err)?,
        user_id: UserId(uuid(r, "user_id", err)?),
        sender: s("sender")?,
        body: s("body")?,
        body_hash: s("body_hash")?,
        received_at: ts(r.int("received_at").map_err(err)?)?,
        class: s("class")?,
        status: SmsStatus::parse(&status).ok_or_else(|| bad(format!("unknown status '{status}'")))?,
        reason: r.opt_text("reason").map_err(err)?,
        entry_id: opt_uuid(r, "entry_id", err)?.map(EntryId),
        bill_id: opt_uuid(r, "bill_id", err)?,
        updated_at: ts(r.int("updated_at").map_err(err)?)?,
    })
}

/// A `bills` row.
pub(crate) fn bill_from_row(r: &impl InboxRow, err: ErrFn) -> Result<Bill, InboxError> {
    let s = |n: &str| r.text(n).map_err(err);
    Ok(Bill {
        id: uuid(r, "id", err)?,
        user_id: UserId(uuid(r, "user_id", err)?),
        sender: s("sender")?,
        account_last4: r.opt_text("account_last4").map_err(err)?,
        currency: s("currency")?,
        amount_due_minor: r.int("amount_due").map_err(err)?,
        min_due_minor: r.opt_int("min_due").map_err(err)?,
        due_date: r.opt_text("due_date").map_err(err)?.map(|d| d.parse::<Date>().map_err(bad)).transpose()?,
        status: if s("status")? == "paid" { BillStatus::Paid } else { BillStatus::Due },
        paid_by: opt_uuid(r, "paid_by", err)?.map(EntryId),
        paid_at: r.opt_int("paid_at").map_err(err)?.map(ts).transpose()?,
        sms_id: uuid(r, "sms_id", err)?,
        received_at: ts(r.int("received_at").map_err(err)?)?,
    })
}

/// The identity of a bill: its card (or biller) and due date (or amount when
/// undated). Both engines store it, so they agree on which SMS is which bill.
pub(crate) fn bill_key(b: &Bill) -> String {
    let who = b.account_last4.as_deref().map(|a| format!("acct:{a}")).unwrap_or_else(|| format!("from:{}", b.sender));
    match b.due_date {
        Some(d) => format!("{who}|due:{d}"),
        None => format!("{who}|amount:{}{}", b.currency, b.amount_due_minor),
    }
}
