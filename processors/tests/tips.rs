//! Tips on a synthetic user in Asia/Kolkata: every kind with exact numbers and messages, the
//! thresholds, ranking and config errors. Current period: November 2026 (Nov 1 is a Sunday;
//! 9 weekend days, 21 weekdays); the three before are October, September and August.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use serde::Deserialize;
use spendstream_core::period::{Period, WeekStart};
use spendstream_core::{CategoryDef, CategoryId, Currency, EntryId, EntryKind, ProcessedEntry};
use spendstream_processors::recurring::{Cadence, Recurring, RecurringConfig, detect};
use spendstream_processors::tips::{Tip, TipInput, TipKind, TipRules, TipsError, format_grouped, tips};
use uuid::Uuid;

mod common;
use common::{kolkata, processed};

const TODAY: Date = date(2026, 11, 14);

fn inr() -> Currency {
    Currency::parse("INR").unwrap()
}

/// `hh:mm` local time in Kolkata on `d`.
fn local(d: Date, hour: i8, minute: i8) -> Timestamp {
    d.at(hour, minute, 0, 0).to_zoned_datetime(kolkata()).unwrap().timestamp()
}

fn categories() -> Vec<CategoryDef> {
    #[derive(Deserialize)]
    struct Defs {
        categories: Vec<CategoryDef>,
    }
    let text = r#"
        [[categories]]
        id = "food_dining"
        name = "Food & dining"
        [[categories]]
        id = "groceries"
        name = "Groceries"
        [[categories]]
        id = "transport"
        name = "Transport"
        [[categories]]
        id = "shopping"
        name = "Shopping"
    "#;
    toml::from_str::<Defs>(text).unwrap().categories
}

/// A synthetic user's entries, numbered in the order they are added.
#[derive(Default)]
struct User {
    entries: Vec<Arc<ProcessedEntry>>,
    recurring: Vec<Recurring>,
}

impl User {
    fn add(&mut self, kind: EntryKind, at: Timestamp, minor: i64, currency: &str, category: &str) {
        let n = u128::try_from(self.entries.len()).unwrap() + 1;
        self.entries.push(Arc::new(processed(n, kind, at, minor, currency, &format!("Shop {n}"), category)));
    }

    /// An INR expense at `at`.
    fn spend_at(&mut self, at: Timestamp, minor: i64, category: &str) {
        self.add(EntryKind::Expense, at, minor, "INR", category);
    }

    /// An INR expense at noon local time.
    fn spend(&mut self, d: Date, minor: i64, category: &str) {
        self.spend_at(local(d, 12, 0), minor, category);
    }

    fn earn(&mut self, d: Date, minor: i64) {
        self.add(EntryKind::Income, local(d, 10, 0), minor, "INR", "transfers");
    }

    fn tips_with(&self, rules: &TipRules) -> Vec<Tip> {
        let tz = kolkata();
        let cats = categories();
        let input = TipInput {
            entries: &self.entries,
            tz: &tz,
            period: Period::Month,
            date: TODAY,
            week_start: WeekStart::default(),
            currency: inr(),
            categories: &cats,
            recurring: &self.recurring,
        };
        tips(&input, rules)
    }

    fn tips(&self) -> Vec<Tip> {
        self.tips_with(TipRules::shipped())
    }

    /// The shipped rule `id`'s tips.
    fn rule(&self, id: &str) -> Vec<Tip> {
        self.tips().into_iter().filter(|t| t.rule == id).collect()
    }
}

