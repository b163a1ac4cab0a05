//! What the processors learn and raise: per-user category rules learned from
//! corrections, budgets, and risk alerts.

use crate::categories::CategoryId;
use crate::entry::{EntryId, UserId};
use crate::money::Money;
use crate::period::{DateRange, WeekStart, period_range};
use crate::report::{Amount, percent};
use jiff::Timestamp;
use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The key two merchant strings share when they are "the same merchant":
/// lower-case words of letters and digits, with words made only of digits
/// (order and terminal numbers) dropped. `SWIGGY*ORDER 1234` and
/// `Swiggy order 98` are both `swiggy order`.
pub fn merchant_key(merchant: &str) -> String {
    let mut out = String::with_capacity(merchant.len());
    for word in merchant.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() || word.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// The learned rule a merchant key follows: the rule for exactly that key, else
/// the longest rule whose words begin it (a rule for `swiggy` covers
/// `swiggy order`, unless `swiggy order` has a rule of its own).
pub fn best_rule<'a>(rules: impl IntoIterator<Item = &'a LearnedRule>, key: &str) -> Option<&'a LearnedRule> {
    if key.is_empty() {
        return None;
    }
    rules
        .into_iter()
        .filter(|r| {
            let k = r.merchant_key.as_str();
            !k.is_empty() && key.starts_with(k) && (key.len() == k.len() || key.as_bytes()[k.len()] == b' ')
        })
        .max_by_key(|r| r.merchant_key.len())
}

/// A category rule of one user, learned when they recategorised an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedRule {
    /// [`merchant_key`] of the corrected entry's merchant.
    pub merchant_key: String,
    /// The category the user chose.
    pub category: CategoryId,
    /// The entry whose correction taught it.
    pub from_entry: EntryId,
    /// When the correction was made.
    pub learned_at: Timestamp,
}

/// How long a budget's period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BudgetPeriod {
    /// From the user's week start.
    Week,
    /// From `start_day` of each month.
    Month,
    /// Calendar year.
    Year,
}

/// A spending limit for one category or for all spending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Stable id.
    pub id: Uuid,
    /// Owner.
    pub user_id: UserId,
    /// The category it limits; `None` limits all spending.
    pub category: Option<CategoryId>,
    /// Week, month or year.
    pub period: BudgetPeriod,
    /// Day of the month a monthly period starts (1 to 31, e.g. 25 for payday;
    /// clamped to the month's last day).
    pub start_day: u8,
    /// The limit; only expenses in its currency count against it.
    pub limit: Money,
    /// When it was set or last changed.
    pub updated_at: Timestamp,
}

impl BudgetPeriod {
    /// `week`, `month` or `year`.
    pub fn name(self) -> &'static str {
        match self {
            BudgetPeriod::Week => "week",
            BudgetPeriod::Month => "month",
            BudgetPeriod::Year => "year",
        }
    }
}

impl Budget {
    /// The budget period containing local date `date`.
    pub fn range(&self, date: Date, week_start: WeekStart) -> DateRange {
        match self.period {
            BudgetPeriod::Week => period_range(crate::period::Period::Week, date, week_start),
            BudgetPeriod::Year => period_range(crate::period::Period::Year, date, week_start),
            BudgetPeriod::Month => {
                let start_in = |month_first: Date| {
                    let last = month_first.last_of_month().day();
                    month_first.with().day(i8::try_from(self.start_day).unwrap_or(1).clamp(1, last)).build()
                };
                let this = start_in(date.first_of_month()).unwrap_or(date.first_of_month());
                let start = if date >= this {
                    this
                } else {
                    let prev = date.first_of_month().checked_sub(1.month()).unwrap_or(date);
                    start_in(prev).unwrap_or(prev)
                };
                let next_first = start.first_of_month().checked_add(1.month()).unwrap_or(Date::MAX);
                let end = start_in(next_first).unwrap_or(next_first);
                DateRange { start, end }
            }
        }
    }

    /// What it limits, for people: the category's name, or "All spending".
    pub fn name(&self, defs: &[crate::categories::CategoryDef]) -> String {
        match &self.category {
            Some(c) => crate::categories::category_name(defs, c),
            None => "All spending".to_owned(),
        }
    }

    /// Whether an expense in `category` counts against this budget.
    pub fn covers(&self, category: &CategoryId) -> bool {
        self.category.as_ref().is_none_or(|c| c == category)
    }

    /// What counts against it in `summary`: expenses in its currency and categories.
    pub fn spent_in(&self, summary: &crate::report::RangeSummary) -> i64 {
        summary
            .cells
            .iter()
            .filter(|c| {
                c.kind == crate::entry::EntryKind::Expense
                    && c.currency == self.limit.currency
                    && self.covers(&c.category)
            })
            .map(|c| c.amount_minor)
            .sum()
    }
}

