//! Spending tips with concrete numbers from the user's own data, ranked by the money at
//! stake (pure).
//!
//! Rules come from `config/tips.toml` (compiled in as [`TipRules::shipped`], or read at run
//! time with [`TipRules::load`]), so thresholds and texts change without a rebuild. Each rule
//! has an `id`, a [`TipKind`], `enabled` (default true), kind-specific thresholds and a
//! `message` template whose `{placeholders}` are filled from the data; the shipped file
//! documents every key and placeholder. Amount thresholds are whole major units of the
//! user's currency; percentages are whole percents.
//!
//! [`tips`] cuts four periods (the current one and three before it) in the user's zone, sums
//! the entries in the user's currency, and returns every enabled rule that fires, sorted by
//! [`Tip::impact_minor`] (largest first), then rule id, then message. Integer arithmetic only;
//! shares are tenths of a percent ("38.0").

use std::collections::BTreeMap;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use serde::Serialize;
use spendstream_core::money::{MAX_MAJOR_UNITS, format_minor};
use spendstream_core::period::{DateRange, Period, WeekStart, period_range, previous_range};
use spendstream_core::report::percent;
use spendstream_core::{CategoryDef, CategoryId, Currency, EntryKind, ProcessedEntry};

use crate::recurring::{Recurring, div_round};

/// The shipped rules, `config/tips.toml`.
pub const SHIPPED_TOML: &str = include_str!("../../config/tips.toml");

static SHIPPED: LazyLock<TipRules> = LazyLock::new(|| match TipRules::from_toml(SHIPPED_TOML) {
    Ok(rules) => rules,
    Err(e) => panic!("the shipped config/tips.toml is invalid: {e}"),
});

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TipKind {
    /// One category's share of the period's spending is at least a threshold.
    CategoryShare,
    /// A category (or all spending) grew against the previous period.
    Growth,
    /// Recurring charges or subscriptions are running.
    Recurring,
    /// Many small purchases add up.
    SmallFrequent,
    /// Spending per weekend day is a multiple of spending per weekday.
    WeekendSpike,
    /// Spending late at night.
    LateNight,
    /// Savings rate against a target, when there is income.
    SavingsRate,
    /// A category rose three periods in a row.
    RisingThree,
}

impl TipKind {
    /// Every kind, in documentation order.
    pub const ALL: [TipKind; 8] = [
        TipKind::CategoryShare,
        TipKind::Growth,
        TipKind::Recurring,
        TipKind::SmallFrequent,
        TipKind::WeekendSpike,
        TipKind::LateNight,
        TipKind::SavingsRate,
        TipKind::RisingThree,
    ];

    /// The name used in config, e.g. `category_share`.
    pub fn as_str(self) -> &'static str {
        match self {
            TipKind::CategoryShare => "category_share",
            TipKind::Growth => "growth",
            TipKind::Recurring => "recurring",
            TipKind::SmallFrequent => "small_frequent",
            TipKind::WeekendSpike => "weekend_spike",
            TipKind::LateNight => "late_night",
            TipKind::SavingsRate => "savings_rate",
            TipKind::RisingThree => "rising_three",
        }
    }

    /// Parses [`TipKind::as_str`].
    pub fn parse(s: &str) -> Option<TipKind> {
        TipKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Every placeholder the kind can fill, `period` and `currency` included. Exceptions:
    /// `category` is not known to a growth rule with `scope = "total"`; a savings_rate
    /// `message` knows `shortfall` and its `message_above` knows `surplus`.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            TipKind::CategoryShare => &[
                "period",
                "currency",
                "category",
                "share",
                "amount",
                "total",
                "previous_share",
                "previous_amount",
                "threshold",
                "excess",
            ],
            TipKind::Growth => &["period", "currency", "category", "amount", "previous_amount", "increase", "growth"],
            TipKind::Recurring => &["period", "currency", "count", "monthly_total", "yearly_total", "list"],
            TipKind::SmallFrequent => &["period", "currency", "count", "total", "max_amount", "share", "average"],
            TipKind::WeekendSpike => &[
                "period",
                "currency",
                "weekend_average",
                "weekday_average",
                "ratio",
                "weekend_total",
                "weekday_total",
                "weekend_days",
                "weekday_days",
                "extra",
            ],
            TipKind::LateNight => &["period", "currency", "amount", "share", "count", "start", "end", "total"],
            TipKind::SavingsRate => &[
                "period",
                "currency",
                "income",
                "spent",
                "saved",
                "rate",
                "target",
                "target_amount",
                "shortfall",
                "surplus",
            ],
            TipKind::RisingThree => {
                &["period", "currency", "category", "amounts", "first_amount", "amount", "increase", "growth"]
            }
        }
    }
}

