//! Recurring charges and subscriptions found in a user's expenses (pure).
//!
//! # How a series is found
//! 1. Expenses with a merchant, dated (in the user's zone) up to and including `as_of` and
//!    within the lookback (`lookback_days`, or `yearly_lookback_days` for yearly series), are
//!    grouped by merchant key (lower-case words of letters and digits, all-digit words such
//!    as order numbers dropped) and currency. Income, entries after `as_of` and entries
//!    without a merchant are ignored.
//! 2. Within a group, charges are clustered by amount: the amount with the most charges within
//!    `amount_tolerance_pct` of it anchors a cluster, which is then trimmed to the charges
//!    within the tolerance of the cluster's median; repeated until too few charges are left.
//!    So a gym that raised its price by 10% stays one series, while a shop with random amounts
//!    splits into small clusters.
//! 3. A cluster is a series of cadence `c` (tried in the order weekly, biweekly, monthly,
//!    quarterly, yearly) when it has enough charges (`min_occurrences`, or
//!    `min_yearly_occurrences` for yearly) and
//!    - every interval between consecutive charge dates lies in `c`'s typical range (7, 14,
//!      28..=31, 89..=92 or 365..=366 days) widened by `c`'s tolerance, and
//!    - the dates do not drift: their offsets from a regular schedule starting at the first
//!      charge (calendar months or years, or a fixed step within the typical range, e.g. a
//!      28-day phone plan) span at most the tolerance.
//!
//!    If the whole cluster fails, its most common exact amount is tried alone (a yearly
//!    membership among random orders at the same shop).
//! 4. A series is listed only while active: `next_expected + grace >= as_of`.
//!
//! Output is sorted by monthly cost (largest first), then merchant; nothing depends on hash
//! order or the wall clock.

use spendstream_core::insight::merchant_key;
use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use spendstream_core::period::{days_between, local_date};
use spendstream_core::{CategoryId, Currency, EntryId, EntryKind, ProcessedEntry};

/// The category whose recurring charges are always subscriptions.
const SUBSCRIPTIONS: &str = "subscriptions";

/// Thresholds of [`detect`]. Every field has a default, so a config may set only some.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecurringConfig {
    /// Fewest charges that make a weekly, biweekly, monthly or quarterly series (3).
    pub min_occurrences: usize,
    /// Fewest charges that make a yearly series (2).
    pub min_yearly_occurrences: usize,
    /// Amounts within this percent of the series' median count as similar (20: ±20%).
    pub amount_tolerance_pct: u32,
    /// Days a weekly interval may differ from 7 (2).
    pub weekly_tolerance_days: u32,
    /// Days a biweekly interval may differ from 14 (3).
    pub biweekly_tolerance_days: u32,
    /// Days a monthly interval may fall outside 28..=31 (6: a rent due on the 1st, paid up to
    /// 3 days early or late).
    pub monthly_tolerance_days: u32,
    /// Days a quarterly interval may fall outside 89..=92 (10).
    pub quarterly_tolerance_days: u32,
    /// Days a yearly interval may fall outside 365..=366 (14).
    pub yearly_tolerance_days: u32,
    /// How far back from `as_of` charges count, in days (400).
    pub lookback_days: u32,
    /// How far back charges count for a yearly series, in days (950): two yearly charges stay
    /// in view until the series counts as stopped (365 + 365 + 183 days and some slack).
    pub yearly_lookback_days: u32,
    /// Days a charge may be late before its series counts as stopped; `None` (default) means
    /// half the longest typical interval: 3 weekly, 7 biweekly, 15 monthly, 46 quarterly,
    /// 183 yearly.
    pub grace_days: Option<u32>,
}

impl Default for RecurringConfig {
    fn default() -> Self {
        RecurringConfig {
            min_occurrences: 3,
            min_yearly_occurrences: 2,
            amount_tolerance_pct: 20,
            weekly_tolerance_days: 2,
            biweekly_tolerance_days: 3,
            monthly_tolerance_days: 6,
            quarterly_tolerance_days: 10,
            yearly_tolerance_days: 14,
            lookback_days: 400,
            yearly_lookback_days: 950,
            grace_days: None,
        }
    }
}

