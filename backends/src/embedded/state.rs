//! The in-memory state of the embedded store for one user: live entries,
//! tombstones, and pre-aggregated daily cells and monthly merchant totals.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use spendstream_core::inbox::{Bill, BillStatus};
use spendstream_core::insight::{Alert, Budget, LearnedRule, best_rule, merchant_key};
use spendstream_core::period::{local_date, parse_time_zone};
use spendstream_core::ports::{Cursor, ListQuery, Page, Processed, UserProfile};
use spendstream_core::report::{DayCell, MerchantTotal, RangeSummary};
use spendstream_core::{CategoryId, CategorySource, Currency, EntryId, EntryKind, ProcessedEntry, UserSettings};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone)]
struct Cell {
    category: CategoryId,
    currency: Currency,
    kind: EntryKind,
    sum: i64,
    count: u64,
}

#[derive(Debug, Clone)]
struct MerchantAgg {
    display: String,
    currency: Currency,
    sum: i64,
    count: u64,
}

/// One user's entries and windows.
#[derive(Debug)]
pub struct UserState {
    pub(crate) settings: Option<UserSettings>,
    tz: TimeZone,
    tz_name: String,
    /// Every id ever seen: `None` is a tombstone.
    pub(crate) entries: HashMap<EntryId, Option<Arc<ProcessedEntry>>>,
    by_time: BTreeMap<(Timestamp, EntryId), Arc<ProcessedEntry>>,
    days: BTreeMap<Date, Vec<Cell>>,
    /// The same cells per month (keyed by the 1st), so a year is 12 lookups.
    month_cells: BTreeMap<Date, Vec<Cell>>,
    months: BTreeMap<Date, HashMap<(String, Currency), MerchantAgg>>,
    /// Category rules learned from the user's corrections, by merchant key.
    pub(crate) learned: BTreeMap<String, LearnedRule>,
    /// Budgets by id.
    pub(crate) budgets: BTreeMap<Uuid, Budget>,
    /// Alerts by id.
    pub(crate) alerts: HashMap<Uuid, Alert>,
    /// Due bills by id.
    pub(crate) bills: BTreeMap<Uuid, Bill>,
    /// Bumped by every change a read could see.
    pub(crate) version: u64,
}

impl Default for UserState {
    fn default() -> Self {
        UserState {
            settings: None,
            tz: TimeZone::UTC,
            tz_name: "UTC".into(),
            entries: HashMap::new(),
            by_time: BTreeMap::new(),
            days: BTreeMap::new(),
            month_cells: BTreeMap::new(),
            months: BTreeMap::new(),
            learned: BTreeMap::new(),
            budgets: BTreeMap::new(),
            alerts: HashMap::new(),
            bills: BTreeMap::new(),
            version: 0,
        }
    }
}

/// How top-merchant totals group merchant strings (case only).
fn agg_key(m: &str) -> String {
    m.trim().to_lowercase()
}

impl UserState {
    /// Adds an entry unless its id was seen before (live or removed).
    pub fn add(&mut self, e: ProcessedEntry) -> bool {
        if self.entries.contains_key(&e.entry.id) {
            return false;
        }
        let e = Arc::new(e);
        self.aggregate(&e, 1);
        self.by_time.insert((e.entry.occurred_at, e.entry.id), e.clone());
        self.entries.insert(e.entry.id, Some(e));
        self.version += 1;
        true
    }

    /// Removes an entry for good; a tombstone for an unseen id blocks a later add.
    pub fn remove(&mut self, id: EntryId) -> bool {
        match self.entries.insert(id, None) {
            Some(Some(e)) => {
                self.by_time.remove(&(e.entry.occurred_at, id));
                self.aggregate(&e, -1);
                self.version += 1;
                true
            }
            _ => false,
        }
    }

    /// Sets an entry's category, source and reason (no-op for removed or unknown ids).
    pub fn recategorise(&mut self, id: EntryId, category: &CategoryId, source: CategorySource, reason: &str) -> bool {
        let Some(Some(old)) = self.entries.get(&id).cloned() else { return false };
        if old.category == *category && old.category_source == source && old.category_reason == reason {
            return false;
        }
        self.aggregate(&old, -1);
        let new = Arc::new(ProcessedEntry {
            category: category.clone(),
            category_source: source,
            category_reason: reason.to_owned(),
            entry: old.entry.clone(),
        });
        self.aggregate(&new, 1);
        self.by_time.insert((new.entry.occurred_at, id), new.clone());
        self.entries.insert(id, Some(new));
        self.version += 1;
        true
    }

