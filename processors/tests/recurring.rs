//! Recurring charges found in a synthetic user's expenses, in Asia/Kolkata so the local date
//! cut matters (20:00Z is 01:30 the next day there).
#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use jiff::ToSpan;
use jiff::civil::{Date, date};
use spendstream_core::{CategoryId, Currency, EntryId, EntryKind, ProcessedEntry};
use spendstream_processors::recurring::{Cadence, Recurring, RecurringConfig, detect};
mod common;
use common::{kolkata, processed};

/// Noon local time in Kolkata on `d`.
fn noon(d: Date) -> Timestamp {
    d.at(12, 0, 0, 0).to_zoned_datetime(kolkata()).unwrap().timestamp()
}

/// A synthetic user's entries, numbered in the order they are added.
#[derive(Default)]
struct User {
    entries: Vec<ProcessedEntry>,
}

impl User {
    fn add(&mut self, kind: EntryKind, at: Timestamp, minor: i64, currency: &str, merchant: &str, category: &str) {
        let n = u128::try_from(self.entries.len()).unwrap() + 1;
        self.entries.push(processed(n, kind, at, minor, currency, merchant, category));
    }

    /// An INR expense at noon local time.
    fn spend(&mut self, d: Date, minor: i64, merchant: &str, category: &str) {
        self.add(EntryKind::Expense, noon(d), minor, "INR", merchant, category);
    }

    fn detect(&self, as_of: Date) -> Vec<Recurring> {
        detect(&self.entries, &kolkata(), as_of, &RecurringConfig::default())
    }

    fn ids(&self, from: usize, to: usize) -> Vec<EntryId> {
        self.entries[from..to].iter().map(|e| e.entry.id).collect()
    }
}

const AS_OF: Date = date(2026, 11, 15);

#[test]
fn netflix_monthly_is_a_subscription_with_next_date_and_cost() {
    let mut u = User::default();
    for m in 6..=11 {
        let merchant = if m == 6 { "  Netflix " } else { "NETFLIX" };
        u.spend(date(2026, m, 5), 64_900, merchant, "entertainment");
    }
    let found = u.detect(AS_OF);
    assert_eq!(
        found,
        vec![Recurring {
            merchant: "Netflix".into(),
            category: CategoryId("entertainment".into()),
            currency: Currency::parse("INR").unwrap(),
            cadence: Cadence::Monthly,
            typical_amount_minor: 64_900,
            last_amount_minor: 64_900,
            occurrences: 6,
            first_date: date(2026, 6, 5),
            last_date: date(2026, 11, 5),
            next_expected: date(2026, 12, 5),
            monthly_cost_minor: 64_900,
            subscription: true,
            entry_ids: u.ids(0, 6),
        }]
    );
}

#[test]
fn rent_with_three_days_of_jitter_is_monthly() {
    let mut u = User::default();
    // Due on the 1st; paid up to 3 days early or late.
    for d in [
        date(2026, 5, 29),
        date(2026, 7, 3),
        date(2026, 8, 1),
        date(2026, 8, 30),
        date(2026, 10, 4),
        date(2026, 10, 29),
    ] {
        u.spend(d, 2_500_000, "Landlord Sharma", "rent");
    }
    let found = u.detect(AS_OF);
    assert_eq!(found.len(), 1, "{found:?}");
    let r = &found[0];
    assert_eq!((r.cadence, r.occurrences, r.monthly_cost_minor), (Cadence::Monthly, 6, 2_500_000));
    assert_eq!(
        (r.first_date, r.last_date, r.next_expected),
        (date(2026, 5, 29), date(2026, 10, 29), date(2026, 11, 29))
    );
    // Monthly with equal amounts counts as a subscription, whatever the category.
    assert!(r.subscription);
}

#[test]
fn weekly_series_with_a_late_charge() {
    let mut u = User::default();
    let mut d = date(2026, 9, 5); // a Saturday
    for i in 0..11 {
        let day = if i == 4 { d.tomorrow().unwrap() } else { d };
        u.spend(day, 120_000, "Milk Basket", "groceries");
        d = d.checked_add(7.days()).unwrap();
    }
    let found = u.detect(AS_OF);
    assert_eq!(found.len(), 1, "{found:?}");
    let r = &found[0];
    assert_eq!(r.cadence, Cadence::Weekly);
    assert_eq!((r.occurrences, r.last_date, r.next_expected), (11, date(2026, 11, 14), date(2026, 11, 21)));
    assert_eq!(r.monthly_cost_minor, 520_000); // 1,200.00 × 52 / 12
    assert!(!r.subscription);
}

