//! The TOML rule file and its compilation into [`SmsRules`](super::SmsRules).

use super::date::{DateOrder, DateScanner};
use super::lexicon::{KeywordSet, Lexicon, LexiconBuilder};
use super::{Channel, Direction, SmsClass, SmsConfigError};
use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

// ----------------------------------------------------------------------------------------
// Raw file layout.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    version: u32,
    #[serde(default)]
    macros: BTreeMap<String, String>,
    #[serde(default)]
    keyword_sets: BTreeMap<String, Vec<String>>,
    currencies: RawCurrencies,
    regions: BTreeMap<String, RawRegion>,
    #[serde(default)]
    senders: Vec<RawSender>,
    #[serde(default)]
    classes: Vec<RawClassRule>,
    direction: RawDirection,
    #[serde(default)]
    kinds: Vec<RawKindRule>,
    kind_default: RawKindDefault,
    fields: RawFields,
    merchant: RawMerchant,
    bill: RawBill,
    #[serde(default)]
    templates: Vec<RawTemplate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCurrencies {
    aliases: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    currency: String,
    dollar: String,
    date_order: String,
    #[serde(default)]
    hints: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSender {
    name: String,
    region: String,
    patterns: Vec<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Stage {
    Before,
    After,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClassRule {
    name: String,
    class: SmsClass,
    stage: Stage,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
    #[serde(default)]
    requires_amount: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirection {
    default: Direction,
    debit: Vec<String>,
    credit: Vec<String>,
    #[serde(default)]
    neutral: Vec<String>,
    #[serde(default)]
    rules: Vec<RawDirectionRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirectionRule {
    direction: Direction,
    #[serde(default)]
    keywords: Vec<String>,
    pattern: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKindRule {
    kind: Channel,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKindDefault {
    debit_with_merchant: Channel,
    credit_with_merchant: Channel,
    otherwise: Channel,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    account: Vec<RawGated>,
    balance: Vec<RawGated>,
    reference: Vec<RawGated>,
    amount_guard: String,
}

/// A pattern, or a pattern tried only when one of its keywords occurs.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawGated {
    Plain(String),
    Gated {
        pattern: String,
        #[serde(default)]
        keywords: Vec<String>,
    },
}

impl RawGated {
    fn parts(&self) -> (&str, &[String]) {
        match self {
            RawGated::Plain(p) => (p, &[]),
            RawGated::Gated { pattern, keywords } => (pattern, keywords),
        }
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum DirFilter {
    Debit,
    Credit,
    Any,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMerchantPattern {
    direction: DirFilter,
    #[serde(default)]
    keywords: Vec<String>,
    pattern: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRewrite {
    pattern: String,
    replace: String,
    #[serde(default)]
    repeat: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMerchant {
    #[serde(default)]
    none_for_kinds: Vec<Channel>,
    debit_prefixes: Vec<String>,
    credit_prefixes: Vec<String>,
    #[serde(default)]
    titles: Vec<String>,
    stop_words: Vec<String>,
    reject_prefixes: Vec<String>,
    #[serde(default)]
    reject_patterns: Vec<String>,
    #[serde(default)]
    rewrites: Vec<RawRewrite>,
    #[serde(default)]
    canonical: BTreeMap<String, String>,
    #[serde(default)]
    patterns: Vec<RawMerchantPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBill {
    amount_due: Vec<String>,
    min_due: Vec<String>,
    #[serde(default)]
    due_markers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: String,
    #[serde(default)]
    senders: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    pattern: String,
    direction: Option<Direction>,
    kind: Option<Channel>,
    currency: Option<String>,
    #[serde(default)]
    no_merchant: bool,
    #[serde(default)]
    merchant_rewrites: Vec<RawRewrite>,
}

// ----------------------------------------------------------------------------------------
// Compiled form.

/// What a currency mark stands for.
#[derive(Clone, Debug)]
pub(crate) enum CurrencyMark {
    /// An ISO 4217 code.
    Iso(String),
    /// "$": the region's dollar.
    Dollar,
}

#[derive(Debug)]
pub(crate) struct Region {
    pub name: String,
    pub currency: String,
    pub dollar: String,
    pub date_order: DateOrder,
    pub hints: KeywordSet,
}

/// A sender-id pattern, sorted into the cheap cases at compile time.
#[derive(Debug)]
pub(crate) enum SenderPattern {
    Exact(String),
    Suffix(String),
    Prefix(String),
    /// `*text*`: the id contains the text.
    Contains(String),
    Glob(Vec<u8>),
}

impl SenderPattern {
    fn new(pattern: &str) -> Self {
        let p = pattern.to_ascii_lowercase();
        let wild = |s: &str| s.contains(['*', '?', '#']);
        if !wild(&p) {
            SenderPattern::Exact(p)
        } else if let Some(rest) = p.strip_prefix('*').filter(|r| !wild(r)) {
            SenderPattern::Suffix(rest.to_string())
        } else if let Some(rest) = p.strip_suffix('*').filter(|r| !wild(r)) {
            SenderPattern::Prefix(rest.to_string())
        } else if let Some(rest) = p.strip_prefix('*').and_then(|r| r.strip_suffix('*')).filter(|r| !wild(r)) {
            SenderPattern::Contains(rest.to_string())
        } else {
            SenderPattern::Glob(p.into_bytes())
        }
    }

    /// `sender` must already be ASCII-lowercased.
    pub fn matches(&self, sender: &[u8]) -> bool {
        match self {
            SenderPattern::Exact(p) => sender == p.as_bytes(),
            SenderPattern::Suffix(p) => sender.ends_with(p.as_bytes()),
            SenderPattern::Prefix(p) => sender.starts_with(p.as_bytes()),
            SenderPattern::Contains(p) => {
                let p = p.as_bytes();
                p.is_empty() || sender.windows(p.len()).any(|w| w == p)
            }
            SenderPattern::Glob(p) => glob_match(p, sender),
        }
    }
}

/// FNV-1a: a cheap hash for the short sender ids of the exact-match table.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Sender lookup: exact ids in a hash table, suffix and prefix patterns bucketed by their
/// last / first byte, the rest in a list. The answer is the lowest group (file order) with
/// a matching pattern.
#[derive(Debug)]
pub(crate) struct SenderIndex {
    /// Lowercase sender id to the first group that lists it.
    exact: HashMap<Box<[u8]>, usize, std::hash::BuildHasherDefault<Fnv>>,
    /// By last byte: (group, lowercase suffix), in group order.
    suffixes: Vec<Vec<(usize, String)>>,
    /// By first byte: (group, lowercase prefix), in group order.
    prefixes: Vec<Vec<(usize, String)>>,
    /// Globs, `*text*` and empty suffixes / prefixes, in group order.
    others: Vec<(usize, SenderPattern)>,
}

impl Default for SenderIndex {
    fn default() -> Self {
        SenderIndex {
            exact: HashMap::default(),
            suffixes: vec![Vec::new(); 256],
            prefixes: vec![Vec::new(); 256],
            others: Vec::new(),
        }
    }
}

impl SenderIndex {
    fn add(&mut self, group: usize, pattern: SenderPattern) {
        match pattern {
            SenderPattern::Exact(lit) => {
                self.exact.entry(lit.into_bytes().into_boxed_slice()).or_insert(group);
            }
            SenderPattern::Suffix(p) if !p.is_empty() => {
                let last = p.as_bytes()[p.len() - 1];
                self.suffixes[usize::from(last)].push((group, p));
            }
            SenderPattern::Prefix(p) if !p.is_empty() => self.prefixes[usize::from(p.as_bytes()[0])].push((group, p)),
            other => self.others.push((group, other)),
        }
    }

    /// The first group (in file order) with a pattern matching `sender`.
    pub fn group(&self, sender: &str) -> Option<usize> {
        let trimmed = sender.trim().as_bytes();
        let mut buf = [0u8; 64];
        let owned;
        let lower: &[u8] = if trimmed.len() <= buf.len() {
            let b = &mut buf[..trimmed.len()];
            b.copy_from_slice(trimmed);
            b.make_ascii_lowercase();
            b
        } else {
            owned = trimmed.to_ascii_lowercase();
            &owned
        };
        let mut best = self.exact.get(lower).copied().unwrap_or(usize::MAX);
        if let (Some(&first), Some(&last)) = (lower.first(), lower.last()) {
            for (g, p) in &self.suffixes[usize::from(last)] {
                if *g >= best {
                    break;
                }
                if lower.ends_with(p.as_bytes()) {
                    best = *g;
                    break;
                }
            }
            for (g, p) in &self.prefixes[usize::from(first)] {
                if *g >= best {
                    break;
                }
                if lower.starts_with(p.as_bytes()) {
                    best = *g;
                    break;
                }
            }
        }
        for (g, p) in &self.others {
            if *g >= best {
                break;
            }
            if p.matches(lower) {
                best = *g;
                break;
            }
        }
        (best != usize::MAX).then_some(best)
    }
}

#[derive(Debug)]
pub(crate) struct SenderGroup {
    pub name: String,
    pub region: usize,
    pub patterns: Vec<SenderPattern>,
}

/// A regex tried only when one of its keywords occurs (always, with none).
#[derive(Debug)]
pub(crate) struct Gated {
    pub keywords: KeywordSet,
    pub re: Regex,
    /// Index of the field's capture group.
    pub group: Option<usize>,
}

/// Index of the capture group `name` of `re`, if it has one (found once, so a match is
/// read without looking the name up).
pub(crate) fn group_index(re: &Regex, name: &str) -> Option<usize> {
    re.capture_names().position(|n| n == Some(name))
}

/// Indexes of the groups of one `{{money:NAME}}`: NAME, NAME_cur, NAME_alt, NAME_altcur,
/// NAME_bare.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MoneyGroups {
    pub num: Option<usize>,
    pub cur: Option<usize>,
    pub alt: Option<usize>,
    pub altcur: Option<usize>,
    pub bare: Option<usize>,
}

impl MoneyGroups {
    pub fn new(re: &Regex, name: &str) -> Self {
        let g = |suffix: &str| group_index(re, &format!("{name}{suffix}"));
        MoneyGroups { num: g(""), cur: g("_cur"), alt: g("_alt"), altcur: g("_altcur"), bare: g("_bare") }
    }
}

#[derive(Debug)]
pub(crate) struct MerchantPattern {
    /// None: either direction.
    pub direction: Option<Direction>,
    pub keywords: KeywordSet,
    pub re: Regex,
    /// Index of the `merchant` group.
    pub group: Option<usize>,
}

#[derive(Debug)]
pub(crate) struct ClassRule {
    pub name: String,
    pub class: SmsClass,
    pub before: bool,
    pub keywords: KeywordSet,
    /// All patterns as one alternation (None: keywords decide alone).
    pub patterns: Option<Regex>,
    pub unless: KeywordSet,
    pub requires_amount: bool,
}

#[derive(Debug)]
pub(crate) struct KindRule {
    pub kind: Channel,
    pub keywords: KeywordSet,
    /// All patterns as one alternation; when set, `keywords` only gate it.
    pub patterns: Option<Regex>,
}

#[derive(Debug)]
pub(crate) struct Rewrite {
    pub re: Regex,
    pub replace: String,
    /// Apply again while it still matches (at most a few times).
    pub repeat: bool,
}

/// Ordered rewrites.
#[derive(Debug)]
pub(crate) struct Rewrites {
    pub list: Vec<Rewrite>,
}

impl Rewrites {
    /// Applies each matching rewrite once (a repeating one up to six times), in order;
    /// copies the text only when a rewrite changes it.
    pub fn apply<'s>(&self, mut s: Cow<'s, str>) -> Cow<'s, str> {
        for rw in &self.list {
            for _ in 0..if rw.repeat { 6 } else { 1 } {
                if !rw.re.is_match(&s) {
                    break;
                }
                let out = rw.re.replace_all(&s, rw.replace.as_str());
                if *out == *s {
                    break;
                }
                let out = out.into_owned();
                s = Cow::Owned(out);
            }
        }
        s
    }
}

#[derive(Debug)]
pub(crate) struct Template {
    pub name: String,
    /// Sender groups it is limited to (empty: any sender).
    pub groups: Vec<usize>,
    pub keywords: KeywordSet,
    pub re: Regex,
    pub direction: Option<Direction>,
    pub kind: Option<Channel>,
    pub currency: Option<String>,
    pub no_merchant: bool,
    pub rewrites: Rewrites,
    /// Captures nothing but the amount (and a verb): matched without capture groups.
    pub fast: bool,
    /// Has a `direction` group.
    pub has_direction: bool,
    /// Indexes of the groups a match is read from.
    pub amount: MoneyGroups,
    pub balance: MoneyGroups,
    pub direction_group: Option<usize>,
    pub merchant_group: Option<usize>,
    pub account_group: Option<usize>,
    pub date_group: Option<usize>,
    pub reference_group: Option<usize>,
}

/// Per keyword id: 0 not a prefix, 1 a name prefix, 2 a prefix needing a capitalised name.
pub(crate) const PREFIX: u8 = 1;
pub(crate) const PREFIX_CAPITAL: u8 = 2;

/// Lowercase keys in a byte trie: finds which keys a text starts with, one byte per step.
/// The root's children are found by table lookup; every other node's edges sit in one
/// array.
#[derive(Debug)]
pub(crate) struct KeyTrie {
    /// Per first byte, the node it leads to (0: none).
    root: Vec<u32>,
    /// Per node: start and length of its edges in `edges`, and the value of the key ending
    /// there.
    nodes: Vec<(u32, u32, Option<u32>)>,
    /// (byte, node), grouped by node.
    edges: Vec<(u8, u32)>,
}

impl KeyTrie {
    fn new(keys: impl IntoIterator<Item = (String, u32)>) -> Self {
        let mut edges: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
        let mut values: Vec<Option<u32>> = vec![None];
        for (key, value) in keys {
            let mut at = 0usize;
            for &b in key.as_bytes() {
                at = match edges[at].iter().find(|e| e.0 == b) {
                    Some(e) => e.1 as usize,
                    None => {
                        edges.push(Vec::new());
                        values.push(None);
                        let new = edges.len() - 1;
                        edges[at].push((b, new as u32));
                        new
                    }
                };
            }
            // The empty key never matches (a prefix has at least one byte).
            if at != 0 && values[at].is_none() {
                values[at] = Some(value);
            }
        }
        let mut root = vec![0u32; 256];
        for &(b, n) in &edges[0] {
            root[usize::from(b)] = n;
        }
        let mut nodes = Vec::with_capacity(edges.len());
        let mut flat = Vec::new();
        for (e, v) in edges.iter().zip(values) {
            nodes.push((flat.len() as u32, e.len() as u32, v));
            flat.extend_from_slice(e);
        }
        KeyTrie { root, nodes, edges: flat }
    }

    /// The value of the longest key that `text` starts with and that ends at a word
    /// boundary (the end of `text`, or a byte that is not an ASCII letter or digit and not
    /// part of a non-ASCII character). With `fold`, ASCII capitals in `text` match the
    /// lowercase keys.
    pub fn longest_word_prefix(&self, text: &[u8], fold: bool) -> Option<u32> {
        let fold = |b: u8| if fold { b.to_ascii_lowercase() } else { b };
        let mut node = self.root[usize::from(fold(*text.first()?))] as usize;
        let mut best = None;
        let mut i = 0;
        while node != 0 {
            let (from, len, value) = self.nodes[node];
            if let Some(v) = value
                && text.get(i + 1).is_none_or(|&n| !(n.is_ascii_alphanumeric() || n >= 0x80))
            {
                best = Some(v);
            }
            i += 1;
            let Some(&b) = text.get(i) else { break };
            let b = fold(b);
            node =
                self.edges[from as usize..(from + len) as usize].iter().find(|e| e.0 == b).map_or(0, |e| e.1 as usize);
        }
        best
    }
}

#[derive(Debug)]
pub(crate) struct MerchantRules {
    pub none_for_kinds: Vec<Channel>,
    pub debit_prefix: Vec<u8>,
    pub credit_prefix: Vec<u8>,
    /// Lowercase honorifics.
    pub titles: Vec<String>,
    /// Longest title, in bytes.
    pub title_len: usize,
    pub patterns: Vec<MerchantPattern>,
    /// Per keyword id: a stop word that ends a name.
    pub stop: Vec<bool>,
    /// Lowercase reject prefixes.
    pub reject_prefixes: KeyTrie,
    /// Lowercase canonical keys; a key's value indexes `canonical_names`.
    pub canonical: KeyTrie,
    pub canonical_names: Vec<String>,
    /// All reject patterns as one alternation.
    pub reject: Option<Regex>,
    pub rewrites: Rewrites,
}

#[derive(Debug)]
pub(crate) struct BillRules {
    pub amount_due: Vec<(Regex, MoneyGroups)>,
    pub min_due: Vec<(Regex, MoneyGroups)>,
    pub due_markers: KeywordSet,
}

/// Compiled SMS rules: build once with [`SmsRules::from_toml_str`] or take
/// [`SmsRules::shipped`], then call [`parse`](super::parse) as often as needed.
#[derive(Debug)]
pub struct SmsRules {
    pub(crate) currency_marks: HashMap<String, CurrencyMark>,
    /// The same marks, sorted by (lowercase) mark.
    pub(crate) mark_list: Vec<(String, CurrencyMark)>,
    pub(crate) regions: Vec<Region>,
    pub(crate) senders: Vec<SenderGroup>,
    pub(crate) sender_index: SenderIndex,
    pub(crate) lexicon: Lexicon,
    pub(crate) classes: Vec<ClassRule>,
    pub(crate) templates: Vec<Template>,
    /// Per sender group (and last, for an unknown sender): the indexes of the templates to
    /// try, in order (the group's own, then the generic ones).
    pub(crate) template_order: Vec<Vec<usize>>,
    pub(crate) direction_default: Direction,
    /// Per keyword id: 0 none, 1 debit, 2 credit, 3 neutral.
    pub(crate) direction_tags: Vec<u8>,
    pub(crate) direction_rules: Vec<(Direction, KeywordSet, Regex)>,
    pub(crate) kinds: Vec<KindRule>,
    pub(crate) kind_debit_merchant: Channel,
    pub(crate) kind_credit_merchant: Channel,
    pub(crate) kind_otherwise: Channel,
    pub(crate) account: Vec<Gated>,
    pub(crate) balance: Vec<Gated>,
    pub(crate) reference: Vec<Gated>,
    pub(crate) amount_guard: Regex,
    pub(crate) merchant: MerchantRules,
    pub(crate) bill: BillRules,
    /// Finds amounts without the regex engine.
    pub(crate) scanner: super::money::MoneyScanner,
    pub(crate) dates: DateScanner,
}

/// Keyword-to-direction tag values.
pub(crate) const TAG_DEBIT: u8 = 1;
pub(crate) const TAG_CREDIT: u8 = 2;
pub(crate) const TAG_NEUTRAL: u8 = 3;

/// The rule file shipped with spendstream (`config/sms.toml`).
pub const SHIPPED_TOML: &str = include_str!("../../../config/sms.toml");

impl SmsRules {
    /// Parses and compiles a rule file; errors name the entry and key at fault.
    pub fn from_toml_str(text: &str) -> Result<SmsRules, SmsConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| SmsConfigError::Toml(e.to_string()))?;
        compile(raw)
    }

    /// The compiled-in default rules (`config/sms.toml`), compiled on first use.
    ///
    /// The shipped file is covered by tests, so compiling it cannot fail in a release.
    pub fn shipped() -> &'static SmsRules {
        shipped_arc()
    }

    /// [`SmsRules::shipped`] as a shared handle, for holders of `Arc<SmsRules>`.
    pub fn shipped_shared() -> std::sync::Arc<SmsRules> {
        shipped_arc().clone()
    }

    /// What a currency mark found in a message stands for (marks compare lowercased).
    pub(crate) fn currency_mark(&self, mark: &str) -> Option<&CurrencyMark> {
        if mark.is_ascii() {
            // Same keys as the map, without lowercasing into a new string.
            let lower = mark.bytes().map(|b| b.to_ascii_lowercase());
            let i = self.mark_list.binary_search_by(|(k, _)| k.bytes().cmp(lower.clone())).ok()?;
            return Some(&self.mark_list[i].1);
        }
        // A mark written exactly as a (lowercase) key ("₹", "€") is that key: lowercasing a
        // lowercased string changes nothing.
        if let Ok(i) = self.mark_list.binary_search_by(|(k, _)| k.as_str().cmp(mark)) {
            return Some(&self.mark_list[i].1);
        }
        self.currency_marks.get(&mark.to_lowercase())
    }

    /// Names of all templates, in the order they are tried for an unknown sender.
    pub fn template_names(&self) -> Vec<&str> {
        self.templates.iter().map(|t| t.name.as_str()).collect()
    }
}

fn err(place: impl Into<String>, key: &str, message: impl Into<String>) -> SmsConfigError {
    SmsConfigError::Entry { place: place.into(), key: key.to_string(), message: message.into() }
}

/// Expands macros and makes `\b` ASCII and `\d` mean 0-9.
struct PatternCompiler {
    cur: String,
    user: BTreeMap<String, String>,
}

const NUM: &str = r"(?:[0-9]{1,3}(?:[ \x{a0}\x{202f}][0-9]{3})+,[0-9]{1,2}|[0-9]+(?:[.,'][0-9]+)*)";
const MSPAN: &str = r#"(?:[^\n\r,;()!?:."\[\]]|\.[^\s.,;])+"#;
const TITLE: &str = r"(?:(?:(?:Mr|Mrs|Ms|Miss|Dr|Shri|Smt|M/s|Mme|Mlle|Herr|Frau|Sr|Sra|Dhr|Mevr)\.?|M\.)\s+)?";

impl PatternCompiler {
    fn expand(&self, pattern: &str, depth: u32) -> Result<String, String> {
        if depth > 8 {
            return Err("macros nest too deeply".into());
        }
        let mut out = String::with_capacity(pattern.len() * 2);
        let mut rest = pattern;
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| "unclosed `{{`".to_string())?;
            let inner = after[..close].trim();
            let (name, arg) = match inner.split_once(':') {
                Some((n, a)) => (n.trim(), Some(a.trim())),
                None => (inner, None),
            };
            let valid_arg = |a: &str| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let expansion = match (name, arg) {
                ("cur", None) => self.cur.clone(),
                ("num", None) => NUM.to_string(),
                ("mspan", None) => MSPAN.to_string(),
                ("title", None) => TITLE.to_string(),
                ("amt", None) => {
                    let cur = &self.cur;
                    format!("(?:{cur}(?::\\s?|\\s?){NUM}|{NUM}\\s?{cur})")
                }
                ("money", a) | ("moneyb", a) => {
                    let n = a.unwrap_or("amount");
                    if !valid_arg(n) {
                        return Err(format!("bad group name `{n}` in `{{{{{inner}}}}}`"));
                    }
                    let cur = &self.cur;
                    let mut s = format!(
                        "(?:(?P<{n}_cur>{cur})(?::\\s?|\\s?)(?P<{n}>{NUM})|(?P<{n}_alt>{NUM})\\s?(?P<{n}_altcur>{cur})"
                    );
                    if name == "moneyb" {
                        s.push_str(&format!("|(?P<{n}_bare>[0-9][0-9,]*\\.[0-9]{{1,3}})\\b"));
                    }
                    s.push(')');
                    s
                }
                (n, None) => match self.user.get(n) {
                    Some(body) => format!("(?:{})", self.expand(body, depth + 1)?),
                    None => return Err(format!("unknown macro `{{{{{n}}}}}`")),
                },
                (n, Some(_)) => return Err(format!("macro `{n}` takes no argument")),
            };
            out.push_str(&expansion);
            rest = &after[close + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn compile_any(&self, patterns: &[String]) -> Result<Option<Regex>, String> {
        if patterns.is_empty() {
            return Ok(None);
        }
        for p in patterns {
            self.compile(p)?;
        }
        let joined: Vec<String> = patterns.iter().map(|p| format!("(?:{p})")).collect();
        self.compile(&joined.join("|")).map(Some)
    }

    fn compile(&self, pattern: &str) -> Result<Regex, String> {
        let expanded = self.expand(pattern, 0)?;
        let prepared = ascii_classes(&expanded);
        RegexBuilder::new(&prepared)
            .case_insensitive(true)
            .size_limit(64 << 20)
            .dfa_size_limit(16 << 20)
            .build()
            .map_err(|e| short_regex_error(&e, pattern))
    }
}

/// The regex crate's message repeats the expanded pattern; keep the pattern as written
/// and the reason.
fn short_regex_error(e: &regex::Error, pattern: &str) -> String {
    let text = e.to_string();
    let reason = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .map_or(text.as_str(), |l| l.trim_start().trim_start_matches("error:").trim());
    format!("invalid regex `{pattern}`: {reason}")
}

/// Rewrites `\b` to `(?-u:\b)` (fast on non-ASCII text) and `\d` to `[0-9]`.
fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 32);
    let mut chars = pattern.chars();
    let mut in_class = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('b') if in_class == 0 => out.push_str(r"(?-u:\b)"),
                Some('d') if in_class == 0 => out.push_str("[0-9]"),
                Some('d') => out.push_str("0-9"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '[' => {
                in_class += 1;
                out.push(c);
            }
            ']' if in_class > 0 => {
                in_class -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn currency_alternation(marks: &HashMap<String, CurrencyMark>) -> String {
    let mut aliases: Vec<&String> = marks.keys().collect();
    aliases.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    let (words, symbols): (Vec<&String>, Vec<&String>) =
        aliases.into_iter().partition(|a| a.starts_with(|c: char| c.is_ascii_alphabetic()));
    let join = |list: &[&String]| list.iter().map(|a| regex::escape(a)).collect::<Vec<_>>().join("|");
    // The same languages, in forms the regex engine matches with fewer steps: ASCII words
    // as every case variant spelled out (what case-insensitive matching accepts), which
    // compiles to one literal trie; single-character symbols as one class.
    let words_re = if words.iter().all(|w| w.is_ascii()) {
        let variants: Vec<String> = words.iter().flat_map(|w| case_variants(w)).map(|v| regex::escape(&v)).collect();
        format!("(?-i:{})", variants.join("|"))
    } else {
        join(&words)
    };
    let symbols_re = if symbols.iter().all(|s| s.chars().count() == 1) {
        format!("[{}]", symbols.iter().map(|s| regex::escape(s)).collect::<String>())
    } else {
        join(&symbols)
    };
    match (words.is_empty(), symbols.is_empty()) {
        (false, false) => format!(r"(?:\b(?:{words_re})|{symbols_re})"),
        (false, true) => format!(r"(?:\b(?:{words_re}))"),
        _ => format!("(?:{})", join(&symbols)),
    }
}

/// Every spelling of an ASCII word that case-insensitive (Unicode) matching accepts: each
/// letter in either case, and also KELVIN SIGN for k and LONG S for s (their only other
/// simple case folds among ASCII letters).
fn case_variants(word: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for c in word.chars() {
        let mut options = vec![c];
        if c.is_ascii_alphabetic() {
            options = vec![c.to_ascii_lowercase(), c.to_ascii_uppercase()];
            match c.to_ascii_lowercase() {
                'k' => options.push('\u{212a}'),
                's' => options.push('\u{17f}'),
                _ => {}
            }
        }
        out = out
            .iter()
            .flat_map(|prefix| {
                options.iter().map(move |o| {
                    let mut v = prefix.clone();
                    v.push(*o);
                    v
                })
            })
            .collect();
    }
    out
}

fn is_iso(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

fn compile(raw: RawConfig) -> Result<SmsRules, SmsConfigError> {
    if raw.version != 1 {
        return Err(err("file", "version", format!("unsupported version {}", raw.version)));
    }
    // Currencies.
    let mut currency_marks = HashMap::new();
    for (alias, code) in &raw.currencies.aliases {
        let mark = if code == "$" {
            CurrencyMark::Dollar
        } else if is_iso(code) {
            CurrencyMark::Iso(code.clone())
        } else {
            return Err(err(
                format!("currency alias `{alias}`"),
                "aliases",
                format!("`{code}` is not an ISO 4217 code or \"$\""),
            ));
        };
        if alias.trim().is_empty() {
            return Err(err("currencies", "aliases", "empty alias"));
        }
        currency_marks.insert(alias.to_lowercase(), mark);
    }
    let pc = PatternCompiler { cur: currency_alternation(&currency_marks), user: raw.macros };
    let rx = |place: &str, key: &str, pattern: &str| -> Result<Regex, SmsConfigError> {
        pc.compile(pattern).map_err(|m| err(place, key, m))
    };
    let mut lex = LexiconBuilder::default();
    let sets = raw.keyword_sets;
    let mut kw = |place: &str, key: &str, words: &[String]| -> Result<KeywordSet, SmsConfigError> {
        let mut ids = Vec::new();
        for w in words {
            let expanded: &[String] = match w.strip_prefix('@') {
                Some(name) if !name.is_empty() => {
                    sets.get(name).ok_or_else(|| err(place, key, format!("unknown keyword set `{w}`")))?
                }
                _ => std::slice::from_ref(w),
            };
            for word in expanded {
                let id = lex
                    .add(word)
                    .ok_or_else(|| err(place, key, format!("empty keyword or too many keywords (`{word}`)")))?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(KeywordSet::new(ids))
    };

    // Regions.
    let mut regions = Vec::new();
    for (name, r) in &raw.regions {
        let place = format!("region `{name}`");
        if !is_iso(&r.currency) {
            return Err(err(&place, "currency", format!("`{}` is not an ISO 4217 code", r.currency)));
        }
        if !is_iso(&r.dollar) {
            return Err(err(&place, "dollar", format!("`{}` is not an ISO 4217 code", r.dollar)));
        }
        let date_order = match r.date_order.as_str() {
            "dmy" => DateOrder::DayMonth,
            "mdy" => DateOrder::MonthDay,
            other => {
                return Err(err(&place, "date_order", format!("`{other}`: expected \"dmy\" or \"mdy\"")));
            }
        };
        let hints = kw(&place, "hints", &r.hints)?;
        regions.push(Region {
            name: name.clone(),
            currency: r.currency.clone(),
            dollar: r.dollar.clone(),
            date_order,
            hints,
        });
    }
    let region_index = |name: &str| regions.iter().position(|r| r.name == name);

    // Sender groups.
    let mut senders = Vec::new();
    for s in &raw.senders {
        let place = format!("sender group `{}`", s.name);
        let region =
            region_index(&s.region).ok_or_else(|| err(&place, "region", format!("unknown region `{}`", s.region)))?;
        if s.patterns.is_empty() {
            return Err(err(&place, "patterns", "no patterns"));
        }
        senders.push(SenderGroup {
            name: s.name.clone(),
            region,
            patterns: s.patterns.iter().map(|p| SenderPattern::new(p)).collect(),
        });
    }

    // Classes.
    let mut classes = Vec::new();
    for c in &raw.classes {
        let place = format!("class rule `{}`", c.name);
        if c.class == SmsClass::Transaction {
            return Err(err(&place, "class", "transactions come from templates, not class rules"));
        }
        if c.keywords.is_empty() && c.patterns.is_empty() {
            return Err(err(&place, "keywords", "a rule needs keywords or patterns"));
        }
        let patterns = pc.compile_any(&c.patterns).map_err(|m| err(&place, "patterns", m))?;
        classes.push(ClassRule {
            name: c.name.clone(),
            class: c.class,
            before: c.stage == Stage::Before,
            keywords: kw(&place, "keywords", &c.keywords)?,
            patterns,
            unless: kw(&place, "unless", &c.unless)?,
            requires_amount: c.requires_amount,
        });
    }

    // Direction.
    let d_debit = kw("direction", "debit", &raw.direction.debit)?;
    let d_credit = kw("direction", "credit", &raw.direction.credit)?;
    let d_neutral = kw("direction", "neutral", &raw.direction.neutral)?;
    let mut direction_rules = Vec::new();
    for r in &raw.direction.rules {
        let gate = kw("direction.rules", "keywords", &r.keywords)?;
        direction_rules.push((r.direction, gate, rx("direction.rules", "pattern", &r.pattern)?));
    }

    // Kinds.
    let mut kinds = Vec::new();
    for (i, k) in raw.kinds.iter().enumerate() {
        let place = format!("kind rule #{} ({})", i + 1, k.kind.as_str());
        if k.keywords.is_empty() && k.patterns.is_empty() {
            return Err(err(&place, "keywords", "a rule needs keywords or patterns"));
        }
        kinds.push(KindRule {
            kind: k.kind,
            keywords: kw(&place, "keywords", &k.keywords)?,
            patterns: pc.compile_any(&k.patterns).map_err(|m| err(&place, "patterns", m))?,
        });
    }

    // Fields.
    let mut list = |key: &str, entries: &[RawGated], group: &str| -> Result<Vec<Gated>, SmsConfigError> {
        let mut out = Vec::new();
        for entry in entries {
            let (p, words) = entry.parts();
            let re = rx("fields", key, p)?;
            if !re.capture_names().flatten().any(|n| n == group) {
                return Err(err("fields", key, format!("pattern `{p}` has no `{group}` group")));
            }
            let group = group_index(&re, group);
            out.push(Gated { keywords: kw("fields", key, words)?, re, group });
        }
        Ok(out)
    };
    let account = list("account", &raw.fields.account, "account")?;
    let balance = list("balance", &raw.fields.balance, "balance_alt")?;
    let reference = list("reference", &raw.fields.reference, "reference")?;
    let amount_guard = rx("fields", "amount_guard", &raw.fields.amount_guard)?;

    // Merchant.
    let m = &raw.merchant;
    let mut stop = vec![false; super::lexicon::MAX_KEYWORDS];
    for &id in kw("merchant", "stop_words", &m.stop_words)?.iter() {
        stop[usize::from(id)] = true;
    }
    let rewrites = |place: &str, list: &[RawRewrite]| -> Result<Rewrites, SmsConfigError> {
        let items = list
            .iter()
            .map(|r| {
                Ok(Rewrite { re: rx(place, "rewrites", &r.pattern)?, replace: r.replace.clone(), repeat: r.repeat })
            })
            .collect::<Result<Vec<_>, SmsConfigError>>()?;
        Ok(Rewrites { list: items })
    };
    let mut prefix_tags = |key: &str, words: &[String]| -> Result<Vec<u8>, SmsConfigError> {
        let mut tags = vec![0u8; super::lexicon::MAX_KEYWORDS];
        for w in words {
            let (word, tag) = match w.strip_suffix('^') {
                Some(rest) => (rest, PREFIX_CAPITAL),
                None => (w.as_str(), PREFIX),
            };
            let ids = kw("merchant", key, &[word.to_string()])?;
            for &id in ids.iter() {
                tags[usize::from(id)] = tag;
            }
        }
        Ok(tags)
    };
    let debit_prefix = prefix_tags("debit_prefixes", &m.debit_prefixes)?;
    let credit_prefix = prefix_tags("credit_prefixes", &m.credit_prefixes)?;
    let mut merchant_patterns = Vec::new();
    for (i, mp) in m.patterns.iter().enumerate() {
        let place = format!("merchant pattern #{}", i + 1);
        let re = rx(&place, "pattern", &mp.pattern)?;
        if !re.capture_names().flatten().any(|n| n == "merchant") {
            return Err(err(&place, "pattern", "no `merchant` group"));
        }
        let direction = match mp.direction {
            DirFilter::Debit => Some(Direction::Debit),
            DirFilter::Credit => Some(Direction::Credit),
            DirFilter::Any => None,
        };
        let group = group_index(&re, "merchant");
        merchant_patterns.push(MerchantPattern {
            direction,
            keywords: kw(&place, "keywords", &mp.keywords)?,
            re,
            group,
        });
    }
    let reject_prefixes = KeyTrie::new(m.reject_prefixes.iter().map(|s| (s.to_lowercase(), 0)));
    let mut canonical: Vec<(String, String)> = m.canonical.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect();
    canonical.sort();
    // Two keys can be equal once lowercased; each key maps to the entry a binary search
    // over the sorted list finds.
    let canonical_keys = KeyTrie::new(canonical.iter().map(|(k, _)| {
        let at = canonical.binary_search_by(|c| c.0.as_str().cmp(k)).unwrap_or(0);
        (k.clone(), at as u32)
    }));
    let titles: Vec<String> = m.titles.iter().map(|t| t.to_lowercase()).collect();
    let merchant = MerchantRules {
        none_for_kinds: m.none_for_kinds.clone(),
        debit_prefix,
        credit_prefix,
        title_len: titles.iter().map(String::len).max().unwrap_or(0),
        titles,
        patterns: merchant_patterns,
        stop,
        reject_prefixes,
        canonical: canonical_keys,
        canonical_names: canonical.into_iter().map(|c| c.1).collect(),
        reject: pc.compile_any(&m.reject_patterns).map_err(|e| err("merchant", "reject_patterns", e))?,
        rewrites: rewrites("merchant", &m.rewrites)?,
    };

    // Bills.
    let bill_list = |key: &str, pats: &[String], group: &str| -> Result<Vec<(Regex, MoneyGroups)>, SmsConfigError> {
        pats.iter()
            .map(|p| {
                let re = rx("bill", key, p)?;
                if !re.capture_names().flatten().any(|n| n == group) {
                    return Err(err("bill", key, format!("pattern `{p}` has no {{{{money:{group}}}}}")));
                }
                let groups = MoneyGroups::new(&re, group);
                Ok((re, groups))
            })
            .collect()
    };
    let bill = BillRules {
        amount_due: bill_list("amount_due", &raw.bill.amount_due, "due")?,
        min_due: bill_list("min_due", &raw.bill.min_due, "min")?,
        due_markers: kw("bill", "due_markers", &raw.bill.due_markers)?,
    };

    // Templates.
    let mut templates = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for t in &raw.templates {
        let place = format!("template `{}`", t.name);
        if !seen.insert(t.name.clone()) {
            return Err(err(&place, "name", "duplicate template name"));
        }
        let re = rx(&place, "pattern", &t.pattern)?;
        let names: Vec<&str> = re.capture_names().flatten().collect();
        let fast = names.iter().all(|n| {
            matches!(*n, "amount" | "amount_cur" | "amount_alt" | "amount_altcur" | "amount_bare" | "direction")
        });
        let has_direction = names.contains(&"direction");
        for n in &names {
            let known = matches!(
                *n,
                "amount"
                    | "amount_cur"
                    | "amount_alt"
                    | "amount_altcur"
                    | "amount_bare"
                    | "merchant"
                    | "account"
                    | "date"
                    | "reference"
                    | "balance"
                    | "balance_cur"
                    | "balance_alt"
                    | "balance_altcur"
                    | "balance_bare"
                    | "direction"
                    | "mask"
            );
            if !known {
                return Err(err(&place, "pattern", format!("unknown capture group `{n}`")));
            }
        }
        let mut groups = Vec::new();
        for g in &t.senders {
            let idx = senders
                .iter()
                .position(|s| &s.name == g)
                .ok_or_else(|| err(&place, "senders", format!("unknown sender group `{g}`")))?;
            groups.push(idx);
        }
        if let Some(c) = &t.currency
            && !is_iso(c)
        {
            return Err(err(&place, "currency", format!("`{c}` is not an ISO 4217 code")));
        }
        let amount = MoneyGroups::new(&re, "amount");
        let balance = MoneyGroups::new(&re, "balance");
        let (direction_group, merchant_group, account_group, date_group, reference_group) = (
            group_index(&re, "direction"),
            group_index(&re, "merchant"),
            group_index(&re, "account"),
            group_index(&re, "date"),
            group_index(&re, "reference"),
        );
        templates.push(Template {
            name: t.name.clone(),
            groups,
            keywords: kw(&place, "keywords", &t.keywords)?,
            re,
            direction: t.direction,
            kind: t.kind,
            currency: t.currency.clone(),
            no_merchant: t.no_merchant,
            rewrites: rewrites(&place, &t.merchant_rewrites)?,
            fast,
            has_direction,
            amount,
            balance,
            direction_group,
            merchant_group,
            account_group,
            date_group,
            reference_group,
        });
    }

    let generic: Vec<usize> = (0..templates.len()).filter(|&i| templates[i].groups.is_empty()).collect();
    let mut template_order: Vec<Vec<usize>> = (0..senders.len())
        .map(|g| {
            let own = (0..templates.len()).filter(|&i| templates[i].groups.contains(&g));
            own.chain(generic.iter().copied()).collect()
        })
        .collect();
    template_order.push(generic);
    let mut sender_index = SenderIndex::default();
    for (g, group) in senders.iter().enumerate() {
        for p in &group.patterns {
            sender_index.add(g, SenderPattern::new(&pattern_text(p)));
        }
    }
    // The money macros must compile on their own.
    rx("macros", "money", "{{money}}")?;
    rx("macros", "moneyb", "{{moneyb:amount}}")?;
    let scanner = super::money::MoneyScanner::new(currency_marks.keys().map(String::as_str));
    let mut direction_tags = vec![0u8; super::lexicon::MAX_KEYWORDS];
    for &id in d_debit.iter() {
        direction_tags[usize::from(id)] = TAG_DEBIT;
    }
    for &id in d_credit.iter() {
        direction_tags[usize::from(id)] = TAG_CREDIT;
    }
    for &id in d_neutral.iter() {
        direction_tags[usize::from(id)] = TAG_NEUTRAL;
    }
    // Only keywords whose place in the text is read (direction words, merchant prefixes
    // and stop words, due-date markers) need to be listed in the hits; the others gate.
    let mut listed = vec![false; super::lexicon::MAX_KEYWORDS];
    for (i, l) in listed.iter_mut().enumerate() {
        *l = direction_tags[i] != 0
            || merchant.debit_prefix[i] != 0
            || merchant.credit_prefix[i] != 0
            || merchant.stop[i];
    }
    for &id in bill.due_markers.iter() {
        listed[usize::from(id)] = true;
    }
    let lexicon = lex.build_listing(&listed);
    let dates = DateScanner::new().map_err(|e| err("dates", "pattern", e.to_string()))?;
    let mut mark_list: Vec<(String, CurrencyMark)> =
        currency_marks.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    mark_list.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(SmsRules {
        mark_list,
        currency_marks,
        regions,
        senders,
        sender_index,
        lexicon,
        classes,
        templates,
        template_order,
        direction_default: raw.direction.default,
        direction_tags,
        direction_rules,
        kinds,
        kind_debit_merchant: raw.kind_default.debit_with_merchant,
        kind_credit_merchant: raw.kind_default.credit_with_merchant,
        kind_otherwise: raw.kind_default.otherwise,
        account,
        balance,
        reference,
        amount_guard,
        merchant,
        bill,
        scanner,
        dates,
    })
}

fn pattern_text(p: &SenderPattern) -> String {
    match p {
        SenderPattern::Exact(s) => s.clone(),
        SenderPattern::Suffix(s) => format!("*{s}"),
        SenderPattern::Prefix(s) => format!("{s}*"),
        SenderPattern::Contains(s) => format!("*{s}*"),
        SenderPattern::Glob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Case-insensitive glob match: `*` any run, `?` one character, `#` one ASCII digit.
/// `pattern` is already lowercase.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let (mut star_p, mut star_t) = (usize::MAX, 0usize);
    while t < text.len() {
        let tc = text[t].to_ascii_lowercase();
        if p < pattern.len() {
            let pc = pattern[p];
            let single = match pc {
                b'?' => true,
                b'#' => tc.is_ascii_digit(),
                b'*' => false,
                _ => pc == tc,
            };
            if pc == b'*' {
                star_p = p;
                star_t = t;
                p += 1;
                continue;
            }
            if single {
                p += 1;
                t += 1;
                continue;
            }
        }
        if star_p != usize::MAX {
            p = star_p + 1;
            star_t += 1;
            t = star_t;
            continue;
        }
        return false;
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// The shipped rules, compiled once per process.
#[allow(clippy::expect_used)]
fn shipped_arc() -> &'static std::sync::Arc<SmsRules> {
    static SHIPPED: std::sync::OnceLock<std::sync::Arc<SmsRules>> = std::sync::OnceLock::new();
    SHIPPED.get_or_init(|| {
        std::sync::Arc::new(SmsRules::from_toml_str(SHIPPED_TOML).expect("config/sms.toml compiles (tested)"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(b"*-hdfcbk", b"VM-HDFCBK"));
        assert!(glob_match(b"#####", b"24273"));
        assert!(!glob_match(b"#####", b"242731"));
        assert!(glob_match(b"??-*", b"AD-ICICIB"));
        assert!(!glob_match(b"mpesa", b"MPESAX"));
        assert!(glob_match(b"mpesa*", b"MPESAX"));
    }

    #[test]
    fn word_boundaries_become_ascii() {
        assert_eq!(ascii_classes(r"\bRs\d[\d,]"), r"(?-u:\b)Rs[0-9][0-9,]");
    }

    /// The spelled-out `{{cur}}` finds exactly what the plain case-insensitive alternation
    /// of the marks finds, including the Unicode case folds of k and s.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn currency_alternation_matches_the_plain_alternation() {
        let marks: HashMap<String, CurrencyMark> =
            ["rs.", "rs", "ksh", "kshs", "ksh.", "us$", "s$", "$", "€", "₹", "sgd"]
                .iter()
                .map(|m| (m.to_string(), CurrencyMark::Dollar))
                .collect();
        let mut aliases: Vec<&String> = marks.keys().collect();
        aliases.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        let (words, symbols): (Vec<&String>, Vec<&String>) =
            aliases.into_iter().partition(|a| a.starts_with(|c: char| c.is_ascii_alphabetic()));
        let join = |list: &[&String]| list.iter().map(|a| regex::escape(a)).collect::<Vec<_>>().join("|");
        let plain = format!(r"(?:\b(?:{})|{})", join(&words), join(&symbols));
        let build =
            |p: &str| RegexBuilder::new(&ascii_classes(&format!("(?P<c>{p})"))).case_insensitive(true).build().unwrap();
        let (old, new) = (build(&plain), build(&currency_alternation(&marks)));
        let texts = [
            "Rs.5",
            "RS 5",
            "rS.",
            "\u{17f}gd 5",
            "KSH.",
            "\u{212a}shs",
            "k\u{17f}h",
            "xrs 5",
            "US$",
            "u\u{17f}$",
            "S$",
            "$",
            "€5",
            "₹",
            "5 SGD",
            "kshx",
            "ksh",
            "KShS.",
            "a rs",
            "rs_",
            "é rs",
            "Rs",
            "",
        ];
        for t in texts {
            let spans = |re: &Regex| re.captures_iter(t).map(|c| c.get(0).map(|m| m.range())).collect::<Vec<_>>();
            assert_eq!(spans(&old), spans(&new), "{t:?}");
        }
    }
}