fn numbers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The shipped rule `id` with `key = value` overridden (or added).
fn shipped_with(id: &str, key: &str, value: &str) -> TipRules {
    let mut out = String::new();
    let mut in_rule = false;
    for line in spendstream_processors::tips::SHIPPED_TOML.lines() {
        if line.starts_with("id = ") {
            in_rule = line == format!("id = \"{id}\"");
            out.push_str(line);
            out.push('\n');
            if in_rule {
                out.push_str(&format!("{key} = {value}\n"));
            }
            continue;
        }
        if in_rule && line.starts_with(&format!("{key} = ")) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    TipRules::from_toml(&out).unwrap()
}

/// November: food 6,240 (one of its entries at 2026-10-31T20:00Z, Nov 1 in Kolkata),
/// groceries 4,000, transport 3,200, shopping 2,560; total 16,000, all on weekdays at noon
/// except that one. October: food 2,200, groceries 4,000, transport 3,800; total 10,000.
fn share_user() -> User {
    let mut u = User::default();
    u.spend_at("2026-10-31T20:00:00Z".parse().unwrap(), 208_000, "food_dining");
    u.spend(date(2026, 11, 3), 208_000, "food_dining");
    u.spend(date(2026, 11, 4), 208_000, "food_dining");
    u.spend(date(2026, 11, 9), 400_000, "groceries");
    u.spend(date(2026, 11, 10), 320_000, "transport");
    u.spend(date(2026, 11, 11), 256_000, "shopping");
    u.spend(date(2026, 10, 6), 220_000, "food_dining");
    u.spend(date(2026, 10, 7), 400_000, "groceries");
    u.spend(date(2026, 10, 8), 380_000, "transport");
    // Ignored: another currency, and Dec 1 00:30 in Kolkata (after the period).
    u.add(EntryKind::Expense, local(date(2026, 11, 5), 12, 0), 999_900, "USD", "food_dining");
    u.spend_at("2026-11-30T19:00:00Z".parse().unwrap(), 999_900, "food_dining");
    u
}

#[test]
fn category_share_fires_with_exact_numbers() {
    let got = share_user().rule("category_share");
    assert_eq!(
        got,
        vec![Tip {
            rule: "category_share".into(),
            kind: TipKind::CategoryShare,
            message: "Food & dining was 39.0% of your spending this month, 6,240.00; last month 22.0%.".into(),
            impact_minor: 144_000,
            currency: inr(),
            numbers: numbers(&[
                ("amount", "6240.00"),
                ("category", "Food & dining"),
                ("currency", "INR"),
                ("excess", "1440.00"),
                ("period", "month"),
                ("previous_amount", "2200.00"),
                ("previous_share", "22.0"),
                ("share", "39.0"),
                ("threshold", "30"),
                ("total", "16000.00"),
            ]),
        }]
    );
    let higher = share_user().tips_with(&shipped_with("category_share", "min_share_percent", "40"));
    assert!(higher.iter().all(|t| t.rule != "category_share"), "{higher:?}");
    let bigger = share_user().tips_with(&shipped_with("category_share", "min_amount", "6241"));
    assert!(bigger.iter().all(|t| t.rule != "category_share"));
}

#[test]
fn growth_fires_per_category_and_in_total() {
    let u = share_user();
    let cat = u.rule("category_growth");
    assert_eq!(cat.len(), 1, "{cat:?}");
    assert_eq!(cat[0].message, "Food & dining is up 183.6% on last month: 6,240.00 against 2,200.00, 4,040.00 more.");
    assert_eq!(cat[0].impact_minor, 404_000);
    assert_eq!(cat[0].numbers["growth"], "183.6");
    assert_eq!(cat[0].numbers["increase"], "4040.00");
    let total = u.rule("total_growth");
    assert_eq!(total.len(), 1);
    assert_eq!(total[0].message, "You spent 16,000.00 this month, 60.0% more than last month (10,000.00).");
    assert_eq!((total[0].kind, total[0].impact_minor), (TipKind::Growth, 600_000));
    assert!(!total[0].numbers.contains_key("category"));
    // Below the percent, or below the minimum increase: silent.
    let t = u.tips_with(&shipped_with("category_growth", "min_growth_percent", "184"));
    assert!(t.iter().all(|t| t.rule != "category_growth"));
    let t = u.tips_with(&shipped_with("category_growth", "min_increase", "4041"));
    assert!(t.iter().all(|t| t.rule != "category_growth"));
    let t = u.tips_with(&shipped_with("total_growth", "min_growth_percent", "61"));
    assert!(t.iter().all(|t| t.rule != "total_growth"));
}

fn rec(merchant: &str, category: &str, cadence: Cadence, amount: i64, subscription: bool) -> Recurring {
    Recurring {
        merchant: merchant.into(),
        category: CategoryId(category.into()),
        currency: inr(),
        cadence,
        typical_amount_minor: amount,
        last_amount_minor: amount,
        occurrences: 3,
        first_date: date(2026, 6, 1),
        last_date: date(2026, 11, 1),
        next_expected: date(2026, 12, 1),
        monthly_cost_minor: cadence.monthly_cost(amount),
        subscription,
        entry_ids: vec![EntryId(Uuid::from_u128(99))],
    }
}

fn subscribed_user() -> User {
    let mut usd = rec("GitHub", "subscriptions", Cadence::Monthly, 400, true);
    usd.currency = Currency::parse("USD").unwrap();
    User {
        recurring: vec![
            rec("Landlord", "rent", Cadence::Monthly, 2_500_000, true),
            rec("Spotify", "subscriptions", Cadence::Monthly, 11_900, true),
            rec("Netflix", "entertainment", Cadence::Monthly, 64_900, true),
            rec("Cult Gym", "health", Cadence::Monthly, 110_000, false),
            rec("Amazon Prime", "subscriptions", Cadence::Yearly, 149_900, true),
            rec("YouTube Premium", "subscriptions", Cadence::Monthly, 12_900, true),
            usd,
        ],
        ..User::default()
    }
}

#[test]
fn recurring_lists_subscriptions_by_monthly_cost() {
    let got = subscribed_user().rule("subscriptions");
    assert_eq!(got.len(), 1);
    let t = &got[0];
    assert_eq!(
        t.message,
        "You pay 4 subscriptions, 1,021.92 a month (12,263.00 a year): Netflix 649.00, YouTube Premium 129.00, \
         Amazon Prime 124.92, Spotify 119.00."
    );
    assert_eq!((t.kind, t.impact_minor), (TipKind::Recurring, 102_192));
    assert_eq!(t.numbers["monthly_total"], "1021.92");
    assert_eq!(t.numbers["count"], "4");
    let two = subscribed_user().tips_with(&shipped_with("subscriptions", "max_listed", "2"));
    assert!(two[0].message.ends_with(": Netflix 649.00, YouTube Premium 129.00 and 2 more."), "{}", two[0].message);
    let few = subscribed_user().tips_with(&shipped_with("subscriptions", "min_count", "5"));
    assert_eq!(few, vec![]);
    // Without the subscription filter and exclusions: rent and the gym count too.
    let all = TipRules::from_toml(
        "[[rules]]\nid = \"all\"\nkind = \"recurring\"\nonly_subscriptions = false\nmessage = \"{count}: {list}\"",
    )
    .unwrap();
    assert_eq!(
        subscribed_user().tips_with(&all)[0].message,
        "6: Landlord 25,000.00, Cult Gym 1,100.00, Netflix 649.00, YouTube Premium 129.00, Amazon Prime 124.92 \
         and 1 more"
    );
}

#[test]
fn recurring_tip_from_detected_series() {
    let mut u = User::default();
    for m in 6..=11 {
        u.add(EntryKind::Expense, local(date(2026, m, 5), 9, 0), 64_900, "INR", "entertainment");
        u.add(EntryKind::Expense, local(date(2026, m, 20), 9, 0), 11_900, "INR", "subscriptions");
    }
    // Give each series one merchant.
    for (i, e) in u.entries.iter_mut().enumerate() {
        let pe = Arc::make_mut(e);
        pe.entry.merchant = Some(if i % 2 == 0 { "Netflix" } else { "Spotify" }.to_owned());
    }
    let plain: Vec<&ProcessedEntry> = u.entries.iter().map(|e| &**e).collect();
    u.recurring = detect(plain, &kolkata(), TODAY, &RecurringConfig::default());
    let got = u.rule("subscriptions");
    assert_eq!(
        got[0].message,
        "You pay 2 subscriptions, 768.00 a month (9,216.00 a year): Netflix 649.00, Spotify 119.00."
    );
}

#[test]
fn small_frequent_counts_purchases_under_the_limit() {
    let mut u = User::default();
    for day in 2..=13 {
        u.spend(date(2026, 11, day), 15_000, "food_dining");
    }
    u.spend(date(2026, 11, 5), 20_000, "transport"); // not under 200.00
    u.spend(date(2026, 11, 6), 800_000, "shopping");
    u.spend(date(2026, 10, 6), 15_000, "food_dining"); // last month
    let got = u.rule("small_purchases");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].message,
        "12 small purchases under 200.00 added up to 1,800.00 this month, 18.0% of your spending."
    );
    assert_eq!((got[0].kind, got[0].impact_minor), (TipKind::SmallFrequent, 180_000));
    assert_eq!(got[0].numbers["average"], "150.00");
    assert!(
        u.tips_with(&shipped_with("small_purchases", "min_count", "13")).iter().all(|t| t.rule != "small_purchases")
    );
    assert!(
        u.tips_with(&shipped_with("small_purchases", "min_total", "1801")).iter().all(|t| t.rule != "small_purchases")
    );
}