#[test]
fn yearly_among_random_orders_at_the_same_merchant() {
    let mut u = User::default();
    u.spend(date(2025, 3, 10), 149_900, "Amazon Prime", "subscriptions");
    u.spend(date(2025, 6, 2), 35_000, "Amazon Prime", "shopping");
    u.spend(date(2025, 12, 24), 299_900, "Amazon Prime", "shopping");
    u.spend(date(2026, 3, 10), 149_900, "Amazon Prime", "subscriptions");
    u.spend(date(2026, 7, 19), 79_900, "Amazon Prime", "shopping");
    u.spend(date(2026, 10, 1), 450_000, "Amazon Prime", "shopping");
    let found = u.detect(AS_OF);
    assert_eq!(found.len(), 1, "{found:?}");
    let r = &found[0];
    assert_eq!(r.cadence, Cadence::Yearly);
    assert_eq!((r.first_date, r.next_expected), (date(2025, 3, 10), date(2027, 3, 10)));
    assert_eq!(r.monthly_cost_minor, 12_492); // 1,499.00 / 12, rounded
    assert_eq!(r.entry_ids, vec![u.entries[0].entry.id, u.entries[3].entry.id]);
    assert!(r.subscription);
    // Listed until half a year after the missed renewal, then stopped.
    assert_eq!(u.detect(date(2027, 9, 9)).len(), 1);
    assert_eq!(u.detect(date(2027, 9, 10)), vec![]);
}

#[test]
fn a_ten_percent_price_rise_stays_one_series() {
    let mut u = User::default();
    for m in 6..=8 {
        u.spend(date(2026, m, 10), 100_000, "Cult Gym", "health");
    }
    for m in 9..=11 {
        u.spend(date(2026, m, 10), 110_000, "Cult Gym", "health");
    }
    let found = u.detect(AS_OF);
    assert_eq!(found.len(), 1, "{found:?}");
    let r = &found[0];
    assert_eq!((r.cadence, r.occurrences), (Cadence::Monthly, 6));
    assert_eq!((r.typical_amount_minor, r.last_amount_minor, r.monthly_cost_minor), (105_000, 110_000, 110_000));
    assert_eq!(r.next_expected, date(2026, 12, 10));
    assert!(!r.subscription, "amounts differ and the category is not subscriptions");
}

#[test]
fn random_grocery_amounts_and_dates_are_not_recurring() {
    let mut u = User::default();
    let shop = [
        (date(2026, 8, 2), 123_450),
        (date(2026, 8, 9), 289_000),
        (date(2026, 8, 21), 45_600),
        (date(2026, 9, 3), 150_000),
        (date(2026, 9, 5), 310_000),
        (date(2026, 9, 21), 178_000),
        (date(2026, 10, 13), 98_000),
        (date(2026, 10, 30), 205_000),
        (date(2026, 11, 2), 61_500),
        (date(2026, 11, 11), 132_000),
    ];
    for (d, minor) in shop {
        u.spend(d, minor, "BigBasket", "groceries");
    }
    // Same amount, irregular dates.
    for d in [date(2026, 7, 1), date(2026, 7, 20), date(2026, 9, 2), date(2026, 9, 9), date(2026, 11, 1)] {
        u.spend(d, 25_000, "Chai Point", "food_dining");
    }
    assert_eq!(u.detect(AS_OF), vec![]);
}

#[test]
fn a_stopped_subscription_is_not_listed() {
    let mut u = User::default();
    for m in 1..=6 {
        u.spend(date(2026, m, 15), 29_900, "Hotstar", "subscriptions");
    }
    assert_eq!(u.detect(AS_OF), vec![]);
    // Still listed within the grace (half a month) after the missed date, not after it.
    assert_eq!(u.detect(date(2026, 7, 30)).len(), 1);
    assert_eq!(u.detect(date(2026, 7, 31)), vec![]);
}

#[test]
fn entries_after_as_of_are_ignored() {
    let mut u = User::default();
    for m in 7..=11 {
        u.spend(date(2026, m, 5), 11_900, "Spotify", "subscriptions");
    }
    // 2026-11-15T19:00Z is Nov 16, 00:30 in Kolkata: after as_of there, though not in UTC.
    u.add(EntryKind::Expense, "2026-11-15T19:00:00Z".parse().unwrap(), 11_900, "INR", "Spotify", "subscriptions");
    u.spend(date(2026, 12, 5), 11_900, "Spotify", "subscriptions");
    let found = u.detect(AS_OF);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].occurrences, found[0].last_date), (5, date(2026, 11, 5)));
    assert_eq!(found[0].entry_ids, u.ids(0, 5));
}

#[test]
fn month_end_charges_clamp_and_dates_are_local() {
    let mut u = User::default();
    // 20:00Z the day before is 01:30 on the 31st (or 30th) in Kolkata.
    for ts in ["2026-07-30T20:00:00Z", "2026-08-30T20:00:00Z", "2026-09-29T20:00:00Z", "2026-10-30T20:00:00Z"] {
        u.add(EntryKind::Expense, ts.parse().unwrap(), 19_900, "INR", "iCloud", "subscriptions");
    }
    let found = u.detect(AS_OF);
    assert_eq!(found.len(), 1, "{found:?}");
    let r = &found[0];
    assert_eq!((r.first_date, r.last_date), (date(2026, 7, 31), date(2026, 10, 31)));
    assert_eq!(r.next_expected, date(2026, 11, 30));
}