impl std::fmt::Display for TipKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why tip rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TipsError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not TOML.
    #[error("tips config is not valid TOML: {0}")]
    Toml(String),
    /// The rules have problems, each prefixed with its key path (`rules[2].min_count: ...`).
    #[error("invalid tips config: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// Growth of one category at a time, or of all spending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Category,
    Total,
}

/// A rule's kind with its thresholds (amounts in major units).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Params {
    CategoryShare { min_share_percent: i64, min_amount: i64 },
    Growth { scope: Scope, min_growth_percent: i64, min_increase: i64 },
    Recurring { min_count: i64, only_subscriptions: bool, exclude_categories: Vec<String>, max_listed: i64 },
    SmallFrequent { max_amount: i64, min_count: i64, min_total: i64 },
    WeekendSpike { min_ratio_percent: i64, min_weekend_total: i64 },
    LateNight { start_hour: i8, end_hour: i8, min_share_percent: i64, min_amount: i64 },
    SavingsRate { target_percent: i64, message_above: Option<String> },
    RisingThree { min_step_percent: i64, min_amount: i64 },
}

impl Params {
    fn kind(&self) -> TipKind {
        match self {
            Params::CategoryShare { .. } => TipKind::CategoryShare,
            Params::Growth { .. } => TipKind::Growth,
            Params::Recurring { .. } => TipKind::Recurring,
            Params::SmallFrequent { .. } => TipKind::SmallFrequent,
            Params::WeekendSpike { .. } => TipKind::WeekendSpike,
            Params::LateNight { .. } => TipKind::LateNight,
            Params::SavingsRate { .. } => TipKind::SavingsRate,
            Params::RisingThree { .. } => TipKind::RisingThree,
        }
    }

    /// Placeholders a template in `field` (`message` or `message_above`) may use.
    fn allowed(&self, field: &str) -> Vec<&'static str> {
        let all = self.kind().placeholders().iter().copied();
        let dropped: &[&str] = match self {
            Params::Growth { scope: Scope::Total, .. } => &["category"],
            Params::SavingsRate { .. } if field == "message" => &["surplus"],
            Params::SavingsRate { .. } => &["shortfall"],
            _ => &[],
        };
        all.filter(|p| !dropped.contains(p)).collect()
    }
}

/// One configured rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipRule {
    /// Unique id, e.g. `category_share`.
    pub id: String,
    /// Whether [`tips`] evaluates it.
    pub enabled: bool,
    /// The message template.
    pub message: String,
    params: Params,
}

impl TipRule {
    /// What the rule looks at.
    pub fn kind(&self) -> TipKind {
        self.params.kind()
    }
}

/// A validated set of tip rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipRules {
    rules: Vec<TipRule>,
    recurring: crate::recurring::RecurringConfig,
}

impl TipRules {
    /// The rules of the shipped `config/tips.toml`, parsed once. Panics only if that file is
    /// broken, which a test guards.
    pub fn shipped() -> &'static TipRules {
        &SHIPPED
    }

    /// Parses and validates rules; every problem is reported with its key path.
    pub fn from_toml(text: &str) -> Result<TipRules, TipsError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| TipsError::Toml(e.to_string()))?;
        let mut problems = Vec::new();
        for key in table.keys().filter(|k| *k != "rules" && *k != "recurring") {
            problems.push(format!(
                "{key}: unknown key; rules are [[rules]] tables, thresholds of recurring charges [recurring]"
            ));
        }
        let recurring = match table.get("recurring") {
            None => crate::recurring::RecurringConfig::default(),
            Some(v) => v.clone().try_into().unwrap_or_else(|e: toml::de::Error| {
                problems.push(format!("recurring: {}", e.message()));
                crate::recurring::RecurringConfig::default()
            }),
        };
        let mut rules = Vec::new();
        match table.get("rules") {
            None => problems.push("rules: missing; expected [[rules]] tables".to_owned()),
            Some(toml::Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("rules[{i}]");
                    match item {
                        toml::Value::Table(t) => {
                            if let Some(rule) = parse_rule(t, &path, &mut problems) {
                                if rules.iter().any(|r: &TipRule| r.id == rule.id) {
                                    problems.push(format!("{path}.id: duplicate id '{}'", rule.id));
                                }
                                rules.push(rule);
                            }
                        }
                        other => problems.push(format!("{path}: expected a table, got {}", other.type_str())),
                    }
                }
            }
            Some(other) => problems.push(format!("rules: expected [[rules]] tables, got {}", other.type_str())),
        }
        if problems.is_empty() { Ok(TipRules { rules, recurring }) } else { Err(TipsError::Invalid(problems)) }
    }

    /// The rules `tips.rules` names: that file, or the shipped rules when it is empty.
    pub fn from_config(path: &str) -> Result<std::sync::Arc<TipRules>, TipsError> {
        if path.trim().is_empty() {
            Ok(std::sync::Arc::new(TipRules::shipped().clone()))
        } else {
            TipRules::load(Path::new(path)).map(std::sync::Arc::new)
        }
    }

    /// Reads and validates a rules file.
    pub fn load(path: &Path) -> Result<TipRules, TipsError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TipsError::Io { path: path.to_path_buf(), source })?;
        TipRules::from_toml(&text)
    }

    /// The rules in file order.
    pub fn rules(&self) -> &[TipRule] {
        &self.rules
    }

    /// The thresholds of recurring-charge detection (`[recurring]`; defaults when absent).
    pub fn recurring(&self) -> &crate::recurring::RecurringConfig {
        &self.recurring
    }
}

