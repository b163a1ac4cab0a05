//! One Aho-Corasick pass over a message finds every configured keyword.
//!
//! Keywords match ASCII-case-insensitively on word boundaries; a keyword ending in `*`
//! matches as a prefix ("debit*" finds "debited").

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use std::collections::HashMap;

/// Most distinct keywords a configuration may use.
pub const MAX_KEYWORDS: usize = 2048;
const WORDS: usize = MAX_KEYWORDS / 64;

/// Index of a keyword in the lexicon.
pub type KeywordId = u16;

/// Builds a [`Lexicon`] while the configuration is compiled.
#[derive(Default)]
pub struct LexiconBuilder {
    ids: HashMap<String, KeywordId>,
    words: Vec<(String, bool)>,
}

impl LexiconBuilder {
    /// Registers `keyword` (once) and returns its id, or `None` when it is empty or too many.
    pub fn add(&mut self, keyword: &str) -> Option<KeywordId> {
        let raw = keyword.trim();
        let (word, prefix) = match raw.strip_suffix('*') {
            Some(w) => (w.trim_end(), true),
            None => (raw, false),
        };
        if word.is_empty() {
            return None;
        }
        let key = format!("{}{}", word.to_lowercase(), if prefix { "*" } else { "" });
        if let Some(id) = self.ids.get(&key) {
            return Some(*id);
        }
        if self.words.len() >= MAX_KEYWORDS {
            return None;
        }
        let id = KeywordId::try_from(self.words.len()).ok()?;
        self.words.push((word.to_lowercase(), prefix));
        self.ids.insert(key, id);
        Some(id)
    }

    /// Compiles the automaton.
    pub fn build(self) -> Result<Lexicon, aho_corasick::BuildError> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(self.words.iter().map(|(w, _)| w.as_str()))?;
        let flags = self
            .words
            .iter()
            .map(|(w, prefix)| {
                let first = w.chars().next().is_some_and(char::is_alphanumeric);
                let last = !*prefix && w.chars().next_back().is_some_and(char::is_alphanumeric);
                (first, last)
            })
            .collect();
        Ok(Lexicon { ac, flags })
    }
}

/// Compiled keyword automaton.
#[derive(Debug)]
pub struct Lexicon {
    ac: AhoCorasick,
    /// Per keyword: needs a boundary before, needs a boundary after.
    flags: Vec<(bool, bool)>,
}

/// One keyword occurrence.
#[derive(Clone, Copy, Debug)]
pub struct Hit {
    /// Keyword id.
    pub id: KeywordId,
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset just past the end.
    pub end: usize,
}

/// Keywords present in one message.
pub struct Hits {
    present: [u64; WORDS],
    /// Every occurrence, in order of end position.
    pub list: Vec<Hit>,
}

impl Hits {
    /// True when keyword `id` occurs.
    pub fn has(&self, id: KeywordId) -> bool {
        let i = usize::from(id);
        self.present[i / 64] & (1u64 << (i % 64)) != 0
    }

    /// True when any of `ids` occurs.
    pub fn any(&self, ids: &[KeywordId]) -> bool {
        ids.iter().any(|&id| self.has(id))
    }
}

fn is_word_char(c: Option<char>) -> bool {
    c.is_some_and(char::is_alphanumeric)
}

impl Lexicon {
    /// Finds all keywords in `text`.
    pub fn scan(&self, text: &str) -> Hits {
        let mut hits = Hits { present: [0; WORDS], list: Vec::new() };
        for m in self.ac.find_overlapping_iter(text) {
            let id = m.pattern().as_usize();
            let Some(&(need_before, need_after)) = self.flags.get(id) else {
                continue;
            };
            if need_before && is_word_char(text[..m.start()].chars().next_back()) {
                continue;
            }
            if need_after && is_word_char(text[m.end()..].chars().next()) {
                continue;
            }
            let Ok(kid) = KeywordId::try_from(id) else {
                continue;
            };
            hits.present[id / 64] |= 1u64 << (id % 64);
            hits.list.push(Hit { id: kid, start: m.start(), end: m.end() });
        }
        hits
    }
}
