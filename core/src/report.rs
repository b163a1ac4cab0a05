//! Reports and rolling statistics, built from the store's daily windows.
//!
//! The store answers [`RangeSummary`] (daily totals per category plus top
//! merchants); everything here is pure integer arithmetic over those cells, so
//! every engine gives the same report for the same data.

use crate::categories::{CategoryDef, CategoryId};
use crate::entry::EntryKind;
use crate::money::{Currency, format_minor};
use crate::period::{DateRange, Period, WeekStart, period_range, previous_range};
use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Totals of one local day (or month, dated the 1st), category, currency and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCell {
    /// Local date in the user's zone.
    pub date: Date,
    /// Category.
    pub category: CategoryId,
    /// Currency of `amount_minor`.
    pub currency: Currency,
    /// Expense or income.
    pub kind: EntryKind,
    /// Sum in minor units.
    pub amount_minor: i64,
    /// Number of entries.
    pub count: u64,
}

/// Spending at one merchant over a range (expenses only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantTotal {
    /// Merchant as written on the entries (first spelling seen).
    pub merchant: String,
    /// Currency.
    pub currency: Currency,
    /// Sum in minor units.
    pub amount_minor: i64,
    /// Number of entries.
    pub count: u64,
}

/// What a store answers for a date range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSummary {
    /// Non-empty cells, any order.
    pub cells: Vec<DayCell>,
    /// Top merchants by amount, largest first.
    pub merchants: Vec<MerchantTotal>,
}

/// A money figure in the report's currency: decimal string plus minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amount {
    /// Decimal string, e.g. `"249.50"`.
    pub value: String,
    /// Minor units, e.g. `24950`.
    pub minor: i64,
}

impl Amount {
    /// An amount of `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Amount { value: currency.format(minor), minor }
    }
}

/// One category's line in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryLine {
    /// Category id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub category: CategoryId,
    /// Display name.
    pub name: String,
    /// Emoji.
    pub emoji: String,
    /// Spent in the category.
    pub amount: Amount,
    /// Entries.
    pub count: u64,
    /// Share of total spending, percent with one decimal ("38.2").
    pub share_percent: String,
}

/// Spending and income inside one bucket of the period (a day or a month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    /// First day of the bucket.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub start: Date,
    /// Label: `2026-10-15` for days, `2026-10` for months.
    pub label: String,
    /// Spent.
    pub spent: Amount,
    /// Received.
    pub income: Amount,
    /// Entries.
    pub count: u64,
}

/// A merchant's line in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantLine {
    /// Merchant.
    pub merchant: String,
    /// Spent there.
    pub amount: Amount,
    /// Entries.
    pub count: u64,
}

/// Totals of the period before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviousPeriod {
    /// First day.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub start: Date,
    /// Last day (inclusive).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub end: Date,
    /// Spent.
    pub spent: Amount,
    /// Received.
    pub income: Amount,
    /// Entries.
    pub count: u64,
}

/// Change of spending against the previous period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// This period minus the previous one (negative: spent less).
    pub amount: Amount,
    /// Percent with one decimal ("-12.5"); `null` when the previous period had no spending.
    pub percent: Option<String>,
}

/// Totals in a currency other than the report's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyTotals {
    /// Currency code.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub currency: Currency,
    /// Spent.
    pub spent: Amount,
    /// Received.
    pub income: Amount,
    /// Entries.
    pub count: u64,
}

/// A weekly, monthly or yearly report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    /// week, month or year.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub period: Period,
    /// First day.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub start: Date,
    /// Last day (inclusive).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub end: Date,
    /// Zone the days were cut in.
    pub time_zone: String,
    /// Currency of every amount below (other currencies are in `other_currencies`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub currency: Currency,
    /// Total spent.
    pub spent: Amount,
    /// Total received.
    pub income: Amount,
    /// income - spent.
    pub net: Amount,
    /// Entries counted (expenses and income).
    pub count: u64,
    /// Days counted for the average: elapsed days for the current period.
    pub days: i64,
    /// spent / days.
    pub average_per_day: Amount,
    /// Spending per category, largest first.
    pub categories: Vec<CategoryLine>,
    /// Days of a week or month, months of a year.
    pub buckets: Vec<Bucket>,
    /// Where most money went.
    pub top_merchants: Vec<MerchantLine>,
    /// The period before.
    pub previous: PreviousPeriod,
    /// Spent now vs before.
    pub change: Change,
    /// Entries in other currencies, not converted.
    pub other_currencies: Vec<CurrencyTotals>,
    /// The user's budgets of this period kind, for the budget period holding the report's date.
    pub budgets: Vec<crate::insight::BudgetStatus>,
}