/// Reads one rule table, recording problems and which keys were read.
struct Reader<'t, 'p> {
    table: &'t toml::Table,
    path: &'t str,
    seen: Vec<&'static str>,
    problems: &'p mut Vec<String>,
}

impl<'t> Reader<'t, '_> {
    fn get(&mut self, key: &'static str) -> Option<&'t toml::Value> {
        self.seen.push(key);
        self.table.get(key)
    }

    fn problem(&mut self, key: &str, msg: impl Display) {
        self.problems.push(format!("{}.{key}: {msg}", self.path));
    }

    fn int(&mut self, key: &'static str, default: i64, range: RangeInclusive<i64>) -> i64 {
        match self.get(key) {
            None => default,
            Some(toml::Value::Integer(v)) if range.contains(v) => *v,
            Some(toml::Value::Integer(v)) => {
                let v = *v;
                self.problem(key, format!("must be between {} and {}, got {v}", range.start(), range.end()));
                default
            }
            Some(other) => {
                let t = other.type_str();
                self.problem(key, format!("expected an integer, got {t}"));
                default
            }
        }
    }

    fn amount(&mut self, key: &'static str, default: i64) -> i64 {
        self.int(key, default, 0..=MAX_MAJOR_UNITS)
    }

    fn bool(&mut self, key: &'static str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(toml::Value::Boolean(b)) => *b,
            Some(other) => {
                let t = other.type_str();
                self.problem(key, format!("expected true or false, got {t}"));
                default
            }
        }
    }

    fn string(&mut self, key: &'static str) -> Option<String> {
        match self.get(key) {
            None => None,
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(other) => {
                let t = other.type_str();
                self.problem(key, format!("expected a string, got {t}"));
                None
            }
        }
    }

    fn required(&mut self, key: &'static str, what: &str) -> Option<String> {
        if self.table.contains_key(key) {
            self.string(key)
        } else {
            self.seen.push(key);
            self.problem(key, format!("missing; expected {what}"));
            None
        }
    }

    fn ids(&mut self, key: &'static str) -> Vec<String> {
        let mut out = Vec::new();
        match self.get(key) {
            None => {}
            Some(toml::Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        toml::Value::String(s) if valid_id(s) => out.push(s.clone()),
                        toml::Value::String(s) => {
                            let msg = format!("'{s}' is not a category id ([a-z][a-z0-9_]*)");
                            self.problem(&format!("{key}[{i}]"), msg);
                        }
                        other => {
                            let msg = format!("expected a string, got {}", other.type_str());
                            self.problem(&format!("{key}[{i}]"), msg);
                        }
                    }
                }
            }
            Some(other) => {
                let t = other.type_str();
                self.problem(key, format!("expected an array of category ids, got {t}"));
            }
        }
        out
    }

    fn template(&mut self, key: &'static str, text: &str, allowed: &[&str], kind: TipKind) {
        if text.trim().is_empty() {
            self.problem(key, "must not be empty");
            return;
        }
        match parse_template(text) {
            Err(e) => self.problem(key, e),
            Ok(pieces) => {
                for piece in pieces {
                    if let Piece::Hole(name) = piece
                        && !allowed.contains(&name)
                    {
                        let msg = format!(
                            "unknown placeholder {{{name}}} for kind {kind}{}; known: {}",
                            if key == "message" { "" } else { " in this field" },
                            allowed.join(", ")
                        );
                        self.problem(key, msg);
                    }
                }
            }
        }
    }

    fn finish(self, kind: Option<TipKind>) {
        for key in self.table.keys() {
            if !self.seen.contains(&key.as_str()) {
                let msg = match kind {
                    Some(k) => format!("{}.{key}: unknown key for kind {k}", self.path),
                    None => format!("{}.{key}: unknown key", self.path),
                };
                self.problems.push(msg);
            }
        }
    }
}