/// Weekend 9,000 over 9 days (one entry at 2026-11-06T19:00Z, Saturday 00:30 in Kolkata),
/// weekdays `weekday` minor units over 21 days.
fn weekend_user(weekday: i64) -> User {
    let mut u = User::default();
    u.spend_at("2026-11-06T19:00:00Z".parse().unwrap(), 300_000, "food_dining");
    u.spend(date(2026, 11, 8), 300_000, "food_dining");
    u.spend(date(2026, 11, 14), 300_000, "shopping");
    u.spend(date(2026, 11, 3), weekday - 700_000, "groceries");
    u.spend(date(2026, 11, 4), 350_000, "groceries");
    u.spend(date(2026, 11, 5), 350_000, "transport");
    u
}

#[test]
fn weekend_spike_compares_per_day_averages() {
    let got = weekend_user(1_050_000).rule("weekend_spike");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message, "On weekends you spent 1,000.00 a day, 2.0 times your weekday average of 500.00.");
    assert_eq!((got[0].kind, got[0].impact_minor), (TipKind::WeekendSpike, 450_000));
    assert_eq!(got[0].numbers["weekend_days"], "9");
    assert_eq!(got[0].numbers["weekday_days"], "21");
    assert_eq!(got[0].numbers["extra"], "4500.00");
    // Exactly 1.5 times fires; a paisa more on weekdays does not.
    assert_eq!(weekend_user(1_400_000).rule("weekend_spike")[0].numbers["ratio"], "1.5");
    assert_eq!(weekend_user(1_400_001).rule("weekend_spike"), vec![]);
    let strict = weekend_user(1_050_000).tips_with(&shipped_with("weekend_spike", "min_ratio_percent", "201"));
    assert!(strict.iter().all(|t| t.rule != "weekend_spike"));
}

