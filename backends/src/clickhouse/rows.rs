//! Row types of the ClickHouse tables (RowBinary through serde) and their
//! conversions from and to the core types.

use clickhouse::Row;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use spendstream_core::period::local_date;
use spendstream_core::{
    CategoryId, CategorySource, Currency, Entry, EntryId, EntryKind, Money, ProcessedEntry, SmsOrigin, Source, UserId,
};
use uuid::Uuid;

/// The 16 bytes of a UUID as stored in `FixedString(16)`.
pub(super) type Id = [u8; 16];

/// `unhex('…')`: an id as an SQL literal (hex only, so nothing to escape).
pub(super) fn id_sql(id: Uuid) -> String {
    format!("unhex('{}')", id.simple())
}

/// Days since 1970-01-01 as a ClickHouse `Date` (clamped to its range).
pub(super) fn date_to_ch(d: Date) -> u16 {
    let days = d.since(Date::constant(1970, 1, 1)).map(|s| s.get_days()).unwrap_or(0);
    days.clamp(0, i32::from(u16::MAX)) as u16
}

/// A ClickHouse `Date` back to a civil date.
pub(super) fn date_from_ch(days: u16) -> Date {
    Date::constant(1970, 1, 1).checked_add(jiff::Span::new().days(i64::from(days))).unwrap_or(Date::MAX)
}

/// `'YYYY-MM-DD'` of a date within ClickHouse's `Date` range, for `toDate(?)`.
pub(super) fn date_param(d: Date) -> String {
    date_from_ch(date_to_ch(d)).to_string()
}

/// How top-merchant totals group merchant strings (case only), as the embedded store does.
pub(super) fn agg_key(m: &str) -> String {
    m.trim().to_lowercase()
}

/// One version of an entry in `entry_changes`.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub(super) struct ChangeRow {
    pub user_id: Id,
    pub entry_id: Id,
    pub sign: i8,
    pub version: u64,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub occurred_at_us: i64,
    pub occurred_at: u32,
    pub local_date: u16,
    pub merchant: Option<String>,
    pub merchant_agg: String,
    pub merchant_display: String,
    pub merchant_key: String,
    pub note: Option<String>,
    pub category: String,
    pub category_source: String,
    pub category_reason: String,
    pub user_category: Option<String>,
    pub source: String,
    pub created_at_us: i64,
    pub origin: String,
}

/// The columns of [`ChangeRow`], in order, for SELECTs.
pub(super) const CHANGE_COLUMNS: &str = "user_id, entry_id, sign, version, kind, amount_minor, currency, \
     occurred_at_us, occurred_at, local_date, merchant, merchant_agg, merchant_display, merchant_key, note, \
     category, category_source, category_reason, user_category, source, created_at_us, origin";

impl ChangeRow {
    /// The live row (`sign` 1) of `e`, its day cut in `tz`.
    pub fn new(e: &ProcessedEntry, tz: &TimeZone, version: u64) -> Self {
        let x = &e.entry;
        let secs = x.occurred_at.as_second().clamp(0, i64::from(u32::MAX)) as u32;
        ChangeRow {
            user_id: *x.user_id.0.as_bytes(),
            entry_id: *x.id.0.as_bytes(),
            sign: 1,
            version,
            kind: x.kind.as_str().to_owned(),
            amount_minor: x.amount.minor,
            currency: x.amount.currency.code().to_owned(),
            occurred_at_us: x.occurred_at.as_microsecond(),
            occurred_at: secs,
            local_date: date_to_ch(local_date(x.occurred_at, tz)),
            merchant: x.merchant.clone(),
            merchant_agg: x.merchant.as_deref().map(agg_key).unwrap_or_default(),
            merchant_display: x.merchant.as_deref().map(|m| m.trim().to_owned()).unwrap_or_default(),
            merchant_key: x.merchant.as_deref().map(spendstream_core::insight::merchant_key).unwrap_or_default(),
            note: x.note.clone(),
            category: e.category.to_string(),
            category_source: e.category_source.as_str().to_owned(),
            category_reason: e.category_reason.clone(),
            user_category: x.user_category.as_ref().map(|c| c.to_string()),
            source: x.source.as_str().to_owned(),
            created_at_us: x.created_at.as_microsecond(),
            origin: match &x.origin {
                Some(o) => serde_json::to_string(o).unwrap_or_default(),
                None => String::new(),
            },
        }
    }