/// `[a-z][a-z0-9_]*`.
fn valid_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn parse_rule(table: &toml::Table, path: &str, problems: &mut Vec<String>) -> Option<TipRule> {
    let mut r = Reader { table, path, seen: Vec::new(), problems };
    let id = r.required("id", "a rule id such as \"category_share\"");
    if let Some(id) = &id
        && !valid_id(id)
    {
        r.problem("id", format!("'{id}' must match [a-z][a-z0-9_]*"));
    }
    let kinds = TipKind::ALL.map(TipKind::as_str).join(", ");
    let kind = match r.required("kind", &format!("one of {kinds}")) {
        None => None,
        Some(k) => {
            let parsed = TipKind::parse(&k);
            if parsed.is_none() {
                r.problem("kind", format!("unknown kind '{k}'; expected one of {kinds}"));
            }
            parsed
        }
    };
    let enabled = r.bool("enabled", true);
    let Some(kind) = kind else {
        // Without a kind the other keys cannot be checked.
        return None;
    };
    let params = match kind {
        TipKind::CategoryShare => Params::CategoryShare {
            min_share_percent: r.int("min_share_percent", 30, 1..=100),
            min_amount: r.amount("min_amount", 0),
        },
        TipKind::Growth => {
            let scope = match r.string("scope").as_deref() {
                None | Some("category") => Scope::Category,
                Some("total") => Scope::Total,
                Some(other) => {
                    r.problem("scope", format!("unknown scope '{other}'; expected \"category\" or \"total\""));
                    Scope::Category
                }
            };
            Params::Growth {
                scope,
                min_growth_percent: r.int("min_growth_percent", 25, 1..=100_000),
                min_increase: r.amount("min_increase", 0),
            }
        }
        TipKind::Recurring => Params::Recurring {
            min_count: r.int("min_count", 2, 1..=1000),
            only_subscriptions: r.bool("only_subscriptions", true),
            exclude_categories: r.ids("exclude_categories"),
            max_listed: r.int("max_listed", 5, 1..=100),
        },
        TipKind::SmallFrequent => Params::SmallFrequent {
            max_amount: r.int("max_amount", 200, 1..=MAX_MAJOR_UNITS),
            min_count: r.int("min_count", 10, 1..=1_000_000),
            min_total: r.amount("min_total", 0),
        },
        TipKind::WeekendSpike => Params::WeekendSpike {
            min_ratio_percent: r.int("min_ratio_percent", 150, 101..=100_000),
            min_weekend_total: r.amount("min_weekend_total", 0),
        },
        TipKind::LateNight => {
            let start = r.int("start_hour", 22, 0..=23);
            let end = r.int("end_hour", 4, 0..=23);
            if start == end {
                r.problem("end_hour", format!("must differ from start_hour ({start})"));
            }
            Params::LateNight {
                start_hour: i8::try_from(start).unwrap_or(22),
                end_hour: i8::try_from(end).unwrap_or(4),
                min_share_percent: r.int("min_share_percent", 10, 1..=100),
                min_amount: r.amount("min_amount", 0),
            }
        }
        TipKind::SavingsRate => Params::SavingsRate {
            target_percent: r.int("target_percent", 20, 0..=100),
            message_above: r.string("message_above"),
        },
        TipKind::RisingThree => Params::RisingThree {
            min_step_percent: r.int("min_step_percent", 5, 0..=100_000),
            min_amount: r.amount("min_amount", 0),
        },
    };
    let message = r.required("message", "a text with {placeholders}");
    if let Some(m) = &message {
        r.template("message", m, &params.allowed("message"), kind);
    }
    if let Params::SavingsRate { message_above: Some(m), .. } = &params {
        r.template("message_above", m, &params.allowed("message_above"), kind);
    }
    r.finish(Some(kind));
    Some(TipRule { id: id?, enabled, message: message?, params })
}