/// What a report is for.
#[derive(Debug, Clone)]
pub struct ReportRequest<'a> {
    /// Period kind.
    pub period: Period,
    /// Any day inside the period.
    pub date: Date,
    /// Today in the user's zone (bounds the average).
    pub today: Date,
    /// User's week start.
    pub week_start: WeekStart,
    /// User's currency.
    pub currency: Currency,
    /// User's zone name.
    pub time_zone: &'a str,
    /// Category names and emoji.
    pub categories: &'a [CategoryDef],
}

impl ReportRequest<'_> {
    /// The current and previous ranges.
    pub fn ranges(&self) -> (DateRange, DateRange) {
        (period_range(self.period, self.date, self.week_start), previous_range(self.period, self.date, self.week_start))
    }
}

#[derive(Default, Clone, Copy)]
struct Totals {
    spent: i64,
    income: i64,
    count: u64,
}

impl Totals {
    fn add(&mut self, c: &DayCell) {
        match c.kind {
            EntryKind::Expense => self.spent += c.amount_minor,
            EntryKind::Income => self.income += c.amount_minor,
        }
        self.count += c.count;
    }
}

/// Totals plus spending per category, folded from cells.
#[derive(Default)]
struct CategoryFold<'a> {
    totals: Totals,
    per_cat: BTreeMap<&'a CategoryId, (i64, u64)>,
}

impl<'a> CategoryFold<'a> {
    fn add(&mut self, c: &'a DayCell) {
        self.totals.add(c);
        if c.kind == EntryKind::Expense {
            let e = self.per_cat.entry(&c.category).or_default();
            e.0 += c.amount_minor;
            e.1 += c.count;
        }
    }
}

/// Totals of a range in one currency, with spending per category as report lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeTotals {
    /// Spent.
    pub spent: i64,
    /// Received.
    pub income: i64,
    /// Entries, expenses and income.
    pub count: u64,
    /// Spending per category, largest first.
    pub categories: Vec<CategoryLine>,
}

/// Folds the cells of `currency` inside `range` the way reports do.
pub fn range_totals(cells: &[DayCell], range: DateRange, currency: Currency, defs: &[CategoryDef]) -> RangeTotals {
    let mut fold = CategoryFold::default();
    for c in cells.iter().filter(|c| range.contains(c.date) && c.currency == currency) {
        fold.add(c);
    }
    let CategoryFold { totals, per_cat } = fold;
    RangeTotals {
        spent: totals.spent,
        income: totals.income,
        count: totals.count,
        categories: category_lines(per_cat, totals.spent, currency, defs),
    }
}

