//! Arrow form of the embedded store: the schema shared by snapshots and by the
//! `entries` table that analysts query through DataFusion.

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use jiff::Timestamp;
use jiff::civil::Date;
use spendstream_core::{
    CategoryId, CategorySource, Currency, Entry, EntryId, EntryKind, Money, ProcessedEntry, SmsOrigin, Source, UserId,
};
use std::sync::Arc;

/// One row: an entry (live) or a tombstone (`removed`, most fields null).
pub struct Row<'a> {
    /// Owner.
    pub user: UserId,
    /// Entry id.
    pub id: EntryId,
    /// The entry, or `None` for a tombstone.
    pub entry: Option<&'a ProcessedEntry>,
    /// Local date in the owner's zone.
    pub local_date: Option<Date>,
}

/// The `entries` schema.
pub fn schema() -> Arc<Schema> {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("entry_id", DataType::Utf8, false),
        Field::new("user_id", DataType::Utf8, false),
        Field::new("removed", DataType::Boolean, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("amount_minor", DataType::Int64, true),
        Field::new("currency", DataType::Utf8, true),
        Field::new("occurred_at", ts.clone(), true),
        Field::new("local_date", DataType::Date32, true),
        Field::new("merchant", DataType::Utf8, true),
        Field::new("note", DataType::Utf8, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("category_source", DataType::Utf8, true),
        Field::new("category_reason", DataType::Utf8, true),
        Field::new("user_category", DataType::Utf8, true),
        Field::new("source", DataType::Utf8, true),
        Field::new("created_at", ts.clone(), true),
        Field::new("sms_id", DataType::Utf8, true),
        Field::new("sms_sender", DataType::Utf8, true),
        Field::new("sms_text", DataType::Utf8, true),
        Field::new("sms_received_at", ts, true),
        Field::new("account_last4", DataType::Utf8, true),
        Field::new("reference", DataType::Utf8, true),
        Field::new("channel", DataType::Utf8, true),
        Field::new("balance_minor", DataType::Int64, true),
    ]))
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn days_since_epoch(d: Date) -> i32 {
    d.since(Date::constant(1970, 1, 1)).map(|s| s.get_days()).unwrap_or(0)
}

/// Builds a batch from rows.
pub fn to_batch(rows: &[Row<'_>]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let e = |f: &dyn Fn(&ProcessedEntry) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(|r| r.entry.and_then(f)).collect::<StringArray>())
    };
    let ts = |f: &dyn Fn(&ProcessedEntry) -> i64| -> ArrayRef {
        Arc::new(rows.iter().map(|r| r.entry.map(f)).collect::<TimestampMicrosecondArray>().with_timezone("UTC"))
    };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| Some(r.id.to_string())).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.user.to_string())).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.entry.is_none())).collect::<BooleanArray>()),
        e(&|p| Some(p.entry.kind.as_str().to_owned())),
        Arc::new(rows.iter().map(|r| r.entry.map(|p| p.entry.amount.minor)).collect::<Int64Array>()),
        e(&|p| Some(p.entry.amount.currency.code().to_owned())),
        ts(&|p| micros(p.entry.occurred_at)),
        Arc::new(rows.iter().map(|r| r.local_date.map(days_since_epoch)).collect::<Date32Array>()),
        e(&|p| p.entry.merchant.clone()),
        e(&|p| p.entry.note.clone()),
        e(&|p| Some(p.category.to_string())),
        e(&|p| Some(p.category_source.as_str().to_owned())),
        e(&|p| Some(p.category_reason.clone())),
        e(&|p| p.entry.user_category.as_ref().map(|c| c.to_string())),
        e(&|p| Some(p.entry.source.as_str().to_owned())),
        ts(&|p| micros(p.entry.created_at)),
        e(&|p| p.entry.origin.as_ref().map(|o| o.sms_id.to_string())),
        e(&|p| p.entry.origin.as_ref().map(|o| o.sender.clone())),
        e(&|p| p.entry.origin.as_ref().map(|o| o.text.clone())),
        Arc::new(
            rows.iter()
                .map(|r| r.entry.and_then(|p| p.entry.origin.as_ref()).map(|o| micros(o.received_at)))
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
        e(&|p| p.entry.origin.as_ref().and_then(|o| o.account_last4.clone())),
        e(&|p| p.entry.origin.as_ref().and_then(|o| o.reference.clone())),
        e(&|p| p.entry.origin.as_ref().map(|o| o.channel.clone())),
        Arc::new(
            rows.iter()
                .map(|r| r.entry.and_then(|p| p.entry.origin.as_ref()).and_then(|o| o.balance_minor))
                .collect::<Int64Array>(),
        ),
    ];
    RecordBatch::try_new(schema(), cols)
}

