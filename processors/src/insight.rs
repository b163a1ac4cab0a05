//! Per-user processing state: learned category rules, budgets, and the
//! figures the risk alerts need (recent daily spend, per-category history,
//! known merchants, recent payment times).
//!
//! [`Insights::process`] turns one log event into the store change and the
//! alerts it raises. It reads no clock: windows are cut by event time in the
//! user's zone, and "is this entry recent enough to alert on" compares the
//! entry's `occurred_at` with its `created_at` (when the API accepted it), so a
//! replay computes the same alerts with the same ids.
//!
//! A [`UserInsight`] is built from what the store holds ([`UserInsight::build`])
//! the first time a runner sees the user, then kept up to date event by event.

use crate::categorise::{CategoriseInput, Categoriser};
use crate::tips::format_grouped;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use spendstream_core::Config;
use spendstream_core::categories::category_name;
use spendstream_core::config::{AlertsConfig, ThresholdRule};
use spendstream_core::inbox::{Bill, BillStatus};
use spendstream_core::insight::{Alert, AlertRule, Budget, LearnedRule, Severity, best_rule, merchant_key, render};
use spendstream_core::period::{DateRange, WeekStart, days_between, local_date, parse_time_zone};
use spendstream_core::ports::{Processed, UserProfile};
use spendstream_core::report::percent;
use spendstream_core::{
    CategoryDef, CategoryId, CategorySource, Currency, Entry, EntryId, EntryKind, Event, ProcessedEntry, UserId,
    UserSettings,
};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use uuid::Uuid;

/// What one user's insight state remembers of an expense.
#[derive(Debug, Clone)]
struct Tracked {
    occurred_at: Timestamp,
    date: Date,
    category: CategoryId,
    currency: Currency,
    amount: i64,
    merchant_key: String,
    source: CategorySource,
}

/// One user's processing state. Build it with [`UserInsight::build`].
#[derive(Debug)]
pub struct UserInsight {
    user: UserId,
    tz: TimeZone,
    week_start: WeekStart,
    learned: HashMap<String, LearnedRule>,
    budgets: BTreeMap<Uuid, Budget>,
    /// Expenses inside the kept window, by id.
    tracked: HashMap<EntryId, Tracked>,
    /// Expense sums per local day, category and currency.
    days: BTreeMap<Date, HashMap<(CategoryId, Currency), i64>>,
    /// Latest expense amounts per category and currency, oldest first.
    history: HashMap<(CategoryId, Currency), VecDeque<i64>>,
    merchants: HashSet<String>,
    /// Recent expenses by event time, for the velocity rule.
    recent: BTreeMap<(Timestamp, EntryId), (i64, Currency)>,
    /// Bills due, by id.
    bills: BTreeMap<Uuid, Bill>,
    fired: HashSet<Uuid>,
}