/// Where a budget stands on a day: the figures reports and `GET /v1/budgets` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetStatus {
    /// Budget id.
    pub id: String,
    /// Category id; absent for an overall budget.
    pub category: Option<String>,
    /// Category name, or "All spending".
    pub name: String,
    /// week, month or year.
    pub period: BudgetPeriod,
    /// Day a monthly period starts.
    pub start_day: u8,
    /// Currency of every amount.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub currency: crate::money::Currency,
    /// The limit.
    pub limit: Amount,
    /// First day of the period shown.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub start: Date,
    /// Last day (inclusive).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub end: Date,
    /// Days in the period.
    pub days: i64,
    /// Days passed, the day of `as_of` included.
    pub days_elapsed: i64,
    /// Days after `as_of` to the end.
    pub days_left: i64,
    /// Spent so far.
    pub spent: Amount,
    /// limit - spent (negative when over).
    pub left: Amount,
    /// spent / limit in percent, one decimal (`"84.0"`).
    pub share_used: String,
    /// spent / days_elapsed.
    pub daily_pace: Amount,
    /// spent at the current pace by the period's end (spent itself once it is over).
    pub projected: Amount,
    /// spent is over the limit.
    pub over: bool,
    /// projected is over the limit.
    pub projected_over: bool,
}

/// The status of `budget` over `range` with `spent` so far, judged on `today`.
pub fn budget_status(budget: &Budget, name: String, range: DateRange, spent: i64, today: Date) -> BudgetStatus {
    let cur = budget.limit.currency;
    let days = range.days().max(1);
    let elapsed = if today < range.start {
        0
    } else if today >= range.end {
        days
    } else {
        DateRange { start: range.start, end: today }.days() + 1
    };
    let pace = if elapsed > 0 { spent / elapsed } else { 0 };
    let projected = if elapsed > 0 && elapsed < days {
        i64::try_from(i128::from(spent) * i128::from(days) / i128::from(elapsed)).unwrap_or(i64::MAX)
    } else {
        spent
    };
    let limit = budget.limit.minor;
    BudgetStatus {
        id: budget.id.to_string(),
        category: budget.category.as_ref().map(|c| c.to_string()),
        name,
        period: budget.period,
        start_day: budget.start_day,
        currency: cur,
        limit: Amount::new(limit, cur),
        start: range.start,
        end: range.end.yesterday().unwrap_or(range.end),
        days,
        days_elapsed: elapsed,
        days_left: days - elapsed,
        spent: Amount::new(spent, cur),
        left: Amount::new(limit - spent, cur),
        share_used: percent(spent, limit),
        daily_pace: Amount::new(pace, cur),
        projected: Amount::new(projected, cur),
        over: spent > limit,
        projected_over: projected > limit,
    }
}

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth acting on.
    Warning,
    /// Act now.
    Critical,
}

/// The rule an alert comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertRule {
    /// A budget reached a configured share (50 / 80 / 100%).
    BudgetThreshold,
    /// At the current pace a budget will be exceeded by the period's end.
    ProjectedOverspend,
    /// An amount far above this user's usual in the category.
    UnusualAmount,
    /// Many transactions in a short time.
    Velocity,
    /// An account's balance (from a bank SMS) fell below a threshold.
    LowBalance,
    /// A single large debit.
    LargeDebit,
    /// A large amount at a merchant the user never paid before.
    NewMerchantLarge,
    /// A card or account bill is due soon.
    BillDue,
}

impl AlertRule {
    /// Every rule, in declaration order.
    pub const ALL: [AlertRule; 8] = [
        AlertRule::BudgetThreshold,
        AlertRule::ProjectedOverspend,
        AlertRule::UnusualAmount,
        AlertRule::Velocity,
        AlertRule::LowBalance,
        AlertRule::LargeDebit,
        AlertRule::NewMerchantLarge,
        AlertRule::BillDue,
    ];

    /// The snake_case name (`budget_threshold`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertRule::BudgetThreshold => "budget_threshold",
            AlertRule::ProjectedOverspend => "projected_overspend",
            AlertRule::UnusualAmount => "unusual_amount",
            AlertRule::Velocity => "velocity",
            AlertRule::LowBalance => "low_balance",
            AlertRule::LargeDebit => "large_debit",
            AlertRule::NewMerchantLarge => "new_merchant_large",
            AlertRule::BillDue => "bill_due",
        }
    }
}