impl RecurringConfig {
    /// The interval tolerance of `cadence`, in days.
    pub fn tolerance_days(&self, cadence: Cadence) -> i64 {
        i64::from(match cadence {
            Cadence::Weekly => self.weekly_tolerance_days,
            Cadence::Biweekly => self.biweekly_tolerance_days,
            Cadence::Monthly => self.monthly_tolerance_days,
            Cadence::Quarterly => self.quarterly_tolerance_days,
            Cadence::Yearly => self.yearly_tolerance_days,
        })
    }

    /// Days a `cadence` charge may be late before its series counts as stopped.
    pub fn grace(&self, cadence: Cadence) -> i64 {
        match self.grace_days {
            Some(d) => i64::from(d),
            None => cadence.typical_days().1 / 2,
        }
    }

    /// The first local date whose charges count for a `cadence` series on `as_of`.
    pub fn earliest(&self, cadence: Cadence, as_of: Date) -> Date {
        let days = match cadence {
            Cadence::Yearly => self.yearly_lookback_days,
            _ => self.lookback_days,
        };
        as_of.checked_sub(i64::from(days).days()).unwrap_or(Date::MIN)
    }

    fn min_count(&self, cadence: Cadence) -> usize {
        match cadence {
            Cadence::Yearly => self.min_yearly_occurrences,
            _ => self.min_occurrences,
        }
        .max(2)
    }
}

/// How often a recurring charge comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Every 7 days.
    Weekly,
    /// Every 14 days.
    Biweekly,
    /// Every month (28..=31 days).
    Monthly,
    /// Every three months (89..=92 days).
    Quarterly,
    /// Every year (365..=366 days).
    Yearly,
}

impl Cadence {
    /// Every cadence, shortest first (the order [`detect`] tries them in).
    pub const ALL: [Cadence; 5] =
        [Cadence::Weekly, Cadence::Biweekly, Cadence::Monthly, Cadence::Quarterly, Cadence::Yearly];

    /// `weekly`, `biweekly`, `monthly`, `quarterly` or `yearly`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Biweekly => "biweekly",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
            Cadence::Yearly => "yearly",
        }
    }

    /// Shortest and longest typical interval in days, e.g. `(28, 31)` for monthly.
    pub fn typical_days(self) -> (i64, i64) {
        match self {
            Cadence::Weekly => (7, 7),
            Cadence::Biweekly => (14, 14),
            Cadence::Monthly => (28, 31),
            Cadence::Quarterly => (89, 92),
            Cadence::Yearly => (365, 366),
        }
    }

    /// The date `n` intervals after `d`: 7 or 14 days, or 1 month, 3 months or 1 year, with
    /// the day clamped to the month's end (Jan 31 + 1 month = Feb 28).
    pub fn nth_after(self, d: Date, n: i64) -> Date {
        let step = match self {
            Cadence::Weekly => (7 * n).days(),
            Cadence::Biweekly => (14 * n).days(),
            Cadence::Monthly => n.months(),
            Cadence::Quarterly => (3 * n).months(),
            Cadence::Yearly => n.years(),
        };
        d.checked_add(step).unwrap_or(Date::MAX)
    }

    /// The cost per month of one charge of `amount_minor` at this cadence, rounded to the
    /// nearest minor unit: weekly ×52/12, biweekly ×26/12, monthly ×1, quarterly /3, yearly /12.
    pub fn monthly_cost(self, amount_minor: i64) -> i64 {
        let (num, den) = self.per_month();
        div_round(i128::from(amount_minor) * num, den)
    }

    /// The cost per year of one charge: weekly ×52, biweekly ×26, monthly ×12, quarterly ×4,
    /// yearly ×1.
    pub fn yearly_cost(self, amount_minor: i64) -> i64 {
        let (num, den) = self.per_month();
        div_round(i128::from(amount_minor) * num * 12, den)
    }

    fn per_month(self) -> (i128, i128) {
        match self {
            Cadence::Weekly => (52, 12),
            Cadence::Biweekly => (26, 12),
            Cadence::Monthly => (1, 1),
            Cadence::Quarterly => (1, 3),
            Cadence::Yearly => (1, 12),
        }
    }
}

