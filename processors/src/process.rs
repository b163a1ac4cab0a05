//! One log event in, one store change out. Pure: replaying the log gives the
//! same changes, so redelivery after a crash is harmless.

use crate::categorise::{CategoriseInput, Categoriser};
use spendstream_core::ports::Processed;
use spendstream_core::{CategorySource, EntryKind, Event, ProcessedEntry};

/// Categorises an added entry (unless the user chose a category) and passes
/// tombstones and settings through.
pub fn process(categoriser: &Categoriser, event: Event) -> Processed {
    match event {
        Event::EntryAdded { entry } => {
            let (category, category_source, category_reason) = match &entry.user_category {
                Some(c) => (c.clone(), CategorySource::User, "set by the user".to_owned()),
                None => {
                    let got = categoriser.categorise(&CategoriseInput {
                        merchant: entry.merchant.as_deref(),
                        note: entry.note.as_deref(),
                        amount_minor: entry.amount.minor,
                        is_income: entry.kind == EntryKind::Income,
                    });
                    (got.category, CategorySource::Rule, got.reason.describe())
                }
            };
            Processed::Added(ProcessedEntry { entry, category, category_source, category_reason })
        }
        Event::EntryRemoved { user_id, entry_id, removed_at } => Processed::Removed { user_id, entry_id, removed_at },
        Event::SettingsChanged { user_id, settings } => Processed::Settings { user_id, settings },
    }
}