/// A risk alert: fires once per rule, subject and window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Derived from user, rule, subject and window, so a replay raises the same id.
    pub id: Uuid,
    /// Owner.
    pub user_id: UserId,
    /// Which rule.
    pub rule: AlertRule,
    /// What it is about (a budget id, a category, an account, an entry id).
    pub subject: String,
    /// Which window it is for (a period start, a day, an entry).
    pub window: String,
    /// How serious.
    pub severity: Severity,
    /// Rendered from the rule's template in config.
    pub message: String,
    /// The numbers behind it, amounts as decimal strings.
    pub numbers: BTreeMap<String, String>,
    /// The entry that set it off, if any.
    pub entry_id: Option<EntryId>,
    /// Event time: when the entry behind it occurred.
    pub occurred_at: Timestamp,
    /// When the processor raised it.
    pub raised_at: Timestamp,
    /// When the user acknowledged it (then it is hidden by default).
    pub acknowledged_at: Option<Timestamp>,
}

impl Alert {
    /// The id every raise of `rule` for `subject` in `window` shares.
    pub fn id_for(user: UserId, rule: AlertRule, subject: &str, window: &str) -> Uuid {
        let name = format!("{}/{}/{subject}/{window}", user.0, rule.as_str());
        Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes())
    }
}

/// Fills `{name}` placeholders of `template` from `values`; unknown names stay as written.
pub fn render(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if values.contains_key(&after[..close]) => {
                out.push_str(&values[&after[..close]]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders a template uses, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use jiff::civil::date;

    #[test]
    fn merchant_keys_drop_numbers_and_punctuation() {
        assert_eq!(merchant_key("SWIGGY*ORDER 1234"), "swiggy order");
        assert_eq!(merchant_key("  Swiggy order 98 "), "swiggy order");
        assert_eq!(merchant_key("Dream11"), "dream11");
        assert_eq!(merchant_key("Café Coffee Day"), "café coffee day");
        assert_eq!(merchant_key("1234"), "");
    }

    fn budget(period: BudgetPeriod, start_day: u8) -> Budget {
        Budget {
            id: Uuid::nil(),
            user_id: UserId(Uuid::nil()),
            category: None,
            period,
            start_day,
            limit: Money { minor: 100, currency: Currency::parse("INR").expect("INR") },
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn payday_months_start_on_their_day_and_clamp_to_month_end() {
        let b = budget(BudgetPeriod::Month, 25);
        let ws = WeekStart(jiff::civil::Weekday::Monday);
        assert_eq!(b.range(date(2026, 10, 25), ws), DateRange { start: date(2026, 10, 25), end: date(2026, 11, 25) });
        assert_eq!(b.range(date(2026, 10, 24), ws), DateRange { start: date(2026, 9, 25), end: date(2026, 10, 25) });
        assert_eq!(b.range(date(2027, 1, 3), ws), DateRange { start: date(2026, 12, 25), end: date(2027, 1, 25) });
        let end = budget(BudgetPeriod::Month, 31);
        assert_eq!(end.range(date(2026, 2, 28), ws), DateRange { start: date(2026, 2, 28), end: date(2026, 3, 31) });
        assert_eq!(end.range(date(2026, 2, 27), ws), DateRange { start: date(2026, 1, 31), end: date(2026, 2, 28) });
        let first = budget(BudgetPeriod::Month, 1);
        assert_eq!(first.range(date(2026, 2, 14), ws), DateRange { start: date(2026, 2, 1), end: date(2026, 3, 1) });
    }

    #[test]
    fn the_longest_rule_whose_words_begin_the_key_wins() {
        let rule = |k: &str| LearnedRule {
            merchant_key: k.into(),
            category: crate::CategoryId("x".into()),
            from_entry: EntryId(Uuid::nil()),
            learned_at: Timestamp::UNIX_EPOCH,
        };
        let rules = [rule("swiggy"), rule("swiggy instamart"), rule("uber")];
        let best = |k| best_rule(&rules, k).map(|r| r.merchant_key.as_str());
        assert_eq!(best("swiggy"), Some("swiggy"));
        assert_eq!(best("swiggy order"), Some("swiggy"));
        assert_eq!(best("swiggy instamart bangalore"), Some("swiggy instamart"));
        assert_eq!(best("swiggyone"), None, "whole words only");
        assert_eq!(best("ubereats"), None);
        assert_eq!(best(""), None);
    }

    #[test]
    fn templates_render_known_names_and_keep_the_rest() {
        let v: BTreeMap<String, String> = [("a".to_owned(), "1".to_owned())].into();
        assert_eq!(render("x {a} {b} {", &v), "x 1 {b} {");
        assert_eq!(placeholders("{a} and {b}"), vec!["a", "b"]);
    }

    #[test]
    fn alert_ids_are_stable_per_rule_subject_and_window() {
        let u = UserId(Uuid::nil());
        let a = Alert::id_for(u, AlertRule::LargeDebit, "e1", "w");
        assert_eq!(a, Alert::id_for(u, AlertRule::LargeDebit, "e1", "w"));
        assert_ne!(a, Alert::id_for(u, AlertRule::LargeDebit, "e1", "w2"));
        assert_ne!(a, Alert::id_for(u, AlertRule::Velocity, "e1", "w"));
    }
}