/// A piece of a message template.
enum Piece<'t> {
    Text(&'t str),
    Hole(&'t str),
}

/// Splits a template into text and `{placeholder}` names; `{{` and `}}` are literal braces.
fn parse_template(t: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find(['{', '}']) {
        if i > 0 {
            out.push(Piece::Text(&rest[..i]));
        }
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push(Piece::Text("{"));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push(Piece::Text("}"));
            rest = after;
        } else if tail.starts_with('}') {
            return Err("unmatched '}' (write }} for a literal brace)".to_owned());
        } else {
            let close = tail.find('}').ok_or("unclosed '{' (write {{ for a literal brace)")?;
            let name = &tail[1..close];
            if !valid_id(name) {
                return Err(format!("bad placeholder {{{name}}}: expected a name such as {{amount}}"));
            }
            out.push(Piece::Hole(name));
            rest = &tail[close + 1..];
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// A tip: a rendered message plus the numbers behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tip {
    /// The rule's id.
    pub rule: String,
    /// The rule's kind.
    pub kind: TipKind,
    /// The rendered message.
    pub message: String,
    /// Money at stake in minor units, used for ranking (see `config/tips.toml` per kind).
    pub impact_minor: i64,
    /// Currency of every amount.
    pub currency: Currency,
    /// Every placeholder value the rule computed: amounts as plain decimals ("6240.00"),
    /// shares as percent with one decimal ("38.0").
    pub numbers: BTreeMap<String, String>,
}

/// What [`tips`] reads.
#[derive(Debug, Clone, Copy)]
pub struct TipInput<'a> {
    /// The user's live entries from at least three periods before the current one through
    /// its end, any order; entries outside those four periods are ignored.
    pub entries: &'a [Arc<ProcessedEntry>],
    /// The user's zone: periods and hours are cut in it.
    pub tz: &'a TimeZone,
    /// Week, month or year.
    pub period: Period,
    /// Any day in the current period.
    pub date: Date,
    /// The user's first day of the week.
    pub week_start: WeekStart,
    /// Only entries in this currency count.
    pub currency: Currency,
    /// Display names of categories (the id is shown when missing).
    pub categories: &'a [CategoryDef],
    /// Output of [`crate::recurring::detect`]; others than `currency` are ignored.
    pub recurring: &'a [Recurring],
}

/// Formats minor units with thousands grouping: `6,240.00`, `-1,200.50`, `1,500` (JPY).
pub fn format_grouped(currency: Currency, minor: i64) -> String {
    let plain = currency.format(minor);
    let (sign, body) = match plain.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", plain.as_str()),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    out.push_str(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Every enabled rule of `rules` that fires on `input`, sorted by impact (largest first),
/// then rule id, then message.
pub fn tips(input: &TipInput<'_>, rules: &TipRules) -> Vec<Tip> {
    let data = Data::gather(input);
    let mut out = Vec::new();
    for rule in rules.rules.iter().filter(|r| r.enabled) {
        let ctx = Ctx { input, data: &data, rule };
        match &rule.params {
            Params::CategoryShare { min_share_percent, min_amount } => {
                ctx.category_share(*min_share_percent, ctx.minor(*min_amount), &mut out);
            }
            Params::Growth { scope, min_growth_percent, min_increase } => {
                ctx.growth(*scope, *min_growth_percent, ctx.minor(*min_increase), &mut out);
            }
            Params::Recurring { min_count, only_subscriptions, exclude_categories, max_listed } => {
                ctx.recurring(*min_count, *only_subscriptions, exclude_categories, *max_listed, &mut out);
            }
            Params::SmallFrequent { max_amount, min_count, min_total } => {
                ctx.small_frequent(ctx.minor(*max_amount), *min_count, ctx.minor(*min_total), &mut out);
            }
            Params::WeekendSpike { min_ratio_percent, min_weekend_total } => {
                ctx.weekend_spike(*min_ratio_percent, ctx.minor(*min_weekend_total), &mut out);
            }
            Params::LateNight { start_hour, end_hour, min_share_percent, min_amount } => {
                ctx.late_night((*start_hour, *end_hour), *min_share_percent, ctx.minor(*min_amount), &mut out);
            }
            Params::SavingsRate { target_percent, message_above } => {
                ctx.savings_rate(*target_percent, message_above.as_deref(), &mut out);
            }
            Params::RisingThree { min_step_percent, min_amount } => {
                ctx.rising_three(*min_step_percent, ctx.minor(*min_amount), &mut out);
            }
        }
    }
    out.sort_by(|a, b| {
        b.impact_minor.cmp(&a.impact_minor).then_with(|| a.rule.cmp(&b.rule)).then_with(|| a.message.cmp(&b.message))
    });
    out
}

/// Index of the current period in [`Data`]'s arrays; 0 is three periods before.
const CUR: usize = 3;
/// Index of the previous period.
const PREV: usize = 2;

/// Sums over the four periods, oldest first.
struct Data<'a> {
    ranges: [DateRange; 4],
    spent: [i64; 4],
    income: [i64; 4],
    per_category: BTreeMap<&'a CategoryId, [i64; 4]>,
    /// Expenses of the current period with their local date-time.
    current: Vec<(&'a ProcessedEntry, DateTime)>,
}

impl<'a> Data<'a> {
    fn gather(input: &TipInput<'a>) -> Data<'a> {
        let cur = period_range(input.period, input.date, input.week_start);
        let p1 = previous_range(input.period, cur.start, input.week_start);
        let p2 = previous_range(input.period, p1.start, input.week_start);
        let p3 = previous_range(input.period, p2.start, input.week_start);
        let mut data = Data {
            ranges: [p3, p2, p1, cur],
            spent: [0; 4],
            income: [0; 4],
            per_category: BTreeMap::new(),
            current: Vec::new(),
        };
        for pe in input.entries {
            let pe: &'a ProcessedEntry = pe;
            let e = &pe.entry;
            if e.amount.currency != input.currency {
                continue;
            }
            let local = input.tz.to_datetime(e.occurred_at);
            let Some(i) = data.ranges.iter().position(|r| r.contains(local.date())) else { continue };
            let minor = e.amount.minor;
            match e.kind {
                EntryKind::Expense => {
                    data.spent[i] = data.spent[i].saturating_add(minor);
                    let cell = &mut data.per_category.entry(&pe.category).or_default()[i];
                    *cell = cell.saturating_add(minor);
                    if i == CUR {
                        data.current.push((pe, local));
                    }
                }
                EntryKind::Income => data.income[i] = data.income[i].saturating_add(minor),
            }
        }
        data
    }
}

/// Placeholder values: (plain, as shown in the message).
#[derive(Default)]
struct Values(BTreeMap<&'static str, (String, String)>);

impl Values {
    fn text(&mut self, key: &'static str, v: impl Into<String>) -> &mut Self {
        let v = v.into();
        self.0.insert(key, (v.clone(), v));
        self
    }

    fn money(&mut self, key: &'static str, currency: Currency, minor: i64) -> &mut Self {
        self.0.insert(key, (currency.format(minor), format_grouped(currency, minor)));
        self
    }
}

/// Substitutes `{name}` with shown values; a name without a value is kept as written.
fn render(template: &str, values: &Values) -> String {
    let Ok(pieces) = parse_template(template) else { return template.to_owned() };
    let mut out = String::with_capacity(template.len() + 32);
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Hole(name) => match values.0.get(name) {
                Some((_, shown)) => out.push_str(shown),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    }
    out
}

/// `part * 100 >= pct * whole`, in i128.
fn at_least_percent(part: i64, whole: i64, pct: i64) -> bool {
    i128::from(part) * 100 >= i128::from(pct) * i128::from(whole)
}

/// `pct` percent of `whole`, rounded.
fn percent_of(whole: i64, pct: i64) -> i64 {
    div_round(i128::from(whole) * i128::from(pct), 100)
}

/// One rule evaluated on the gathered data.
struct Ctx<'i, 'a> {
    input: &'i TipInput<'a>,
    data: &'i Data<'a>,
    rule: &'i TipRule,
}

impl Ctx<'_, '_> {
    fn currency(&self) -> Currency {
        self.input.currency
    }

    /// Whole major units to minor units of the input currency.
    fn minor(&self, major: i64) -> i64 {
        major.saturating_mul(self.currency().scale())
    }

    fn period_word(&self) -> &'static str {
        self.input.period.name()
    }

    fn category_name(&self, id: &CategoryId) -> String {
        spendstream_core::categories::category_name(self.input.categories, id)
    }

    /// Values every kind knows.
    fn values(&self) -> Values {
        let mut v = Values::default();
        v.text("period", self.period_word()).text("currency", self.currency().code());
        v
    }

    fn tip(&self, template: &str, values: Values, impact_minor: i64) -> Tip {
        Tip {
            rule: self.rule.id.clone(),
            kind: self.rule.kind(),
            message: render(template, &values),
            impact_minor,
            currency: self.currency(),
            numbers: values.0.into_iter().map(|(k, (plain, _))| (k.to_owned(), plain)).collect(),
        }
    }

    fn emit(&self, values: Values, impact_minor: i64, out: &mut Vec<Tip>) {
        out.push(self.tip(&self.rule.message, values, impact_minor));
    }

    fn category_share(&self, min_pct: i64, min_amount: i64, out: &mut Vec<Tip>) {
        let (total, prev_total) = (self.data.spent[CUR], self.data.spent[PREV]);
        if total <= 0 {
            return;
        }
        let c = self.currency();
        for (id, amounts) in &self.data.per_category {
            let amount = amounts[CUR];
            if amount <= 0 || amount < min_amount || !at_least_percent(amount, total, min_pct) {
                continue;
            }
            let excess = amount - percent_of(total, min_pct);
            let mut v = self.values();
            v.text("category", self.category_name(id))
                .text("share", percent(amount, total))
                .money("amount", c, amount)
                .money("total", c, total)
                .text("previous_share", percent(amounts[PREV], prev_total))
                .money("previous_amount", c, amounts[PREV])
                .text("threshold", min_pct.to_string())
                .money("excess", c, excess);
            self.emit(v, excess, out);
        }
    }

    fn growth(&self, scope: Scope, min_pct: i64, min_increase: i64, out: &mut Vec<Tip>) {
        let c = self.currency();
        let mut check = |name: Option<String>, cur: i64, prev: i64| {
            let increase = cur - prev;
            if prev <= 0 || increase <= 0 || increase < min_increase || !at_least_percent(increase, prev, min_pct) {
                return;
            }
            let mut v = self.values();
            if let Some(name) = name {
                v.text("category", name);
            }
            v.money("amount", c, cur)
                .money("previous_amount", c, prev)
                .money("increase", c, increase)
                .text("growth", percent(increase, prev));
            self.emit(v, increase, out);
        };
        match scope {
            Scope::Total => check(None, self.data.spent[CUR], self.data.spent[PREV]),
            Scope::Category => {
                for (id, a) in &self.data.per_category {
                    check(Some(self.category_name(id)), a[CUR], a[PREV]);
                }
            }
        }
    }

    fn recurring(
        &self,
        min_count: i64,
        only_subscriptions: bool,
        exclude: &[String],
        max_listed: i64,
        out: &mut Vec<Tip>,
    ) {
        let c = self.currency();
        let mut list: Vec<&Recurring> = self
            .input
            .recurring
            .iter()
            .filter(|r| r.currency == c)
            .filter(|r| !only_subscriptions || r.subscription)
            .filter(|r| !exclude.iter().any(|x| x == r.category.as_str()))
            .collect();
        let count = i64::try_from(list.len()).unwrap_or(i64::MAX);
        if list.is_empty() || count < min_count {
            return;
        }
        list.sort_by(|a, b| {
            b.monthly_cost_minor
                .cmp(&a.monthly_cost_minor)
                .then_with(|| a.merchant.cmp(&b.merchant))
                .then_with(|| a.first_date.cmp(&b.first_date))
        });
        let monthly: i64 = list.iter().map(|r| r.monthly_cost_minor).fold(0, i64::saturating_add);
        let yearly: i64 = list.iter().map(|r| r.cadence.yearly_cost(r.last_amount_minor)).fold(0, i64::saturating_add);
        let shown = usize::try_from(max_listed).unwrap_or(usize::MAX);
        let items: Vec<String> = list
            .iter()
            .take(shown)
            .map(|r| format!("{} {}", r.merchant, format_grouped(c, r.monthly_cost_minor)))
            .collect();
        let more = list.len().saturating_sub(shown);
        let text = if more > 0 { format!("{} and {more} more", items.join(", ")) } else { items.join(", ") };
        let mut v = self.values();
        v.text("count", count.to_string())
            .money("monthly_total", c, monthly)
            .money("yearly_total", c, yearly)
            .text("list", text);
        self.emit(v, monthly, out);
    }

    fn small_frequent(&self, max_amount: i64, min_count: i64, min_total: i64, out: &mut Vec<Tip>) {
        let c = self.currency();
        let small: Vec<i64> =
            self.data.current.iter().map(|(pe, _)| pe.entry.amount.minor).filter(|a| *a < max_amount).collect();
        let count = i64::try_from(small.len()).unwrap_or(i64::MAX);
        let total = small.iter().copied().fold(0, i64::saturating_add);
        if count == 0 || count < min_count || total < min_total {
            return;
        }
        let mut v = self.values();
        v.text("count", count.to_string())
            .money("total", c, total)
            .money("max_amount", c, max_amount)
            .text("share", percent(total, self.data.spent[CUR]))
            .money("average", c, div_round(i128::from(total), i128::from(count)));
        self.emit(v, total, out);
    }

    fn weekend_spike(&self, min_ratio_pct: i64, min_weekend_total: i64, out: &mut Vec<Tip>) {
        let c = self.currency();
        let is_weekend = |d: Date| matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
        let (mut weekend_days, mut weekday_days) = (0_i64, 0_i64);
        let range = self.data.ranges[CUR];
        let mut d = range.start;
        while d < range.end {
            if is_weekend(d) {
                weekend_days += 1;
            } else {
                weekday_days += 1;
            }
            d = match d.tomorrow() {
                Ok(n) => n,
                Err(_) => break,
            };
        }
        let (mut weekend, mut weekday) = (0_i64, 0_i64);
        for (pe, local) in &self.data.current {
            let slot = if is_weekend(local.date()) { &mut weekend } else { &mut weekday };
            *slot = slot.saturating_add(pe.entry.amount.minor);
        }
        if weekend_days == 0 || weekday_days == 0 || weekday <= 0 || weekend <= 0 || weekend < min_weekend_total {
            return;
        }
        // weekend / weekend_days >= pct% of weekday / weekday_days, cross-multiplied.
        let lhs = i128::from(weekend) * i128::from(weekday_days) * 100;
        let rhs = i128::from(min_ratio_pct) * i128::from(weekday) * i128::from(weekend_days);
        if lhs < rhs {
            return;
        }
        let ratio_tenths = div_round(
            i128::from(weekend) * i128::from(weekday_days) * 10,
            i128::from(weekday) * i128::from(weekend_days),
        );
        let extra = weekend - div_round(i128::from(weekday) * i128::from(weekend_days), i128::from(weekday_days));
        let mut v = self.values();
        v.money("weekend_average", c, div_round(i128::from(weekend), i128::from(weekend_days)))
            .money("weekday_average", c, div_round(i128::from(weekday), i128::from(weekday_days)))
            .text("ratio", format_minor(ratio_tenths, 1))
            .money("weekend_total", c, weekend)
            .money("weekday_total", c, weekday)
            .text("weekend_days", weekend_days.to_string())
            .text("weekday_days", weekday_days.to_string())
            .money("extra", c, extra);
        self.emit(v, extra, out);
    }

    fn late_night(&self, (start, end): (i8, i8), min_pct: i64, min_amount: i64, out: &mut Vec<Tip>) {
        let c = self.currency();
        let inside = |h: i8| if start < end { start <= h && h < end } else { h >= start || h < end };
        let (mut count, mut amount) = (0_i64, 0_i64);
        for (pe, local) in &self.data.current {
            if inside(local.hour()) {
                count += 1;
                amount = amount.saturating_add(pe.entry.amount.minor);
            }
        }
        let total = self.data.spent[CUR];
        if amount <= 0 || amount < min_amount || !at_least_percent(amount, total, min_pct) {
            return;
        }
        let mut v = self.values();
        v.money("amount", c, amount)
            .text("share", percent(amount, total))
            .text("count", count.to_string())
            .text("start", format!("{start:02}:00"))
            .text("end", format!("{end:02}:00"))
            .money("total", c, total);
        self.emit(v, amount, out);
    }

    fn savings_rate(&self, target_pct: i64, message_above: Option<&str>, out: &mut Vec<Tip>) {
        let c = self.currency();
        let (income, spent) = (self.data.income[CUR], self.data.spent[CUR]);
        if income <= 0 {
            return;
        }
        let saved = income - spent;
        let target_amount = percent_of(income, target_pct);
        let mut v = self.values();
        v.money("income", c, income)
            .money("spent", c, spent)
            .money("saved", c, saved)
            .text("rate", percent(saved, income))
            .text("target", target_pct.to_string())
            .money("target_amount", c, target_amount);
        if !at_least_percent(saved, income, target_pct) {
            let shortfall = (target_amount - saved).max(0);
            v.money("shortfall", c, shortfall);
            self.emit(v, shortfall, out);
        } else if let Some(template) = message_above {
            v.money("surplus", c, (saved - target_amount).max(0));
            out.push(self.tip(template, v, 0));
        }
    }

    fn rising_three(&self, min_step_pct: i64, min_amount: i64, out: &mut Vec<Tip>) {
        let c = self.currency();
        for (id, a) in &self.data.per_category {
            let rising = a.windows(2).all(|w| w[1] > w[0] && at_least_percent(w[1] - w[0], w[0], min_step_pct));
            if a[0] <= 0 || !rising || a[CUR] < min_amount {
                continue;
            }
            let increase = a[CUR] - a[0];
            let amounts = a.iter().map(|m| format_grouped(c, *m)).collect::<Vec<_>>().join(" → ");
            let mut v = self.values();
            v.text("category", self.category_name(id))
                .money("first_amount", c, a[0])
                .money("amount", c, a[CUR])
                .money("increase", c, increase)
                .text("growth", percent(increase, a[0]));
            // The list is shown grouped and kept plain in `numbers`.
            let plain = a.iter().map(|m| c.format(*m)).collect::<Vec<_>>().join(" → ");
            v.0.insert("amounts", (plain, amounts));
            self.emit(v, increase, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        let inr = Currency::parse("INR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(format_grouped(inr, 624_000), "6,240.00");
        assert_eq!(format_grouped(inr, 99), "0.99");
        assert_eq!(format_grouped(inr, -120_050), "-1,200.50");
        assert_eq!(format_grouped(inr, 12_345_678_900), "123,456,789.00");
        assert_eq!(format_grouped(jpy, 1500), "1,500");
        assert_eq!(format_grouped(jpy, 150), "150");
    }

    #[test]
    fn templates() {
        let mut v = Values::default();
        v.text("a", "1");
        assert_eq!(render("x {a} {{a}} }} {b}", &v), "x 1 {a} } {b}");
        assert!(parse_template("{").is_err());
        assert!(parse_template("}").is_err());
        assert!(parse_template("{Bad}").is_err());
        assert!(parse_template("{}").is_err());
    }

    #[test]
    fn every_placeholder_list_is_allowed_somewhere() {
        for kind in TipKind::ALL {
            assert!(kind.placeholders().contains(&"period"), "{kind}");
            assert!(kind.placeholders().contains(&"currency"), "{kind}");
        }
    }
}
