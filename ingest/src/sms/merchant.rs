//! Turning a raw counterparty span into the name a person would use.

use super::config::{MerchantRules, Rewrites};
use std::borrow::Cow;

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
    let mut rewritten = Cow::Borrowed(s);
    if let Some(extra) = extra {
        rewritten = extra.apply(rewritten);
    }
    let rewritten = rules.rewrites.apply(rewritten);
    let before = s;
    let s = rewritten.trim_matches(TRIM);
    // Unchanged by the rewrites: the VPA and reject-pattern checks above already passed
    // (and the reject-prefix check too, for a generic candidate).
    let unchanged = s == before;
    if !unchanged && let Some(name) = vpa_name(s) {
        return Some(finish(rules, &title_case(&name)));
    }
    if s.chars().count() < 2 || !s.chars().any(char::is_alphabetic) {
        return None;
    }
    if !unchanged && rules.reject.as_ref().is_some_and(|re| re.is_match(s)) {
        return None;
    }
    if !(unchanged && generic) && rejected_prefix(rules, s) {
        return None;
    }
    Some(finish(rules, s))
}

/// True when `s` starts with a reject prefix (ASCII case-insensitively) that ends a word.
fn rejected_prefix(rules: &MerchantRules, s: &str) -> bool {
    rules.reject_prefixes.longest_word_prefix(s.as_bytes(), true).is_some()
}

/// Where the raw name after a prefix word ending at byte `from` starts: after spaces and an
/// honorific. `None` when a word prefix is not followed by a space.
pub(crate) fn span_start(rules: &MerchantRules, text: &str, from: usize) -> Option<usize> {
    let rest = text.get(from..)?;
    let trimmed = rest.trim_start_matches([' ', '\t', '\u{a0}']);
    if trimmed.len() == rest.len() && !rest.is_empty() && text[..from].ends_with(char::is_alphanumeric) {
        // A word prefix must be followed by a space.
        return None;
    }
    let mut start = from + (rest.len() - trimmed.len());
    // Honorific ("Mr.", "M.", "Mrs") followed by a space.
    if let Some(word_end) = trimmed.bytes().position(|b| b == b' ' || b == b'\t')
        && is_title(rules, &trimmed[..word_end])
    {
        let after = &trimmed[word_end..];
        let skipped = after.len() - after.trim_start().len();
        start += word_end + skipped;
    }
    Some(start)
}

/// Where a raw name starting at byte `start` ends: at the end of the clause (or after 100
/// bytes). Equal to `start` when the name is empty.
pub(crate) fn span_end(text: &str, start: usize) -> usize {
    let body = &text[start..];
    let bytes = body.as_bytes();
    // `i` is always at the start of a character; every stop character is ASCII.
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let stop = match b {
            b'\n' | b'\r' | b',' | b';' | b'(' | b')' | b'!' | b'?' | b':' | b'"' | b'[' | b']' => true,
            b'.' => {
                // "J. DE VRIES": a single capital before the dot is an initial.
                let mut before = body[..i].chars().rev();
                let initial =
                    before.next().is_some_and(char::is_uppercase) && before.next().is_none_or(|p| !p.is_alphanumeric());
                !initial
                    && body[i + 1..].chars().next().is_none_or(|n| n.is_whitespace() || matches!(n, '.' | ',' | ';'))
            }
            _ => false,
        };
        if stop || i >= 100 {
            break;
        }
        i += utf8_len(b);
    }
    start + i
}

/// Length of the UTF-8 sequence that starts with byte `first`.
fn utf8_len(first: u8) -> usize {
    match first {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// True when `word` (lowercased) is a title, or a title followed by a dot ("Mr."; not "M").
fn is_title(rules: &MerchantRules, word: &str) -> bool {
    if word.is_ascii() {
        // Lowercasing ASCII keeps the length: a word longer than every title plus its dot
        // is none, and the rest compare without allocating.
        if word.len() > rules.title_len + 1 {
            return false;
        }
        let is = |w: &str| rules.titles.iter().any(|t| t.eq_ignore_ascii_case(w));
        return is(word) || word.strip_suffix('.').is_some_and(|bare| !bare.eq_ignore_ascii_case("m") && is(bare));
    }
    let word = word.to_lowercase();
    let bare = word.strip_suffix('.').unwrap_or(&word);
    let dotted = word.ends_with('.');
    rules.titles.contains(&word) || (dotted && bare != "m" && rules.titles.iter().any(|t| t == bare))
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
    // The longest canonical key the lowercased name starts with (ending a word).
    let canonical = if s.is_ascii() {
        rules.canonical.longest_word_prefix(s.as_bytes(), true)
    } else {
        rules.canonical.longest_word_prefix(s.to_lowercase().as_bytes(), false)
    };
    if let Some(i) = canonical {
        return rules.canonical_names[i as usize].clone();
    }
    let name = if s.chars().any(char::is_lowercase) { s.to_string() } else { title_case(s) };
    truncate(name)
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.is_ascii() {
            // The same steps without a lowercase copy of the word.
            let small = |w: &str| word.eq_ignore_ascii_case(w);
            let function_word =
                word.len() <= 3 && ["of", "and", "the", "de", "la", "du", "von", "van", "da"].into_iter().any(small);
            let start = out.len();
            if (i > 0 && function_word) || !word.bytes().any(|b| b.is_ascii_digit()) {
                out.push_str(word);
                out[start..].make_ascii_lowercase();
                if !(i > 0 && function_word) {
                    out[start..start + 1].make_ascii_uppercase();
                }
            } else {
                out.push_str(word);
            }
            continue;
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

fn truncate(s: String) -> String {
    if s.chars().count() <= MAX_CHARS {
        return s;
    }
    let cut: String = s.chars().take(MAX_CHARS).collect();
    match cut.rfind(' ') {
        Some(at) if at > 0 => cut[..at].to_string(),
        _ => cut,
    }
}
