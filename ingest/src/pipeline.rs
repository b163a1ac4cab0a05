//! From a forwarded SMS to an entry, a bill or an inbox row: the path shared by
//! `POST /v1/ingest/sms` and `spendstream ingest reparse`.
//!
//! Order of work, so that nothing is lost and nothing is doubled:
//! 1. parse (pure), then store the message in the inbox (`receive`); the same
//!    sender and text within `ingest.same_sms_window_secs` is the same message;
//! 2. for a transaction, claim its keys (reference; amount + account near the
//!    same instant) for an entry id derived from the inbox id; a key held by
//!    another entry makes this message a duplicate of it;
//! 3. append the entry to the event log, then mark the message `entered`.
//!
//! A crash between steps leaves the message `received`; a retry of the same
//! SMS or a reparse repeats steps 2 and 3 with the same entry id, and the
//! processors count an entry id once.

use crate::sms::{Direction, SmsClass, SmsOutcome, SmsRules, parse, validate};
use jiff::Timestamp;
use jiff::civil::Time;
use serde::Serialize;
use sha2::{Digest, Sha256};
use spendstream_core::config::IngestConfig;
use spendstream_core::entry::to_micros;
use spendstream_core::inbox::{Bill, BillStatus, Inbox, InboxError, InboxItem, Payment, SmsStatus};
use spendstream_core::period::parse_time_zone;
use spendstream_core::ports::{Accounts, AccountsError, EventLog, LogError, Position, User};
use spendstream_core::{Currency, Entry, EntryId, EntryKind, Event, Money, SmsOrigin, Source, UserId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Longest sender accepted, in characters.
pub const MAX_SENDER_CHARS: usize = 64;

/// One message as the phone forwarded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingSms {
    /// Sender as the phone shows it (`VM-HDFCBK`, `MPESA`, a number).
    pub sender: String,
    /// The text, unchanged.
    pub body: String,
    /// When the phone received it.
    pub received_at: Timestamp,
}

