//! The SMS inbox port: every bank SMS a phone forwarded, what became of it,
//! the keys that make one transaction one entry, and bill reminders.
//!
//! Nothing forwarded is lost: a message is stored before it is acted on, and
//! one that looks financial but does not parse stays `unparsed` (with the
//! reason) until `spendstream ingest reparse` turns it into an entry.

use crate::entry::{EntryId, UserId};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// What became of a forwarded SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsStatus {
    /// Stored, not yet acted on (a crash in between leaves it here; a retry or a reparse finishes it).
    Received,
    /// Became an entry.
    Entered,
    /// Reports a transaction that another message already entered.
    Duplicate,
    /// Became a bill reminder.
    Bill,
    /// Not a transaction (OTP, promotion, declined payment, balance, other).
    Ignored,
    /// Looks financial but could not be read; kept for `ingest reparse`.
    Unparsed,
}

impl SmsStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SmsStatus::Received => "received",
            SmsStatus::Entered => "entered",
            SmsStatus::Duplicate => "duplicate",
            SmsStatus::Bill => "bill",
            SmsStatus::Ignored => "ignored",
            SmsStatus::Unparsed => "unparsed",
        }
    }

    /// Parses [`SmsStatus::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => SmsStatus::Received,
            "entered" => SmsStatus::Entered,
            "duplicate" => SmsStatus::Duplicate,
            "bill" => SmsStatus::Bill,
            "ignored" => SmsStatus::Ignored,
            "unparsed" => SmsStatus::Unparsed,
            _ => return None,
        })
    }
}

/// One forwarded SMS and its fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    /// Inbox id.
    pub id: Uuid,
    /// Owner.
    pub user_id: UserId,
    /// Sender as the phone showed it.
    pub sender: String,
    /// Message text (an OTP's text is not kept).
    pub body: String,
    /// SHA-256 of sender and text, hex: the same SMS has the same hash.
    pub body_hash: String,
    /// When the phone received it.
    pub received_at: Timestamp,
    /// Parser class (transaction, bill_due, otp, promo, declined, balance, other).
    pub class: String,
    /// What became of it.
    pub status: SmsStatus,
    /// Why it is unparsed or ignored, in words.
    pub reason: Option<String>,
    /// The entry it became, or the entry it duplicates.
    pub entry_id: Option<EntryId>,
    /// The bill it became.
    pub bill_id: Option<Uuid>,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Whether a bill is still to be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillStatus {
    /// Not paid yet.
    Due,
    /// A matching payment arrived.
    Paid,
}

impl BillStatus {
    /// `due` or `paid`.
    pub fn as_str(self) -> &'static str {
        match self {
            BillStatus::Due => "due",
            BillStatus::Paid => "paid",
        }
    }
}

/// A bill or card-statement reminder read from an SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    /// Bill id.
    pub id: Uuid,
    /// Owner.
    pub user_id: UserId,
    /// Sender of the reminder (the biller).
    pub sender: String,
    /// Card or account digits, when the message gives them.
    pub account_last4: Option<String>,
    /// ISO 4217 code of the amounts.
    pub currency: String,
    /// Total due, minor units.
    pub amount_due_minor: i64,
    /// Minimum due, minor units.
    pub min_due_minor: Option<i64>,
    /// Due date, when stated.
    pub due_date: Option<Date>,
    /// Due or paid.
    pub status: BillStatus,
    /// The payment that settled it.
    pub paid_by: Option<EntryId>,
    /// When that payment arrived.
    pub paid_at: Option<Timestamp>,
    /// The SMS it was read from (the latest reminder).
    pub sms_id: Uuid,
    /// When the first reminder arrived.
    pub received_at: Timestamp,
}

impl Bill {
    /// Whether `p` pays this due bill: a credit of at least the minimum due
    /// (else the total) to the bill's card or account, or, for a bill without
    /// one (utilities, phone), a debit of exactly the amount due; in the bill's
    /// currency, no earlier than a day before the reminder arrived.
    pub fn settled_by(&self, p: &Payment) -> bool {
        if self.status != BillStatus::Due || p.user_id != self.user_id || p.currency != self.currency {
            return false;
        }
        let earliest = self.received_at.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(self.received_at);
        if p.at < earliest {
            return false;
        }
        match (&self.account_last4, &p.account_last4) {
            (Some(a), Some(b)) => {
                p.is_credit && a == b && p.amount_minor >= self.min_due_minor.unwrap_or(self.amount_due_minor)
            }
            (None, _) => !p.is_credit && p.amount_minor == self.amount_due_minor,
            (Some(_), None) => false,
        }
    }
}

/// A payment that may settle bills: a credit to a card or account, or a debit of an exact amount due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// Owner.
    pub user_id: UserId,
    /// The entry the payment became.
    pub entry_id: EntryId,
    /// Card or account digits.
    pub account_last4: Option<String>,
    /// Credit (a payment received on the card) or debit (paid from an account).
    pub is_credit: bool,
    /// ISO 4217 code.
    pub currency: String,
    /// Amount, minor units.
    pub amount_minor: i64,
    /// When it happened.
    pub at: Timestamp,
}

/// A failure of the inbox store. `Unavailable` is worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The engine cannot be reached; retry later.
    #[error("sms inbox unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("sms inbox error: {0}")]
    Other(String),
}

/// Forwarded SMS, transaction keys and bills.
///
/// Contract: `receive` and `claim` are atomic check-and-insert operations, so
/// two API instances given the same SMS (or two reports of one transaction)
/// at the same moment still agree on one item and one entry.
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Stores `item` unless an item with the same user and `body_hash` was
    /// received within `window` of it; returns the item in force and whether it is new.
    async fn receive(&self, item: &InboxItem, window: Duration) -> Result<(InboxItem, bool), InboxError>;
    /// Claims transaction keys for `entry`: `exact` keys (references) match
    /// at any time, `near` keys (amount + account) within `window` of `at`.
    /// Returns the other entry already holding one of them, or `None` once
    /// they are claimed for `entry` (also when `entry` held them already).
    async fn claim(
        &self,
        user: UserId,
        exact: &[String],
        near: &[String],
        at: Timestamp,
        window: Duration,
        entry: EntryId,
    ) -> Result<Option<EntryId>, InboxError>;
    /// Records what became of an item.
    async fn update(&self, item: &InboxItem) -> Result<(), InboxError>;
    /// A user's items with `status`, newest first, before `before` (a cursor: received_at, id).
    async fn items(
        &self,
        user: UserId,
        status: SmsStatus,
        before: Option<(Timestamp, Uuid)>,
        limit: usize,
    ) -> Result<Vec<InboxItem>, InboxError>;
    /// Items of every user with one of `statuses`, oldest first, after `after` (an id cursor).
    async fn pending(
        &self,
        statuses: &[SmsStatus],
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<InboxItem>, InboxError>;
    /// Stores a bill; a reminder for the same user, account (or sender) and
    /// due date updates the existing bill. Returns the bill in force.
    async fn upsert_bill(&self, bill: &Bill) -> Result<Bill, InboxError>;
    /// A user's bills, due first (soonest due date first), then paid.
    async fn bills(&self, user: UserId) -> Result<Vec<Bill>, InboxError>;
    /// Marks as paid the due bills that `payment` settles; returns their ids.
    async fn settle(&self, payment: &Payment) -> Result<Vec<Uuid>, InboxError>;
    /// Answers whether the store can serve now.
    async fn healthcheck(&self) -> Result<(), InboxError>;
}
