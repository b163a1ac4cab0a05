//! One pass over a message finds every configured keyword.
//!
//! Keywords match ASCII-case-insensitively on word boundaries; a keyword ending in `*`
//! matches as a prefix ("debit*" finds "debited"). The search walks a byte trie from each
//! word start (and from each punctuation character, for keywords such as "@" or "**"),
//! which is much cheaper than reporting every substring hit of short words.

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
        let lower = ascii_lower(word);
        let key = format!("{lower}{}", if prefix { "*" } else { "" });
        if let Some(id) = self.ids.get(&key) {
            return Some(*id);
        }
        if self.words.len() >= MAX_KEYWORDS {
            return None;
        }
        let id = KeywordId::try_from(self.words.len()).ok()?;
        self.words.push((lower, prefix));
        self.ids.insert(key, id);
        Some(id)
    }

    /// Compiles the trie into flat arrays (one allocation each, for cache locality).
    pub fn build(self) -> Lexicon {
        // Build a pointer trie first.
        let mut edges: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
        let mut ends: Vec<Vec<(KeywordId, bool)>> = vec![Vec::new()];
        for (id, (word, prefix)) in self.words.iter().enumerate() {
            let mut at = 0usize;
            for &b in word.as_bytes() {
                at = match edges[at].iter().find(|e| e.0 == b) {
                    Some(e) => e.1 as usize,
                    None => {
                        edges.push(Vec::new());
                        ends.push(Vec::new());
                        let new = edges.len() - 1;
                        edges[at].push((b, new as u32));
                        new
                    }
                };
            }
            let Ok(kid) = KeywordId::try_from(id) else {
                continue;
            };
            let needs_after = !*prefix && word.chars().next_back().is_some_and(char::is_alphanumeric);
            ends[at].push((kid, needs_after));
        }
        let mut root = [0u32; 256];
        for &(b, n) in &edges[0] {
            root[usize::from(b)] = n;
        }
        let mut nodes = Vec::with_capacity(edges.len());
        let mut edge_bytes = Vec::new();
        let mut edge_targets = Vec::new();
        let mut end_list = Vec::new();
        for (e, x) in edges.iter().zip(&ends) {
            let mut sorted = e.clone();
            sorted.sort_unstable();
            let node = FlatNode {
                edge_start: edge_bytes.len() as u32,
                edge_len: sorted.len() as u16,
                end_start: end_list.len() as u32,
                end_len: x.len() as u16,
            };
            for (b, t) in sorted {
                edge_bytes.push(b);
                edge_targets.push(t);
            }
            end_list.extend_from_slice(x);
            nodes.push(node);
        }
        Lexicon { nodes, root, edge_bytes, edge_targets, ends: end_list }
    }
}

/// ASCII-lowercases; other characters are lowercased too (the matcher folds ASCII only).
fn ascii_lower(s: &str) -> String {
    s.chars().map(|c| c.to_ascii_lowercase()).collect::<String>().to_lowercase()
}

#[derive(Clone, Copy, Debug)]
struct FlatNode {
    edge_start: u32,
    edge_len: u16,
    end_start: u32,
    end_len: u16,
}

/// Compiled keyword trie.
#[derive(Debug)]
pub struct Lexicon {
    nodes: Vec<FlatNode>,
    root: [u32; 256],
    edge_bytes: Vec<u8>,
    edge_targets: Vec<u32>,
    ends: Vec<(KeywordId, bool)>,
}

/// A set of keywords to test against [`Hits`]: a list when short, a bit mask when long.
#[derive(Clone, Debug, Default)]
pub struct KeywordSet {
    ids: Vec<KeywordId>,
    mask: Vec<u64>,
}

impl KeywordSet {
    /// Builds the set.
    pub fn new(ids: Vec<KeywordId>) -> Self {
        let mut mask = Vec::new();
        if ids.len() > 4 {
            mask = vec![0u64; WORDS];
            for &id in &ids {
                let i = usize::from(id);
                mask[i / 64] |= 1u64 << (i % 64);
            }
        }
        KeywordSet { ids, mask }
    }
}

impl std::ops::Deref for KeywordSet {
    type Target = [KeywordId];

    fn deref(&self) -> &[KeywordId] {
        &self.ids
    }
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
    /// Every occurrence, in order of start position.
    pub list: Vec<Hit>,
}

impl Hits {
    /// True when keyword `id` occurs.
    pub fn has(&self, id: KeywordId) -> bool {
        let i = usize::from(id);
        self.present[i / 64] & (1u64 << (i % 64)) != 0
    }

    /// True when any keyword of `set` occurs.
    pub fn any(&self, set: &KeywordSet) -> bool {
        if set.mask.is_empty() {
            set.ids.iter().any(|&id| self.has(id))
        } else {
            self.present.iter().zip(&set.mask).any(|(a, b)| a & b != 0)
        }
    }
}

impl Lexicon {
    /// Finds all keywords in `text`.
    ///
    /// Works on bytes: ASCII letters and digits and every non-ASCII byte count as word
    /// characters, so a keyword next to an accented letter is not a separate word.
    pub fn scan(&self, text: &str) -> Hits {
        let mut hits = Hits { present: [0; WORDS], list: Vec::with_capacity(32) };
        let bytes = text.as_bytes();
        let word = |b: u8| b.is_ascii_alphanumeric() || b >= 0x80;
        let mut prev_word = false;
        for (start, &first) in bytes.iter().enumerate() {
            let is_word = word(first);
            let begin = if is_word { !prev_word } else { !first.is_ascii_whitespace() };
            prev_word = is_word;
            if !begin {
                continue;
            }
            let mut node = self.root[usize::from(first.to_ascii_lowercase())] as usize;
            let mut i = start + 1;
            while node != 0 {
                let n = self.nodes[node];
                let ends = &self.ends[n.end_start as usize..n.end_start as usize + usize::from(n.end_len)];
                for &(id, needs_after) in ends {
                    if needs_after && bytes.get(i).is_some_and(|&b| word(b)) {
                        continue;
                    }
                    let idx = usize::from(id);
                    hits.present[idx / 64] |= 1u64 << (idx % 64);
                    hits.list.push(Hit { id, start, end: i });
                }
                let Some(&b) = bytes.get(i) else { break };
                let b = b.to_ascii_lowercase();
                let from = n.edge_start as usize;
                let keys = &self.edge_bytes[from..from + usize::from(n.edge_len)];
                node = match keys.iter().position(|&k| k == b) {
                    Some(p) => self.edge_targets[from + p] as usize,
                    None => 0,
                };
                i += 1;
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_prefixes_and_punctuation() {
        let mut b = LexiconBuilder::default();
        let paid = b.add("paid").unwrap_or(0);
        let paid_you = b.add("paid you").unwrap_or(0);
        let debit = b.add("debit*").unwrap_or(0);
        let at = b.add("@").unwrap_or(0);
        let on = b.add("on").unwrap_or(0);
        let refuse = b.add("refusé").unwrap_or(0);
        let lex = b.build();
        let h = lex.scan("Jake PAID you; DEBITED x@y transaction refusé.");
        assert!(h.has(paid) && h.has(paid_you) && h.has(debit) && h.has(at) && h.has(refuse));
        assert!(!h.has(on), "`on` inside `transaction` is not a word");
        assert!(lex.scan("on it").has(on));
        assert!(!lex.scan("unpaid").has(paid));
    }
}
