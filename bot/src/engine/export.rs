//! `/export`: a period's entries as a CSV file, in the columns `spendstream import`
//! reads (`occurred_at,amount,currency,merchant,note,category,kind,id`), oldest first.

use super::reports::span;
use super::{Attachment, Engine, EngineError, Me, Reply, Turn};
use spendstream_processors::history::entries_between;

/// Most entries in one file.
const MAX_ROWS: usize = 100_000;

impl Engine {
    /// Sends the entries of the period `arg` names (empty: this month) as CSV.
    pub(super) async fn export(&self, turn: &mut Turn, me: &Me, arg: &str) -> Result<(), EngineError> {
        let arg = arg.trim();
        let s = span(if arg.is_empty() { "month" } else { arg }, me.today, me.user.settings.week_start);
        let mut entries =
            entries_between(self.ports.store.as_ref(), &me.user, &me.tz, s.range.start, s.range.end).await?;
        if entries.is_empty() {
            turn.replies.push(Reply::text(self.texts.fill("export_empty", &[("title", &s.title)])));
            return Ok(());
        }
        entries.sort_by_key(|e| (e.entry.occurred_at, e.entry.id.0));
        entries.truncate(MAX_ROWS);
        let mut w = csv::Writer::from_writer(Vec::new());
        let bad = |e: csv::Error| EngineError::Internal(format!("csv: {e}"));
        w.write_record(["occurred_at", "amount", "currency", "merchant", "note", "category", "kind", "id"])
            .map_err(bad)?;
        for e in &entries {
            let at = e.entry.occurred_at.to_zoned_datetime(me.tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
            w.write_record([
                at.as_str(),
                &e.entry.amount.to_decimal(),
                e.entry.amount.currency.code(),
                e.entry.merchant.as_deref().unwrap_or_default(),
                e.entry.note.as_deref().unwrap_or_default(),
                e.category.as_str(),
                e.entry.kind.as_str(),
                &e.entry.id.to_string(),
            ])
            .map_err(bad)?;
        }
        let bytes = w.into_inner().map_err(|e| EngineError::Internal(format!("csv: {e}")))?;
        let last = s.range.end.yesterday().unwrap_or(s.range.end);
        let count = entries.len().to_string();
        let csv = Attachment {
            name: format!("spendstream-{}-{last}.csv", s.range.start),
            mime: "text/csv".to_owned(),
            bytes,
        };
        turn.replies.push(Reply::file(self.texts.fill("export_done", &[("count", &count), ("title", &s.title)]), csv));
        Ok(())
    }
}
