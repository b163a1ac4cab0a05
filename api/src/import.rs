//! CSV of entries (the `import` command's format) into `EntryAdded` events,
//! with the same validation as `POST /v1/expenses`.
//!
//! Columns: `occurred_at, amount, currency, merchant, note, category, kind, id`;
//! only `amount` is required. A stable `id` makes a re-import add nothing twice.

use crate::dto::NewEntry;
use crate::handlers::expenses::validate_entry;
use spendstream_core::ports::User;
use spendstream_core::{Config, EntryId, EntryKind, Event, Source};
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

/// The `EntryAdded` events of a CSV for `user`, in file order; a row that
/// fails to parse or validate is a [`Refused`].
pub fn csv_events<'a, R: Read + 'a>(
    config: &'a Config,
    user: &'a User,
    input: R,
) -> impl Iterator<Item = Result<Event, Refused>> + 'a {
    let reader = csv::Reader::from_reader(input);
    reader.into_deserialize::<Row>().enumerate().map(move |(i, row)| {
        let line = i + 2;
        let refused = |reason: String| Refused { line, reason };
        let row = row.map_err(|e| refused(e.to_string()))?;
        let id = match &row.id {
            Some(k) => EntryId::from_idempotency_key(user.id, &format!("import:{k}")),
            None => EntryId::random(),
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
        let entry = validate_entry(config, user, id, req, Source::Import).map_err(|e| refused(e.to_string()))?;
        Ok(Event::EntryAdded { entry })
    })
}