fn night_user() -> User {
    let mut u = User::default();
    u.spend_at(local(date(2026, 11, 2), 23, 30), 120_000, "food_dining");
    // Nov 1 01:30 in Kolkata; still October 31 in UTC.
    u.spend_at("2026-10-31T20:00:00Z".parse().unwrap(), 80_000, "transport");
    u.spend_at(local(date(2026, 11, 3), 3, 59), 50_000, "food_dining");
    u.spend_at(local(date(2026, 11, 4), 4, 0), 70_000, "food_dining"); // end is exclusive
    u.spend_at(local(date(2026, 11, 5), 21, 59), 40_000, "food_dining");
    u.spend(date(2026, 11, 6), 640_000, "shopping");
    u
}

#[test]
fn late_night_counts_local_hours_across_midnight() {
    let got = night_user().rule("late_night");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].message,
        "3 purchases between 22:00 and 04:00 came to 2,500.00, 25.0% of your spending this month."
    );
    assert_eq!((got[0].kind, got[0].impact_minor), (TipKind::LateNight, 250_000));
    assert_eq!(got[0].numbers["total"], "10000.00");
    let t = night_user().tips_with(&shipped_with("late_night", "min_share_percent", "26"));
    assert!(t.iter().all(|t| t.rule != "late_night"));
    // A window that does not wrap: 21:00 to 23:00 holds only the 21:59 purchase.
    let t = night_user().tips_with(&TipRules::from_toml(
        "[[rules]]\nid = \"evening\"\nkind = \"late_night\"\nstart_hour = 21\nend_hour = 23\nmin_share_percent = 1\n\
         message = \"{count} {amount} {start}-{end}\"",
    )
    .unwrap());
    assert_eq!(t[0].message, "1 400.00 21:00-23:00");
}