/// A row decoded back from a snapshot batch.
pub enum Decoded {
    /// A live entry.
    Live(ProcessedEntry),
    /// A tombstone.
    Removed(UserId, EntryId),
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T, String> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| format!("snapshot column {name} missing or of the wrong type"))
}

/// Decodes a snapshot batch.
pub fn from_batch(b: &RecordBatch) -> Result<Vec<Decoded>, String> {
    let s = |n: &str| col::<StringArray>(b, n);
    let (ids, users, kinds, currencies) = (s("entry_id")?, s("user_id")?, s("kind")?, s("currency")?);
    let (merchants, notes, cats, cat_src, reasons, user_cats, sources) = (
        s("merchant")?,
        s("note")?,
        s("category")?,
        s("category_source")?,
        s("category_reason")?,
        s("user_category")?,
        s("source")?,
    );
    let removed = col::<BooleanArray>(b, "removed")?;
    let amounts = col::<Int64Array>(b, "amount_minor")?;
    let occurred = col::<TimestampMicrosecondArray>(b, "occurred_at")?;
    let created = col::<TimestampMicrosecondArray>(b, "created_at")?;
    // SMS columns came later: a snapshot without them has no SMS origins.
    let sms = match (
        col::<StringArray>(b, "sms_id"),
        col::<StringArray>(b, "sms_sender"),
        col::<StringArray>(b, "sms_text"),
        col::<TimestampMicrosecondArray>(b, "sms_received_at"),
        col::<StringArray>(b, "account_last4"),
        col::<StringArray>(b, "reference"),
        col::<StringArray>(b, "channel"),
        col::<Int64Array>(b, "balance_minor"),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e), Ok(f), Ok(g), Ok(h)) => Some((a, b, c, d, e, f, g, h)),
        _ => None,
    };
    let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_owned());
    let uuid = |a: &StringArray, i: usize| uuid::Uuid::parse_str(a.value(i)).map_err(|e| e.to_string());
    let ts =
        |a: &TimestampMicrosecondArray, i: usize| Timestamp::from_microsecond(a.value(i)).map_err(|e| e.to_string());
    let mut out = Vec::with_capacity(b.num_rows());
    for i in 0..b.num_rows() {
        let (user, id) = (UserId(uuid(users, i)?), EntryId(uuid(ids, i)?));
        if removed.value(i) {
            out.push(Decoded::Removed(user, id));
            continue;
        }
        let currency = Currency::parse(currencies.value(i)).map_err(|e| e.to_string())?;
        let entry = Entry {
            id,
            user_id: user,
            kind: if kinds.value(i) == "income" { EntryKind::Income } else { EntryKind::Expense },
            amount: Money { minor: amounts.value(i), currency },
            occurred_at: ts(occurred, i)?,
            merchant: opt(merchants, i),
            note: opt(notes, i),
            user_category: opt(user_cats, i).map(CategoryId),
            source: match sources.value(i) {
                "sms" => Source::Sms,
                "chat" => Source::Chat,
                "import" => Source::Import,
                _ => Source::Manual,
            },
            created_at: ts(created, i)?,
            origin: match sms {
                Some((ids, senders, texts, received, accounts, refs, channels, balances)) if !ids.is_null(i) => {
                    Some(Box::new(SmsOrigin {
                        sms_id: uuid(ids, i)?,
                        sender: senders.value(i).to_owned(),
                        text: texts.value(i).to_owned(),
                        received_at: ts(received, i)?,
                        account_last4: opt(accounts, i),
                        reference: opt(refs, i),
                        channel: channels.value(i).to_owned(),
                        balance_minor: (!balances.is_null(i)).then(|| balances.value(i)),
                    }))
                }
                _ => None,
            },
        };
        out.push(Decoded::Live(ProcessedEntry {
            entry,
            category: CategoryId(cats.value(i).to_owned()),
            category_source: CategorySource::from_name(cat_src.value(i)),
            category_reason: reasons.value(i).to_owned(),
        }));
    }
    Ok(out)
}