impl UserInsight {
    /// State for `user` from the store's profile and live entries (any order;
    /// only the last `alerts.window_days` before `now` are kept).
    pub fn build<'a>(
        user: UserId,
        profile: &UserProfile,
        defaults: &UserSettings,
        entries: impl IntoIterator<Item = &'a ProcessedEntry>,
        cfg: &AlertsConfig,
        now: Timestamp,
    ) -> Self {
        let settings = profile.settings.as_ref().unwrap_or(defaults);
        let mut s = UserInsight {
            user,
            tz: parse_time_zone(&settings.time_zone).unwrap_or(TimeZone::UTC),
            week_start: settings.week_start,
            learned: profile.learned.iter().map(|r| (r.merchant_key.clone(), r.clone())).collect(),
            budgets: profile.budgets.iter().map(|b| (b.id, b.clone())).collect(),
            tracked: HashMap::new(),
            days: BTreeMap::new(),
            history: HashMap::new(),
            merchants: HashSet::new(),
            recent: BTreeMap::new(),
            bills: profile.bills.iter().map(|b| (b.id, b.clone())).collect(),
            fired: profile.alerts.iter().map(|a| a.id).collect(),
        };
        let since = now.checked_sub(SignedDuration::from_hours(24 * cfg.window_days)).unwrap_or(Timestamp::MIN);
        let mut kept: Vec<&ProcessedEntry> = entries
            .into_iter()
            .filter(|e| e.entry.occurred_at >= since && e.entry.kind == EntryKind::Expense)
            .collect();
        kept.sort_by_key(|e| (e.entry.occurred_at, e.entry.id));
        for e in kept {
            s.track(e, e.entry.merchant.as_deref().map(merchant_key).unwrap_or_default(), cfg);
        }
        s
    }

    /// Budgets in force.
    pub fn budgets(&self) -> impl Iterator<Item = &Budget> {
        self.budgets.values()
    }

    /// Remembers an expense; `key` is [`merchant_key`] of its merchant.
    fn track(&mut self, e: &ProcessedEntry, key: String, cfg: &AlertsConfig) {
        if e.entry.kind != EntryKind::Expense || self.tracked.contains_key(&e.entry.id) {
            return;
        }
        let t = Tracked {
            occurred_at: e.entry.occurred_at,
            date: local_date(e.entry.occurred_at, &self.tz),
            category: e.category.clone(),
            currency: e.entry.amount.currency,
            amount: e.entry.amount.minor,
            merchant_key: key,
            source: e.category_source,
        };
        self.add_day(&t, 1);
        let h = self.history.entry((t.category.clone(), t.currency)).or_default();
        h.push_back(t.amount);
        while h.len() > cfg.history_size {
            h.pop_front();
        }
        if !t.merchant_key.is_empty() {
            self.merchants.insert(t.merchant_key.clone());
        }
        self.recent.insert((e.entry.occurred_at, e.entry.id), (t.amount, t.currency));
        // Keep two windows back from the latest payment, and never more than a
        // few times the count that fires: a user posting thousands a second
        // costs the same as one posting ten.
        let horizon = SignedDuration::from_mins(cfg.velocity.window_minutes.max(1) * 2);
        let cap = (cfg.velocity.count * 4).max(64);
        let cut = self.recent.last_key_value().map(|((t, _), _)| t.checked_sub(horizon).unwrap_or(Timestamp::MIN));
        while let Some(((first, _), _)) = self.recent.first_key_value() {
            if self.recent.len() > cap || cut.is_some_and(|c| *first < c) {
                self.recent.pop_first();
            } else {
                break;
            }
        }
        self.tracked.insert(e.entry.id, t);
    }

    fn add_day(&mut self, t: &Tracked, sign: i64) {
        let day = self.days.entry(t.date).or_default();
        let cell = day.entry((t.category.clone(), t.currency)).or_default();
        *cell += sign * t.amount;
        if *cell == 0 {
            day.remove(&(t.category.clone(), t.currency));
        }
        if day.is_empty() {
            self.days.remove(&t.date);
        }
    }

    fn untrack(&mut self, id: EntryId) {
        if let Some(t) = self.tracked.remove(&id) {
            self.add_day(&t, -1);
            self.recent.remove(&(t.occurred_at, id));
        }
    }

    fn recategorise(&mut self, id: EntryId, category: &CategoryId, source: CategorySource) {
        if let Some(mut t) = self.tracked.remove(&id) {
            self.add_day(&t, -1);
            t.category = category.clone();
            t.source = source;
            self.add_day(&t, 1);
            self.tracked.insert(id, t);
        }
    }

    /// Expenses in `currency` counted by `budget` over local dates `range`.
    fn spent(&self, budget: &Budget, range: DateRange) -> i64 {
        self.days
            .range(range.start..range.end)
            .flat_map(|(_, cells)| cells.iter())
            .filter(|((c, cur), _)| *cur == budget.limit.currency && budget.covers(c))
            .map(|(_, v)| *v)
            .sum()
    }

    fn set_settings(&mut self, settings: &UserSettings) {
        let tz = parse_time_zone(&settings.time_zone).unwrap_or(TimeZone::UTC);
        self.week_start = settings.week_start;
        if tz == self.tz {
            return;
        }
        self.tz = tz;
        // Re-cut the days in the new zone from the remembered instants.
        self.days.clear();
        let tz = self.tz.clone();
        for t in self.tracked.values_mut() {
            t.date = local_date(t.occurred_at, &tz);
        }
        let all: Vec<Tracked> = self.tracked.values().cloned().collect();
        for t in &all {
            self.add_day(t, 1);
        }
    }
}

/// The settings of a user who never changed them: `[defaults]`.
pub fn default_settings(config: &Config) -> UserSettings {
    let d = &config.defaults;
    UserSettings { time_zone: d.time_zone.clone(), week_start: d.week_start, currency: d.currency }
}

/// The learned rule's explanation shown on entries it categorised.
pub fn learned_reason(rule: &LearnedRule) -> String {
    format!(
        "learned from your correction of entry {} on {}: '{}' is {}",
        rule.from_entry,
        rule.learned_at.strftime("%Y-%m-%d"),
        rule.merchant_key,
        rule.category
    )
}

