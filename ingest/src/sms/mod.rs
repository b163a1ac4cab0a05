//! Bank / card / UPI / wallet SMS parsing driven by templates in config (`config/sms.toml`).
//!
//! [`SmsRules`] compiles the rule file once (regexes, one keyword automaton, sender
//! groups); [`parse`] then classifies a message ([`SmsClass`]) and, for transactions,
//! extracts a [`ParsedTransaction`] (amounts as decimal strings, never floats). Bills get a
//! [`ParsedBill`]. [`parse_jsonl`] runs the same over JSON lines.
//!
//! Per message: one keyword pass finds every configured word; class rules (OTP, promo,
//! bill, other, declined) run first, gated by those keywords; then templates (sender
//! specific, then generic) locate the amount; fields a template does not capture come
//! from generic field rules, a hand-written money scanner and a date scanner.
//!
//! ```
//! use spendstream_ingest::sms::{parse, SmsClass, SmsRules};
//!
//! let rules = SmsRules::shipped();
//! let out = parse(rules, "VM-HDFCBK", "Rs.5000 withdrawn from HDFC Bank Debit Card x3390 at \
//!     HDFC BANK ATM on 2024-06-15:11:05:43. Avl bal: Rs.18,204.50.").unwrap();
//! assert_eq!(out.class, SmsClass::Transaction);
//! let tx = out.transaction.unwrap();
//! assert_eq!(tx.amount, "5000.00");
//! assert_eq!(tx.balance.as_deref(), Some("18204.50"));
//! ```

mod amount;
mod config;
mod date;
mod jsonl;
mod lexicon;
mod merchant;
mod money;

pub use amount::{amount_minor, minor_units};
pub use config::{SHIPPED_TOML, SmsRules};
pub use jsonl::{JsonlStats, parse_jsonl};

use config::{CurrencyMark, MoneyGroups, TAG_CREDIT, TAG_DEBIT, TAG_NEUTRAL, Template};
use date::DateOrder;
use jiff::civil::Date;
use lexicon::Hits;
use regex::Captures;
use serde::{Deserialize, Serialize};

/// Largest message accepted, in bytes.
pub const MAX_SMS_BYTES: usize = 2048;

/// What kind of message an SMS is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsClass {
    /// Money moved (debit or credit).
    Transaction,
    /// A payment that failed or was declined.
    Declined,
    /// A statement or payment-due reminder.
    BillDue,
    /// A one-time password.
    Otp,
    /// An offer, cashback, loan or limit promotion.
    Promo,
    /// A balance or available limit only.
    Balance,
    /// Anything else (KYC, requests, mandates, notices, warnings, non-financial text).
    Other,
}

impl SmsClass {
    /// The snake_case name ("bill_due").
    pub fn as_str(self) -> &'static str {
        match self {
            SmsClass::Transaction => "transaction",
            SmsClass::Declined => "declined",
            SmsClass::BillDue => "bill_due",
            SmsClass::Otp => "otp",
            SmsClass::Promo => "promo",
            SmsClass::Balance => "balance",
            SmsClass::Other => "other",
        }
    }
}

/// Whether money left or reached the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Money left the user's account, card or wallet.
    Debit,
    /// Money arrived (incl. refunds, reversals, card payments received).
    Credit,
}

/// How the money moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// UPI (India).
    Upi,
    /// Card payment, POS or online.
    Card,
    /// Cash withdrawal (ATM or agent).
    Atm,
    /// Net banking / bill pay / BPAY.
    Netbanking,
    /// Wallet (Paytm, PhonePe, Amazon Pay, M-PESA, Venmo).
    Wallet,
    /// Bank transfer (NEFT/IMPS/RTGS, salary, Zelle, Faster Payments, SEPA, ...).
    Transfer,
    /// Refund or reversal.
    Refund,
    /// Anything else (EMI, direct debits, interest, tolls, airtime, ...).
    Other,
}

