//! Turning a raw counterparty span into the name a person would use.

use super::config::{MerchantRules, Rewrites};

/// Longest merchant name kept, in characters.
const MAX_CHARS: usize = 60;

const TRIM: &[char] = &[' ', '\t', '\r', '\n', '.', ',', ';', ':', '-', '\'', '"', '`', '(', ')', '[', ']', '&', '/', '\u{a0}'];

/// Cleans `raw`; `None` when it is not a name (an account, a date, "your card", ...).
pub(crate) fn clean(
    rules: &MerchantRules,
    raw: &str,
    extra: Option<&Rewrites>,
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
        return Some(finish(rules, &title_case(&name)));
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
    let lower = s.to_lowercase();
    if word_prefixes(&lower, rules.reject_prefix_len).any(|p| rules.reject_prefixes.contains(p)) {
        return None;
    }
    Some(finish(rules, s))
}

/// Every prefix of `text` (up to `max` bytes) that ends at a word boundary.
fn word_prefixes(text: &str, max: usize) -> impl Iterator<Item = &str> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .take_while(move |&i| i <= max)
        .filter(move |&i| {
            i > 0 && text[i..].chars().next().is_none_or(|c| !c.is_alphanumeric())
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
            '.' => chars.peek().is_none_or(|&(_, n)| n.is_whitespace() || matches!(n, '.' | ',' | ';')),
            _ => false,
        };
        if stop || i >= 100 {
            break;
        }
        end = start + i + c.len_utf8();
    }
    (end > start).then_some((start, end))
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
    let keys: Vec<&str> = word_prefixes(&lower, rules.canonical_len).collect();
    if let Some(c) = keys.iter().rev().find_map(|k| rules.canonical.get(*k)) {
        return c.clone();
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
