//! Learned categories, budgets and risk alerts, with controlled time: every
//! instant is written out, nothing depends on today's date.
#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use spendstream_core::insight::{Alert, AlertRule, Budget, BudgetPeriod, Severity};
use spendstream_core::period::WeekStart;
use spendstream_core::ports::{Processed, UserProfile};
use spendstream_core::{
    CategoryId, CategorySource, Config, Currency, Entry, EntryId, EntryKind, Event, Money, ProcessedEntry, SmsOrigin,
    Source, UserId, UserSettings,
};
use spendstream_processors::insight::{Insights, Outcome, UserInsight, default_settings};
use uuid::Uuid;

struct World {
    insights: Insights,
    config: Config,
    user: UserId,
    state: UserInsight,
    seq: u128,
}

fn config() -> Config {
    Config::load(None).unwrap()
}

fn inr() -> Currency {
    Currency::parse("INR").unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

impl World {
    fn new() -> Self {
        Self::with(|_| {})
    }

    fn with(f: impl FnOnce(&mut Config)) -> Self {
        let mut config = config();
        f(&mut config);
        let user = UserId(Uuid::from_u128(7));
        let insights = Insights::from_config(&config).unwrap();
        let settings = UserSettings {
            time_zone: "Asia/Kolkata".into(),
            week_start: WeekStart(jiff::civil::Weekday::Monday),
            currency: inr(),
        };
        let profile = UserProfile { settings: Some(settings), ..UserProfile::default() };
        let state = UserInsight::build(
            user,
            &profile,
            &default_settings(&config),
            [],
            &config.alerts,
            ts("2026-01-01T00:00:00Z"),
        );
        World { insights, config, user, state, seq: 0 }
    }

    fn entry(&mut self, amount: &str, merchant: &str, at: &str) -> Entry {
        self.seq += 1;
        Entry {
            id: EntryId(Uuid::from_u128(1000 + self.seq)),
            user_id: self.user,
            kind: EntryKind::Expense,
            amount: Money { minor: inr().parse_amount(amount).unwrap(), currency: inr() },
            occurred_at: ts(at),
            merchant: Some(merchant.to_owned()),
            note: None,
            user_category: None,
            source: Source::Manual,
            created_at: ts(at),
            origin: None,
        }
    }

    fn send(&mut self, event: Event) -> Outcome {
        self.insights.process(&mut self.state, event, ts("2026-12-01T00:00:00Z"))
    }

    /// Adds an expense and returns (its category, the alerts it raised).
    fn spend(&mut self, amount: &str, merchant: &str, at: &str) -> (ProcessedEntry, Vec<Alert>) {
        let e = self.entry(amount, merchant, at);
        let out = self.send(Event::EntryAdded { entry: e });
        match <[Processed; 1]>::try_from(out.processed) {
            Ok([Processed::Added(p)]) => (p, out.alerts),
            other => panic!("expected an added entry, got {other:?}"),
        }
    }

    fn budget(&mut self, category: Option<&str>, period: BudgetPeriod, start_day: u8, limit: &str, at: &str) -> Budget {
        let b = Budget {
            id: Uuid::from_u128(50 + self.seq),
            user_id: self.user,
            category: category.map(|c| CategoryId(c.into())),
            period,
            start_day,
            limit: Money { minor: inr().parse_amount(limit).unwrap(), currency: inr() },
            updated_at: ts(at),
        };
        self.seq += 1;
        let out = self.send(Event::BudgetSet { budget: b.clone() });
        assert!(out.alerts.is_empty(), "a fresh budget with nothing spent raises nothing");
        b
    }
}

fn rules(alerts: &[Alert]) -> Vec<AlertRule> {
    alerts.iter().map(|a| a.rule).collect()
}

#[test]
fn a_correction_teaches_the_merchant_and_explains_itself() {
    let mut w = World::new();
    let (first, _) = w.spend("320", "Blue Tokai Roasters", "2026-11-02T05:00:00Z");
    assert_ne!(first.category.as_str(), "entertainment");
    let out = w.send(Event::EntryRecategorised {
        user_id: w.user,
        entry_id: first.entry.id,
        category: CategoryId("entertainment".into()),
        apply_to_past: true,
        at: ts("2026-11-03T10:00:00Z"),
        merchant: first.entry.merchant.clone(),
    });
    match out.processed.as_slice() {
        [Processed::Recategorised { learned: Some((reason, rule)), apply_to_past: true, .. }] => {
            assert_eq!(rule.merchant_key, "blue tokai roasters");
            assert!(reason.contains(&first.entry.id.to_string()), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // Later entries from the merchant, spelled another way, follow the correction.
    let (later, _) = w.spend("280", "BLUE TOKAI ROASTERS 0042", "2026-11-05T05:00:00Z");
    assert_eq!(later.category.as_str(), "entertainment");
    assert_eq!(later.category_source, CategorySource::Learned);
    assert!(later.category_reason.contains("learned from your correction"), "{}", later.category_reason);
    // A category the user sets on an entry still wins over the learned rule.
    let mut e = w.entry("100", "Blue Tokai Roasters", "2026-11-06T05:00:00Z");
    e.user_category = Some(CategoryId("groceries".into()));
    match w.send(Event::EntryAdded { entry: e }).processed.as_slice() {
        [Processed::Added(p)] => {
            assert_eq!(p.category.as_str(), "groceries");
            assert_eq!(p.category_source, CategorySource::User);
        }
        other => panic!("{other:?}"),
    }
    // Other merchants are untouched.
    let (other, _) = w.spend("150", "Swiggy", "2026-11-06T06:00:00Z");
    assert_eq!(other.category.as_str(), "food_dining");
    assert_eq!(other.category_source, CategorySource::Rule);
}

#[test]
fn budget_levels_fire_once_each_and_never_repeat() {
    // The pace rule would also fire here (5,500 by the 3rd); it has its own test.
    let mut w = World::with(|c| c.alerts.projected_overspend.enabled = false);
    w.budget(Some("food_dining"), BudgetPeriod::Month, 1, "10000", "2026-11-01T00:00:00Z");
    let (_, a) = w.spend("3000", "Swiggy", "2026-11-02T08:00:00Z");
    assert!(a.is_empty(), "30%: {a:?}");
    let (_, a) = w.spend("2500", "Zomato", "2026-11-03T08:00:00Z");
    assert_eq!(rules(&a), [AlertRule::BudgetThreshold], "55%");
    assert_eq!(a[0].severity, Severity::Info);
    assert_eq!(a[0].numbers["share"], "55.0");
    assert_eq!(a[0].numbers["spent"], "5,500.00");
    assert_eq!(a[0].numbers["left"], "4,500.00");
    assert!(a[0].message.contains("55.0% of your month budget used (5,500.00 of 10,000.00)"), "{}", a[0].message);
    let (_, a) = w.spend("200", "Swiggy", "2026-11-03T09:00:00Z");
    assert!(a.is_empty(), "57%, the 50% level already fired: {a:?}");
    let (_, a) = w.spend("2800", "Swiggy", "2026-11-04T08:00:00Z");
    let levels: Vec<_> = a.iter().filter(|a| a.rule == AlertRule::BudgetThreshold).map(|a| a.severity).collect();
    assert_eq!(levels, [Severity::Warning], "85%: {a:?}");
    let (_, a) = w.spend("2000", "Swiggy", "2026-11-05T08:00:00Z");
    let crit: Vec<_> = a.iter().filter(|a| a.rule == AlertRule::BudgetThreshold).collect();
    assert_eq!(crit.len(), 1, "105%: {a:?}");
    assert_eq!(crit[0].severity, Severity::Critical);
    let (_, a) = w.spend("900", "Swiggy", "2026-11-06T08:00:00Z");
    assert!(a.iter().all(|a| a.rule != AlertRule::BudgetThreshold), "over the top already announced: {a:?}");
    // Spending outside the category does not count.
    let (_, a) = w.spend("9000", "Croma", "2026-11-06T09:00:00Z");
    assert!(a.iter().all(|a| a.rule != AlertRule::BudgetThreshold), "{a:?}");
    // Next month starts afresh.
    let (_, a) = w.spend("6000", "Swiggy", "2026-12-02T08:00:00Z");
    assert_eq!(a.iter().filter(|a| a.rule == AlertRule::BudgetThreshold).count(), 1, "{a:?}");
}

#[test]
fn a_jump_past_several_levels_announces_only_the_highest() {
    let mut w = World::new();
    w.budget(None, BudgetPeriod::Week, 1, "5000", "2026-11-02T00:00:00Z");
    let (_, a) = w.spend("1000", "Swiggy", "2026-11-02T08:00:00Z");
    assert!(a.is_empty());
    let (_, a) = w.spend("4500", "Zomato", "2026-11-03T08:00:00Z");
    let b: Vec<_> = a.iter().filter(|a| a.rule == AlertRule::BudgetThreshold).collect();
    assert_eq!(b.len(), 1, "{a:?}");
    assert_eq!(b[0].numbers["threshold"], "100");
    assert_eq!(b[0].numbers["budget"], "All spending");
    let (_, a) = w.spend("10", "Zomato", "2026-11-03T09:00:00Z");
    assert!(a.iter().all(|a| a.rule != AlertRule::BudgetThreshold), "{a:?}");
}

#[test]
fn a_payday_month_and_the_users_zone_decide_the_period() {
    let mut w = World::new();
    w.budget(Some("groceries"), BudgetPeriod::Month, 25, "4000", "2026-10-20T00:00:00Z");
    // 24 Nov 20:00 UTC is 25 Nov 01:30 in Kolkata: the new budget month.
    let (_, a) = w.spend("1500", "BigBasket", "2026-11-20T06:00:00Z");
    assert!(a.is_empty());
    let (_, a) = w.spend("1000", "BigBasket", "2026-11-24T20:00:00Z");
    assert!(a.is_empty(), "1,000 of a new period is 25%: {a:?}");
    let (_, a) = w.spend("1100", "BigBasket", "2026-11-24T17:00:00Z");
    // 24 Nov 22:30 local: the old period, 1,500 + 1,100 = 65%.
    assert_eq!(rules(&a), [AlertRule::BudgetThreshold], "{a:?}");
    assert_eq!(a[0].numbers["share"], "65.0");
    assert!(a[0].window.starts_with("2026-10-25"), "{}", a[0].window);
}

#[test]
fn pace_projects_an_overspend_once_per_period() {
    let mut w = World::with(|c| c.alerts.budget_threshold.enabled = false);
    w.budget(None, BudgetPeriod::Month, 1, "30000", "2026-11-01T00:00:00Z");
    let (_, a) = w.spend("2000", "Croma", "2026-11-01T06:00:00Z");
    assert!(a.is_empty(), "day 1 is too early to judge: {a:?}");
    let (_, a) = w.spend("3000", "Croma", "2026-11-02T06:00:00Z");
    assert!(a.is_empty(), "{a:?}");
    // Day 5 (Kolkata): 6,000 spent, 1,200 a day, 36,000 by the 30th.
    let (_, a) = w.spend("1000", "Croma", "2026-11-05T06:00:00Z");
    assert_eq!(rules(&a), [AlertRule::ProjectedOverspend], "{a:?}");
    assert_eq!(a[0].numbers["pace"], "1,200.00");
    assert_eq!(a[0].numbers["projected"], "36,000.00");
    assert_eq!(a[0].numbers["over"], "6,000.00");
    let (_, a) = w.spend("1000", "Croma", "2026-11-06T06:00:00Z");
    assert!(a.is_empty(), "{a:?}");
}

#[test]
fn unusual_amounts_compare_with_the_users_own_history() {
    let mut w = World::new();
    for (i, amount) in ["300", "280", "350", "310", "290"].iter().enumerate() {
        let (_, a) = w.spend(amount, "Swiggy", &format!("2026-11-0{}T08:00:00Z", i + 1));
        assert!(a.is_empty(), "{a:?}");
    }
    let (_, a) = w.spend("800", "Swiggy", "2026-11-07T08:00:00Z");
    assert!(a.is_empty(), "2.7x is below 3x: {a:?}");
    let (_, a) = w.spend("1240", "Zomato", "2026-11-08T08:00:00Z");
    assert_eq!(rules(&a), [AlertRule::UnusualAmount], "{a:?}");
    // The median of the last six (280 290 300 310 350 800) is 310.
    assert_eq!(a[0].numbers["usual"], "310.00");
    assert_eq!(a[0].numbers["factor"], "4.0");
    assert_eq!(a[0].numbers["category"], "Food & dining");
}

#[test]
fn a_burst_of_payments_fires_once_a_day() {
    let mut w = World::new();
    for i in 0..5 {
        let (_, a) = w.spend("100", "Amazon", &format!("2026-11-10T10:0{i}:00Z"));
        assert!(a.is_empty(), "{i}: {a:?}");
    }
    let (_, a) = w.spend("100", "Amazon", "2026-11-10T10:20:00Z");
    assert_eq!(rules(&a), [AlertRule::Velocity]);
    assert_eq!(a[0].numbers["count"], "6");
    assert_eq!(a[0].numbers["total"], "600.00");
    let (_, a) = w.spend("100", "Amazon", "2026-11-10T10:21:00Z");
    assert!(a.is_empty(), "{a:?}");
    // Spread out payments never fire.
    let mut w = World::new();
    for i in 0..10 {
        let (_, a) = w.spend("100", "Amazon", &format!("2026-11-1{i}T10:00:00Z"));
        assert!(a.is_empty(), "{a:?}");
    }
}

#[test]
fn large_debits_new_merchants_and_low_balances() {
    let mut w = World::new();
    let (_, a) = w.spend("900", "Croma", "2026-11-01T08:00:00Z");
    assert!(a.is_empty());
    let (_, a) = w.spend("30000", "Croma", "2026-11-02T08:00:00Z");
    assert_eq!(rules(&a), [AlertRule::LargeDebit], "known merchant: {a:?}");
    let (_, a) = w.spend("7000", "Vijay Sales", "2026-11-03T08:00:00Z");
    assert_eq!(rules(&a), [AlertRule::NewMerchantLarge], "{a:?}");
    assert_eq!(a[0].message, "First payment to Vijay Sales, and a large one: 7,000.00.");
    let (_, a) = w.spend("7000", "Vijay Sales", "2026-11-04T08:00:00Z");
    assert!(a.is_empty(), "no longer new: {a:?}");

    let mut e = w.entry("500", "Zepto", "2026-11-05T08:00:00Z");
    e.source = Source::Sms;
    e.origin = Some(Box::new(SmsOrigin {
        sms_id: Uuid::from_u128(9),
        sender: "VM-HDFCBK".into(),
        text: "Rs.500 debited".into(),
        received_at: ts("2026-11-05T08:00:00Z"),
        account_last4: Some("1234".into()),
        reference: None,
        channel: "upi".into(),
        balance_minor: Some(150_000),
    }));
    let out = w.send(Event::EntryAdded { entry: e });
    assert_eq!(rules(&out.alerts), [AlertRule::LowBalance], "{:?}", out.alerts);
    assert_eq!(out.alerts[0].message, "Account 1234 is down to 1,500.00, below 2,000.00.");
}

#[test]
fn old_entries_imported_late_raise_nothing() {
    let mut w = World::new();
    let mut e = w.entry("90000", "Unknown Jeweller", "2026-06-01T08:00:00Z");
    e.created_at = ts("2026-11-20T08:00:00Z");
    let out = w.send(Event::EntryAdded { entry: e });
    assert!(out.alerts.is_empty(), "{:?}", out.alerts);
}

/// A replay (fresh state over the same events) gives the same alert ids, and
/// state rebuilt from a store that holds those alerts raises none again.
#[test]
fn replays_raise_the_same_ids_and_never_twice() {
    let run = || {
        let mut w = World::new();
        w.budget(Some("food_dining"), BudgetPeriod::Month, 1, "1000", "2026-11-01T00:00:00Z");
        let mut all = Vec::new();
        let mut entries = Vec::new();
        for (amount, day) in [("400", 2), ("300", 3), ("400", 4), ("50000", 5)] {
            let (p, a) = w.spend(amount, "Swiggy", &format!("2026-11-0{day}T08:00:00Z"));
            entries.push(p);
            all.extend(a);
        }
        (w, all, entries)
    };
    let (w, first, entries) = run();
    let (_, second, _) = run();
    assert!(first.len() >= 3, "{first:?}");
    let ids = |v: &[Alert]| v.iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&second));

    // Rebuild from what a store would hold and send the last entry again (a redelivery).
    let profile = UserProfile {
        settings: Some(UserSettings {
            time_zone: "Asia/Kolkata".into(),
            week_start: WeekStart(jiff::civil::Weekday::Monday),
            currency: inr(),
        }),
        learned: vec![],
        budgets: w.state.budgets().cloned().collect(),
        alerts: first.clone(),
        bills: vec![],
    };
    let mut state = UserInsight::build(
        w.user,
        &profile,
        &default_settings(&w.config),
        entries[..3].iter(),
        &w.config.alerts,
        ts("2026-11-30T00:00:00Z"),
    );
    let again = w.insights.process(
        &mut state,
        Event::EntryAdded { entry: entries[3].entry.clone() },
        ts("2026-12-01T00:00:00Z"),
    );
    assert!(again.alerts.is_empty(), "{:?}", again.alerts);
}

#[test]
fn bills_due_soon_are_announced_once() {
    use spendstream_core::inbox::{Bill, BillStatus};
    let mut w = World::new();
    let user = w.user;
    let bill = |due: &str| Bill {
        id: Uuid::from_u128(77),
        user_id: user,
        sender: "VM-HDFCBK".into(),
        account_last4: Some("7712".into()),
        currency: "INR".into(),
        amount_due_minor: 1_845_000,
        min_due_minor: Some(92_000),
        due_date: Some(due.parse().unwrap()),
        status: BillStatus::Due,
        paid_by: None,
        paid_at: None,
        sms_id: Uuid::from_u128(78),
        received_at: ts("2025-02-20T04:00:00Z"),
    };
    let far = bill("2025-03-15");
    let out = w.send(Event::BillReminder { bill: far, reminded_at: ts("2025-02-20T04:00:00Z") });
    assert!(out.alerts.is_empty(), "due in 23 days: {:?}", out.alerts);
    let soon = bill("2025-03-05");
    let out = w.send(Event::BillReminder { bill: soon.clone(), reminded_at: ts("2025-03-01T04:00:00Z") });
    assert_eq!(rules(&out.alerts), [AlertRule::BillDue]);
    assert_eq!(
        out.alerts[0].message,
        "Card / account 7712 bill of 18,450.00 is due on 2025-03-05, in 4 days (minimum 920.00)."
    );
    let out = w.send(Event::BillReminder { bill: soon, reminded_at: ts("2025-03-02T04:00:00Z") });
    assert!(out.alerts.is_empty(), "a second reminder of the same bill: {:?}", out.alerts);
}

#[test]
fn a_budget_set_after_spending_says_where_it_stands() {
    let mut w = World::with(|c| c.alerts.projected_overspend.enabled = false);
    w.spend("4200", "Swiggy", "2026-11-03T08:00:00Z");
    let b = Budget {
        id: Uuid::from_u128(99),
        user_id: w.user,
        category: Some(CategoryId("food_dining".into())),
        period: BudgetPeriod::Month,
        start_day: 1,
        limit: Money { minor: inr().parse_amount("5000").unwrap(), currency: inr() },
        updated_at: ts("2026-11-10T08:00:00Z"),
    };
    let out = w.send(Event::BudgetSet { budget: b.clone() });
    assert_eq!(rules(&out.alerts), [AlertRule::BudgetThreshold], "{:?}", out.alerts);
    assert_eq!(out.alerts[0].numbers["threshold"], "80");
    // Raising the limit does not announce the lower level afterwards.
    let raised = Budget { limit: Money { minor: inr().parse_amount("8000").unwrap(), currency: inr() }, ..b };
    let out = w.send(Event::BudgetSet { budget: raised });
    assert!(out.alerts.is_empty(), "{:?}", out.alerts);
}

#[test]
fn a_bill_reminded_early_is_announced_when_a_later_entry_comes_near_the_due_date() {
    use spendstream_core::inbox::{Bill, BillStatus};
    let mut w = World::new();
    let user = w.user;
    let bill = |id: u128| Bill {
        id: Uuid::from_u128(id),
        user_id: user,
        sender: "AD-ICICIB".into(),
        account_last4: Some("4004".into()),
        currency: "INR".into(),
        amount_due_minor: 500_000,
        min_due_minor: None,
        due_date: Some("2026-11-25".parse().unwrap()),
        status: BillStatus::Due,
        paid_by: None,
        paid_at: None,
        sms_id: Uuid::from_u128(id + 1),
        received_at: ts("2026-11-02T04:00:00Z"),
    };
    let (early, paid) = (bill(80), bill(90));
    for b in [&early, &paid] {
        let out = w.send(Event::BillReminder { bill: b.clone(), reminded_at: ts("2026-11-02T04:00:00Z") });
        assert!(out.alerts.is_empty(), "23 days ahead: {:?}", out.alerts);
        assert!(matches!(out.processed.as_slice(), [Processed::Bill(_)]), "the store keeps it for later");
    }
    let out = w.send(Event::BillsSettled { user_id: w.user, bill_ids: vec![paid.id], entry_id: EntryId(Uuid::nil()) });
    assert!(matches!(out.processed.as_slice(), [Processed::BillsSettled { .. }]));
    let (_, a) = w.spend("100", "Chai Point", "2026-11-10T04:00:00Z");
    assert!(a.is_empty(), "15 days ahead: {a:?}");
    let (_, a) = w.spend("100", "Chai Point", "2026-11-21T04:00:00Z");
    assert_eq!(rules(&a), [AlertRule::BillDue], "4 days ahead, the paid bill stays quiet: {a:?}");
    assert_eq!(a[0].subject, early.id.to_string());
    let (_, a) = w.spend("100", "Chai Point", "2026-11-22T04:00:00Z");
    assert!(a.is_empty(), "once: {a:?}");
}

#[test]
fn an_import_record_is_processed_as_its_entries_one_by_one() {
    let spends = [
        ("3000", "Swiggy", "2026-11-02T08:00:00Z"),
        ("2500", "Zomato", "2026-11-03T08:00:00Z"),
        ("450", "Uber", "2026-11-03T09:00:00Z"),
        ("2800", "Swiggy", "2026-11-04T08:00:00Z"),
        ("2000", "Swiggy", "2026-11-05T08:00:00Z"),
    ];
    let (mut alone, mut imported) = (World::new(), World::new());
    for w in [&mut alone, &mut imported] {
        w.budget(Some("food_dining"), BudgetPeriod::Month, 1, "10000", "2026-11-01T00:00:00Z");
    }
    let entries: Vec<Entry> = spends.iter().map(|(a, m, t)| imported.entry(a, m, t)).collect();
    let mut want = Outcome::default();
    for e in &entries {
        let o = alone.send(Event::EntryAdded { entry: e.clone() });
        want.processed.extend(o.processed);
        want.alerts.extend(o.alerts);
    }
    assert!(!want.alerts.is_empty(), "the spends cross budget levels");
    let got = imported.send(Event::EntriesAdded { user_id: imported.user, entries });
    assert_eq!(got.processed, want.processed);
    assert_eq!(got.alerts, want.alerts);
}
