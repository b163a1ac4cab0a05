//! What a free-text chat message asks for.
//!
//! [`understand`] reads one message with a [`Context`] (the user's currency, today's date
//! in their time zone, how to read `12/10`, the categoriser) and returns an
//! [`Understanding`]: the [`Intent`] and the fields named, each optional. It is a pure
//! function: no clock, no storage, the same answer for the same input.
//!
//! ```
//! use spendstream_bot::understand::{Context, Intent, shipped_categoriser, understand};
//! use spendstream_core::Currency;
//!
//! let today = jiff::civil::date(2026, 10, 15);
//! let ctx = Context::new(Currency::parse("INR")?, today, shipped_categoriser()?);
//! let u = understand("paid 3,500 rent last friday", &ctx);
//! assert_eq!(u.intent, Intent::AddExpense);
//! assert_eq!(u.amount.as_deref(), Some("3500"));
//! assert_eq!(u.category.as_ref().map(|c| c.as_str()), Some("rent"));
//! assert_eq!(u.date, Some(jiff::civil::date(2026, 10, 9)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What is read:
//! - **Amounts** (see `amount.rs`): grouping (`1,25,000`, `125,000`), decimals (`4.50`),
//!   `k` / `lakh` / `crore`, currency marks and codes (`₹`, `Rs`, `INR`, `$`, `USD`, `€`,
//!   `EUR`, `£`, ...). `1.200` is ambiguous and gives a question instead of an amount;
//!   so do two different bare numbers (`2 coffees 180`: which one?).
//! - **Days and periods** (see `when.rs`): `today`, `yesterday`, `last friday`, `12 oct`,
//!   `oct 12`, `12/10` (per [`DateOrder`]), `this month`, `last week`, `october`, ...
//! - **Merchant**: the words after `at` (`lunch at subway`), `from` (income, `ordered
//!   from`), `to` (after `paid` / `sent`), or a brand the categoriser knows (`uber 180`).
//! - **Category**: the project's categoriser (`config/categories.toml` rules: brands,
//!   patterns, keywords) on the remaining words, or a category id named outright.
//! - **Forwarded bank SMS**: read by the SMS ingest parser when it finds a transaction.
//!
//! Not read (yet): amounts in words (`fifty`), several entries in one message, future
//! dates (`tomorrow`), times of day, and languages other than English.

mod amount;
mod tokens;
mod when;
mod words;

use std::sync::{Arc, OnceLock};

use jiff::civil::Date;
use serde::Serialize;
use spendstream_core::{CategoryDef, CategoryId, Currency};
use spendstream_ingest::sms::{Direction, SmsClass, SmsRules};
use spendstream_processors::categorise::{CategoriseInput, Categoriser};

use tokens::Tok;
use when::When;

/// Longest message read, in bytes; a longer one gets a question asking for a shorter one.
pub const MAX_INPUT_BYTES: usize = 4096;

/// The question for messages over [`MAX_INPUT_BYTES`].
const TOO_LONG: &str = "That message is too long for me (over 4 KiB). Could you send just the expense or question?";

/// What a message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Record money spent.
    AddExpense,
    /// Record money received (salary, refund, ...).
    AddIncome,
    /// Undo the last entry.
    DeleteLast,
    /// Totals for a period (`how much did I spend on food this month?`).
    Report,
    /// The entries themselves (`show my expenses`).
    List,
    /// Set a budget (`set budget 20000 for food`).
    BudgetSet,
    /// Spending tips.
    Tips,
    /// What the bot can do.
    Help,
    /// Nothing understood.
    #[default]
    Unknown,
}

/// How to read an all-numeric day and month such as `12/10` when both readings are dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DateOrder {
    /// Day first: 12 October (India, most of the world).
    #[default]
    DayMonth,
    /// Month first: December 10 (United States).
    MonthDay,
    /// Ask the user.
    Ask,
}