#[test]
fn income_other_currencies_and_too_few_charges() {
    let mut u = User::default();
    for m in 8..=11 {
        u.add(EntryKind::Income, noon(date(2026, m, 1)), 5_000_000, "INR", "Acme Payroll", "transfers");
    }
    for m in 9..=11 {
        u.add(EntryKind::Expense, noon(date(2026, m, 3)), 999, "USD", "GitHub", "subscriptions");
    }
    u.spend(date(2026, 10, 3), 49_900, "GitHub", "subscriptions");
    u.spend(date(2026, 11, 3), 49_900, "GitHub", "subscriptions");
    let found = u.detect(AS_OF);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].currency.code(), found[0].monthly_cost_minor), ("USD", 999));
}

#[test]
fn sorted_by_monthly_cost_and_independent_of_input_order() {
    let mut u = User::default();
    for m in 6..=11 {
        u.spend(date(2026, m, 5), 64_900, "Netflix", "entertainment");
        u.spend(date(2026, m, 1), 2_500_000, "Landlord", "rent");
        u.spend(date(2026, m, 20), 11_900, "Spotify", "subscriptions");
        u.spend(date(2026, m, 20), 11_900, "Apple", "subscriptions");
    }
    let found = u.detect(AS_OF);
    let names: Vec<&str> = found.iter().map(|r| r.merchant.as_str()).collect();
    assert_eq!(names, ["Landlord", "Netflix", "Apple", "Spotify"]);
    let mut reversed = u.entries.clone();
    reversed.reverse();
    assert_eq!(detect(&reversed, &kolkata(), AS_OF, &RecurringConfig::default()), found);
}

#[test]
fn config_reads_partial_toml() {
    let cfg: RecurringConfig = toml::from_str("min_occurrences = 4\ngrace_days = 5").unwrap();
    assert_eq!((cfg.min_occurrences, cfg.grace_days, cfg.amount_tolerance_pct), (4, Some(5), 20));
    assert!(toml::from_str::<RecurringConfig>("min_occurences = 4").is_err());
    let mut u = User::default();
    for m in 9..=11 {
        u.spend(date(2026, m, 5), 64_900, "Netflix", "entertainment");
    }
    assert_eq!(u.detect(AS_OF).len(), 1);
    assert_eq!(detect(&u.entries, &kolkata(), AS_OF, &cfg), vec![]);
}

#[test]
fn worst_case_rent_jitter_28_day_plans_quarterly_and_biweekly() {
    let mut u = User::default();
    // 3 days late, then 3 days early for the next month: intervals of 24 to 37 days.
    for d in [
        date(2026, 6, 4),
        date(2026, 6, 28),
        date(2026, 8, 4),
        date(2026, 8, 29),
        date(2026, 10, 4),
        date(2026, 10, 29),
    ] {
        u.spend(d, 2_500_000, "Landlord", "rent");
    }
    // A 28-day phone plan drifts against calendar months but keeps a fixed step.
    let mut d = date(2026, 6, 1);
    while d <= AS_OF {
        u.spend(d, 29_900, "Jio Recharge", "bills_recharge");
        d = d.checked_add(28.days()).unwrap();
    }
    for m in [1, 4, 7, 10] {
        u.spend(date(2026, m, 15), 300_000, "LIC Premium", "investments");
    }
    let mut d = date(2026, 8, 7);
    while d <= AS_OF {
        u.spend(d, 50_000, "Maid", "other");
        d = d.checked_add(14.days()).unwrap();
    }
    let found = u.detect(AS_OF);
    let got: Vec<(&str, Cadence, usize, Date, i64)> = found
        .iter()
        .map(|r| (r.merchant.as_str(), r.cadence, r.occurrences, r.next_expected, r.monthly_cost_minor))
        .collect();
    assert_eq!(
        got,
        [
            ("Landlord", Cadence::Monthly, 6, date(2026, 11, 29), 2_500_000),
            ("Maid", Cadence::Biweekly, 8, date(2026, 11, 27), 108_333),
            ("LIC Premium", Cadence::Quarterly, 4, date(2027, 1, 15), 100_000),
            ("Jio Recharge", Cadence::Monthly, 6, date(2026, 11, 19), 29_900),
        ]
    );
}

#[test]
fn a_busy_shop_with_varied_amounts_is_not_recurring() {
    let mut u = User::default();
    let mut seed: u64 = 42;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        i64::try_from(seed >> 33).unwrap()
    };
    let mut d = date(2025, 10, 1);
    while d <= AS_OF {
        // One to three visits a day, 20.00 to 2,000.00 each.
        for _ in 0..=next() % 3 {
            u.spend(d, 2_000 + next() % 198_000, "DMart", "groceries");
        }
        d = d.tomorrow().unwrap();
    }
    assert!(u.entries.len() > 800);
    assert_eq!(u.detect(AS_OF), vec![]);
}
