//! Entries (expenses and income) and the events that carry them on the log.

use crate::categories::CategoryId;
use crate::money::Money;
use crate::period::WeekStart;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `t` cut to the microsecond, the precision the store, snapshots and ClickHouse keep.
pub fn to_micros(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

/// A user's stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

/// An entry's stable id; the same SMS or idempotency key always maps to the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryId(pub Uuid);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl EntryId {
    /// A fresh, time-ordered id.
    pub fn random() -> Self {
        EntryId(Uuid::now_v7())
    }

    /// The id derived from a user's idempotency key: a retry maps to the same entry.
    pub fn from_idempotency_key(user: UserId, key: &str) -> Self {
        let mut name = Vec::with_capacity(16 + key.len());
        name.extend_from_slice(user.0.as_bytes());
        name.extend_from_slice(key.as_bytes());
        EntryId(Uuid::new_v5(&Uuid::NAMESPACE_OID, &name))
    }
}

/// Money out or money in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Money spent.
    #[default]
    Expense,
    /// Money received (salary, refunds).
    Income,
}

impl EntryKind {
    /// `expense` or `income`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::Expense => "expense",
            EntryKind::Income => "income",
        }
    }
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Typed in through the API.
    #[default]
    Manual,
    /// Parsed from a bank SMS.
    Sms,
    /// Said to the chat bot.
    Chat,
    /// Bulk import (CSV).
    Import,
}

impl Source {
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Sms => "sms",
            Source::Chat => "chat",
            Source::Import => "import",
        }
    }
}

/// An entry as the user submitted it, before processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Stable id.
    pub id: EntryId,
    /// Owner.
    pub user_id: UserId,
    /// Expense or income.
    pub kind: EntryKind,
    /// Positive amount.
    pub amount: Money,
    /// When it happened (UTC instant).
    pub occurred_at: Timestamp,
    /// Merchant or payee as given.
    pub merchant: Option<String>,
    /// Free note.
    pub note: Option<String>,
    /// Category chosen by the user; `None` lets the processors decide.
    pub user_category: Option<CategoryId>,
    /// Origin.
    pub source: Source,
    /// When spendstream accepted it.
    pub created_at: Timestamp,
    /// The bank SMS it was read from, for `Source::Sms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Box<SmsOrigin>>,
}

/// The bank SMS an entry was read from, and what the parser found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsOrigin {
    /// The message's id in the SMS inbox.
    pub sms_id: Uuid,
    /// Sender as the phone showed it, e.g. `VM-HDFCBK`.
    pub sender: String,
    /// The message text, unchanged.
    pub text: String,
    /// When the phone received it.
    pub received_at: Timestamp,
    /// Last digits of the user's account or card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_last4: Option<String>,
    /// UPI / IMPS / NEFT / bank reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// upi, card, atm, netbanking, wallet, transfer, refund or other.
    pub channel: String,
    /// Available balance after the transaction, in the entry's minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_minor: Option<i64>,
}

/// A user's preferences that change how periods are cut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    /// IANA time zone name, e.g. `Asia/Kolkata`.
    pub time_zone: String,
    /// First day of the week.
    pub week_start: WeekStart,
    /// Default currency for new entries and the primary currency of reports.
    pub currency: crate::money::Currency,
}

/// One record on the event log. Keyed (partitioned) by user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A new entry.
    EntryAdded {
        /// The entry.
        entry: Entry,
    },
    /// Many new entries of one user in one record, as `spendstream import`
    /// and `POST /v1/expenses/import` write them: one record per chunk costs
    /// the broker one write instead of one per entry. Processed exactly as
    /// the same entries one `EntryAdded` each, in order.
    EntriesAdded {
        /// Owner of every entry.
        user_id: UserId,
        /// The entries, in file order.
        entries: Vec<Entry>,
    },
    /// A tombstone: reports stop counting the entry.
    EntryRemoved {
        /// Owner.
        user_id: UserId,
        /// Removed entry.
        entry_id: EntryId,
        /// When it was removed.
        removed_at: Timestamp,
    },
    /// The user's time zone, week start or currency changed.
    SettingsChanged {
        /// Owner.
        user_id: UserId,
        /// New settings.
        settings: UserSettings,
    },
    /// The user moved an entry to another category; later entries from the
    /// same merchant follow, and with `apply_to_past` the earlier ones too.
    EntryRecategorised {
        /// Owner.
        user_id: UserId,
        /// The corrected entry.
        entry_id: EntryId,
        /// The category the user chose.
        category: CategoryId,
        /// Also move earlier entries from the same merchant (not those the user set).
        apply_to_past: bool,
        /// The entry's merchant, which later entries are matched on.
        merchant: Option<String>,
        /// When.
        at: Timestamp,
    },
    /// A budget was created or changed.
    BudgetSet {
        /// The budget as it now is.
        budget: crate::insight::Budget,
    },
    /// A budget was deleted.
    BudgetRemoved {
        /// Owner.
        user_id: UserId,
        /// The budget.
        budget_id: Uuid,
        /// When.
        at: Timestamp,
    },
    /// A processor raised a risk alert (published for the notifiers).
    AlertRaised {
        /// The alert.
        alert: crate::insight::Alert,
    },
    /// A bill reminder SMS was read (for the bill-due alert).
    BillReminder {
        /// The bill as stored.
        bill: crate::inbox::Bill,
        /// When the reminder arrived.
        reminded_at: Timestamp,
    },
    /// Bills a payment settled (no more due-soon alerts for them).
    BillsSettled {
        /// Owner.
        user_id: UserId,
        /// The bills.
        bill_ids: Vec<Uuid>,
        /// The paying entry.
        entry_id: EntryId,
    },
    /// The user acknowledged an alert; it is hidden from then on.
    AlertAcknowledged {
        /// Owner.
        user_id: UserId,
        /// The alert.
        alert_id: Uuid,
        /// When.
        at: Timestamp,
    },
}

