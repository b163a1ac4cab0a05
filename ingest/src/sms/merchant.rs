//! Turning a raw counterparty span into the name a person would use.

use super::config::{MerchantRules, Rewrites};

/// Longest merchant name kept, in characters.
const MAX_CHARS: usize = 60;

const TRIM: &[char] =
    &[' ', '\t', '\r', '\n', '.', ',', ';', ':', '-', '\'', '"', '`', '(', ')', '[', ']', '&', '/', '\u{a0}'];

/// Cleans `raw`; `None` when it is not a name (an account, a date, "your card", ...).
/// `generic` candidates (found after a prefix word) are checked against the reject
/// prefixes before any rewriting.
pub(crate) fn clean(rules: &MerchantRules, raw: &str, extra: Option<&Rewrites>, generic: bool) -> Option<String> {
    let s = raw.trim_matches(TRIM);
    if s.is_empty() {
        return None;
    }
    if let Some(name) = vpa_name(s) {
        return Some(finish(rules, &title_case(&name)));
    }
    if generic && rejected_prefix(rules, s) {
        return None;
    }
    // Plain lowercase words after "to"/"at" are English, not a payee ("to avoid charges").
    if generic && !s.contains('@') && s.chars().all(|c| !c.is_uppercase()) {
        return None;
    }
    if rules.reject.as_ref().is_some_and(|re| re.is_match(s)) {
        return None;
    }
    let mut owned = s.to_string();
    if let Some(extra) = extra {
        extra.apply(&mut owned);
    }
    rules.rewrites.apply(&mut owned);
    let s = owned.trim_matches(TRIM);
    if let Some(name) = vpa_name(s) {
        return Some(finish(rules, &title_case(&name)));
    }
    if s.chars().count() < 2 || !s.chars().any(char::is_alphabetic) {
        return None;
    }
    if rules.reject.as_ref().is_some_and(|re| re.is_match(s)) {
        return None;
    }
    if rejected_prefix(rules, s) {
        return None;
    }
    Some(finish(rules, s))
}

fn rejected_prefix(rules: &MerchantRules, s: &str) -> bool {
    let head = match s.char_indices().nth(rules.reject_prefix_len + 1) {
        Some((i, _)) => &s[..i],
        None => s,
    };
    let lower = head.to_ascii_lowercase();
    word_prefixes(&lower, rules.reject_prefix_len)
        .any(|p| rules.reject_prefixes.binary_search_by(|r| r.as_str().cmp(p)).is_ok())
}

/// Every prefix of `text` (up to `max` bytes) that ends at a word boundary.
fn word_prefixes(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    (1..=max.min(bytes.len()))
        .filter(move |&i| {
            text.is_char_boundary(i) && bytes.get(i).is_none_or(|&b| !(b.is_ascii_alphanumeric() || b >= 0x80))
        })
        .map(move |i| &text[..i])
}

/// The raw name after a prefix word ending at byte `from`: skips spaces and an honorific,
/// then runs to the end of the clause.
pub(crate) fn span_after(rules: &MerchantRules, text: &str, from: usize) -> Option<(usize, usize)> {
    let rest = text.get(from..)?;
    let trimmed = rest.trim_start_matches([' ', '\t', '\u{a0}']);
    if trimmed.len() == rest.len() && !rest.is_empty() && text[..from].ends_with(char::is_alphanumeric) {
        // A word prefix must be followed by a space.
        return None;
    }
    let mut start = from + (rest.len() - trimmed.len());
    // Honorific ("Mr.", "M.", "Mrs") followed by a space.
    if let Some(word_end) = trimmed.find([' ', '\t']) {
        let word = trimmed[..word_end].to_lowercase();
        let bare = word.strip_suffix('.').unwrap_or(&word);
        let dotted = word.ends_with('.');
        if rules.titles.contains(&word) || (dotted && bare != "m" && rules.titles.contains(bare)) {
            let after = &trimmed[word_end..];
            let skipped = after.len() - after.trim_start().len();
            start += word_end + skipped;
        }
    }
    let body = &text[start..];
    let mut end = start;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let stop = match c {
            '\n' | '\r' | ',' | ';' | '(' | ')' | '!' | '?' | ':' | '"' | '[' | ']' => true,
            '.' => {
                // "J. DE VRIES": a single capital before the dot is an initial.
                let mut before = body[..i].chars().rev();
                let initial =
                    before.next().is_some_and(char::is_uppercase) && before.next().is_none_or(|p| !p.is_alphanumeric());
                !initial && chars.peek().is_none_or(|&(_, n)| n.is_whitespace() || matches!(n, '.' | ',' | ';'))
            }
            _ => false,
        };
        if stop || i >= 100 {
            break;
        }
        end = start + i + c.len_utf8();
    }
    (end > start).then_some((start, end))
}

/// "swiggy@axisbank" -> "swiggy", "rahul.k92@okicici" -> "rahul".
fn vpa_name(s: &str) -> Option<String> {
    if s.contains(char::is_whitespace) {
        return None;
    }
    let (local, handle) = s.split_once('@')?;
    if handle.is_empty() || handle.contains('.') || !local.chars().any(char::is_alphabetic) {
        return None;
    }
    local.split(|c: char| !c.is_alphabetic()).find(|chunk| chunk.chars().count() >= 2).map(str::to_string)
}

fn finish(rules: &MerchantRules, s: &str) -> String {
    let lower = s.to_lowercase();
    let keys: Vec<&str> = word_prefixes(&lower, rules.canonical_len).collect();
    let lookup = |k: &str| {
        let i = rules.canonical.binary_search_by(|c| c.0.as_str().cmp(k)).ok()?;
        Some(rules.canonical[i].1.clone())
    };
    if let Some(c) = keys.iter().rev().find_map(|k| lookup(k)) {
        return c;
    }
    let name = if s.chars().any(char::is_lowercase) { s.to_string() } else { title_case(s) };
    truncate(&name)
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_lowercase();
        if i > 0 && matches!(lower.as_str(), "of" | "and" | "the" | "de" | "la" | "du" | "von" | "van" | "da") {
            out.push_str(&lower);
            continue;
        }
        if word.chars().any(|c| c.is_ascii_digit()) {
            out.push_str(word);
            continue;
        }
        let mut chars = lower.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_CHARS {
        return s.to_string();
    }
    let cut: String = s.chars().take(MAX_CHARS).collect();
    match cut.rfind(' ') {
        Some(at) if at > 0 => cut[..at].to_string(),
        _ => cut,
    }
}