    /// The user's correction: the entry moves; with a learned rule the rule is
    /// kept and, with `apply_to_past`, every live entry of that merchant the
    /// user did not set moves too.
    pub fn apply_correction(
        &mut self,
        id: EntryId,
        category: &CategoryId,
        learned: Option<(String, LearnedRule)>,
        apply_to_past: bool,
    ) {
        self.recategorise(id, category, CategorySource::User, "set by the user");
        let Some((reason, rule)) = learned else { return };
        let key = rule.merchant_key.clone();
        self.learned.insert(key.clone(), rule);
        if apply_to_past {
            // Entries whose merchant this rule now decides (not a longer rule).
            let ids: Vec<EntryId> = self
                .by_time
                .values()
                .filter(|e| e.category_source != CategorySource::User)
                .filter(|e| {
                    let k = e.entry.merchant.as_deref().map(merchant_key).unwrap_or_default();
                    best_rule(self.learned.values(), &k).is_some_and(|r| r.merchant_key == key)
                })
                .map(|e| e.entry.id)
                .collect();
            for other in ids {
                self.recategorise(other, category, CategorySource::Learned, &reason);
            }
        }
        self.version += 1;
    }

    /// The user's rules, budgets and alerts (newest first).
    pub fn profile(&self) -> UserProfile {
        let mut alerts: Vec<Alert> = self.alerts.values().cloned().collect();
        alerts.sort_by(|a, b| {
            b.raised_at.cmp(&a.raised_at).then_with(|| b.occurred_at.cmp(&a.occurred_at)).then(a.id.cmp(&b.id))
        });
        UserProfile {
            settings: self.settings.clone(),
            learned: self.learned.values().cloned().collect(),
            budgets: self.budgets.values().cloned().collect(),
            alerts,
            bills: self.bills.values().cloned().collect(),
        }
    }