/// Builds a report from the summaries of the current and previous ranges.
pub fn build_report(req: &ReportRequest<'_>, current: &RangeSummary, previous: &RangeSummary) -> Report {
    let (range, prev_range) = req.ranges();
    let cur = req.currency;
    let mut fold = CategoryFold::default();
    let mut buckets: BTreeMap<Date, Totals> = BTreeMap::new();
    let mut others: BTreeMap<Currency, Totals> = BTreeMap::new();
    for c in current.cells.iter().filter(|c| range.contains(c.date)) {
        if c.currency != cur {
            others.entry(c.currency).or_default().add(c);
            continue;
        }
        fold.add(c);
        buckets.entry(bucket_start(req.period, c.date)).or_default().add(c);
    }
    let CategoryFold { totals, per_cat } = fold;
    let mut prev = Totals::default();
    for c in previous.cells.iter().filter(|c| prev_range.contains(c.date) && c.currency == cur) {
        prev.add(c);
    }
    let days = counted_days(range, req.today);
    Report {
        period: req.period,
        start: range.start,
        end: last_day(range),
        time_zone: req.time_zone.to_owned(),
        currency: cur,
        spent: Amount::new(totals.spent, cur),
        income: Amount::new(totals.income, cur),
        net: Amount::new(totals.income - totals.spent, cur),
        count: totals.count,
        days,
        average_per_day: Amount::new(if days > 0 { totals.spent / days } else { 0 }, cur),
        categories: category_lines(per_cat, totals.spent, cur, req.categories),
        buckets: bucket_lines(req.period, range, &buckets, cur),
        top_merchants: current
            .merchants
            .iter()
            .filter(|m| m.currency == cur)
            .map(|m| MerchantLine {
                merchant: m.merchant.clone(),
                amount: Amount::new(m.amount_minor, cur),
                count: m.count,
            })
            .collect(),
        previous: PreviousPeriod {
            start: prev_range.start,
            end: last_day(prev_range),
            spent: Amount::new(prev.spent, cur),
            income: Amount::new(prev.income, cur),
            count: prev.count,
        },
        change: Change {
            amount: Amount::new(totals.spent - prev.spent, cur),
            percent: (prev.spent != 0).then(|| percent(totals.spent - prev.spent, prev.spent)),
        },
        other_currencies: others
            .into_iter()
            .map(|(c, t)| CurrencyTotals {
                currency: c,
                spent: Amount::new(t.spent, c),
                income: Amount::new(t.income, c),
                count: t.count,
            })
            .collect(),
        budgets: Vec::new(),
    }
}

fn last_day(r: DateRange) -> Date {
    r.end.yesterday().unwrap_or(r.start)
}

fn counted_days(range: DateRange, today: Date) -> i64 {
    if today < range.start {
        0
    } else if range.contains(today) {
        DateRange { start: range.start, end: today.tomorrow().unwrap_or(range.end) }.days()
    } else {
        range.days()
    }
}

fn bucket_start(period: Period, d: Date) -> Date {
    match period {
        Period::Year => d.first_of_month(),
        Period::Week | Period::Month => d,
    }
}

fn bucket_lines(period: Period, range: DateRange, filled: &BTreeMap<Date, Totals>, cur: Currency) -> Vec<Bucket> {
    let step = if period == Period::Year { 1.month() } else { 1.day() };
    let mut out = Vec::new();
    let mut d = range.start;
    while d < range.end {
        let t = filled.get(&d).copied().unwrap_or_default();
        let label = if period == Period::Year { format!("{:04}-{:02}", d.year(), d.month()) } else { d.to_string() };
        out.push(Bucket {
            start: d,
            label,
            spent: Amount::new(t.spent, cur),
            income: Amount::new(t.income, cur),
            count: t.count,
        });
        d = match d.checked_add(step) {
            Ok(n) => n,
            Err(_) => break,
        };
    }
    out
}

fn category_lines(
    per_cat: BTreeMap<&CategoryId, (i64, u64)>,
    total: i64,
    cur: Currency,
    defs: &[CategoryDef],
) -> Vec<CategoryLine> {
    let mut lines: Vec<CategoryLine> = per_cat
        .into_iter()
        .filter(|(_, (amount, _))| *amount != 0)
        .map(|(id, (amount, count))| {
            let def = defs.iter().find(|d| &d.id == id);
            CategoryLine {
                category: id.clone(),
                name: def.map_or_else(|| id.to_string(), |d| d.name.clone()),
                emoji: def.map(|d| d.emoji.clone()).unwrap_or_default(),
                amount: Amount::new(amount, cur),
                count,
                share_percent: if total > 0 { percent(amount, total) } else { "0.0".into() },
            }
        })
        .collect();
    lines.sort_by(|a, b| b.amount.minor.cmp(&a.amount.minor).then_with(|| a.category.cmp(&b.category)));
    lines
}

/// `part / whole` as a percentage with one decimal, rounded half away from zero.
pub fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "0.0".into();
    }
    let tenths =
        (i128::from(part) * 2000 / i128::from(whole) + if part.signum() * whole.signum() < 0 { -1 } else { 1 }) / 2;
    format_minor(i64::try_from(tenths).unwrap_or(i64::MAX), 1)
}