/// Categorisation plus risk alerts, driven by config.
pub struct Insights {
    categoriser: Arc<Categoriser>,
    alerts: AlertsConfig,
    categories: Vec<CategoryDef>,
}

/// What one event turned into.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The store changes, in order (one per entry of an `EntriesAdded`).
    pub processed: Vec<Processed>,
    /// Alerts raised, new for this user.
    pub alerts: Vec<Alert>,
}

impl Insights {
    /// The engine `config` describes (categories and `[alerts]`).
    pub fn from_config(config: &Config) -> Result<Self, crate::categorise::CategoriseError> {
        let categoriser = Arc::new(Categoriser::new(&config.categories)?);
        Ok(Insights::new(categoriser, config.alerts.clone(), &config.categories))
    }

    /// An engine with the category rules, the alert rules and the category names.
    pub fn new(categoriser: Arc<Categoriser>, alerts: AlertsConfig, categories: &[CategoryDef]) -> Self {
        Insights { categoriser, alerts, categories: categories.to_vec() }
    }

    /// The alert rules.
    pub fn config(&self) -> &AlertsConfig {
        &self.alerts
    }

    /// A new entry of `state`'s user: categorised, checked against the alert
    /// rules, then tracked; the results go to `out`.
    fn add(&self, state: &mut UserInsight, entry: Entry, raised_at: Timestamp, out: &mut Outcome) {
        let key = entry.merchant.as_deref().map(merchant_key).unwrap_or_default();
        let processed = self.categorise(state, entry, &key);
        out.alerts.extend(self.on_entry(state, &processed, &key, raised_at));
        state.track(&processed, key, &self.alerts);
        out.processed.push(Processed::Added(processed));
    }

    /// Processes one event of `state`'s user; `raised_at` stamps new alerts.
    pub fn process(&self, state: &mut UserInsight, event: Event, raised_at: Timestamp) -> Outcome {
        match event {
            Event::EntryAdded { entry } => {
                let mut out = Outcome::default();
                self.add(state, entry, raised_at, &mut out);
                out
            }
            Event::EntriesAdded { entries, .. } => {
                let mut out = Outcome { processed: Vec::with_capacity(entries.len()), alerts: Vec::new() };
                for entry in entries {
                    self.add(state, entry, raised_at, &mut out);
                }
                out
            }
            Event::EntryRemoved { user_id, entry_id, removed_at } => {
                state.untrack(entry_id);
                Outcome { processed: vec![Processed::Removed { user_id, entry_id, removed_at }], alerts: vec![] }
            }
            Event::SettingsChanged { user_id, settings } => {
                state.set_settings(&settings);
                Outcome { processed: vec![Processed::Settings { user_id, settings }], alerts: vec![] }
            }
            Event::EntryRecategorised { user_id, entry_id, category, apply_to_past, at, merchant } => {
                state.recategorise(entry_id, &category, CategorySource::User);
                let key = merchant.as_deref().map(merchant_key).unwrap_or_default();
                let learned = (!key.is_empty()).then(|| LearnedRule {
                    merchant_key: key.clone(),
                    category: category.clone(),
                    from_entry: entry_id,
                    learned_at: at,
                });
                if let Some(rule) = &learned {
                    state.learned.insert(key.clone(), rule.clone());
                    if apply_to_past {
                        let ids: Vec<EntryId> = state
                            .tracked
                            .iter()
                            .filter(|(id, t)| {
                                **id != entry_id
                                    && t.source != CategorySource::User
                                    && best_rule(state.learned.values(), &t.merchant_key)
                                        .is_some_and(|r| r.merchant_key == key)
                            })
                            .map(|(id, _)| *id)
                            .collect();
                        for id in ids {
                            state.recategorise(id, &category, CategorySource::Learned);
                        }
                    }
                }
                Outcome {
                    processed: vec![Processed::Recategorised {
                        user_id,
                        entry_id,
                        category,
                        learned: learned.map(|r| (learned_reason(&r), r)),
                        apply_to_past,
                    }],
                    alerts: vec![],
                }
            }
            Event::BudgetSet { budget } => {
                state.budgets.insert(budget.id, budget.clone());
                let date = local_date(budget.updated_at, &state.tz);
                let alerts = self.budget_alerts(state, &budget, date, budget.updated_at, None, raised_at);
                Outcome { processed: vec![Processed::BudgetSet(budget)], alerts }
            }
            Event::BudgetRemoved { user_id, budget_id, .. } => {
                state.budgets.remove(&budget_id);
                Outcome { processed: vec![Processed::BudgetRemoved { user_id, budget_id }], alerts: vec![] }
            }
            Event::AlertRaised { alert } => {
                state.fired.insert(alert.id);
                Outcome { processed: vec![Processed::Alert(alert)], alerts: vec![] }
            }
            Event::BillReminder { bill, reminded_at } => {
                if bill.status == BillStatus::Due {
                    state.bills.insert(bill.id, bill.clone());
                } else {
                    state.bills.remove(&bill.id);
                }
                let alerts = self.bill_alert(state, &bill, reminded_at, None, raised_at);
                Outcome { processed: vec![Processed::Bill(bill)], alerts }
            }
            Event::BillsSettled { user_id, bill_ids, .. } => {
                for id in &bill_ids {
                    state.bills.remove(id);
                }
                Outcome { processed: vec![Processed::BillsSettled { user_id, bill_ids }], alerts: vec![] }
            }
            Event::AlertAcknowledged { user_id, alert_id, at } => {
                Outcome { processed: vec![Processed::AlertAcked { user_id, alert_id, at }], alerts: vec![] }
            }
        }
    }