    /// Applies a change of rules, budgets or alerts; false if it was a no-op.
    pub fn apply_profile_change(&mut self, p: Processed) -> bool {
        let changed = match p {
            Processed::BudgetSet(b) => self.budgets.insert(b.id, b.clone()).is_none_or(|old| old != b),
            Processed::BudgetRemoved { budget_id, .. } => self.budgets.remove(&budget_id).is_some(),
            Processed::Alert(a) => match self.alerts.entry(a.id) {
                std::collections::hash_map::Entry::Occupied(_) => false,
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(a);
                    true
                }
            },
            Processed::AlertAcked { alert_id, at, .. } => match self.alerts.get_mut(&alert_id) {
                Some(a) if a.acknowledged_at.is_none() => {
                    a.acknowledged_at = Some(at);
                    true
                }
                _ => false,
            },
            Processed::Bill(b) if b.status == BillStatus::Due => {
                self.bills.insert(b.id, b.clone()).is_none_or(|old| old != b)
            }
            Processed::Bill(b) => self.bills.remove(&b.id).is_some(),
            Processed::BillsSettled { bill_ids, .. } => {
                let before = self.bills.len();
                for id in &bill_ids {
                    self.bills.remove(id);
                }
                self.bills.len() != before
            }
            _ => false,
        };
        if changed {
            self.version += 1;
        }
        changed
    }

    /// Restores rules, budgets and alerts from a snapshot.
    pub fn restore_profile(&mut self, p: UserProfile) {
        self.learned = p.learned.into_iter().map(|r| (r.merchant_key.clone(), r)).collect();
        self.budgets = p.budgets.into_iter().map(|b| (b.id, b)).collect();
        self.alerts = p.alerts.into_iter().map(|a| (a.id, a)).collect();
        self.bills = p.bills.into_iter().map(|b| (b.id, b)).collect();
    }

    /// New settings: re-cuts the daily windows if the zone changed.
    pub fn set_settings(&mut self, settings: UserSettings) {
        let zone_changed = settings.time_zone != self.tz_name;
        if zone_changed {
            self.tz = parse_time_zone(&settings.time_zone).unwrap_or(TimeZone::UTC);
            self.tz_name = settings.time_zone.clone();
            self.days.clear();
            self.month_cells.clear();
            self.months.clear();
            let live: Vec<_> = self.by_time.values().cloned().collect();
            for e in &live {
                self.aggregate(e, 1);
            }
        }
        self.settings = Some(settings);
        self.version += 1;
    }

    fn aggregate(&mut self, e: &ProcessedEntry, sign: i64) {
        let date = local_date(e.entry.occurred_at, &self.tz);
        let amount = e.entry.amount.minor * sign;
        let count = |c: u64| if sign > 0 { c + 1 } else { c.saturating_sub(1) };
        bump(&mut self.days, date, e, sign);
        bump(&mut self.month_cells, date.first_of_month(), e, sign);
        let (Some(m), EntryKind::Expense) = (&e.entry.merchant, e.entry.kind) else {
            return;
        };
        let month = self.months.entry(date.first_of_month()).or_default();
        let agg = month.entry((agg_key(m), e.entry.amount.currency)).or_insert_with(|| MerchantAgg {
            display: m.trim().to_owned(),
            currency: e.entry.amount.currency,
            sum: 0,
            count: 0,
        });
        agg.sum += amount;
        agg.count = count(agg.count);
        if agg.count == 0 {
            month.remove(&(agg_key(m), e.entry.amount.currency));
        }
    }

    /// A live entry.
    pub fn get(&self, id: EntryId) -> Option<Arc<ProcessedEntry>> {
        self.entries.get(&id).cloned().flatten()
    }

    /// Live entries, oldest first.
    pub fn live(&self) -> impl Iterator<Item = &Arc<ProcessedEntry>> {
        self.by_time.values()
    }

    /// The zone the windows are cut in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// A page of entries, newest first.
    pub fn list(&self, q: &ListQuery) -> Page {
        let upper = match (q.after, q.to) {
            (Some(c), _) => Bound::Excluded((c.occurred_at, c.id)),
            (None, Some(to)) => Bound::Excluded((to, EntryId(uuid::Uuid::nil()))),
            (None, None) => Bound::Unbounded,
        };
        let needle = q.text.as_deref().map(str::to_lowercase);
        let mut out = Vec::with_capacity(q.limit.min(512) + 1);
        for ((ts, _), e) in self.by_time.range((Bound::Unbounded, upper)).rev() {
            if q.from.is_some_and(|from| *ts < from) {
                break;
            }
            if q.to.is_some_and(|to| *ts >= to) {
                continue;
            }
            if q.category.as_ref().is_some_and(|c| *c != e.category) {
                continue;
            }
            if let Some(n) = &needle {
                let hit = |s: &Option<String>| s.as_deref().is_some_and(|s| s.to_lowercase().contains(n));
                if !hit(&e.entry.merchant) && !hit(&e.entry.note) {
                    continue;
                }
            }
            out.push(e.clone());
            if out.len() > q.limit {
                break;
            }
        }
        let next = if out.len() > q.limit {
            out.truncate(q.limit);
            out.last().map(|e| Cursor { occurred_at: e.entry.occurred_at, id: e.entry.id })
        } else {
            None
        };
        Page { entries: out, next }
    }

    /// Cells and top merchants for `[from, to)` cut in `zone`: per month (dated
    /// the 1st) when `by_month` and the range is whole months, else per day.
    pub fn summarize(&self, from: Date, to: Date, zone: &str, top: usize, by_month: bool) -> RangeSummary {
        if zone != self.tz_name {
            return self.summarize_by_scan(from, to, zone, top);
        }
        let whole_months = from.day() == 1 && to.day() == 1;
        let source = if by_month && whole_months { &self.month_cells } else { &self.days };
        let mut cells = Vec::new();
        for (date, day) in source.range(from..to) {
            cells.extend(day.iter().map(|c| DayCell {
                date: *date,
                category: c.category.clone(),
                currency: c.currency,
                kind: c.kind,
                amount_minor: c.sum,
                count: c.count,
            }));
        }
        let merchants = if whole_months {
            let mut merged: HashMap<&(String, Currency), MerchantAgg> = HashMap::new();
            for month in self.months.range(from..to).map(|(_, m)| m) {
                for (k, a) in month {
                    let m = merged.entry(k).or_insert_with(|| MerchantAgg { sum: 0, count: 0, ..a.clone() });
                    m.sum += a.sum;
                    m.count += a.count;
                }
            }
            top_merchants(merged.into_values(), top)
        } else {
            self.merchants_by_scan(from, to, &self.tz, top)
        };
        RangeSummary { cells, merchants }
    }

    fn instants(from: Date, to: Date, tz: &TimeZone) -> (Timestamp, Timestamp) {
        let at = |d: Date| d.to_zoned_datetime(tz.clone()).map(|z| z.timestamp());
        (at(from).unwrap_or(Timestamp::MIN), at(to).unwrap_or(Timestamp::MAX))
    }

    fn in_range(&self, from: Date, to: Date, tz: &TimeZone) -> impl Iterator<Item = &Arc<ProcessedEntry>> {
        let (a, b) = Self::instants(from, to, tz);
        let nil = EntryId(uuid::Uuid::nil());
        self.by_time.range((a, nil)..(b, nil)).map(|(_, e)| e)
    }

    fn merchants_by_scan(&self, from: Date, to: Date, tz: &TimeZone, top: usize) -> Vec<MerchantTotal> {
        let mut merged: HashMap<(String, Currency), MerchantAgg> = HashMap::new();
        for e in self.in_range(from, to, tz).filter(|e| e.entry.kind == EntryKind::Expense) {
            let Some(m) = &e.entry.merchant else { continue };
            let c = e.entry.amount.currency;
            let a = merged.entry((agg_key(m), c)).or_insert_with(|| MerchantAgg {
                display: m.trim().to_owned(),
                currency: c,
                sum: 0,
                count: 0,
            });
            a.sum += e.entry.amount.minor;
            a.count += 1;
        }
        top_merchants(merged.into_values(), top)
    }

    fn summarize_by_scan(&self, from: Date, to: Date, zone: &str, top: usize) -> RangeSummary {
        let tz = parse_time_zone(zone).unwrap_or(TimeZone::UTC);
        let mut cells: HashMap<(Date, &CategoryId, Currency, EntryKind), (i64, u64)> = HashMap::new();
        for e in self.in_range(from, to, &tz) {
            let key = (local_date(e.entry.occurred_at, &tz), &e.category, e.entry.amount.currency, e.entry.kind);
            let c = cells.entry(key).or_default();
            c.0 += e.entry.amount.minor;
            c.1 += 1;
        }
        RangeSummary {
            cells: cells
                .into_iter()
                .map(|((date, cat, currency, kind), (sum, count))| DayCell {
                    date,
                    category: cat.clone(),
                    currency,
                    kind,
                    amount_minor: sum,
                    count,
                })
                .collect(),
            merchants: self.merchants_by_scan(from, to, &tz, top),
        }
    }
}

