//! Tips and recurring charges from a user's stored entries: what `GET /v1/tips`,
//! `GET /v1/recurring` and the chat bot's `/tips` show, read through the store port.

use crate::recurring::{Recurring, RecurringConfig, detect};
use crate::tips::{Tip, TipInput, TipRules, tips};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use spendstream_core::period::{DateRange, Period, period_range, previous_range};
use spendstream_core::ports::{AnalyticsStore, ListQuery, StoreError, User};
use spendstream_core::{CategoryDef, ProcessedEntry};
use std::sync::Arc;

/// The user's live entries that occurred on local days `[from, to)`, cut in `tz`.
pub async fn entries_between(
    store: &dyn AnalyticsStore,
    user: &User,
    tz: &TimeZone,
    from: Date,
    to: Date,
) -> Result<Vec<Arc<ProcessedEntry>>, StoreError> {
    let at = |d: Date| d.to_zoned_datetime(tz.clone()).map(|z| z.timestamp()).ok();
    let query = ListQuery { from: at(from), to: at(to), limit: usize::MAX - 1, ..ListQuery::default() };
    Ok(store.list(user.id, &query).await?.entries)
}

/// The first day recurring-charge detection looks at when judging on `as_of`.
pub fn recurring_from(cfg: &RecurringConfig, as_of: Date) -> Date {
    let back = jiff::Span::new().days(i64::from(cfg.yearly_lookback_days.max(cfg.lookback_days)));
    as_of.checked_sub(back).unwrap_or(as_of)
}

/// Tips for the `period` holding `date`, judged on `today` (the user's local day): the
/// period's range and the tips, ranked by money at stake.
pub async fn period_tips(
    store: &dyn AnalyticsStore,
    user: &User,
    period: Period,
    date: Date,
    today: Date,
    categories: &[CategoryDef],
    rules: &TipRules,
) -> Result<(DateRange, Vec<Tip>), StoreError> {
    let tz = spendstream_core::period::parse_time_zone(&user.settings.time_zone).map_err(StoreError::Other)?;
    let ws = user.settings.week_start;
    let current = period_range(period, date, ws);
    // Three periods back for growth and "rising three", and the recurring lookback.
    let mut start = current.start;
    for _ in 0..3 {
        start = previous_range(period, start, ws).start;
    }
    let as_of = today.min(current.end.yesterday().unwrap_or(current.end));
    let cfg = rules.recurring();
    let from = start.min(recurring_from(cfg, as_of));
    let entries = entries_between(store, user, &tz, from, current.end).await?;
    let recurring = detect(entries.iter().map(|e| e.as_ref()), &tz, as_of, cfg);
    let input = TipInput {
        entries: &entries,
        tz: &tz,
        period,
        date,
        week_start: ws,
        currency: user.settings.currency,
        categories,
        recurring: &recurring,
    };
    Ok((current, tips(&input, rules)))
}

/// Recurring charges still running as of `day` (the user's local day).
pub async fn recurring_as_of(
    store: &dyn AnalyticsStore,
    user: &User,
    day: Date,
    rules: &TipRules,
) -> Result<Vec<Recurring>, StoreError> {
    let tz = spendstream_core::period::parse_time_zone(&user.settings.time_zone).map_err(StoreError::Other)?;
    let cfg = rules.recurring();
    let entries = entries_between(store, user, &tz, recurring_from(cfg, day), day.tomorrow().unwrap_or(day)).await?;
    Ok(detect(entries.iter().map(|e| e.as_ref()), &tz, day, cfg))
}