/// What [`understand`] knows about the user.
#[derive(Debug, Clone)]
pub struct Context {
    /// The user's default currency: amounts without a mark are in it, and `$` / `Rs` mean
    /// it when it is a dollar / rupee currency.
    pub currency: Currency,
    /// Today's date in the user's time zone; `yesterday`, `last friday` and `12 oct` are
    /// resolved against it.
    pub today: Date,
    /// How to read `12/10`.
    pub date_order: DateOrder,
    /// The category rules (the same the processors use).
    pub categoriser: Arc<Categoriser>,
    /// Bank SMS rules, to read a forwarded SMS; `None` reads messages as chat text only.
    pub sms_rules: Option<Arc<SmsRules>>,
}

impl Context {
    /// A context with day-first dates and the shipped SMS rules.
    pub fn new(currency: Currency, today: Date, categoriser: Arc<Categoriser>) -> Self {
        Context {
            currency,
            today,
            date_order: DateOrder::default(),
            categoriser,
            sms_rules: Some(SmsRules::shipped_shared()),
        }
    }

    /// The same context with another reading of `12/10`.
    pub fn with_date_order(mut self, order: DateOrder) -> Self {
        self.date_order = order;
        self
    }
}

/// The shipped categories (`config/categories.toml`) did not build a categoriser.
#[derive(Debug, thiserror::Error)]
#[error("shipped categories: {0}")]
pub struct CategoriesError(String);

/// A categoriser over the shipped categories (`config/categories.toml`), built once.
pub fn shipped_categoriser() -> Result<Arc<Categoriser>, CategoriesError> {
    static SHIPPED: OnceLock<Arc<Categoriser>> = OnceLock::new();
    if let Some(c) = SHIPPED.get() {
        return Ok(c.clone());
    }
    use figment::providers::{Format, Toml};
    let defs: Vec<CategoryDef> = figment::Figment::from(Toml::string(spendstream_core::config::CATEGORIES_TOML))
        .extract_inner("categories")
        .map_err(|e| CategoriesError(e.to_string()))?;
    let built = Arc::new(Categoriser::new(&defs).map_err(|e| CategoriesError(e.to_string()))?);
    Ok(SHIPPED.get_or_init(|| built).clone())
}

/// What a message asks for and the fields it names. Absent fields are left out of JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Understanding {
    /// What the message asks for.
    pub intent: Intent,
    /// The amount as a plain decimal string: `4.50`, `2500` (never a float). Absent when
    /// none was given or it was ambiguous (then `question` asks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// The amount's currency: the one written, else the user's default. Set with `amount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// Who was paid, or who paid (income).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
    /// A category id from the configured categories (`food_dining`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<CategoryId>,
    /// For reports, lists and budgets: `today`, `week`, `last_week`, `month`, `year`,
    /// `last_N_days`, or an explicit day (`2026-10-14`), month (`2026-10`) or year (`2025`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// For entries: the day it happened, when the message names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// A question to ask back when something is ambiguous or missing (`1.200`: 1.20 or 1200?).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
}

impl Understanding {
    /// An understanding with only an intent.
    pub fn new(intent: Intent) -> Self {
        Understanding { intent, ..Default::default() }
    }
}

/// Reads one chat message. Never panics; input over [`MAX_INPUT_BYTES`] is not read (the
/// answer is `unknown` with a question). Control characters count as spaces.
pub fn understand(text: &str, ctx: &Context) -> Understanding {
    if text.len() > MAX_INPUT_BYTES {
        return Understanding { question: Some(TOO_LONG.to_owned()), ..Understanding::new(Intent::Unknown) };
    }
    let cleaned = tokens::clean(text);
    if let Some(u) = from_sms(&cleaned, ctx) {
        return u;
    }
    let toks = tokens::tokenize(&cleaned);
    if cleaned.trim() == "?" {
        return Understanding::new(Intent::Help);
    }
    if toks.is_empty() {
        return Understanding::new(Intent::Unknown);
    }
    Reading::new(&toks, ctx, tokens::ends_with_question_mark(&cleaned)).decide()
}

/// Words in a forwarded bank SMS (one is needed before the SMS parser is tried).
const SMS_MARKERS: &[&str] = &[
    "debited",
    "credited",
    "a/c",
    "acct",
    "avl bal",
    "avl. bal",
    "available balance",
    "txn",
    "upi ref",
    "ref no",
    "withdrawn",
    "card ending",
];