    /// User's choice, then a rule learned from the user's corrections, then config rules.
    fn categorise(&self, state: &UserInsight, entry: Entry, key: &str) -> ProcessedEntry {
        if let Some(c) = &entry.user_category {
            let category = c.clone();
            return ProcessedEntry {
                entry,
                category,
                category_source: CategorySource::User,
                category_reason: "set by the user".to_owned(),
            };
        }
        let learned = (entry.kind == EntryKind::Expense).then(|| best_rule(state.learned.values(), key)).flatten();
        if let Some(rule) = learned {
            return ProcessedEntry {
                category: rule.category.clone(),
                category_source: CategorySource::Learned,
                category_reason: learned_reason(rule),
                entry,
            };
        }
        let got = self.categoriser.categorise(&CategoriseInput {
            merchant: entry.merchant.as_deref(),
            note: entry.note.as_deref(),
            amount_minor: entry.amount.minor,
            currency: Some(entry.amount.currency),
            channel: entry.origin.as_ref().map(|o| o.channel.as_str()),
            is_income: entry.kind == EntryKind::Income,
        });
        ProcessedEntry {
            entry,
            category: got.category,
            category_source: CategorySource::Rule,
            category_reason: got.reason.describe(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fire(
        &self,
        state: &mut UserInsight,
        out: &mut Vec<Alert>,
        rule: AlertRule,
        severity: Severity,
        template: &str,
        (subject, window): (String, String),
        numbers: BTreeMap<String, String>,
        (entry_id, occurred_at, raised_at): (Option<EntryId>, Timestamp, Timestamp),
    ) {
        let id = Alert::id_for(state.user, rule, &subject, &window);
        if !state.fired.insert(id) {
            return;
        }
        out.push(Alert {
            id,
            user_id: state.user,
            rule,
            subject,
            window,
            severity,
            message: render(template, &numbers),
            numbers,
            entry_id,
            occurred_at,
            raised_at,
            acknowledged_at: None,
        });
    }

    /// Alerts an added entry raises, judged against the state before it.
    fn on_entry(&self, state: &mut UserInsight, p: &ProcessedEntry, key: &str, raised_at: Timestamp) -> Vec<Alert> {
        let mut out = Vec::new();
        let e = &p.entry;
        let max_age = SignedDuration::from_hours(24 * self.alerts.max_age_days);
        if e.created_at.duration_since(e.occurred_at) > max_age || state.tracked.contains_key(&e.id) {
            return out;
        }
        let cur = e.amount.currency;
        let money = |m: i64| format_grouped(cur, m);
        let date = local_date(e.occurred_at, &state.tz);
        let when = (Some(e.id), e.occurred_at, raised_at);
        if let Some(o) = &e.origin
            && let (Some(balance), Some(limit)) = (o.balance_minor, rule_threshold(&self.alerts.low_balance, cur))
            && balance < limit
        {
            let account = o.account_last4.clone().unwrap_or_else(|| "account".into());
            let n = nums(&[("account", account.clone()), ("balance", money(balance)), ("threshold", money(limit))]);
            let r = &self.alerts.low_balance;
            self.fire(
                state,
                &mut out,
                AlertRule::LowBalance,
                r.severity,
                &r.message,
                (account, date.to_string()),
                n,
                when,
            );
        }
        // Only bills due within the reminder window (usually none) are copied.
        let near = |b: &&Bill| {
            b.due_date.is_some_and(|d| (0..=self.alerts.bill_due.days_before).contains(&days_between(date, d)))
        };
        let bills: Vec<Bill> = state.bills.values().filter(near).cloned().collect();
        for b in &bills {
            out.extend(self.bill_alert(state, b, e.occurred_at, Some(e.id), raised_at));
        }
        if e.kind != EntryKind::Expense {
            return out;
        }
        let merchant = e.merchant.clone().unwrap_or_else(|| "an unnamed merchant".into());
        let by_entry = (e.id.to_string(), String::new());
        let new_merchant = !key.is_empty() && !state.merchants.contains(key);
        let nm = &self.alerts.new_merchant_large;
        let ld = &self.alerts.large_debit;
        if let Some(limit) = rule_threshold(nm, cur).filter(|l| new_merchant && e.amount.minor >= *l) {
            let n =
                nums(&[("amount", money(e.amount.minor)), ("merchant", merchant.clone()), ("threshold", money(limit))]);
            self.fire(state, &mut out, AlertRule::NewMerchantLarge, nm.severity, &nm.message, by_entry, n, when);
        } else if let Some(limit) = rule_threshold(ld, cur).filter(|l| e.amount.minor >= *l) {
            let n =
                nums(&[("amount", money(e.amount.minor)), ("merchant", merchant.clone()), ("threshold", money(limit))]);
            self.fire(state, &mut out, AlertRule::LargeDebit, ld.severity, &ld.message, by_entry, n, when);
        }
        let ua = &self.alerts.unusual_amount;
        if ua.enabled
            && let Some(h) = state.history.get(&(p.category.clone(), cur))
            && h.len() >= ua.min_history
        {
            let mut sorted: Vec<i64> = h.iter().copied().collect();
            sorted.sort_unstable();
            let usual = sorted[sorted.len() / 2];
            if usual > 0 && i128::from(e.amount.minor) * 100 >= i128::from(usual) * i128::from(ua.factor_pct) {
                let tenths = i128::from(e.amount.minor) * 10 / i128::from(usual);
                let factor = format!("{}.{}", tenths / 10, tenths % 10);
                let n = nums(&[
                    ("amount", money(e.amount.minor)),
                    ("merchant", merchant.clone()),
                    ("category", category_name(&self.categories, &p.category)),
                    ("usual", money(usual)),
                    ("factor", factor),
                ]);
                let sw = (p.category.to_string(), e.id.to_string());
                self.fire(state, &mut out, AlertRule::UnusualAmount, ua.severity, &ua.message, sw, n, when);
            }
        }
        let v = &self.alerts.velocity;
        let today = Alert::id_for(state.user, AlertRule::Velocity, "expenses", &date.to_string());
        if v.enabled && !state.fired.contains(&today) {
            let from = e.occurred_at.checked_sub(SignedDuration::from_mins(v.window_minutes)).unwrap_or(Timestamp::MIN);
            let mut count = 1;
            let mut total = e.amount.minor;
            let window = (from, EntryId(Uuid::nil()))..=(e.occurred_at, EntryId(Uuid::max()));
            for (_, (amount, c)) in state.recent.range(window).rev().take(v.count.saturating_sub(1)) {
                count += 1;
                if *c == cur {
                    total += amount;
                }
            }
            if count >= v.count {
                let n = nums(&[
                    ("count", count.to_string()),
                    ("minutes", v.window_minutes.to_string()),
                    ("total", money(total)),
                ]);
                let sw = ("expenses".to_owned(), date.to_string());
                self.fire(state, &mut out, AlertRule::Velocity, v.severity, &v.message, sw, n, when);
            }
        }
        let budgets: Vec<Budget> =
            state.budgets.values().filter(|b| b.covers(&p.category) && b.limit.currency == cur).cloned().collect();
        for b in budgets {
            out.extend(self.budget_alerts(state, &b, date, e.occurred_at, Some(p), raised_at));
        }
        out
    }

    /// A reminder for a bill due within `bill_due.days_before` days of `at`
    /// (the reminder SMS, or a later entry of the user: alerts read no clock).
    fn bill_alert(
        &self,
        state: &mut UserInsight,
        bill: &Bill,
        at: Timestamp,
        entry: Option<EntryId>,
        raised_at: Timestamp,
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        let r = &self.alerts.bill_due;
        let (Some(due), true) = (bill.due_date, r.enabled) else { return out };
        let days = days_between(local_date(at, &state.tz), due);
        if !(0..=r.days_before).contains(&days) || bill.status != BillStatus::Due {
            return out;
        }
        let Ok(cur) = Currency::parse(&bill.currency) else { return out };
        let money = |m: i64| format_grouped(cur, m);
        let label = match &bill.account_last4 {
            Some(d) => format!("Card / account {d}"),
            None => bill.sender.clone(),
        };
        let n = nums(&[
            ("bill", label),
            ("amount", money(bill.amount_due_minor)),
            ("minimum", bill.min_due_minor.map_or_else(|| "not stated".to_owned(), money)),
            ("due_date", due.to_string()),
            ("days", days.to_string()),
        ]);
        let sw = (bill.id.to_string(), due.to_string());
        self.fire(state, &mut out, AlertRule::BillDue, r.severity, &r.message, sw, n, (entry, at, raised_at));
        out
    }

    /// Threshold and pace alerts of `budget` for the period containing `date`,
    /// counting `adding` (not yet tracked) on top of what is.
    fn budget_alerts(
        &self,
        state: &mut UserInsight,
        b: &Budget,
        date: Date,
        occurred_at: Timestamp,
        adding: Option<&ProcessedEntry>,
        raised_at: Timestamp,
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        let range = b.range(date, state.week_start);
        let extra = adding.map_or(0, |p| p.entry.amount.minor);
        let spent = state.spent(b, range) + extra;
        let limit = b.limit.minor;
        if limit <= 0 {
            return out;
        }
        let cur = b.limit.currency;
        let money = |m: i64| format_grouped(cur, m);
        let name = b.name(&self.categories);
        let period = b.period.name();
        let elapsed = days_between(range.start, date) + 1;
        let total_days = range.days().max(1);
        let days_left = (total_days - elapsed).max(0);
        let when = (adding.map(|p| p.entry.id), occurred_at, raised_at);
        let bt = &self.alerts.budget_threshold;
        let reached = bt
            .levels
            .iter()
            .filter(|l| i128::from(spent) * 100 >= i128::from(limit) * i128::from(l.pct))
            .max_by_key(|l| l.pct);
        if bt.enabled
            && let Some(level) = reached.copied()
        {
            let n = nums(&[
                ("budget", name.clone()),
                ("period", period.to_owned()),
                ("share", percent(spent, limit)),
                ("spent", money(spent)),
                ("limit", money(limit)),
                ("left", money((limit - spent).max(0))),
                ("days_left", days_left.to_string()),
                ("threshold", level.pct.to_string()),
            ]);
            let sw = (b.id.to_string(), format!("{}/{}", range.start, level.pct));
            self.fire(state, &mut out, AlertRule::BudgetThreshold, level.severity, &bt.message, sw, n, when);
            // The lower levels are passed too: never announce them after a higher one.
            for l in bt.levels.iter().filter(|l| l.pct < level.pct) {
                let id = Alert::id_for(
                    state.user,
                    AlertRule::BudgetThreshold,
                    &b.id.to_string(),
                    &format!("{}/{}", range.start, l.pct),
                );
                state.fired.insert(id);
            }
        }
        let po = &self.alerts.projected_overspend;
        if po.enabled && spent < limit && elapsed >= po.min_elapsed_days && days_left > 0 {
            let projected =
                i64::try_from(i128::from(spent) * i128::from(total_days) / i128::from(elapsed)).unwrap_or(i64::MAX);
            if projected > limit {
                let n = nums(&[
                    ("budget", name),
                    ("period", period.to_owned()),
                    ("pace", money(spent / elapsed)),
                    ("projected", money(projected)),
                    ("limit", money(limit)),
                    ("over", money(projected - limit)),
                    ("spent", money(spent)),
                    ("days_left", days_left.to_string()),
                ]);
                let sw = (b.id.to_string(), range.start.to_string());
                self.fire(state, &mut out, AlertRule::ProjectedOverspend, po.severity, &po.message, sw, n, when);
            }
        }
        out
    }
}

fn rule_threshold(rule: &ThresholdRule, currency: Currency) -> Option<i64> {
    if rule.enabled { rule.threshold(currency) } else { None }
}

fn nums(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}