#[test]
fn savings_rate_below_above_and_negative() {
    let mut u = User::default();
    u.earn(date(2026, 11, 1), 5_000_000);
    u.spend(date(2026, 11, 2), 4_500_000, "shopping");
    u.earn(date(2026, 10, 1), 9_000_000); // last month: ignored
    let got = u.rule("savings_rate");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].message,
        "You saved 10.0% of your 50,000.00 income this month (5,000.00); saving 20% means spending 5,000.00 less."
    );
    assert_eq!((got[0].kind, got[0].impact_minor), (TipKind::SavingsRate, 500_000));
    assert_eq!(got[0].numbers["target_amount"], "10000.00");
    assert!(!got[0].numbers.contains_key("surplus"));

    let mut above = User::default();
    above.earn(date(2026, 11, 1), 5_000_000);
    above.spend(date(2026, 11, 2), 3_000_000, "shopping");
    let got = above.rule("savings_rate");
    assert_eq!(got[0].message, "You saved 40.0% of your income this month (20,000.00), above your 20% target.");
    assert_eq!((got[0].impact_minor, got[0].numbers["surplus"].as_str()), (0, "10000.00"));
    // Without message_above the positive note is not given.
    let quiet = TipRules::from_toml(
        "[[rules]]\nid = \"s\"\nkind = \"savings_rate\"\ntarget_percent = 20\nmessage = \"{rate}\"",
    )
    .unwrap();
    assert_eq!(above.tips_with(&quiet), vec![]);

    let mut negative = User::default();
    negative.earn(date(2026, 11, 1), 5_000_000);
    negative.spend(date(2026, 11, 2), 6_000_000, "shopping");
    let got = negative.rule("savings_rate");
    assert_eq!(
        got[0].message,
        "You saved -20.0% of your 50,000.00 income this month (-10,000.00); saving 20% means spending 20,000.00 less."
    );
    // No income, no tip.
    let mut none = User::default();
    none.spend(date(2026, 11, 2), 100_000, "shopping");
    assert_eq!(none.rule("savings_rate"), vec![]);
}

#[test]
fn rising_three_needs_three_increases() {
    let mut u = User::default();
    // Aug 1 00:30 in Kolkata counts; Jul 31 23:30 there is before the four periods.
    u.spend_at("2026-07-31T19:00:00Z".parse().unwrap(), 100_000, "food_dining");
    u.spend_at("2026-07-31T18:00:00Z".parse().unwrap(), 900_000, "food_dining");
    u.spend(date(2026, 9, 10), 140_000, "food_dining");
    u.spend(date(2026, 10, 10), 190_000, "food_dining");
    u.spend(date(2026, 11, 10), 260_000, "food_dining");
    // Groceries dip in October.
    for (m, a) in [(8, 100_000), (9, 140_000), (10, 130_000), (11, 260_000)] {
        u.spend(date(2026, m, 12), a, "groceries");
    }
    let got = u.rule("rising_three");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0].message,
        "Food & dining has risen three months in a row: 1,000.00 → 1,400.00 → 1,900.00 → 2,600.00."
    );
    assert_eq!((got[0].kind, got[0].impact_minor), (TipKind::RisingThree, 160_000));
    assert_eq!(got[0].numbers["amounts"], "1000.00 → 1400.00 → 1900.00 → 2600.00");
    assert_eq!(got[0].numbers["growth"], "160.0");
    // Steps of 40.0%, 35.7% and 36.8%: a 36% minimum step stops it.
    let t = u.tips_with(&shipped_with("rising_three", "min_step_percent", "36"));
    assert!(t.iter().all(|t| t.rule != "rising_three"));
}

#[test]
fn tips_are_ranked_by_impact_then_rule_id() {
    let mut u = share_user();
    u.recurring = subscribed_user().recurring;
    u.earn(date(2026, 11, 1), 2_000_000); // saved 4,000.00: exactly the 20% target
    let got: Vec<(String, i64)> = u.tips().into_iter().map(|t| (t.rule, t.impact_minor)).collect();
    let want = [
        ("total_growth", 600_000),
        ("category_growth", 404_000),
        ("late_night", 208_000), // the Nov 1 01:30 dinner
        ("category_share", 144_000),
        ("subscriptions", 102_192),
        ("savings_rate", 0),
    ];
    assert_eq!(got, want.map(|(r, i)| (r.to_owned(), i)));
    // Equal impact: by rule id.
    let twins = TipRules::from_toml(
        "[[rules]]\nid = \"zeta\"\nkind = \"growth\"\nscope = \"total\"\nmessage = \"z {growth}\"\n\
         [[rules]]\nid = \"alpha\"\nkind = \"growth\"\nscope = \"total\"\nmessage = \"a {growth}\"\n",
    )
    .unwrap();
    let ids: Vec<String> = u.tips_with(&twins).into_iter().map(|t| t.rule).collect();
    assert_eq!(ids, ["alpha", "zeta"]);
    // Input order does not matter.
    let mut reversed = share_user();
    reversed.recurring = subscribed_user().recurring;
    reversed.earn(date(2026, 11, 1), 2_000_000);
    reversed.entries.reverse();
    reversed.recurring.reverse();
    assert_eq!(reversed.tips(), u.tips());
}