/// A forwarded bank SMS that the SMS ingest parser reads as a transaction.
fn from_sms(text: &str, ctx: &Context) -> Option<Understanding> {
    let rules = ctx.sms_rules.as_ref()?;
    if text.split_whitespace().count() < 6 {
        return None;
    }
    let lower = text.to_lowercase();
    if !SMS_MARKERS.iter().any(|m| lower.contains(m)) {
        return None;
    }
    let out = spendstream_ingest::sms::parse(rules, "", text).ok()?;
    if out.class != SmsClass::Transaction {
        return None;
    }
    let tx = out.transaction?;
    let currency = Currency::parse(&tx.currency).ok()?;
    let amount = amount::read(&tx.amount, 0, currency).ok()?;
    let income = tx.direction == Direction::Credit;
    let category = tx.merchant.as_deref().and_then(|m| {
        let got =
            ctx.categoriser.categorise(&CategoriseInput { merchant: Some(m), is_income: income, ..Default::default() });
        use spendstream_processors::categorise::Reason;
        match got.reason {
            Reason::Fallback { .. } | Reason::Condition { .. } => None,
            _ => Some(got.category),
        }
    });
    Some(Understanding {
        intent: if income { Intent::AddIncome } else { Intent::AddExpense },
        amount: Some(amount),
        currency: Some(currency),
        merchant: tx.merchant,
        category,
        period: None,
        date: tx.date,
        question: None,
    })
}

/// The amount found in a message, or the question about it.
#[derive(Debug, Default)]
struct Found {
    value: Option<(String, Currency)>,
    question: Option<String>,
}

impl Found {
    fn any(&self) -> bool {
        self.value.is_some() || self.question.is_some()
    }
}

/// One message being read: its words, which are taken, and what was found.
struct Reading<'a, 't> {
    toks: &'a [Tok<'t>],
    used: Vec<bool>,
    ctx: &'a Context,
    /// `/undo` → `undo`.
    command: Option<String>,
    /// Ends with `?`.
    qmark: bool,
    /// " word word " of every word, to look for phrases.
    joined: String,
}

