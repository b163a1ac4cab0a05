//! The vocabulary of intents, and finding the merchant and category a message names.

use spendstream_core::CategoryId;
use spendstream_processors::categorise::{CategoriseInput, Field, Reason};

use super::Context;
use super::tokens::Tok;

/// `undo`, or one of these with a word from [`LAST`]: delete the last entry.
pub(crate) const DELETE: &[&str] = &["delete", "remove", "cancel", "revert", "erase", "scrap"];
/// Words that point at the last entry.
pub(crate) const LAST: &[&str] = &[
    "last",
    "previous",
    "prev",
    "latest",
    "that",
    "it",
    "this",
    "entry",
    "one",
    "recent",
    "expense",
    "transaction",
    "mistake",
    "wrong",
];
/// Words asking for help.
pub(crate) const HELP: &[&str] = &["help", "commands", "instructions"];
/// Phrases asking for help.
pub(crate) const HELP_PHRASES: &[&str] =
    &["what can you do", "how does this work", "how do i use", "how to use", "what do you do", "how does it work"];
/// Words asking for tips (only without an amount: `tip 50` is a gratuity).
pub(crate) const TIPS: &[&str] =
    &["tips", "tip", "advice", "advise", "suggestion", "suggestions", "suggest", "recommendations", "hints", "hint"];
/// Phrases asking for tips.
pub(crate) const TIPS_PHRASES: &[&str] = &[
    "save money",
    "how can i save",
    "how do i save",
    "how to save",
    "how should i save",
    "spend less",
    "cut down",
    "cut back",
];
/// Words about budgets.
pub(crate) const BUDGET: &[&str] = &["budget", "budgets", "budgeted"];
/// Words that turn a budget message into a question about it.
pub(crate) const BUDGET_LOOKUP: &[&str] =
    &["show", "view", "see", "check", "status", "left", "remaining", "how", "what", "what's", "whats"];
/// Words asking for totals.
pub(crate) const REPORT: &[&str] = &[
    "report",
    "reports",
    "summary",
    "summarise",
    "summarize",
    "breakdown",
    "stats",
    "statistics",
    "overview",
    "total",
    "totals",
    "analysis",
    "analyse",
    "analyze",
    "spending",
    "spendings",
];
/// Words asking for entries.
pub(crate) const LIST: &[&str] = &[
    "list",
    "history",
    "recent",
    "transactions",
    "transaction",
    "txns",
    "expenses",
    "entries",
    "entry",
    "spends",
    "payments",
    "purchases",
    "records",
    "ledger",
    "statement",
    "incomes",
];
/// First words of a question.
pub(crate) const ASKS: &[&str] =
    &["how", "what", "what's", "whats", "where", "when", "which", "did", "do", "does", "show", "list", "tell", "have"];
/// Verbs of adding an expense.
pub(crate) const ADD_VERBS: &[&str] = &[
    "spent",
    "spend",
    "paid",
    "pay",
    "payed",
    "bought",
    "buy",
    "purchased",
    "ordered",
    "gave",
    "add",
    "added",
    "log",
    "logged",
    "expense",
    "charged",
];
/// Words that make an entry income.
pub(crate) const INCOME: &[&str] = &[
    "salary",
    "income",
    "bonus",
    "paycheck",
    "payday",
    "stipend",
    "dividend",
    "dividends",
    "refund",
    "refunded",
    "cashback",
    "reimbursement",
    "reimbursed",
    "credited",
    "earned",
    "earn",
    "earnings",
    "received",
    "recieved",
    "wages",
    "sold",
    "incentive",
];
/// Income verbs (dropped from the words the categoriser sees; the nouns stay).
const INCOME_VERBS: &[&str] = &["got", "received", "recieved", "earned", "earn", "credited", "sold"];
/// Numbers before these are counts, not amounts (`3 days`, `10 expenses`).
pub(crate) const COUNT_NOUNS: &[&str] = &[
    "days",
    "day",
    "weeks",
    "months",
    "years",
    "hours",
    "hour",
    "hrs",
    "mins",
    "min",
    "minutes",
    "times",
    "expenses",
    "transactions",
    "entries",
    "items",
    "people",
    "persons",
    "km",
    "kms",
    "kg",
    "kgs",
    "litres",
    "liters",
    "ltr",
    "pcs",
    "pieces",
    "percent",
    "am",
    "pm",
];
/// Numbers after these are counts (`last 10`, `top 5`).
pub(crate) const COUNT_BEFORE: &[&str] = &["last", "past", "top", "first", "latest", "recent"];