#[test]
fn a_disabled_rule_does_not_fire() {
    let rules = shipped_with("total_growth", "enabled", "false");
    let got = share_user().tips_with(&rules);
    assert!(got.iter().all(|t| t.rule != "total_growth"));
    assert!(got.iter().any(|t| t.rule == "category_growth"));
    assert!(!rules.rules().iter().find(|r| r.id == "total_growth").unwrap().enabled);
}

#[test]
fn every_fired_tip_fills_its_placeholders() {
    // A rule per kind whose message uses every placeholder it may.
    let mut text = String::new();
    for kind in TipKind::ALL {
        let names: Vec<&str> = kind
            .placeholders()
            .iter()
            .copied()
            .filter(|p| !(kind == TipKind::SavingsRate && *p == "surplus"))
            .collect();
        let msg = names.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join("|");
        let extra = match kind {
            TipKind::CategoryShare => "min_share_percent = 1\n",
            TipKind::Growth => "min_growth_percent = 1\n",
            TipKind::Recurring => "min_count = 1\n",
            TipKind::SmallFrequent => "min_count = 1\nmax_amount = 100000\n",
            TipKind::WeekendSpike => "min_ratio_percent = 101\n",
            TipKind::LateNight => "min_share_percent = 1\n",
            TipKind::SavingsRate => "target_percent = 100\n",
            TipKind::RisingThree => "min_step_percent = 0\n",
        };
        text.push_str(&format!("[[rules]]\nid = \"{kind}\"\nkind = \"{kind}\"\n{extra}message = \"{msg}\"\n"));
    }
    let rules = TipRules::from_toml(&text).unwrap();
    let mut u = share_user();
    u.recurring = subscribed_user().recurring;
    u.earn(date(2026, 11, 1), 2_000_000);
    u.spend_at(local(date(2026, 11, 7), 23, 0), 900_000, "food_dining"); // a late Saturday
    for (m, a) in [(8, 10_000), (9, 20_000), (10, 30_000), (11, 40_000)] {
        u.spend(date(2026, m, 16), a, "health");
    }
    let got = u.tips_with(&rules);
    let kinds: std::collections::BTreeSet<TipKind> = got.iter().map(|t| t.kind).collect();
    assert_eq!(kinds.len(), TipKind::ALL.len(), "{got:#?}");
    for t in &got {
        assert!(!t.message.contains('{'), "{}: {}", t.rule, t.message);
        for key in t.numbers.keys() {
            assert!(t.kind.placeholders().contains(&key.as_str()), "{} has {key}", t.rule);
        }
    }
}

#[test]
fn shipped_rules_parse_and_are_documented() {
    let rules = TipRules::shipped();
    let ids: Vec<&str> = rules.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "category_share",
            "category_growth",
            "total_growth",
            "subscriptions",
            "small_purchases",
            "weekend_spike",
            "late_night",
            "savings_rate",
            "rising_three"
        ]
    );
    assert!(rules.rules().iter().all(|r| r.enabled));
    let kinds: std::collections::BTreeSet<TipKind> = rules.rules().iter().map(|r| r.kind()).collect();
    assert_eq!(kinds.len(), TipKind::ALL.len());
    // The file on disk is the one compiled in.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/tips.toml");
    assert_eq!(&TipRules::load(&path).unwrap(), rules);
}

