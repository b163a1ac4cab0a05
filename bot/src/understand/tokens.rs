//! Cleaning a message and splitting it into words.

/// Punctuation removed from the start of a word.
const LEAD: &[char] = &['"', '\'', '(', '[', '{', '“', '‘', '«', '*', '_', '<', '¿', '¡', '+'];
/// Punctuation removed from the end of a word.
const TRAIL: &[char] =
    &['"', '\'', ')', ']', '}', '”', '’', '»', '.', ',', ';', ':', '!', '?', '…', '*', '_', '>', '~'];

/// One word of a message, without the punctuation around it.
#[derive(Debug)]
pub(crate) struct Tok<'a> {
    /// As written.
    pub raw: &'a str,
    /// Lower-cased, curly apostrophes made straight.
    pub low: String,
}

/// Replaces control characters with spaces and drops invisible format characters
/// (zero-width spaces and joiners, direction marks, byte-order marks).
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_control() {
                Some(' ')
            } else if matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
            {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

/// Splits on whitespace and trims punctuation (a leading `+`, a trailing `-`); `500/-`
/// (Indian notation) becomes `500`.
pub(crate) fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    for piece in text.split_whitespace() {
        let mut t = piece.trim_start_matches(LEAD).trim_end_matches(TRAIL);
        if let Some(s) = t.strip_suffix("/-") {
            t = s.trim_end_matches(TRAIL);
        }
        t = t.trim_end_matches('-');
        if t.is_empty() {
            continue;
        }
        out.push(Tok { raw: t, low: t.to_lowercase().replace('’', "'") });
    }
    out
}

/// Whether a message ends with a question mark (before trailing spaces and emoji).
pub(crate) fn ends_with_question_mark(text: &str) -> bool {
    text.trim_end_matches(|c: char| c.is_whitespace() || !c.is_ascii()).ends_with('?')
}