impl Channel {
    /// The lowercase name ("netbanking").
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Upi => "upi",
            Channel::Card => "card",
            Channel::Atm => "atm",
            Channel::Netbanking => "netbanking",
            Channel::Wallet => "wallet",
            Channel::Transfer => "transfer",
            Channel::Refund => "refund",
            Channel::Other => "other",
        }
    }
}

/// Fields of a transaction SMS. Amounts are decimal strings with the currency's places.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedTransaction {
    /// Amount, e.g. "1234.56" (JPY "1500", KWD "1.500").
    pub amount: String,
    /// ISO 4217 code of the amount.
    pub currency: String,
    /// Debit or credit.
    pub direction: Direction,
    /// The user's account or card digits as shown (last 4, or 3 when only 3 are shown).
    pub account_last4: Option<String>,
    /// Counterparty as a person would name it ("Zomato", "Vikram Patel").
    pub merchant: Option<String>,
    /// Available balance after the transaction (never a credit limit).
    pub balance: Option<String>,
    /// Transaction date written in the message (only when it has a year).
    pub date: Option<Date>,
    /// Channel.
    pub kind: Channel,
    /// Bank, UPI, UTR or wallet reference as written.
    pub reference: Option<String>,
}

/// Fields of a bill or statement reminder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedBill {
    /// Total amount due.
    pub amount_due: String,
    /// Minimum amount due, when stated.
    pub min_due: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Due date, when stated with a year.
    pub due_date: Option<Date>,
    /// Card or loan digits (none for utility and phone numbers).
    pub account_last4: Option<String>,
}

/// Result of parsing one SMS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsOutcome {
    /// Message class.
    pub class: SmsClass,
    /// Present when `class` is [`SmsClass::Transaction`].
    pub transaction: Option<ParsedTransaction>,
    /// Present when `class` is [`SmsClass::BillDue`] and the amount was found.
    pub bill: Option<ParsedBill>,
    /// Name of the template or class rule that decided.
    pub template: Option<String>,
}

/// Input that is not a text message at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmsInputError {
    /// Empty or whitespace only.
    #[error("message is empty")]
    Empty,
    /// Longer than [`MAX_SMS_BYTES`].
    #[error("message is {len} bytes, over the {max}-byte limit")]
    TooLong {
        /// Length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Contains NUL or a control character other than newline, carriage return and tab.
    #[error("message contains a control character at byte {offset}")]
    Binary {
        /// Byte offset of the first such character.
        offset: usize,
    },
}

/// A rule file that does not compile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmsConfigError {
    /// Not valid TOML or not the expected layout (unknown or missing keys).
    #[error("sms rules: {0}")]
    Toml(String),
    /// An entry with a bad value, e.g. a regex that does not compile.
    #[error("sms rules: {place}: key `{key}`: {message}")]
    Entry {
        /// The entry, e.g. "template `hdfc-upi`".
        place: String,
        /// The key within it.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Checks that `text` is a message at all.
pub fn validate(text: &str) -> Result<(), SmsInputError> {
    if text.len() > MAX_SMS_BYTES {
        return Err(SmsInputError::TooLong { len: text.len(), max: MAX_SMS_BYTES });
    }
    // Control characters (Unicode Cc: U+0000..=U+001F, U+007F..=U+009F) found on bytes:
    // U+0080..=U+009F is encoded as C2 80..=C2 9F.
    let bytes = text.as_bytes();
    // Branch-free first pass (the compiler vectorises it): any byte that could start a
    // control character at all? Only then look for the first real one.
    let suspect = bytes.iter().fold(false, |acc, &b| {
        acc | ((b < 0x20) & (b != b'\n') & (b != b'\r') & (b != b'\t')) | (b == 0x7f) | (b == 0xc2)
    });
    if suspect
        && let Some(offset) = bytes.iter().enumerate().position(|(i, &b)| match b {
            b'\n' | b'\r' | b'\t' => false,
            0..=0x1f | 0x7f => true,
            0xc2 => bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)),
            _ => false,
        })
    {
        return Err(SmsInputError::Binary { offset });
    }
    if text.trim().is_empty() {
        return Err(SmsInputError::Empty);
    }
    Ok(())
}