impl std::fmt::Display for Cadence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recurring charge (a subscription, rent, a membership) that is still active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recurring {
    /// Merchant as written on the series' first charge, trimmed.
    pub merchant: String,
    /// Category of the latest charge.
    pub category: CategoryId,
    /// Currency of every amount here.
    pub currency: Currency,
    /// How often it comes.
    pub cadence: Cadence,
    /// Median charge in minor units.
    pub typical_amount_minor: i64,
    /// Latest charge in minor units.
    pub last_amount_minor: i64,
    /// Number of charges in the series.
    pub occurrences: usize,
    /// Local date of the first charge.
    pub first_date: Date,
    /// Local date of the latest charge.
    pub last_date: Date,
    /// When the next charge is due: monthly on the latest charge's day of month (clamped to
    /// the month's end), otherwise `last_date` plus one interval.
    pub next_expected: Date,
    /// The latest charge per month ([`Cadence::monthly_cost`] of `last_amount_minor`).
    pub monthly_cost_minor: i64,
    /// True when the category is `subscriptions`, or the cadence is monthly or yearly and
    /// every charge has the same amount.
    pub subscription: bool,
    /// The series' entries, oldest first.
    pub entry_ids: Vec<EntryId>,
}

/// One candidate charge.
#[derive(Clone, Copy)]
struct Charge<'a> {
    date: Date,
    merchant: &'a str,
    entry: &'a ProcessedEntry,
}

impl Charge<'_> {
    fn amount(&self) -> i64 {
        self.entry.entry.amount.minor
    }

    fn order_key(&self) -> (Date, jiff::Timestamp, EntryId) {
        (self.date, self.entry.entry.occurred_at, self.entry.entry.id)
    }
}

/// Finds the recurring charges among `entries` that are still active on `as_of` (a local date
/// in `tz`); see the module docs for the rules. Sorted by monthly cost, largest first, then
/// merchant.
pub fn detect<'a>(
    entries: impl IntoIterator<Item = &'a ProcessedEntry>,
    tz: &TimeZone,
    as_of: Date,
    cfg: &RecurringConfig,
) -> Vec<Recurring> {
    let earliest = Cadence::ALL.map(|c| cfg.earliest(c, as_of)).into_iter().min().unwrap_or(as_of);
    let mut groups: BTreeMap<(String, Currency), Vec<Charge<'a>>> = BTreeMap::new();
    for pe in entries {
        let e = &pe.entry;
        if e.kind != EntryKind::Expense || e.amount.minor <= 0 {
            continue;
        }
        let Some(merchant) = e.merchant.as_deref().map(str::trim).filter(|m| !m.is_empty()) else {
            continue;
        };
        // Grouped as learned categories are: `NETFLIX.COM 8812` is `Netflix.com`.
        let key = merchant_key(merchant);
        if key.is_empty() {
            continue;
        }
        let date = local_date(e.occurred_at, tz);
        if date > as_of || date < earliest {
            continue;
        }
        groups.entry((key, e.amount.currency)).or_default().push(Charge { date, merchant, entry: pe });
    }
    let mut out = Vec::new();
    for ((_, currency), mut charges) in groups {
        charges.sort_by_key(Charge::order_key);
        for cluster in clusters(charges, cfg) {
            if let Some(r) = series(&cluster, currency, as_of, cfg) {
                out.push(r);
            }
        }
    }
    out.sort_by(|a, b| {
        b.monthly_cost_minor
            .cmp(&a.monthly_cost_minor)
            .then_with(|| a.merchant.cmp(&b.merchant))
            .then_with(|| a.currency.cmp(&b.currency))
            .then_with(|| a.first_date.cmp(&b.first_date))
            .then_with(|| a.cadence.cmp(&b.cadence))
    });
    out
}

/// Whether `x` is within `pct` percent of `center`.
fn similar(x: i64, center: i64, pct: u32) -> bool {
    (i128::from(x) - i128::from(center)).abs() * 100 <= i128::from(center) * i128::from(pct)
}

/// Median of a non-empty list of amounts; the lower middle plus half the gap for even counts.
fn median(amounts: &[i64]) -> i64 {
    let mut v = amounts.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => v[n / 2],
        _ => v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2,
    }
}