/// Totals of one rolling window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    /// Window name: today, last_7_days, last_30_days, last_90_days, month_to_date, year_to_date.
    pub name: String,
    /// First day.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub start: Date,
    /// Last day (inclusive, today).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub end: Date,
    /// Spent.
    pub spent: Amount,
    /// Received.
    pub income: Amount,
    /// Entries.
    pub count: u64,
    /// Spending per category, largest first.
    pub categories: Vec<CategoryLine>,
}

/// The rolling windows for `today`, and the range a store must summarise for them.
pub fn stats_windows(today: Date) -> Vec<(&'static str, DateRange)> {
    let end = today.tomorrow().unwrap_or(today);
    let back = |n: i64| today.checked_sub((n - 1).days()).unwrap_or(today);
    vec![
        ("today", DateRange { start: today, end }),
        ("last_7_days", DateRange { start: back(7), end }),
        ("last_30_days", DateRange { start: back(30), end }),
        ("last_90_days", DateRange { start: back(90), end }),
        ("month_to_date", DateRange { start: today.first_of_month(), end }),
        ("year_to_date", DateRange { start: today.first_of_year(), end }),
    ]
}

/// Folds one summary (covering every window) into the rolling windows.
pub fn build_stats(today: Date, currency: Currency, summary: &RangeSummary, defs: &[CategoryDef]) -> Vec<Window> {
    stats_windows(today)
        .into_iter()
        .map(|(name, range)| {
            let mut fold = CategoryFold::default();
            for c in summary.cells.iter().filter(|c| range.contains(c.date) && c.currency == currency) {
                fold.add(c);
            }
            let CategoryFold { totals: t, per_cat } = fold;
            Window {
                name: name.to_owned(),
                start: range.start,
                end: today,
                spent: Amount::new(t.spent, currency),
                income: Amount::new(t.income, currency),
                count: t.count,
                categories: category_lines(per_cat, t.spent, currency, defs),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cell(d: Date, cat: &str, kind: EntryKind, minor: i64) -> DayCell {
        DayCell {
            date: d,
            category: CategoryId(cat.into()),
            currency: Currency::parse("INR").unwrap(),
            kind,
            amount_minor: minor,
            count: 1,
        }
    }

    #[test]
    fn percent_rounds_with_integers() {
        assert_eq!(percent(1, 3), "33.3");
        assert_eq!(percent(2, 3), "66.7");
        assert_eq!(percent(-1, 8), "-12.5");
        assert_eq!(percent(5, 5), "100.0");
    }

    #[test]
    fn month_report_totals_buckets_and_change() {
        let inr = Currency::parse("INR").unwrap();
        let req = ReportRequest {
            period: Period::Month,
            date: date(2026, 10, 15),
            today: date(2026, 10, 20),
            week_start: WeekStart::default(),
            currency: inr,
            time_zone: "UTC",
            categories: &[],
        };
        let cur = RangeSummary {
            cells: vec![
                cell(date(2026, 10, 1), "food_dining", EntryKind::Expense, 30000),
                cell(date(2026, 10, 2), "transport", EntryKind::Expense, 10000),
                cell(date(2026, 10, 2), "other", EntryKind::Income, 500000),
                cell(date(2026, 11, 1), "transport", EntryKind::Expense, 99),
            ],
            merchants: vec![],
        };
        let prev = RangeSummary {
            cells: vec![cell(date(2026, 9, 9), "food_dining", EntryKind::Expense, 20000)],
            merchants: vec![],
        };
        let r = build_report(&req, &cur, &prev);
        assert_eq!(r.spent.value, "400.00");
        assert_eq!(r.income.minor, 500000);
        assert_eq!(r.net.value, "4600.00");
        assert_eq!(r.count, 3);
        assert_eq!(r.days, 20);
        assert_eq!(r.average_per_day.minor, 2000);
        assert_eq!(r.end, date(2026, 10, 31));
        assert_eq!(r.buckets.len(), 31);
        assert_eq!(r.buckets[1].spent.minor, 10000);
        assert_eq!(r.categories[0].category.as_str(), "food_dining");
        assert_eq!(r.categories[0].share_percent, "75.0");
        assert_eq!(r.change.amount.minor, 20000);
        assert_eq!(r.change.percent.as_deref(), Some("100.0"));
    }
}
