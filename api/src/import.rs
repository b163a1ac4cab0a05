//! CSV of entries (the format of `spendstream import` and
//! `POST /v1/expenses/import`) into log records, with the same validation as
//! `POST /v1/expenses`.
//!
//! Columns: `occurred_at, amount, currency, merchant, note, category, kind, id`;
//! only `amount` is required. A stable `id` makes a re-import add nothing twice.
//! Entries go onto the log [`ENTRIES_PER_RECORD`] to a record
//! ([`Event::EntriesAdded`]): a broker pays per record, so a bulk import costs
//! it a hundredth of what one record per entry would.

use crate::dto::NewEntry;
use crate::handlers::expenses::validate_entry;
use spendstream_core::ports::User;
use spendstream_core::{Config, Entry, EntryId, EntryKind, Event, Source, UserId};
use std::io::Read;

#[derive(Debug, serde::Deserialize)]
struct Row {
    occurred_at: Option<String>,
    amount: String,
    currency: Option<String>,
    merchant: Option<String>,
    note: Option<String>,
    category: Option<String>,
    kind: Option<String>,
    /// Optional stable id: importing the same file twice adds nothing twice.
    id: Option<String>,
}

/// A CSV row that was refused: its line (the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Line number in the file.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

/// Entries per log record of an import. About 30 KiB of JSON: far below
/// Kafka's default 1 MiB message limit, and small enough that a batch of the
/// processors (`processors.batch_size` events) is still cut finely.
pub const ENTRIES_PER_RECORD: usize = 100;

/// The entries of a CSV for `user`, in file order; a row that fails to parse
/// or validate is a [`Refused`]. A row with an `id` column gets the id derived
/// from it; any other row the id `row_id` gives for its line number.
pub fn csv_entries<'a, R: Read + 'a>(
    config: &'a Config,
    user: &'a User,
    input: R,
    row_id: impl Fn(usize) -> EntryId + 'a,
) -> impl Iterator<Item = Result<Entry, Refused>> + 'a {
    let reader = csv::Reader::from_reader(input);
    reader.into_deserialize::<Row>().enumerate().map(move |(i, row)| {
        let line = i + 2;
        let refused = |reason: String| Refused { line, reason };
        let row = row.map_err(|e| refused(e.to_string()))?;
        let id = match &row.id {
            Some(k) => EntryId::from_idempotency_key(user.id, &format!("import:{k}")),
            None => row_id(line),
        };
        let kind = match row.kind.as_deref().map(str::trim) {
            None | Some("") | Some("expense") => EntryKind::Expense,
            Some("income") => EntryKind::Income,
            Some(other) => return Err(refused(format!("kind: '{other}' is neither expense nor income"))),
        };
        let req = NewEntry {
            amount: row.amount,
            currency: row.currency.filter(|c| !c.is_empty()),
            kind: Some(kind),
            occurred_at: row.occurred_at.filter(|c| !c.is_empty()),
            merchant: row.merchant,
            note: row.note,
            category: row.category.filter(|c| !c.is_empty()),
        };
        validate_entry(config, user, id, req, Source::Import).map_err(|e| refused(e.to_string()))
    })
}

/// `user`'s entries as log records of up to [`ENTRIES_PER_RECORD`] entries, in order.
pub fn records(user: UserId, entries: Vec<Entry>) -> Vec<Event> {
    let mut out = Vec::with_capacity(entries.len().div_ceil(ENTRIES_PER_RECORD));
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        let chunk: Vec<Entry> = entries.by_ref().take(ENTRIES_PER_RECORD).collect();
        out.push(Event::EntriesAdded { user_id: user, entries: chunk });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use spendstream_core::ports::User;

    fn user() -> User {
        User {
            id: UserId(uuid::Uuid::from_u128(7)),
            email: "ana@example.com".into(),
            settings: spendstream_core::UserSettings {
                time_zone: "Asia/Kolkata".into(),
                week_start: spendstream_core::period::WeekStart::default(),
                currency: "INR".parse().unwrap(),
            },
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn rows_become_entries_with_their_line_or_column_ids_and_bad_rows_their_line() {
        let config = Config::load(None).unwrap();
        let user = user();
        let csv = "occurred_at,amount,merchant,id\n2026-11-02T10:00:00Z,250.50,Swiggy,\n2026-11-02,abc,Uber,\n2026-11-03,99,Zomato,z-1\n";
        let rows: Vec<_> = csv_entries(&config, &user, csv.as_bytes(), |line| {
            EntryId::from_idempotency_key(user.id, &line.to_string())
        })
        .collect();
        let first = rows[0].as_ref().expect("valid row");
        assert_eq!(first.amount.minor, 25050);
        assert_eq!(first.id, EntryId::from_idempotency_key(user.id, "2"), "line 2 has no id column");
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        assert!(rows[1].as_ref().unwrap_err().reason.contains("amount"), "{:?}", rows[1]);
        assert_eq!(rows[2].as_ref().unwrap().id, EntryId::from_idempotency_key(user.id, "import:z-1"));
    }

    #[test]
    fn records_hold_at_most_a_hundred_entries_in_file_order() {
        let config = Config::load(None).unwrap();
        let user = user();
        let mut csv = String::from("occurred_at,amount\n");
        for i in 0..(2 * ENTRIES_PER_RECORD + 1) {
            csv.push_str(&format!("2026-11-02T10:00:00Z,{}\n", i + 1));
        }
        let entries: Vec<Entry> =
            csv_entries(&config, &user, csv.as_bytes(), |_| EntryId::random()).map(Result::unwrap).collect();
        let records = records(user.id, entries.clone());
        let sizes: Vec<usize> = records.iter().map(Event::weight).collect();
        assert_eq!(sizes, [ENTRIES_PER_RECORD, ENTRIES_PER_RECORD, 1]);
        let back: Vec<Entry> = records
            .into_iter()
            .flat_map(|r| match r {
                Event::EntriesAdded { user_id, entries } => {
                    assert_eq!(user_id, user.id);
                    entries
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(back, entries);
    }
}