/// Splits one merchant's charges (sorted by date) into clusters of similar amounts, each
/// sorted by date and at least as large as the smallest series allowed.
fn clusters<'a>(mut rest: Vec<Charge<'a>>, cfg: &RecurringConfig) -> Vec<Vec<Charge<'a>>> {
    let need = Cadence::ALL.iter().map(|c| cfg.min_count(*c)).min().unwrap_or(2);
    let tol = cfg.amount_tolerance_pct;
    let mut out = Vec::new();
    while rest.len() >= need {
        let mut amounts: Vec<i64> = rest.iter().map(Charge::amount).collect();
        amounts.sort_unstable();
        let mut best: Option<(usize, i64)> = None;
        let mut previous = None;
        for &a in &amounts {
            if previous == Some(a) {
                continue;
            }
            previous = Some(a);
            // Amounts similar to `a` form one run of the sorted list.
            let (center, pct) = (i128::from(a), i128::from(tol));
            let lo = amounts.partition_point(|x| i128::from(*x) * 100 < center * (100 - pct));
            let hi = amounts.partition_point(|x| i128::from(*x) * 100 <= center * (100 + pct));
            let n = hi.saturating_sub(lo);
            if best.is_none_or(|(bn, _)| n > bn) {
                best = Some((n, a));
            }
        }
        let Some((n, anchor)) = best else { break };
        if n < need {
            break;
        }
        let (members, others): (Vec<Charge<'a>>, Vec<Charge<'a>>) =
            rest.into_iter().partition(|c| similar(c.amount(), anchor, tol));
        rest = others;
        let mid = median(&members.iter().map(Charge::amount).collect::<Vec<_>>());
        let kept: Vec<Charge<'a>> = members.into_iter().filter(|c| similar(c.amount(), mid, tol)).collect();
        if kept.len() >= need {
            out.push(kept);
        }
    }
    out
}

/// Whether charge dates (sorted, at least two) follow `cadence` within `tol` days.
fn fits(cadence: Cadence, dates: &[Date], tol: i64) -> bool {
    let (typ_lo, typ_hi) = cadence.typical_days();
    let (lo, hi) = (typ_lo - tol, typ_hi + tol);
    if dates.windows(2).any(|w| !(lo..=hi).contains(&days_between(w[0], w[1]))) {
        return false;
    }
    let Some(&first) = dates.first() else { return false };
    let spread = |expected: &dyn Fn(i64) -> Date| {
        let mut min = 0;
        let mut max = 0;
        for (k, &d) in (0_i64..).zip(dates) {
            let dev = days_between(expected(k), d);
            min = dev.min(min);
            max = dev.max(max);
        }
        max - min
    };
    if spread(&|k| cadence.nth_after(first, k)) <= tol {
        return true;
    }
    (typ_lo..=typ_hi).any(|step| spread(&|k| first.checked_add((step * k).days()).unwrap_or(Date::MAX)) <= tol)
}

/// The first cadence `charges` fit, if any.
/// The first cadence `charges` fit within that cadence's lookback, with those charges.
fn cadence_of<'a>(charges: &[Charge<'a>], as_of: Date, cfg: &RecurringConfig) -> Option<(Cadence, Vec<Charge<'a>>)> {
    Cadence::ALL.into_iter().find_map(|c| {
        let since = cfg.earliest(c, as_of);
        let window: Vec<Charge<'a>> = charges.iter().copied().filter(|x| x.date >= since).collect();
        let dates: Vec<Date> = window.iter().map(|x| x.date).collect();
        (window.len() >= cfg.min_count(c) && fits(c, &dates, cfg.tolerance_days(c))).then_some((c, window))
    })
}

