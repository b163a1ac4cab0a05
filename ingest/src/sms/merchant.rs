//! Turning a raw counterparty span into the name a person would use.

use super::config::{MerchantRules, Rewrite};

/// Longest merchant name kept, in characters.
const MAX_CHARS: usize = 60;

const TRIM: &[char] = &[' ', '\t', '\r', '\n', '.', ',', ';', ':', '-', '\'', '"', '`', '(', ')', '[', ']', '&', '/', '\u{a0}'];

/// Cleans `raw`; `None` when it is not a name (an account, a date, "your card", ...).
pub(crate) fn clean(
    rules: &MerchantRules,
    raw: &str,
    extra: &[Rewrite],
    cut_stops: bool,
) -> Option<String> {
    let mut s = raw.trim_matches(TRIM);
    if cut_stops {
        s = cut_at_stop_word(rules, s).trim_matches(TRIM);
    }
    if s.is_empty() {
        return None;
    }
    if let Some(name) = vpa_name(s) {
        return Some(finish(rules, &name));
    }
    if rules.reject_patterns.iter().any(|re| re.is_match(s)) {
        return None;
    }
    let mut owned = s.to_string();
    for rw in extra.iter().chain(rules.rewrites.iter()) {
        if rw.re.is_match(&owned) {
            owned = rw.re.replace_all(&owned, rw.replace.as_str()).into_owned();
        }
    }
    let s = owned.trim_matches(TRIM);
    if s.chars().count() < 2 || !s.chars().any(char::is_alphabetic) {
        return None;
    }
    if rules.reject_patterns.iter().any(|re| re.is_match(s)) {
        return None;
    }
    let lower = s.to_lowercase();
    if rules.reject_prefixes.iter().any(|p| starts_with_word(&lower, p)) {
        return None;
    }
    Some(finish(rules, s))
}

fn starts_with_word(text: &str, word: &str) -> bool {
    text.strip_prefix(word)
        .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
}

fn cut_at_stop_word<'s>(rules: &MerchantRules, s: &'s str) -> &'s str {
    let hits = rules.stop.scan(s);
    match hits.list.iter().filter(|h| h.start > 0).map(|h| h.start).min() {
        Some(at) => &s[..at],
        None => s,
    }
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
    local
        .split(|c: char| !c.is_alphabetic())
        .find(|chunk| chunk.chars().count() >= 2)
        .map(str::to_string)
}

fn finish(rules: &MerchantRules, s: &str) -> String {
    let lower = s.to_lowercase();
    for (key, canonical) in &rules.canonical {
        if starts_with_word(&lower, key) {
            return canonical.clone();
        }
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