impl Event {
    /// The partition key: every event of one user lands in one partition, in order.
    pub fn user_id(&self) -> UserId {
        match self {
            Event::EntryAdded { entry } => entry.user_id,
            Event::BudgetSet { budget } => budget.user_id,
            Event::AlertRaised { alert } => alert.user_id,
            Event::BillReminder { bill, .. } => bill.user_id,
            Event::EntriesAdded { user_id, .. }
            | Event::EntryRemoved { user_id, .. }
            | Event::SettingsChanged { user_id, .. }
            | Event::EntryRecategorised { user_id, .. }
            | Event::BudgetRemoved { user_id, .. }
            | Event::BillsSettled { user_id, .. }
            | Event::AlertAcknowledged { user_id, .. } => *user_id,
        }
    }

    /// How many events this record stands for: the entries of an
    /// [`Event::EntriesAdded`], 1 for any other. Consumers size batches by it.
    pub fn weight(&self) -> usize {
        match self {
            Event::EntriesAdded { entries, .. } => entries.len().max(1),
            _ => 1,
        }
    }

    /// Why a record read from the log cannot be processed, if it cannot: an
    /// [`Event::EntriesAdded`] with an entry of another user (it was keyed,
    /// and so ordered, under the wrong user). Readers skip such a record loudly.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Event::EntriesAdded { user_id, entries } => match entries.iter().find(|e| e.user_id != *user_id) {
                Some(e) => Err(format!("entry {} of user {} in a record of user {user_id}", e.id, e.user_id)),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// Who decided an entry's category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategorySource {
    /// The user chose it.
    User,
    /// A config rule chose it.
    Rule,
    /// A rule learned from the user's own correction chose it.
    Learned,
}

impl CategorySource {
    /// `user`, `rule` or `learned`.
    pub fn as_str(self) -> &'static str {
        match self {
            CategorySource::User => "user",
            CategorySource::Rule => "rule",
            CategorySource::Learned => "learned",
        }
    }

    /// Parses [`CategorySource::as_str`]; anything else is `Rule`.
    pub fn from_name(s: &str) -> Self {
        match s {
            "user" => CategorySource::User,
            "learned" => CategorySource::Learned,
            _ => CategorySource::Rule,
        }
    }
}

/// An entry after the processors categorised it: what the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessedEntry {
    /// The entry as submitted.
    pub entry: Entry,
    /// The category in force.
    pub category: CategoryId,
    /// Who chose it.
    pub category_source: CategorySource,
    /// Why, in words ("merchant name 'swiggy'").
    pub category_reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: UserId) -> Entry {
        Entry {
            id: EntryId::random(),
            user_id: user,
            kind: EntryKind::Expense,
            amount: crate::Money { minor: 25_000, currency: crate::Currency::parse("INR").unwrap() },
            occurred_at: "2026-11-02T10:00:00Z".parse().unwrap(),
            merchant: None,
            note: None,
            user_category: None,
            source: Source::Import,
            created_at: "2026-11-02T10:00:00Z".parse().unwrap(),
            origin: None,
        }
    }

    #[test]
    fn an_import_record_weighs_its_entries_and_must_hold_only_its_users() {
        let (ana, bo) = (UserId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)));
        let ours = Event::EntriesAdded { user_id: ana, entries: vec![entry(ana), entry(ana), entry(ana)] };
        assert_eq!(ours.weight(), 3);
        assert_eq!(ours.check(), Ok(()));
        assert_eq!(Event::EntryAdded { entry: entry(ana) }.weight(), 1);
        assert_eq!(Event::EntriesAdded { user_id: ana, entries: vec![] }.weight(), 1, "a poll still moves on");
        let mixed = Event::EntriesAdded { user_id: ana, entries: vec![entry(ana), entry(bo)] };
        let err = mixed.check().unwrap_err();
        assert!(err.contains(&bo.to_string()) && err.contains(&ana.to_string()), "{err}");
    }
}