/// Adds (`sign` 1) or subtracts (-1) an entry in the cells of `key`.
fn bump(map: &mut BTreeMap<Date, Vec<Cell>>, key: Date, e: &ProcessedEntry, sign: i64) {
    let cells = map.entry(key).or_default();
    let (currency, kind) = (e.entry.amount.currency, e.entry.kind);
    match cells.iter_mut().find(|c| c.category == e.category && c.currency == currency && c.kind == kind) {
        Some(c) => {
            c.sum += e.entry.amount.minor * sign;
            c.count = if sign > 0 { c.count + 1 } else { c.count.saturating_sub(1) };
        }
        None if sign > 0 => {
            cells.push(Cell { category: e.category.clone(), currency, kind, sum: e.entry.amount.minor, count: 1 })
        }
        None => {}
    }
    cells.retain(|c| c.count > 0);
    if cells.is_empty() {
        map.remove(&key);
    }
}

fn top_merchants(aggs: impl Iterator<Item = MerchantAgg>, top: usize) -> Vec<MerchantTotal> {
    let mut v: Vec<MerchantAgg> = aggs.filter(|a| a.count > 0).collect();
    v.sort_by(|a, b| b.sum.cmp(&a.sum).then_with(|| a.display.cmp(&b.display)));
    v.truncate(top);
    v.into_iter()
        .map(|a| MerchantTotal { merchant: a.display, currency: a.currency, amount_minor: a.sum, count: a.count })
        .collect()
}