/// Parses one SMS from `sender` with `rules`.
///
/// Errors only for input that is not a message (empty, over 2 KiB, binary); anything
/// else returns a class, and a transaction only when a template matched with an amount.
pub fn parse(rules: &SmsRules, sender: &str, text: &str) -> Result<SmsOutcome, SmsInputError> {
    validate(text)?;
    let ctx = Ctx::new(rules, sender, text);
    for rule in rules.classes.iter().filter(|r| r.before) {
        if ctx.rule_matches(rule) {
            let bill = if rule.class == SmsClass::BillDue { ctx.bill() } else { None };
            return Ok(SmsOutcome { class: rule.class, transaction: None, bill, template: Some(rule.name.clone()) });
        }
    }
    if let Some((tx, name)) = ctx.transaction() {
        return Ok(SmsOutcome {
            class: SmsClass::Transaction,
            transaction: Some(tx),
            bill: None,
            template: Some(name.to_string()),
        });
    }
    for rule in rules.classes.iter().filter(|r| !r.before) {
        if ctx.rule_matches(rule) {
            return Ok(SmsOutcome {
                class: rule.class,
                transaction: None,
                bill: None,
                template: Some(rule.name.clone()),
            });
        }
    }
    Ok(SmsOutcome { class: SmsClass::Other, transaction: None, bill: None, template: None })
}

/// What a template match supplies; the rest comes from the generic rules.
#[derive(Default)]
struct Found<'t> {
    money: Option<Money<'t>>,
    direction: Option<Direction>,
    merchant: Option<&'t str>,
    account: Option<&'t str>,
    date: Option<&'t str>,
    reference: Option<&'t str>,
    balance: Option<Money<'t>>,
}

/// A money amount found in the text.
#[derive(Clone, Copy)]
struct Money<'t> {
    num: &'t str,
    cur: Option<&'t str>,
    start: usize,
    end: usize,
}

fn money_of<'t>(caps: &Captures<'t>, g: &MoneyGroups) -> Option<Money<'t>> {
    let whole = |n: regex::Match<'t>, c: Option<regex::Match<'t>>| {
        let start = c.map_or(n.start(), |c| c.start().min(n.start()));
        let end = c.map_or(n.end(), |c| c.end().max(n.end()));
        Money { num: n.as_str(), cur: c.map(|c| c.as_str()), start, end }
    };
    let get = |i: Option<usize>| i.and_then(|i| caps.get(i));
    if let Some(n) = get(g.num) {
        return Some(whole(n, get(g.cur)));
    }
    if let Some(n) = get(g.alt) {
        return Some(whole(n, get(g.altcur)));
    }
    get(g.bare).map(|n| whole(n, None))
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// For each start position in `lo..hi`, in order, the keyword hit there with a non-zero
/// tag that reaches furthest (the first one found when several do), as (start, end, tag).
fn longest_tagged<'h>(
    list: &'h [lexicon::Hit],
    tags: &'h [u8],
    lo: usize,
    hi: usize,
) -> impl Iterator<Item = (usize, usize, u8)> + 'h {
    let mut i = list.partition_point(|h| h.start < lo);
    std::iter::from_fn(move || {
        while let Some(first) = list.get(i).filter(|h| h.start < hi) {
            let start = first.start;
            let mut best: Option<(usize, u8)> = None;
            while let Some(h) = list.get(i).filter(|h| h.start == start) {
                let tag = tags[usize::from(h.id)];
                if tag != 0 && best.is_none_or(|(end, _)| h.end > end) {
                    best = Some((h.end, tag));
                }
                i += 1;
            }
            if let Some((end, tag)) = best {
                return Some((start, end, tag));
            }
        }
        None
    })
}

/// Keeps the last four digits (all of them when fewer).
fn last4(digits: &str) -> String {
    let n = digits.len();
    digits[n.saturating_sub(4)..].to_string()
}

