//! Helpers the processors' test files share.
#![allow(dead_code, clippy::unwrap_used)]

use jiff::Timestamp;
use jiff::tz::TimeZone;
use spendstream_core::{
    CategoryId, CategorySource, Currency, Entry, EntryId, EntryKind, Money, ProcessedEntry, Source, UserId,
};
use uuid::Uuid;

/// The zone the synthetic users live in: 20:00Z is 01:30 the next day there.
pub fn kolkata() -> TimeZone {
    TimeZone::get("Asia/Kolkata").unwrap()
}

/// Entry number `n` of user 7, categorised by a rule, accepted when it occurred.
pub fn processed(
    n: u128,
    kind: EntryKind,
    at: Timestamp,
    minor: i64,
    currency: &str,
    merchant: &str,
    category: &str,
) -> ProcessedEntry {
    let entry = Entry {
        id: EntryId(Uuid::from_u128(n)),
        user_id: UserId(Uuid::from_u128(7)),
        kind,
        amount: Money { minor, currency: Currency::parse(currency).unwrap() },
        occurred_at: at,
        merchant: Some(merchant.to_owned()),
        note: None,
        user_category: None,
        source: Source::Manual,
        created_at: at,
        origin: None,
    };
    ProcessedEntry {
        entry,
        category: CategoryId(category.to_owned()),
        category_source: CategorySource::Rule,
        category_reason: "test".to_owned(),
    }
}