impl<'a, 't> Reading<'a, 't> {
    fn new(toks: &'a [Tok<'t>], ctx: &'a Context, qmark: bool) -> Self {
        let mut used = vec![false; toks.len()];
        let command = toks.first().and_then(|t| t.low.strip_prefix('/')).map(|c| {
            used[0] = true;
            c.split('@').next().unwrap_or(c).to_owned()
        });
        let joined = format!(" {} ", toks.iter().map(|t| t.low.as_str()).collect::<Vec<_>>().join(" "));
        Reading { toks, used, ctx, command, qmark, joined }
    }

    fn has(&self, list: &[&str]) -> bool {
        self.toks.iter().enumerate().any(|(i, t)| !(i == 0 && self.command.is_some()) && list.contains(&t.low.as_str()))
    }

    fn phrase(&self, list: &[&str]) -> bool {
        list.iter().any(|p| self.joined.contains(&format!(" {p} ")))
    }

    fn command_is(&self, names: &[&str]) -> bool {
        self.command.as_deref().is_some_and(|c| names.contains(&c))
    }

    /// The first word after a command.
    fn first_word(&self) -> &str {
        let skip = usize::from(self.command.is_some());
        self.toks.get(skip).map_or("", |t| t.low.as_str())
    }

    fn decide(mut self) -> Understanding {
        // Commands and words that need nothing else.
        if self.command_is(&["undo", "delete"]) || self.has(&["undo"]) {
            return Understanding::new(Intent::DeleteLast);
        }
        if self.has(words::DELETE) {
            if self.has(words::LAST) || self.toks.len() == 1 {
                return Understanding::new(Intent::DeleteLast);
            }
            let q = "Which entry should I delete? I can undo the last one: say \"undo\".";
            return Understanding { question: Some(q.to_owned()), ..Understanding::new(Intent::Unknown) };
        }
        if self.command_is(&["help", "start"]) || self.has(words::HELP) || self.phrase(words::HELP_PHRASES) {
            return Understanding::new(Intent::Help);
        }

        let asks = words::ASKS.contains(&self.first_word());
        let report_marker = self.has(words::REPORT)
            || self.phrase(&["how much", "how many", "where did my money go"])
            || (self.has(&["what", "what's", "whats"]) && self.has(&["spend", "spent", "spending"]));
        let list_marker = self.has(words::LIST);
        let lookup_command = self.command_is(&["report", "list", "today", "week", "month", "year", "stats"]);
        let lookup = asks || report_marker || list_marker || lookup_command;

        let time = when::scan(self.toks, &mut self.used, self.ctx.today, self.ctx.date_order);
        let mut period = time.when.map(When::period);
        if lookup && let Some(year) = self.year(report_marker || list_marker || lookup_command) {
            // "year report 2025": the given year, not the current one.
            if period.is_none() || time.when == Some(When::ThisYear) {
                period = Some(year);
            }
        }
        let found = self.amount();

        if self.command_is(&["tips"]) || (!found.any() && (self.has(words::TIPS) || self.phrase(words::TIPS_PHRASES))) {
            let named = words::named(self.toks, &self.used, self.ctx, false);
            return Understanding { category: named.category, ..Understanding::new(Intent::Tips) };
        }

        let budget = self.command_is(&["budget"])
            || self.has(words::BUDGET)
            || self.phrase(&["spending limit", "set limit", "set a limit", "monthly limit", "weekly limit"]);
        if budget {
            let named = words::named(self.toks, &self.used, self.ctx, false);
            if found.any() {
                let (amount, currency) = found.value.map_or((None, None), |(a, c)| (Some(a), Some(c)));
                return Understanding {
                    intent: Intent::BudgetSet,
                    amount,
                    currency,
                    category: named.category,
                    period,
                    question: found.question.or(time.question),
                    ..Default::default()
                };
            }
            if self.has(words::BUDGET_LOOKUP) || self.qmark {
                return Understanding {
                    intent: Intent::Report,
                    category: named.category,
                    period,
                    question: time.question,
                    ..Default::default()
                };
            }
            return Understanding {
                intent: Intent::BudgetSet,
                category: named.category,
                period,
                question: Some("How much should the budget be?".to_owned()),
                ..Default::default()
            };
        }

        let wants_list = (list_marker && !report_marker) || self.command_is(&["list"]);
        let looks_up = ((report_marker || list_marker || lookup_command) && (!found.any() || asks || self.qmark))
            || asks
            || (self.qmark && !found.any() && time.when.is_some());
        if looks_up {
            let named = words::named(self.toks, &self.used, self.ctx, false);
            let period = period.or_else(|| self.command_period());
            return Understanding {
                intent: if wants_list { Intent::List } else { Intent::Report },
                merchant: named.merchant,
                category: named.category,
                period,
                question: time.question,
                ..Default::default()
            };
        }

        let income =
            self.has(words::INCOME) || self.phrase(&["got paid"]) || self.got_from() || self.command_is(&["income"]);
        let adds = self.has(words::ADD_VERBS) || self.command_is(&["add", "expense", "spent"]);
        if found.any() || income || adds {
            let named = words::named(self.toks, &self.used, self.ctx, income);
            let missing = if found.any() {
                None
            } else if income {
                Some("How much did you get?".to_owned())
            } else {
                Some("How much was it?".to_owned())
            };
            let (amount, currency) = found.value.map_or((None, None), |(a, c)| (Some(a), Some(c)));
            return Understanding {
                intent: if income { Intent::AddIncome } else { Intent::AddExpense },
                amount,
                currency,
                merchant: named.merchant,
                category: named.category,
                period: None,
                date: time.when.and_then(|w| w.day(self.ctx.today)),
                question: found.question.or(time.question).or(missing),
            };
        }

        if time.when.is_some() || time.question.is_some() {
            let named = words::named(self.toks, &self.used, self.ctx, false);
            return Understanding {
                intent: Intent::Report,
                merchant: named.merchant,
                category: named.category,
                period,
                question: time.question,
                ..Default::default()
            };
        }
        Understanding::new(Intent::Unknown)
    }

    /// `got 5000 from dad`: only the amount between `got` and `from` (while `got
    /// groceries from dmart` is a purchase).
    fn got_from(&self) -> bool {
        let find = |w: &str| self.toks.iter().position(|t| t.low == w);
        match (find("got"), find("from")) {
            (Some(g), Some(f)) if g + 1 < f => (g + 1..f).all(|i| self.used[i]),
            _ => false,
        }
    }

    /// `/today`, `/week`, `/month`, `/year` as periods.
    fn command_period(&self) -> Option<String> {
        match self.command.as_deref() {
            Some(p @ ("today" | "week" | "month" | "year")) => Some(p.to_owned()),
            _ => None,
        }
    }

    /// A year in a report or list request (`report 2025`), or after `in` / `for` /
    /// `during` / `of` / `since` in a question (`in 2025`): a period, not an amount. Marks
    /// the word used.
    fn year(&mut self, anywhere: bool) -> Option<String> {
        for i in 0..self.toks.len() {
            let prev = i.checked_sub(1).map_or("", |p| self.toks[p].low.as_str());
            let w = self.toks[i].low.as_str();
            let year = w.len() == 4 && w.parse::<u16>().is_ok_and(|y| (1970..=2099).contains(&y));
            let placed = anywhere || matches!(prev, "in" | "for" | "during" | "of" | "since");
            if !self.used[i] && year && placed {
                self.used[i] = true;
                return Some(w.to_owned());
            }
        }
        None
    }

    /// Finds the amount: currency-marked or multiplied numbers first, else bare ones;
    /// two different candidates of the same kind give a question.
    fn amount(&mut self) -> Found {
        struct Cand {
            words: Vec<usize>,
            number: String,
            power: u32,
            mark: Option<String>,
        }
        let toks = self.toks;
        let mut cands: Vec<Cand> = Vec::new();
        for i in 0..toks.len() {
            if self.used[i] {
                continue;
            }
            let Some(word) = amount::split_word(&toks[i].low) else {
                continue;
            };
            let free = |j: usize, used: &[bool]| toks.get(j).filter(|_| !used[j]).map(|t| t.low.as_str());
            let mut c = Cand {
                words: vec![i],
                number: word.number.to_owned(),
                power: word.power,
                mark: word.mark.map(str::to_owned),
            };
            if c.mark.is_none()
                && let Some(prev) = i.checked_sub(1).and_then(|j| free(j, &self.used))
                && amount::is_currency_word(prev)
            {
                c.mark = Some(prev.to_owned());
                c.words.push(i - 1);
            }
            let mut next = i + 1;
            if c.power == 0
                && let Some(p) = free(next, &self.used).and_then(amount::multiplier_word)
            {
                c.power = p;
                c.words.push(next);
                next += 1;
            }
            if c.mark.is_none()
                && let Some(w) = free(next, &self.used).filter(|w| amount::is_currency_word(w))
            {
                c.mark = Some(w.to_owned());
                c.words.push(next);
            }
            if c.mark.is_none() && c.power == 0 {
                let after = free(i + 1, &self.used).unwrap_or("");
                let before = i.checked_sub(1).map_or("", |j| toks[j].low.as_str());
                if words::COUNT_NOUNS.contains(&after) || words::COUNT_BEFORE.contains(&before) {
                    continue;
                }
            }
            for &w in &c.words {
                self.used[w] = true;
            }
            cands.push(c);
        }
        let strong: Vec<&Cand> = cands.iter().filter(|c| c.mark.is_some() || c.power > 0).collect();
        let pool: Vec<&Cand> = if strong.is_empty() { cands.iter().collect() } else { strong };
        let Some(first) = pool.first() else {
            return Found::default();
        };
        let written = |c: &Cand| {
            let mut idx = c.words.clone();
            idx.sort_unstable();
            idx.iter().map(|&i| toks[i].raw).collect::<Vec<_>>().join(" ")
        };
        if pool.iter().any(|c| c.number != first.number || c.power != first.power || c.mark != first.mark) {
            let mut options: Vec<String> = pool.iter().map(|&c| written(c)).collect();
            options.dedup();
            let q = format!("Which is the amount: {}?", options.join(" or "));
            return Found { value: None, question: Some(q) };
        }
        let currency =
            first.mark.as_deref().and_then(|m| amount::currency_of(m, self.ctx.currency)).unwrap_or(self.ctx.currency);
        match amount::read(&first.number, first.power, currency) {
            Ok(value) => Found { value: Some((value, currency)), question: None },
            Err(p) => Found { value: None, question: Some(p.question()) },
        }
    }
}