/// Why a message could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input is not a message (empty, too long, binary, bad sender): a 4xx.
    #[error("{field}: {message}")]
    Input {
        /// `sender` or `body`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The event log failed; nothing was acknowledged.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The inbox failed.
    #[error(transparent)]
    Inbox(#[from] InboxError),
    /// The accounts store failed (reparse looks users up).
    #[error(transparent)]
    Accounts(#[from] AccountsError),
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// Its inbox row (an earlier row when it is the same SMS again).
    pub item: InboxItem,
    /// True when this very SMS had been received before.
    pub seen_before: bool,
    /// Where its entry landed on the log, when this call appended one.
    pub position: Option<Position>,
}

/// What a reparse did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReparseStats {
    /// Messages looked at (unparsed, or received and never finished).
    pub examined: u64,
    /// Became entries.
    pub entered: u64,
    /// Turned out to repeat a transaction already entered.
    pub duplicates: u64,
    /// Became bill reminders.
    pub bills: u64,
    /// Turned out not to be transactions.
    pub ignored: u64,
    /// Still unparsed.
    pub unparsed: u64,
    /// Where the last appended entry landed on the log.
    #[serde(skip)]
    pub last_position: Option<Position>,
}

/// Turns forwarded SMS into entries and bills.
pub struct SmsIngest {
    rules: Arc<SmsRules>,
    log: Arc<dyn EventLog>,
    inbox: Arc<dyn Inbox>,
    same_sms: Duration,
    same_txn: Duration,
}

/// Loads the templates `ingest.sms_rules` names, or the shipped ones (compiled once per process).
pub fn load_rules(config: &IngestConfig) -> Result<Arc<SmsRules>, String> {
    if config.sms_rules.is_empty() {
        return Ok(SmsRules::shipped_shared());
    }
    let text = std::fs::read_to_string(&config.sms_rules)
        .map_err(|e| format!("ingest.sms_rules: {}: {e}", config.sms_rules))?;
    SmsRules::from_toml_str(&text).map(Arc::new).map_err(|e| format!("ingest.sms_rules: {}: {e}", config.sms_rules))
}

/// SHA-256 of the sender (case and spacing ignored) and the text, hex.
pub fn sms_hash(sender: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(sender.trim().to_ascii_uppercase().as_bytes());
    h.update([0u8]);
    h.update(body.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The entry id of an inbox message: the same message always gives the same entry.
pub fn entry_id_for(user: UserId, sms_id: Uuid) -> EntryId {
    let mut name = Vec::with_capacity(36);
    name.extend_from_slice(user.0.as_bytes());
    name.extend_from_slice(b"sms:");
    name.extend_from_slice(sms_id.as_bytes());
    EntryId(Uuid::new_v5(&Uuid::NAMESPACE_OID, &name))
}

const MONEY_WORDS: &[&str] = &[
    "debit",
    "credit",
    "spent",
    "paid",
    "withdrawn",
    "received",
    "sent",
    "txn",
    "transaction",
    "purchase",
    "payment",
    "transfer",
    "deposit",
    "charged",
    "a/c",
    "acct",
    "account",
    "card",
    "upi",
    "balance",
    "bal ",
];
const MONEY_MARKS: &[&str] =
    &["rs", "inr", "₹", "$", "usd", "£", "gbp", "€", "eur", "kes", "ksh", "ngn", "₦", "aed", "sgd", "aud"];

/// Whether a message the templates did not read still looks like money moved:
/// a currency mark, a digit and a banking word. Such messages are kept as unparsed.
pub fn looks_financial(body: &str) -> bool {
    let lower = body.to_lowercase();
    lower.bytes().any(|b| b.is_ascii_digit())
        && MONEY_MARKS.iter().any(|m| lower.contains(m))
        && MONEY_WORDS.iter().any(|w| lower.contains(w))
}

fn ignored_reason(class: SmsClass) -> &'static str {
    match class {
        SmsClass::Otp => "one-time password; its text is not kept",
        SmsClass::Promo => "promotion or offer, not a transaction",
        SmsClass::Declined => "declined or failed transaction; no money moved",
        SmsClass::Balance => "balance or limit only",
        _ => "not a transaction",
    }
}

/// Checks the sender and text of one message.
pub fn check_input(sms: &IncomingSms) -> Result<(), IngestError> {
    let sender = sms.sender.trim();
    if sender.is_empty() {
        return Err(IngestError::Input { field: "sender", message: "must not be empty".into() });
    }
    if sender.chars().count() > MAX_SENDER_CHARS || sender.chars().any(char::is_control) {
        return Err(IngestError::Input {
            field: "sender",
            message: format!("must be at most {MAX_SENDER_CHARS} characters, without control characters"),
        });
    }
    validate(&sms.body).map_err(|e| IngestError::Input { field: "body", message: e.to_string() })
}

impl SmsIngest {
    /// Wires the pipeline.
    pub fn new(rules: Arc<SmsRules>, log: Arc<dyn EventLog>, inbox: Arc<dyn Inbox>, config: &IngestConfig) -> Self {
        SmsIngest {
            rules,
            log,
            inbox,
            same_sms: Duration::from_secs(config.same_sms_window_secs),
            same_txn: Duration::from_secs(config.same_transaction_window_secs),
        }
    }

    /// Takes one message for `user`.
    pub async fn ingest(&self, user: &User, sms: IncomingSms) -> Result<Ingested, IngestError> {
        check_input(&sms)?;
        let sender = sms.sender.trim().to_owned();
        let outcome = parse(&self.rules, &sender, &sms.body)
            .map_err(|e| IngestError::Input { field: "body", message: e.to_string() })?;
        let now = Timestamp::now();
        let mut item = InboxItem {
            id: Uuid::now_v7(),
            user_id: user.id,
            body_hash: sms_hash(&sender, &sms.body),
            body: if outcome.class == SmsClass::Otp { String::new() } else { sms.body },
            sender,
            received_at: sms.received_at,
            class: outcome.class.as_str().to_owned(),
            status: SmsStatus::Received,
            reason: None,
            entry_id: None,
            bill_id: None,
            updated_at: now,
        };
        // Messages that will not become anything are stored in their final state at once.
        if let Some((status, reason)) = terminal(&outcome, &item.body) {
            item.status = status;
            item.reason = Some(reason);
        }
        let (stored, new) = self.inbox.receive(&item, self.same_sms).await?;
        if stored.status != SmsStatus::Received {
            return Ok(Ingested { item: stored, seen_before: !new, position: None });
        }
        let (item, position) = self.process(user, stored, &outcome).await?;
        Ok(Ingested { item, seen_before: !new, position })
    }

    /// Parses every unparsed (or unfinished) message again with the current
    /// templates; those that now read become entries or bills.
    pub async fn reparse(&self, accounts: &dyn Accounts) -> Result<ReparseStats, IngestError> {
        let mut stats = ReparseStats::default();
        let mut users: HashMap<UserId, Option<User>> = HashMap::new();
        let mut after = None;
        loop {
            let page = self.inbox.pending(&[SmsStatus::Unparsed, SmsStatus::Received], after, 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for mut item in page {
                stats.examined += 1;
                let user = match users.get(&item.user_id) {
                    Some(u) => u.clone(),
                    None => {
                        let u = accounts.user(item.user_id).await?;
                        users.insert(item.user_id, u.clone());
                        u
                    }
                };
                let Some(user) = user else { continue };
                let Ok(outcome) = parse(&self.rules, &item.sender, &item.body) else { continue };
                item.class = outcome.class.as_str().to_owned();
                let done = match terminal(&outcome, &item.body) {
                    Some((status, reason)) => {
                        if item.status != status || item.reason.as_deref() != Some(reason.as_str()) {
                            item.status = status;
                            item.reason = Some(reason);
                            item.updated_at = Timestamp::now();
                            self.inbox.update(&item).await?;
                        }
                        item
                    }
                    None => {
                        let (item, position) = self.process(&user, item, &outcome).await?;
                        stats.last_position = position.or(stats.last_position);
                        item
                    }
                };
                match done.status {
                    SmsStatus::Entered => stats.entered += 1,
                    SmsStatus::Duplicate => stats.duplicates += 1,
                    SmsStatus::Bill => stats.bills += 1,
                    SmsStatus::Ignored => stats.ignored += 1,
                    SmsStatus::Unparsed | SmsStatus::Received => stats.unparsed += 1,
                }
            }
        }
        Ok(stats)
    }

    /// Acts on a stored message that parsed as a transaction or a bill.
    async fn process(
        &self,
        user: &User,
        mut item: InboxItem,
        outcome: &SmsOutcome,
    ) -> Result<(InboxItem, Option<Position>), IngestError> {
        item.reason = None;
        let mut position = None;
        if let Some(tx) = &outcome.transaction {
            match self.enter(user, &item, tx).await? {
                Ok((status, entry, pos)) => {
                    if status == SmsStatus::Duplicate {
                        item.reason = Some(format!(
                            "the same transaction as entry {entry} (same reference number, or same amount, \
                             direction and account within {} s)",
                            self.same_txn.as_secs()
                        ));
                    }
                    item.status = status;
                    item.entry_id = Some(entry);
                    position = pos;
                }
                Err(reason) => {
                    item.status = SmsStatus::Unparsed;
                    item.reason = Some(reason);
                }
            }
        } else if let Some(b) = &outcome.bill {
            match bill_from(user.id, &item, b) {
                Ok(bill) => {
                    let stored = self.inbox.upsert_bill(&bill).await?;
                    item.status = SmsStatus::Bill;
                    item.bill_id = Some(stored.id);
                    if stored.status == BillStatus::Due {
                        // For the bill-due alert; a failure here loses no data (the bill is stored).
                        let notice = Event::BillReminder { bill: stored.clone(), reminded_at: item.received_at };
                        if let Err(e) = self.log.append(vec![notice]).await {
                            tracing::warn!(error = %e, bill = %stored.id, "bill reminder not published for alerts");
                        }
                    }
                }
                Err(reason) => {
                    item.status = SmsStatus::Unparsed;
                    item.reason = Some(reason);
                }
            }
        }
        item.updated_at = Timestamp::now();
        self.inbox.update(&item).await?;
        Ok((item, position))
    }

    /// Claims the transaction's keys and appends its entry; the inner error is
    /// why the fields could not become an entry.
    async fn enter(
        &self,
        user: &User,
        item: &InboxItem,
        tx: &crate::sms::ParsedTransaction,
    ) -> Result<Result<(SmsStatus, EntryId, Option<Position>), String>, IngestError> {
        let Ok(currency) = Currency::parse(&tx.currency) else {
            return Ok(Err(format!("currency {} is not supported", tx.currency)));
        };
        let minor = match currency.parse_amount(&tx.amount) {
            Ok(m) => m,
            Err(e) => return Ok(Err(format!("amount {}: {e}", tx.amount))),
        };
        let balance_minor = tx.balance.as_deref().and_then(|b| currency.parse_amount(b).ok());
        let entry_id = entry_id_for(user.id, item.id);
        let direction = match tx.direction {
            Direction::Debit => "debit",
            Direction::Credit => "credit",
        };
        let exact: Vec<String> =
            tx.reference.iter().map(|r| format!("ref:{}", r.trim().to_ascii_uppercase())).collect();
        let near: Vec<String> =
            tx.account_last4.iter().map(|a| format!("amt:{direction}:{}:{minor}:{a}", currency.code())).collect();
        if let Some(other) = self.inbox.claim(user.id, &exact, &near, item.received_at, self.same_txn, entry_id).await?
        {
            return Ok(Ok((SmsStatus::Duplicate, other, None)));
        }
        let occurred_at = occurred_at(user, item.received_at, tx.date);
        let now = Timestamp::now();
        let entry = Entry {
            id: entry_id,
            user_id: user.id,
            kind: if tx.direction == Direction::Credit { EntryKind::Income } else { EntryKind::Expense },
            amount: Money { minor, currency },
            occurred_at: to_micros(occurred_at),
            merchant: tx.merchant.clone(),
            note: None,
            user_category: None,
            source: Source::Sms,
            created_at: to_micros(now),
            origin: Some(Box::new(SmsOrigin {
                sms_id: item.id,
                sender: item.sender.clone(),
                text: item.body.clone(),
                received_at: item.received_at,
                account_last4: tx.account_last4.clone(),
                reference: tx.reference.clone(),
                channel: tx.kind.as_str().to_owned(),
                balance_minor,
            })),
        };
        let position = self.log.append(vec![Event::EntryAdded { entry }]).await?.pop();
        let payment = Payment {
            user_id: user.id,
            entry_id,
            account_last4: tx.account_last4.clone(),
            is_credit: tx.direction == Direction::Credit,
            currency: currency.code().to_owned(),
            amount_minor: minor,
            at: item.received_at,
        };
        // The entry is durable; a failure to mark a bill paid must not fail the message.
        match self.inbox.settle(&payment).await {
            Err(e) => tracing::warn!(error = %e, entry = %entry_id, "could not check bills against a payment"),
            Ok(bill_ids) if !bill_ids.is_empty() => {
                let settled = Event::BillsSettled { user_id: user.id, bill_ids, entry_id };
                if let Err(e) = self.log.append(vec![settled]).await {
                    tracing::warn!(error = %e, entry = %entry_id, "paid bills not published for alerts");
                }
            }
            Ok(_) => {}
        }
        Ok(Ok((SmsStatus::Entered, entry_id, position)))
    }
}

/// The final state of a message that will not become an entry or a bill.
fn terminal(outcome: &SmsOutcome, body: &str) -> Option<(SmsStatus, String)> {
    match outcome.class {
        SmsClass::Transaction if outcome.transaction.is_some() => None,
        SmsClass::BillDue if outcome.bill.is_some() => None,
        SmsClass::BillDue => Some((SmsStatus::Unparsed, "bill reminder whose amount due could not be read".into())),
        SmsClass::Other | SmsClass::Transaction if looks_financial(body) => Some((
            SmsStatus::Unparsed,
            "looks like a transaction, but no template read its amount and direction".into(),
        )),
        class => Some((SmsStatus::Ignored, ignored_reason(class).into())),
    }
}

/// The message's date if it gives one: the receipt instant on that day, else noon of that day in the user's zone.
fn occurred_at(user: &User, received_at: Timestamp, date: Option<jiff::civil::Date>) -> Timestamp {
    let (Some(d), Ok(tz)) = (date, parse_time_zone(&user.settings.time_zone)) else { return received_at };
    let local = received_at.to_zoned_datetime(tz.clone()).date();
    if d >= local {
        return received_at;
    }
    d.to_datetime(Time::constant(12, 0, 0, 0)).to_zoned_datetime(tz).map(|z| z.timestamp()).unwrap_or(received_at)
}

fn bill_from(user: UserId, item: &InboxItem, b: &crate::sms::ParsedBill) -> Result<Bill, String> {
    let currency = Currency::parse(&b.currency).map_err(|_| format!("currency {} is not supported", b.currency))?;
    let amount = currency.parse_amount(&b.amount_due).map_err(|e| format!("amount due {}: {e}", b.amount_due))?;
    let min = b.min_due.as_deref().and_then(|m| currency.parse_amount(m).ok());
    Ok(Bill {
        id: Uuid::now_v7(),
        user_id: user,
        sender: item.sender.clone(),
        account_last4: b.account_last4.clone(),
        currency: currency.code().to_owned(),
        amount_due_minor: amount,
        min_due_minor: min,
        due_date: b.due_date,
        status: BillStatus::Due,
        paid_by: None,
        paid_at: None,
        sms_id: item.id,
        received_at: item.received_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_sender_case_and_spacing_but_not_text() {
        assert_eq!(sms_hash("vm-hdfcbk ", "Rs 5 spent"), sms_hash("VM-HDFCBK", "Rs 5 spent"));
        assert_ne!(sms_hash("VM-HDFCBK", "Rs 5 spent"), sms_hash("VM-HDFCBK", "Rs 6 spent"));
    }

    #[test]
    fn entry_id_is_stable_per_message_and_user() {
        let (u, v) = (UserId(Uuid::now_v7()), UserId(Uuid::now_v7()));
        let sms = Uuid::now_v7();
        assert_eq!(entry_id_for(u, sms), entry_id_for(u, sms));
        assert_ne!(entry_id_for(u, sms), entry_id_for(v, sms));
    }

    #[test]
    fn financial_looking_text_is_recognised() {
        assert!(looks_financial("Your a/c XX12 is debited for Rs 450 towards something new"));
        assert!(!looks_financial("Happy Diwali from all of us!"));
        assert!(!looks_financial("Meeting at 5 in room 12"));
    }

    #[test]
    fn bad_senders_and_bodies_are_input_errors() {
        let at = Timestamp::UNIX_EPOCH;
        let sms = |s: &str, b: &str| IncomingSms { sender: s.into(), body: b.into(), received_at: at };
        assert!(matches!(check_input(&sms("", "Rs 5")), Err(IngestError::Input { field: "sender", .. })));
        assert!(matches!(check_input(&sms("BANK", " ")), Err(IngestError::Input { field: "body", .. })));
        assert!(matches!(check_input(&sms("BANK", &"x".repeat(3000))), Err(IngestError::Input { field: "body", .. })));
        assert!(matches!(check_input(&sms("BANK", "a\u{0}b")), Err(IngestError::Input { field: "body", .. })));
        assert!(check_input(&sms("VM-HDFCBK", "Rs 5 spent ✓ 😀")).is_ok());
    }
}