/// Words that carry no merchant or category.
const STOP: &[&str] = &[
    "i",
    "i'm",
    "im",
    "i've",
    "ive",
    "me",
    "my",
    "mine",
    "we",
    "our",
    "you",
    "your",
    "a",
    "an",
    "the",
    "on",
    "at",
    "@",
    "for",
    "to",
    "from",
    "of",
    "in",
    "into",
    "and",
    "or",
    "with",
    "by",
    "via",
    "using",
    "through",
    "thru",
    "is",
    "was",
    "were",
    "be",
    "been",
    "am",
    "are",
    "it",
    "its",
    "it's",
    "this",
    "that",
    "these",
    "those",
    "some",
    "just",
    "only",
    "about",
    "around",
    "approx",
    "roughly",
    "like",
    "so",
    "too",
    "also",
    "again",
    "please",
    "pls",
    "plz",
    "kindly",
    "thanks",
    "thank",
    "thx",
    "ok",
    "okay",
    "hey",
    "hi",
    "hello",
    "tomorrow",
    "now",
    "then",
    "did",
    "do",
    "does",
    "done",
    "have",
    "has",
    "had",
    "will",
    "would",
    "can",
    "could",
    "should",
    "much",
    "many",
    "how",
    "what",
    "what's",
    "whats",
    "where",
    "when",
    "which",
    "why",
    "more",
    "less",
    "than",
    "there",
    "here",
    "all",
    "any",
    "each",
    "every",
    "per",
    "amount",
    "money",
    "price",
    "paying",
    "get",
    "set",
    "new",
    "make",
    "put",
    "want",
    "need",
    "show",
    "see",
    "view",
    "display",
    "give",
    "tell",
    "check",
    "left",
    "remaining",
    "status",
    "undo",
    "last",
    "save",
    "saving",
];

/// Places after `at` that are not merchants (`lunch at office`).
const PLACES: &[&str] = &[
    "home",
    "work",
    "office",
    "college",
    "school",
    "uni",
    "university",
    "campus",
    "airport",
    "station",
    "mall",
    "market",
    "hostel",
    "hospital",
    "night",
    "noon",
];
/// Words that end a merchant name after `at` / `from` / `to`.
const NAME_STOP: &[&str] = &[
    "on",
    "for",
    "with",
    "via",
    "using",
    "by",
    "and",
    "to",
    "from",
    "in",
    "at",
    "@",
    "today",
    "yesterday",
    "paid",
    "spent",
    "was",
    "is",
];
/// Verbs after which `to NAME` names who was paid.
const PAID_TO: &[&str] = &["paid", "pay", "sent", "send", "gave", "give", "transferred", "transfer"];

/// Whether a word has no letters (numbers, emoji, punctuation).
fn no_letters(s: &str) -> bool {
    !s.chars().any(char::is_alphabetic)
}

/// Whether a word is part of the intent vocabulary, so neither merchant nor category.
fn intent_word(w: &str) -> bool {
    STOP.contains(&w)
        || DELETE.contains(&w)
        || HELP.contains(&w)
        || TIPS.contains(&w)
        || BUDGET.contains(&w)
        || REPORT.contains(&w)
        || LIST.contains(&w)
        || ADD_VERBS.contains(&w)
        || INCOME_VERBS.contains(&w)
        || matches!(w, "limit" | "cap" | "spendings" | "expenditure" | "costs" | "cost")
}

/// The merchant and category named by the words not taken by an amount, a date or the
/// command, judged by the project's categoriser (merchant names, patterns, keywords).
pub(crate) struct Named {
    /// The merchant, as written (title-cased when written all in lower case).
    pub merchant: Option<String>,
    /// The category id.
    pub category: Option<CategoryId>,
}