/// The active series of one cluster, if it is one.
fn series(cluster: &[Charge<'_>], currency: Currency, as_of: Date, cfg: &RecurringConfig) -> Option<Recurring> {
    if let Some((c, window)) = cadence_of(cluster, as_of, cfg) {
        return build(&window, c, currency, as_of, cfg);
    }
    // The most common exact amount alone (the smallest such amount on a tie).
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for c in cluster {
        *counts.entry(c.amount()).or_default() += 1;
    }
    let (&mode, &n) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
    if n == cluster.len() {
        return None;
    }
    let same: Vec<Charge<'_>> = cluster.iter().copied().filter(|c| c.amount() == mode).collect();
    let (c, window) = cadence_of(&same, as_of, cfg)?;
    build(&window, c, currency, as_of, cfg)
}

fn build(
    charges: &[Charge<'_>],
    cadence: Cadence,
    currency: Currency,
    as_of: Date,
    cfg: &RecurringConfig,
) -> Option<Recurring> {
    let first = charges.first()?;
    let last = charges.last()?;
    let next_expected = cadence.nth_after(last.date, 1);
    let deadline = next_expected.checked_add(cfg.grace(cadence).days()).unwrap_or(Date::MAX);
    if deadline < as_of {
        return None;
    }
    let amounts: Vec<i64> = charges.iter().map(Charge::amount).collect();
    let category = last.entry.category.clone();
    let all_equal = amounts.iter().all(|a| *a == last.amount());
    let subscription =
        category.as_str() == SUBSCRIPTIONS || (matches!(cadence, Cadence::Monthly | Cadence::Yearly) && all_equal);
    Some(Recurring {
        merchant: first.merchant.to_owned(),
        category,
        currency,
        cadence,
        typical_amount_minor: median(&amounts),
        last_amount_minor: last.amount(),
        occurrences: charges.len(),
        first_date: first.date,
        last_date: last.date,
        next_expected,
        monthly_cost_minor: cadence.monthly_cost(last.amount()),
        subscription,
        entry_ids: charges.iter().map(|c| c.entry.entry.id).collect(),
    })
}

/// `num / den` rounded half away from zero, saturated to `i64`.
pub(crate) fn div_round(num: i128, den: i128) -> i64 {
    if den == 0 {
        return 0;
    }
    let q = (num.abs() * 2 + den.abs()) / (den.abs() * 2);
    let q = if (num < 0) != (den < 0) { -q } else { q };
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn cadence_arithmetic() {
        assert_eq!(Cadence::Monthly.nth_after(date(2026, 10, 31), 1), date(2026, 11, 30));
        assert_eq!(Cadence::Monthly.nth_after(date(2026, 1, 31), 2), date(2026, 3, 31));
        assert_eq!(Cadence::Yearly.nth_after(date(2024, 2, 29), 1), date(2025, 2, 28));
        assert_eq!(Cadence::Weekly.monthly_cost(1200), 5200);
        assert_eq!(Cadence::Yearly.monthly_cost(149_900), 12_492);
        assert_eq!(Cadence::Quarterly.monthly_cost(100), 33);
        assert_eq!(Cadence::Biweekly.yearly_cost(100), 2600);
        let cfg = RecurringConfig::default();
        assert_eq!(Cadence::ALL.map(|c| cfg.grace(c)), [3, 7, 15, 46, 183]);
    }

    #[test]
    fn medians_and_similarity() {
        assert_eq!(median(&[5, 1, 3]), 3);
        assert_eq!(median(&[1000, 1100, 1000, 1100]), 1050);
        assert!(similar(1200, 1000, 20));
        assert!(!similar(1201, 1000, 20));
        assert!(similar(800, 1000, 20));
    }

    #[test]
    fn fits_checks_intervals_and_drift() {
        let d = |m, day| date(2026, m, day);
        assert!(fits(Cadence::Monthly, &[d(1, 31), d(2, 28), d(3, 31), d(4, 30)], 6));
        // A 28-day plan drifts against calendar months but is a fixed step.
        assert!(fits(Cadence::Monthly, &[d(1, 1), d(1, 29), d(2, 26), d(3, 26), d(4, 23)], 6));
        // Jitter around a weekly schedule is fine; every 9 days drifts away from it.
        assert!(fits(Cadence::Weekly, &[d(1, 1), d(1, 6), d(1, 15), d(1, 20), d(1, 29)], 2));
        assert!(!fits(Cadence::Weekly, &[d(1, 1), d(1, 8), d(1, 17), d(1, 26), d(2, 4)], 2));
        assert!(!fits(Cadence::Weekly, &[d(1, 1), d(1, 1)], 2));
    }

    #[test]
    fn merchant_keys() {
        assert_eq!(merchant_key("  NETFLIX.COM 8812 "), "netflix com");
        assert_eq!(merchant_key("Netflix.com"), "netflix com");
        assert_eq!(merchant_key("1234"), "");
    }
}