struct Ctx<'a> {
    rules: &'a SmsRules,
    text: &'a str,
    hits: Hits,
    group: Option<usize>,
    sender_region: Option<usize>,
    hint_region: Option<usize>,
}

impl<'a> Ctx<'a> {
    fn new(rules: &'a SmsRules, sender: &str, text: &'a str) -> Self {
        let hits = rules.lexicon.scan(text);
        let group = rules.sender_index.group(sender);
        let sender_region = group.map(|g| rules.senders[g].region);
        let hint_region =
            if sender_region.is_none() { rules.regions.iter().position(|r| hits.any(&r.hints)) } else { None };
        Ctx { rules, text, hits, group, sender_region, hint_region }
    }

    fn rule_matches(&self, rule: &config::ClassRule) -> bool {
        if self.hits.any(&rule.unless) {
            return false;
        }
        if !rule.keywords.is_empty() && !self.hits.any(&rule.keywords) {
            return false;
        }
        if let Some(re) = &rule.patterns
            && !re.is_match(self.text)
        {
            return false;
        }
        !rule.requires_amount || self.rules.scanner.find(self.text, 0, self.text.len(), false).is_some()
    }

    // -- money ----------------------------------------------------------------------------

    fn guarded(&self, start: usize) -> bool {
        let from = floor_boundary(self.text, start.saturating_sub(32));
        let to = floor_boundary(self.text, start);
        self.rules.amount_guard.is_match(&self.text[from..to])
    }