/// Finds the merchant and category among the unused words.
pub(crate) fn named(toks: &[Tok<'_>], used: &[bool], ctx: &Context, income: bool) -> Named {
    let explicit = explicit_merchant(toks, used, income);
    let content: Vec<usize> = (0..toks.len())
        .filter(|&i| !used[i] && !explicit.contains(&i))
        .filter(|&i| !no_letters(&toks[i].low) && !intent_word(&toks[i].low))
        .collect();
    let merchant_text = (!explicit.is_empty()).then(|| display(toks, &explicit));
    let note: String = content.iter().map(|&i| toks[i].raw).collect::<Vec<_>>().join(" ");
    // Income with no words still gets the processors' income category.
    if merchant_text.is_none() && note.is_empty() && !income {
        return Named { merchant: None, category: None };
    }
    let got = ctx.categoriser.categorise(&CategoriseInput {
        merchant: merchant_text.as_deref(),
        note: (!note.is_empty()).then_some(note.as_str()),
        is_income: income,
        ..Default::default()
    });
    let (category, brand) = match got.reason {
        Reason::MerchantName { category, matched, field: Field::Note } => (Some(category), Some(matched)),
        Reason::MerchantName { category, .. }
        | Reason::Keyword { category, .. }
        | Reason::Pattern { category, .. }
        | Reason::Income { category } => (Some(category), None),
        Reason::Condition { .. } | Reason::Fallback { .. } => (None, None),
    };
    let category = category.or_else(|| category_by_id(toks, &content, ctx));
    let merchant = merchant_text.or_else(|| brand.and_then(|b| brand_text(toks, &content, &b)));
    Named { merchant, category }
}

/// Words after `at` / `@` (any entry), `from` (income, or after `ordered` / `bought`) or
/// `to` (after `paid` / `sent` / `gave`), up to four, stopping at a used word or a
/// preposition; generic places (`office`, `home`) are not merchants.
fn explicit_merchant(toks: &[Tok<'_>], used: &[bool], income: bool) -> Vec<usize> {
    for (i, t) in toks.iter().enumerate() {
        if used[i] {
            continue;
        }
        let before = |words: &[&str]| toks[..i].iter().rev().take(4).any(|p| words.contains(&p.low.as_str()));
        let opens = match t.low.as_str() {
            "at" | "@" => true,
            "from" => income || before(&["ordered", "order", "bought", "purchased", "got"]),
            "to" => before(PAID_TO),
            _ => false,
        };
        if !opens {
            continue;
        }
        let mut span = Vec::new();
        let mut j = i + 1;
        if toks.get(j).is_some_and(|t| t.low == "the") && !used[j] {
            j += 1;
        }
        while let Some(t) = toks.get(j) {
            if used[j] || NAME_STOP.contains(&t.low.as_str()) || no_letters(&t.low) || span.len() == 4 {
                break;
            }
            span.push(j);
            j += 1;
        }
        let generic = span.len() == 1 && PLACES.contains(&toks[span[0]].low.as_str());
        if !span.is_empty() && !generic {
            return span;
        }
    }
    Vec::new()
}

/// The raw words of `idx` joined; title-cased when written all in lower case.
fn display(toks: &[Tok<'_>], idx: &[usize]) -> String {
    let text = idx.iter().map(|&i| toks[i].raw).collect::<Vec<_>>().join(" ");
    if text.chars().any(char::is_uppercase) { text } else { title_case(&text) }
}

fn title_case(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words as the categoriser reads them: lower case, apostrophes dropped, other
/// punctuation a break.
fn norm_words(raw: &str) -> Vec<String> {
    let lower = raw.to_lowercase().replace(['\'', '’'], "");
    lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// The words of the message that a brand rule (`uber eats`) matched, as written; none
/// when the rule matched only a plural (`apples` is fruit, not Apple).
fn brand_text(toks: &[Tok<'_>], content: &[usize], matched: &str) -> Option<String> {
    let want: Vec<&str> = matched.split(' ').collect();
    let flat: Vec<(String, usize)> =
        content.iter().flat_map(|&i| norm_words(toks[i].raw).into_iter().map(move |w| (w, i))).collect();
    for window in flat.windows(want.len().max(1)) {
        if window.iter().zip(&want).all(|((got, _), w)| got == w) {
            let mut idx: Vec<usize> = window.iter().map(|(_, i)| *i).collect();
            idx.dedup();
            return Some(display(toks, &idx));
        }
    }
    None
}

/// A category named by its id or a part of it (`transport`, `bills`, `personal care`),
/// for words no categoriser rule knows.
fn category_by_id(toks: &[Tok<'_>], content: &[usize], ctx: &Context) -> Option<CategoryId> {
    let ids = ctx.categoriser.categories();
    let words: Vec<String> = content.iter().flat_map(|&i| norm_words(toks[i].raw)).collect();
    let joined = words.join("_");
    if let Some(id) = ids.iter().find(|id| id.as_str() == joined) {
        return Some(id.clone());
    }
    for w in &words {
        let hit = ids.iter().find(|id| {
            id.as_str() == w.as_str()
                || id.as_str().split('_').any(|part| part.len() >= 4 && (part == w.as_str() || part == format!("{w}s")))
        });
        if let Some(id) = hit {
            return Some(id.clone());
        }
    }
    None
}