fn problems(text: &str) -> Vec<String> {
    match TipRules::from_toml(text) {
        Err(TipsError::Invalid(p)) => p,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn bad_config_names_the_key() {
    let rule =
        |body: &str| format!("[[rules]]\nid = \"ok\"\nkind = \"category_share\"\nmessage = \"{{share}}\"\n{body}");
    assert_eq!(
        problems(&rule("min_share_percent = 0")),
        ["rules[0].min_share_percent: must be between 1 and 100, got 0"]
    );
    assert_eq!(problems(&rule("min_amount = \"500\"")), ["rules[0].min_amount: expected an integer, got string"]);
    assert_eq!(
        problems(&rule("min_shar_percent = 30")),
        ["rules[0].min_shar_percent: unknown key for kind category_share"]
    );
    assert_eq!(problems(&rule("enabled = \"no\"")), ["rules[0].enabled: expected true or false, got string"]);
    let p = problems("[[rules]]\nid = \"ok\"\nkind = \"category_share\"\nmessage = \"{categroy} {share}\"");
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with("rules[0].message: unknown placeholder {categroy} for kind category_share; known: "),
        "{p:?}"
    );
    let p = problems(
        "[[rules]]\nid = \"a\"\nkind = \"growth\"\nmessage = \"{growth}\"\n\
         [[rules]]\nid = \"b\"\nkind = \"bananas\"\nmessage = \"x\"\n\
         [[rules]]\nid = \"c\"\nkind = \"growth\"\nscope = \"total\"\nmessage = \"{category}\"\n\
         [[rules]]\nid = \"a\"\nkind = \"late_night\"\nstart_hour = 3\nend_hour = 3\nmessage = \"x\"\n\
         [[rules]]\nid = \"Bad Id\"\nkind = \"weekend_spike\"\nmin_ratio_percent = 100\n\
         [[rules]]\nid = \"s\"\nkind = \"savings_rate\"\nmessage = \"{surplus}\"\nmessage_above = \"{shortfall\"\n",
    );
    assert!(p[0].starts_with("rules[1].kind: unknown kind 'bananas'; expected one of category_share, growth"), "{p:?}");
    assert!(p[1].starts_with("rules[2].message: unknown placeholder {category} for kind growth"), "{p:?}");
    assert_eq!(p[2], "rules[3].end_hour: must differ from start_hour (3)");
    assert_eq!(p[3], "rules[3].id: duplicate id 'a'");
    assert_eq!(p[4], "rules[4].id: 'Bad Id' must match [a-z][a-z0-9_]*");
    assert_eq!(p[5], "rules[4].min_ratio_percent: must be between 101 and 100000, got 100");
    assert_eq!(p[6], "rules[4].message: missing; expected a text with {placeholders}");
    assert!(p[7].starts_with("rules[5].message: unknown placeholder {surplus} for kind savings_rate"), "{p:?}");
    assert!(p[8].starts_with("rules[5].message_above: unclosed '{'"), "{p:?}");
    assert_eq!(p.len(), 9, "{p:#?}");
    assert_eq!(
        problems("[[rule]]\nid = \"x\""),
        [
            "rule: unknown key; rules are [[rules]] tables, thresholds of recurring charges [recurring]",
            "rules: missing; expected [[rules]] tables"
        ]
    );
    let p =
        problems("[recurring]\nmin_ocurrences = 2\n[[rules]]\nid = \"x\"\nkind = \"growth\"\nmessage = \"{growth}\"");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("recurring: unknown field `min_ocurrences`"), "{p:?}");
    let r = TipRules::from_toml(
        "[recurring]\nmin_occurrences = 4\n[[rules]]\nid = \"x\"\nkind = \"growth\"\nmessage = \"{growth}\"",
    )
    .unwrap();
    assert_eq!(r.recurring().min_occurrences, 4);
    assert_eq!(r.recurring().amount_tolerance_pct, 20, "unset keys keep their defaults");
    assert!(matches!(TipRules::from_toml("[[rules]\n"), Err(TipsError::Toml(_))));
    let missing = TipRules::load(std::path::Path::new("/nonexistent/tips.toml")).unwrap_err();
    assert!(missing.to_string().starts_with("cannot read /nonexistent/tips.toml: "), "{missing}");
    // The error message joins every problem.
    let e = TipRules::from_toml(&rule("min_share_percent = 101")).unwrap_err();
    assert_eq!(e.to_string(), "invalid tips config: rules[0].min_share_percent: must be between 1 and 100, got 101");
}

#[test]
fn amounts_are_grouped_in_messages() {
    assert_eq!(format_grouped(inr(), 123_456_789), "1,234,567.89");
    assert_eq!(format_grouped(Currency::parse("JPY").unwrap(), 1_500), "1,500");
    assert_eq!(format_grouped(Currency::parse("KWD").unwrap(), -1_234_567), "-1,234.567");
}