    /// The first amount in `start..end` (with `bare`, also a decimal without currency).
    fn scan_money(&self, start: usize, end: usize, bare: bool) -> Option<Money<'a>> {
        let f = self.rules.scanner.find(self.text, start, end, bare)?;
        Some(Money {
            num: &self.text[f.num.0..f.num.1],
            cur: f.cur.map(|(a, b)| &self.text[a..b]),
            start: f.start,
            end: f.end,
        })
    }

    /// Currency-marked amounts in order.
    fn monies(&self) -> impl Iterator<Item = Money<'a>> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let m = self.scan_money(pos, self.text.len(), false)?;
            pos = m.end.max(pos + 1);
            Some(m)
        })
    }

    /// First currency-marked amount that is not a balance, limit or fee.
    fn first_money(&self) -> Option<Money<'a>> {
        self.monies().find(|m| !self.guarded(m.start))
    }

    fn mark_currency(&self, mark: &str, region: Option<usize>) -> Option<&'a str> {
        let rules: &'a SmsRules = self.rules;
        match rules.currency_mark(mark)? {
            CurrencyMark::Iso(code) => Some(code.as_str()),
            CurrencyMark::Dollar => Some(region.map_or("USD", |r| rules.regions[r].dollar.as_str())),
        }
    }

    fn currency_for<'f>(&self, money: &Money<'_>, fixed: Option<&'f str>) -> Option<&'f str>
    where
        'a: 'f,
    {
        let region = self.sender_region.or(self.hint_region);
        if let Some(mark) = money.cur {
            return self.mark_currency(mark, region);
        }
        if let Some(code) = fixed {
            return Some(code);
        }
        if let Some(r) = region {
            return Some(self.rules.regions[r].currency.as_str());
        }
        let other = self.monies().next()?;
        self.mark_currency(other.cur?, region)
    }

    fn date_order(&self, currency: &str) -> DateOrder {
        let region = self
            .sender_region
            .or_else(|| self.rules.regions.iter().position(|r| r.currency == currency))
            .or(self.hint_region);
        region.map_or(DateOrder::DayMonth, |r| self.rules.regions[r].date_order)
    }

    // -- transaction ----------------------------------------------------------------------

    fn transaction(&self) -> Option<(ParsedTransaction, &'a str)> {
        let rules = self.rules;
        let order = &rules.template_order[self.group.unwrap_or(rules.senders.len())];
        let usable = |t: &&Template| t.keywords.is_empty() || self.hits.any(&t.keywords);
        for t in order.iter().map(|&i| &rules.templates[i]).filter(usable) {
            if let Some(tx) = self.try_template(t) {
                return Some((tx, t.name.as_str()));
            }
        }
        None
    }

    /// What a capture-free match supplies: the first amount in it and its verb.
    fn fast_found(&self, t: &Template, start: usize, end: usize) -> Found<'a> {
        Found {
            money: self.money_in(start, end),
            direction: if t.has_direction { self.direction_in(start, end) } else { None },
            ..Found::default()
        }
    }

    /// Tries one template at successive matches.
    fn try_template(&self, t: &Template) -> Option<ParsedTransaction> {
        let mut pos = 0;
        for _ in 0..6 {
            if pos > self.text.len() {
                break;
            }
            // Templates that only capture the amount (and a verb) are located with the DFA
            // alone; the amount is then read from the matched span, which is much cheaper
            // than asking the regex engine for capture groups.
            let (found, start) = if t.fast {
                let m = t.re.find_at(self.text, pos)?;
                (self.fast_found(t, m.start(), m.end()), m.start())
            } else {
                let caps = t.re.captures_at(self.text, pos)?;
                let whole = caps.get(0)?;
                (self.found(t, &caps), whole.start())
            };
            if let Some(tx) = self.build(t, found) {
                return Some(tx);
            }
            pos = ceil_boundary(self.text, start + 1);
        }
        None
    }

    fn found(&self, t: &Template, caps: &Captures<'a>) -> Found<'a> {
        let get = |i: Option<usize>| i.and_then(|i| caps.get(i));
        Found {
            money: money_of(caps, &t.amount),
            direction: get(t.direction_group).and_then(|m| self.direction_at(m.start())),
            merchant: get(t.merchant_group).map(|m| m.as_str()),
            account: get(t.account_group).map(|m| m.as_str()),
            date: get(t.date_group).map(|m| m.as_str()),
            reference: get(t.reference_group).map(|m| m.as_str()),
            balance: money_of(caps, &t.balance),
        }
    }

    /// The first amount (currency-marked or a bare decimal) inside `start..end`.
    fn money_in(&self, start: usize, end: usize) -> Option<Money<'a>> {
        self.scan_money(start, end, true)
    }

    /// The direction word of a match: the one it starts with, else the last one in it.
    fn direction_in(&self, start: usize, end: usize) -> Option<Direction> {
        let found = longest_tagged(&self.hits.list, &self.rules.direction_tags, start, end);
        let mut covered = 0usize;
        let mut picked: Option<(usize, u8)> = None;
        for (s, e, tag) in found {
            if s < covered {
                continue;
            }
            covered = e;
            if tag == TAG_NEUTRAL {
                continue;
            }
            if s == start {
                picked = Some((s, tag));
                break;
            }
            picked = Some((s, tag));
        }
        match picked?.1 {
            TAG_DEBIT => Some(Direction::Debit),
            TAG_CREDIT => Some(Direction::Credit),
            _ => None,
        }
    }

    fn build(&self, t: &Template, f: Found<'a>) -> Option<ParsedTransaction> {
        let money = match f.money {
            Some(m) => m,
            None => self.first_money()?,
        };
        if self.guarded(money.start) {
            return None;
        }
        let currency = self.currency_for(&money, t.currency.as_deref())?;
        let amount = amount::normalise_number(money.num, minor_units(currency))?;
        // Zero, or finer than the currency's minor unit ("Rs.1.0001"): not a usable amount,
        // so every transaction amount converts with `amount_minor`.
        if amount::is_zero(&amount) || amount_minor(&amount, currency).is_none() {
            return None;
        }
        let order = self.date_order(currency);
        let direction = t.direction.or(f.direction).unwrap_or_else(|| self.direction());
        let kind_rule = t.kind.or_else(|| self.kind_rule());
        // A kind without merchants (ATM) set by a rule drops the name anyway: skip finding it.
        let dropped = kind_rule.is_some_and(|k| self.rules.merchant.none_for_kinds.contains(&k));
        let mut merchant = if t.no_merchant || dropped {
            None
        } else if let Some(m) = f.merchant {
            merchant::clean(&self.rules.merchant, m, Some(&t.rewrites), false)
        } else {
            self.generic_merchant(direction)
        };
        let kind = kind_rule.unwrap_or(match (direction, merchant.is_some()) {
            (Direction::Debit, true) => self.rules.kind_debit_merchant,
            (Direction::Credit, true) => self.rules.kind_credit_merchant,
            _ => self.rules.kind_otherwise,
        });
        if self.rules.merchant.none_for_kinds.contains(&kind) {
            merchant = None;
        }
        let account_last4 = match f.account {
            Some(a) if a.len() >= 3 => Some(last4(a)),
            _ => self.account(),
        };
        let balance = match f.balance {
            Some(b) => self.balance_value(&b, currency),
            None => self.balance(currency),
        };
        let date =
            f.date.and_then(|d| self.rules.dates.parse(d, order)).or_else(|| self.rules.dates.first(self.text, order));
        let reference = f
            .reference
            .filter(|r| r.bytes().any(|b| b.is_ascii_digit()))
            .map(str::to_string)
            .or_else(|| self.reference());
        let currency = currency.to_string();
        Some(ParsedTransaction { amount, currency, direction, account_last4, merchant, balance, date, kind, reference })
    }

    /// Direction of the keyword starting at byte `start` (a captured verb), if it has one.
    fn direction_at(&self, start: usize) -> Option<Direction> {
        let best = self
            .hits
            .list
            .iter()
            .filter(|h| h.start == start)
            .filter(|h| self.rules.direction_tags[usize::from(h.id)] != 0)
            .max_by_key(|h| h.end)?;
        match self.rules.direction_tags[usize::from(best.id)] {
            TAG_DEBIT => Some(Direction::Debit),
            TAG_CREDIT => Some(Direction::Credit),
            _ => None,
        }
    }

    fn direction(&self) -> Direction {
        for (d, gate, re) in &self.rules.direction_rules {
            if (gate.is_empty() || self.hits.any(gate)) && re.is_match(self.text) {
                return *d;
            }
        }
        let found = longest_tagged(&self.hits.list, &self.rules.direction_tags, 0, usize::MAX);
        let mut covered = 0usize;
        for (start, end, tag) in found {
            if start < covered {
                continue;
            }
            match tag {
                TAG_NEUTRAL => covered = end,
                TAG_DEBIT => return Direction::Debit,
                TAG_CREDIT => return Direction::Credit,
                _ => {}
            }
        }
        self.rules.direction_default
    }

    fn kind_rule(&self) -> Option<Channel> {
        self.rules
            .kinds
            .iter()
            .find(|k| match &k.patterns {
                None => self.hits.any(&k.keywords),
                Some(re) => (k.keywords.is_empty() || self.hits.any(&k.keywords)) && re.is_match(self.text),
            })
            .map(|k| k.kind)
    }

    /// The earliest acceptable name after a prefix word ("at", "to", "from", ...) or in
    /// one of the merchant patterns.
    fn generic_merchant(&self, direction: Direction) -> Option<String> {
        let m = &self.rules.merchant;
        let tags = match direction {
            Direction::Debit => &m.debit_prefix,
            Direction::Credit => &m.credit_prefix,
        };
        // (span start, span end, needs a capital letter). The end of a name after a prefix
        // word depends on its start alone and is costly to find (it scans to the end of the
        // clause), so it is found only when the candidates are tried, which stops at the
        // first acceptable name.
        const PENDING: usize = usize::MAX;
        let mut cands: Vec<(usize, usize, bool)> = Vec::new();
        // Per start, the longest prefix word there.
        for (_, end, tag) in longest_tagged(&self.hits.list, tags, 0, usize::MAX) {
            let capital = tag == config::PREFIX_CAPITAL;
            if let Some(s) = merchant::span_start(m, self.text, end) {
                cands.push((s, PENDING, capital));
            }
        }
        for p in &m.patterns {
            if p.direction.is_some_and(|d| d != direction) {
                continue;
            }
            if !p.keywords.is_empty() && !self.hits.any(&p.keywords) {
                continue;
            }
            for caps in p.re.captures_iter(self.text).take(3) {
                if let Some(g) = p.group.and_then(|i| caps.get(i)) {
                    cands.push((g.start(), g.end(), false));
                }
            }
        }
        // Tried in (start, end, capital) order, each (start, end) once; an empty span never
        // yields a name.
        cands.sort_unstable_by_key(|c| c.0);
        let mut i = 0;
        while i < cands.len() {
            let s = cands[i].0;
            let n = cands[i..].iter().take_while(|c| c.0 == s).count();
            let group = &mut cands[i..i + n];
            i += n;
            if group.iter().any(|c| c.1 == PENDING) {
                let e = merchant::span_end(self.text, s);
                for c in group.iter_mut().filter(|c| c.1 == PENDING) {
                    c.1 = e;
                }
            }
            group.sort_unstable();
            let mut last = None;
            for &(s, e, capital) in group.iter() {
                if e <= s || last == Some(e) {
                    continue;
                }
                last = Some(e);
                if let Some(name) = self.merchant_candidate(s, e, capital) {
                    return Some(name);
                }
            }
        }
        None
    }

    /// The name in `s..e` (cut at the first stop word), if it is one.
    fn merchant_candidate(&self, s: usize, e: usize, capital: bool) -> Option<String> {
        let m = &self.rules.merchant;
        let first_after = self.hits.list.partition_point(|h| h.start <= s);
        let e = self.hits.list[first_after..]
            .iter()
            .take_while(|h| h.start < e)
            .find(|h| m.stop[usize::from(h.id)])
            .map_or(e, |h| h.start);
        let raw = &self.text[s..e];
        if capital && !raw.starts_with(|c: char| c.is_uppercase()) {
            return None;
        }
        merchant::clean(m, raw, None, true)
    }

    fn gated<'r>(&'r self, list: &'r [config::Gated]) -> impl Iterator<Item = &'r config::Gated> {
        list.iter().filter(|g| g.keywords.is_empty() || self.hits.any(&g.keywords))
    }

    fn account(&self) -> Option<String> {
        for g in self.gated(&self.rules.account) {
            for m in g.re.find_iter(self.text) {
                // The digits end the match; a mask (XX, **, ...) may precede them.
                let span = m.as_str();
                let digits_start = span.trim_end_matches(|c: char| c.is_ascii_digit()).len();
                let digits = &span[digits_start..];
                if digits.len() < 3 {
                    continue;
                }
                let head = &span[..digits_start];
                let masked = head.contains(['x', 'X', '*', '•']) || head.contains("..");
                if !masked && digits.len() > 6 {
                    continue;
                }
                return Some(last4(digits));
            }
        }
        None
    }

    fn balance_value(&self, m: &Money<'_>, currency: &str) -> Option<String> {
        let cur =
            m.cur.and_then(|c| self.mark_currency(c, self.sender_region.or(self.hint_region))).unwrap_or(currency);
        amount::normalise_number(m.num, minor_units(cur))
    }

    fn balance(&self, currency: &str) -> Option<String> {
        for g in self.gated(&self.rules.balance) {
            if let Some(span) = g.re.find(self.text)
                && let Some(m) = self.money_in(span.start(), span.end())
                && let Some(v) = self.balance_value(&m, currency)
            {
                return Some(v);
            }
        }
        None
    }

    fn reference(&self) -> Option<String> {
        for g in self.gated(&self.rules.reference) {
            for caps in g.re.captures_iter(self.text).take(4) {
                if let Some(r) = g.group.and_then(|i| caps.get(i)) {
                    let s = r.as_str();
                    if s.len() >= 4 && s.bytes().any(|b| b.is_ascii_digit()) {
                        return Some(s.to_string());
                    }
                }
            }
        }
        None
    }

    // -- bills ----------------------------------------------------------------------------

    fn bill(&self) -> Option<ParsedBill> {
        let min =
            self.rules.bill.min_due.iter().find_map(|(re, g)| re.captures(self.text).and_then(|c| money_of(&c, g)));
        let due = self
            .rules
            .bill
            .amount_due
            .iter()
            .find_map(|(re, g)| re.captures(self.text).and_then(|c| money_of(&c, g)))
            .filter(|d| min.is_none_or(|m| m.start != d.start))
            .or_else(|| self.monies().find(|d| min.is_none_or(|m| d.end <= m.start || d.start >= m.end)))?;
        let currency = self.currency_for(&due, None)?;
        let units = minor_units(currency);
        let amount_due = amount::normalise_number(due.num, units)?;
        let min_due = min.and_then(|m| amount::normalise_number(m.num, units));
        let order = self.date_order(currency);
        let currency = currency.to_string();
        let marker =
            self.hits.list.iter().filter(|h| self.rules.bill.due_markers.contains(&h.id)).map(|h| h.start).min();
        let due_date = marker
            .and_then(|at| self.rules.dates.find_from(self.text, at, order))
            .or_else(|| self.rules.dates.first(self.text, order));
        Some(ParsedBill { amount_due, min_due, currency, due_date, account_last4: self.account() })
    }
}