    /// Whether two rows hold the same entry data (version and sign aside).
    pub fn same_content(&self, other: &ChangeRow) -> bool {
        let strip = |r: &ChangeRow| ChangeRow { sign: 0, version: 0, ..r.clone() };
        strip(self) == strip(other)
    }

    /// The entry id.
    pub fn id(&self) -> EntryId {
        EntryId(Uuid::from_bytes(self.entry_id))
    }

    /// The owner.
    pub fn user(&self) -> UserId {
        UserId(Uuid::from_bytes(self.user_id))
    }

    /// Back to the entry it was made from.
    pub fn to_entry(&self) -> Result<ProcessedEntry, String> {
        let ts = |us: i64| Timestamp::from_microsecond(us).map_err(|e| e.to_string());
        let origin: Option<Box<SmsOrigin>> = if self.origin.is_empty() {
            None
        } else {
            Some(Box::new(serde_json::from_str(&self.origin).map_err(|e| e.to_string())?))
        };
        let entry = Entry {
            id: self.id(),
            user_id: self.user(),
            kind: if self.kind == "income" { EntryKind::Income } else { EntryKind::Expense },
            amount: Money {
                minor: self.amount_minor,
                currency: Currency::parse(&self.currency).map_err(|e| e.to_string())?,
            },
            occurred_at: ts(self.occurred_at_us)?,
            merchant: self.merchant.clone(),
            note: self.note.clone(),
            user_category: self.user_category.clone().map(CategoryId),
            source: match self.source.as_str() {
                "sms" => Source::Sms,
                "chat" => Source::Chat,
                "import" => Source::Import,
                _ => Source::Manual,
            },
            created_at: ts(self.created_at_us)?,
            origin,
        };
        Ok(ProcessedEntry {
            entry,
            category: CategoryId(self.category.clone()),
            category_source: CategorySource::from_name(&self.category_source),
            category_reason: self.category_reason.clone(),
        })
    }
}

/// What the rows of one entry id say: whether any exist, and the live version.
#[derive(Debug, Default)]
pub(super) struct Collapsed {
    /// Rows were found (the id is known).
    pub seen: bool,
    /// The live version (sum of signs above zero), if any.
    pub live: Option<ChangeRow>,
}

/// Collapses the rows of many entries: per id, the live row is the `sign` 1
/// row of the highest version when the signs add up above zero.
pub(super) fn collapse(rows: Vec<ChangeRow>) -> std::collections::HashMap<(UserId, EntryId), Collapsed> {
    let mut sums: std::collections::HashMap<(UserId, EntryId), (i64, Option<ChangeRow>)> =
        std::collections::HashMap::new();
    for r in rows {
        let slot = sums.entry((r.user(), r.id())).or_default();
        slot.0 += i64::from(r.sign);
        if r.sign > 0 && slot.1.as_ref().is_none_or(|b| b.version < r.version) {
            slot.1 = Some(r);
        }
    }
    sums.into_iter().map(|(k, (sum, best))| (k, Collapsed { seen: true, live: best.filter(|_| sum > 0) })).collect()
}

/// A row of `entry_tombstones`.
#[derive(Debug, Clone, Row, Serialize, Deserialize)]
pub(super) struct TombstoneRow {
    pub user_id: Id,
    pub entry_id: Id,
    pub removed_at_us: i64,
}

/// A user and entry id pair.
#[derive(Debug, Clone, Row, Deserialize)]
pub(super) struct IdPair {
    pub user_id: Id,
    pub entry_id: Id,
}

/// A row of `user_state`.
#[derive(Debug, Clone, Row, Serialize, Deserialize)]
pub(super) struct UserStateRow {
    pub user_id: Id,
    pub version: u64,
    pub time_zone: String,
    pub profile: String,
}

/// A user's latest data version.
#[derive(Debug, Clone, Row, Deserialize)]
pub(super) struct VersionRow {
    pub user_id: Id,
    pub version: u64,
}

/// A row of `applied_offsets`.
#[derive(Debug, Clone, Row, Serialize, Deserialize)]
pub(super) struct OffsetRow {
    pub partition: u32,
    pub next_offset: u64,
}

/// A summary cell as queried.
#[derive(Debug, Clone, Row, Deserialize)]
pub(super) struct CellRow {
    pub day: u16,
    pub category: String,
    pub currency: String,
    pub kind: String,
    pub amount: i64,
    pub n: i64,
}

/// A merchant total as queried.
#[derive(Debug, Clone, Row, Deserialize)]
pub(super) struct MerchantRow {
    pub display: String,
    pub currency: String,
    pub amount: i64,
    pub n: i64,
}