#[cfg(test)]
mod profile {
    use super::*;
    use std::time::Instant;

    /// Per-stage timing over the dev corpus (not a check):
    /// `cargo test --release -p spendstream-ingest --lib profile -- --ignored --nocapture`
    /// (whole-parse throughput is the criterion bench `benches/sms.rs`).
    #[test]
    #[ignore = "timing report, not a check"]
    #[allow(clippy::unwrap_used, clippy::float_arithmetic, clippy::disallowed_types)]
    fn stages() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sms/dev.jsonl");
        let data = std::fs::read_to_string(path).unwrap();
        let msgs: Vec<(String, String)> = data
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let s = v["sender"].as_str().unwrap().to_string();
                (s, v["text"].as_str().unwrap().to_string())
            })
            .collect();
        let rules = SmsRules::shipped();
        let ctxs: Vec<Ctx<'_>> = msgs.iter().map(|(s, t)| Ctx::new(rules, s, t)).collect();
        let rounds = 50;
        let n = (rounds * msgs.len()) as f64;
        let stage = |name: &str, f: &dyn Fn(&Ctx<'_>, &str, &str)| {
            let a = Instant::now();
            for _ in 0..rounds {
                for (c, (s, t)) in ctxs.iter().zip(&msgs) {
                    f(c, s, t);
                }
            }
            println!("{name:<16} {:>8.3} us/msg", a.elapsed().as_secs_f64() * 1e6 / n);
        };
        stage("parse", &|_, s, t| {
            std::hint::black_box(parse(rules, s, t).ok());
        });
        stage("keywords+sender", &|_, s, t| {
            std::hint::black_box(Ctx::new(rules, s, t));
        });
        stage("keywords", &|_, _, t| {
            std::hint::black_box(rules.lexicon.scan(t));
        });
        stage("sender", &|_, s, _| {
            std::hint::black_box(rules.sender_index.group(s));
        });
        stage("class rules", &|c, _, _| {
            for r in &rules.classes {
                std::hint::black_box(c.rule_matches(r));
            }
        });
        stage("transaction", &|c, _, _| {
            std::hint::black_box(c.transaction());
        });
        stage("merchant", &|c, _, _| {
            std::hint::black_box(c.generic_merchant(Direction::Debit));
        });
        stage("account", &|c, _, _| {
            std::hint::black_box(c.account());
        });
        stage("balance", &|c, _, _| {
            std::hint::black_box(c.balance("INR"));
        });
        stage("reference", &|c, _, _| {
            std::hint::black_box(c.reference());
        });
        stage("date", &|_, _, t| {
            std::hint::black_box(rules.dates.first(t, DateOrder::DayMonth));
        });
    }
}
