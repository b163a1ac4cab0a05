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
    #[cfg(test)]
    pub fn build(self) -> Lexicon {
        self.build_listing(&[true; MAX_KEYWORDS])
    }

    /// [`LexiconBuilder::build`], where only the keywords with `listed[id]` are put in
    /// [`Hits::list`] (the others are only marked present): the list is read only for
    /// keywords whose place matters.
    pub fn build_listing(self, listed: &[bool]) -> Lexicon {
        // Build a pointer trie first.
        let mut edges: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
        let mut ends: Vec<Vec<End>> = vec![Vec::new()];
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
            let listed = listed.get(id).copied().unwrap_or(true);
            ends[at].push(End { id: kid, needs_after, listed });
        }
        // Number the nodes breadth-first, so the busy top levels of the trie share cache
        // lines.
        let mut order = vec![0usize];
        let mut k = 0;
        while k < order.len() {
            let mut kids = edges[order[k]].clone();
            kids.sort_unstable();
            order.extend(kids.iter().map(|&(_, t)| t as usize));
            k += 1;
        }
        let mut new_id = vec![0u32; edges.len()];
        for (new, &old) in order.iter().enumerate() {
            new_id[old] = new as u32;
        }
        let edges: Vec<Vec<(u8, u32)>> =
            order.iter().map(|&old| edges[old].iter().map(|&(b, t)| (b, new_id[t as usize])).collect()).collect();
        let ends: Vec<Vec<End>> = order.iter().map(|&old| std::mem::take(&mut ends[old])).collect();
        // Byte classes: every byte that occurs in a keyword gets its own class, numbered in
        // byte order from 1 (an ASCII capital shares its lowercase letter's); all other
        // bytes share class 0, which has no transitions. A node keeps its children for
        // the classes from its lowest to its highest child, so a step is a range check
        // and one load.
        let mut used = [false; 256];
        for e in &edges {
            for &(b, _) in e {
                used[usize::from(b)] = true;
            }
        }
        let mut class_of_lower = [0u8; 256];
        let mut next_class = 1u16;
        for (b, &u) in used.iter().enumerate() {
            if u {
                // At most 256 - 26 distinct bytes (keywords are lowercase), so this fits.
                class_of_lower[b] = u8::try_from(next_class).unwrap_or(u8::MAX);
                next_class += 1;
            }
        }
        let mut classes = [0u8; 256];
        for (b, c) in classes.iter_mut().enumerate() {
            *c = class_of_lower[usize::from((b as u8).to_ascii_lowercase())];
        }
        // Every step is one 64-bit word that says all about the node it reaches: where its
        // children start in `trie`, the range of classes they cover, and the keywords ending
        // there. So a walk reads one word per byte, and each read depends only on the last.
        let span = |e: &[(u8, u32)]| {
            let lo = e.iter().map(|&(b, _)| class_of_lower[usize::from(b)]).min().unwrap_or(1);
            let hi = e.iter().map(|&(b, _)| class_of_lower[usize::from(b)]).max().unwrap_or(0);
            (lo, hi)
        };
        let mut children_at = vec![0u64; edges.len()];
        let mut size = 0usize;
        for (n, e) in edges.iter().enumerate() {
            children_at[n] = size as u64;
            let (lo, hi) = span(e);
            size += if hi >= lo { usize::from(hi - lo) + 1 } else { 0 };
        }
        let mut end_slots = vec![(0u32, 0u32)];
        let mut end_list = Vec::new();
        let mut step_to = vec![0u64; edges.len()];
        for (n, e) in edges.iter().enumerate() {
            let (lo, hi) = span(e);
            // The keywords ending here: one of them in the word itself, more in a slot.
            let ends_info = match ends[n].as_slice() {
                [] => 0,
                &[End { id, needs_after, listed }] => {
                    ONE_KEYWORD | u32::from(listed) << 12 | u32::from(needs_after) << 11 | u32::from(id)
                }
                many => {
                    end_slots.push((end_list.len() as u32, many.len() as u32));
                    end_list.extend_from_slice(many);
                    (end_slots.len() - 1) as u32
                }
            };
            step_to[n] = children_at[n] | u64::from(lo) << 32 | u64::from(hi) << 40 | u64::from(ends_info) << 48;
        }
        let mut trie = vec![0u64; size];
        for (n, e) in edges.iter().enumerate() {
            let (lo, _) = span(e);
            for &(b, target) in e {
                let at = children_at[n] as usize + usize::from(class_of_lower[usize::from(b)] - lo);
                trie[at] = step_to[target as usize];
            }
        }
        let mut root = [0u64; 256];
        for (b, r) in root.iter_mut().enumerate() {
            let lower = (b as u8).to_ascii_lowercase();
            if let Some(&(_, target)) = edges[0].iter().find(|e| e.0 == lower) {
                *r = step_to[target as usize];
            }
        }
        let mut start_kind = [0u8; 256];
        for (b, k) in start_kind.iter_mut().enumerate() {
            let starts = root[b] != 0;
            *k = match BYTE_KIND[b] {
                WORD => IS_WORD | if starts { BEGINS_WORD } else { 0 },
                PUNCT if starts => BEGINS_ALWAYS,
                _ => 0,
            };
        }
        // The first two steps in one table: per class of the first byte and class of the
        // second, the step word for the node reached, or 0.
        let nclasses = usize::from(next_class);
        let mut pair = vec![0u64; nclasses * nclasses];
        for &(b, first) in &edges[0] {
            let c0 = usize::from(class_of_lower[usize::from(b)]);
            for &(b2, second) in &edges[first as usize] {
                pair[c0 * nclasses + usize::from(class_of_lower[usize::from(b2)])] = step_to[second as usize];
            }
        }
        Lexicon { classes, root, start_kind, trie, pair, nclasses, end_slots, ends: end_list }
    }
}

/// ASCII-lowercases; other characters are lowercased too (the matcher folds ASCII only).
fn ascii_lower(s: &str) -> String {
    s.chars().map(|c| c.to_ascii_lowercase()).collect::<String>().to_lowercase()
}

/// In the keyword part of a step word: the node ends exactly one keyword, whose id is the
/// low 11 bits (ids are below `MAX_KEYWORDS`), with bit 11 set when it must not be followed
/// by a word character and bit 12 when it is listed. Without it the part is a slot in
/// `end_slots` (0: none).
const ONE_KEYWORD: u32 = 1 << 15;
const _: () = assert!(MAX_KEYWORDS <= 1 << 11, "keyword ids must fit in 11 bits");

/// Compiled keyword trie, kept small (a few tens of KiB) so a walk stays in cache.
#[derive(Debug)]
pub struct Lexicon {
    /// Byte (either ASCII case) to class; 0 for bytes in no keyword.
    classes: [u8; 256],
    /// Byte (either ASCII case) to the step word for the root's child, or 0.
    root: [u64; 256],
    /// Per byte: [`IS_WORD`], [`BEGINS_WORD`], [`BEGINS_ALWAYS`].
    start_kind: [u8; 256],
    /// Per node, for each class from its lowest child's to its highest: the step word for
    /// that child, or 0. A step word is: bits 0-31 where the node's children start here,
    /// 32-39 and 40-47 the classes of its lowest and highest child, 48-63 the keywords
    /// ending at it (see [`ONE_KEYWORD`]). It is never 0.
    trie: Vec<u64>,
    /// Per (class of the first byte) * `nclasses` + (class of the second byte): the step
    /// word for the node two steps from the root, or 0.
    pair: Vec<u64>,
    nclasses: usize,
    /// Start and length in `ends` of the keywords ending at a node; slot 0 is unused.
    end_slots: Vec<(u32, u32)>,
    ends: Vec<End>,
}

/// A keyword ending at a trie node.
#[derive(Clone, Copy, Debug)]
struct End {
    id: KeywordId,
    /// Must not be followed by a word character.
    needs_after: bool,
    /// Goes into [`Hits::list`] (else it is only marked present).
    listed: bool,
}

/// A set of keywords to test against [`Hits`]: a list when short, a bit mask (only its
/// non-zero words) when long.
#[derive(Clone, Debug, Default)]
pub struct KeywordSet {
    ids: Vec<KeywordId>,
    /// (word index, bits) of the set's mask, for sets of more than four keywords.
    mask: Vec<(usize, u64)>,
}

impl KeywordSet {
    /// Builds the set.
    pub fn new(ids: Vec<KeywordId>) -> Self {
        let mut mask = Vec::new();
        if ids.len() > 4 {
            let mut words = [0u64; WORDS];
            for &id in &ids {
                let i = usize::from(id);
                words[i / 64] |= 1u64 << (i % 64);
            }
            mask = words.iter().enumerate().filter(|w| *w.1 != 0).map(|(i, &w)| (i, w)).collect();
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
    /// Every occurrence of a listed keyword, in order of start position.
    pub list: Vec<Hit>,
}

impl Hits {
    fn add(&mut self, hit: Hit, listed: bool) {
        let idx = usize::from(hit.id);
        self.present[idx / 64] |= 1u64 << (idx % 64);
        if listed {
            self.list.push(hit);
        }
    }

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
            set.mask.iter().any(|&(i, bits)| self.present[i] & bits != 0)
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
        // A keyword starts at a word start or at any punctuation character; the trie is
        // walked only from those whose byte begins some keyword. Past a word start the
        // rest of the word is skipped in a tight loop (no keyword starts inside a word).
        let mut start = 0;
        while let Some(&b) = bytes.get(start) {
            let kind = self.start_kind[usize::from(b)];
            if kind & (BEGINS_WORD | BEGINS_ALWAYS) != 0 {
                self.walk(bytes, start, &mut hits);
            }
            start += 1;
            if kind & IS_WORD != 0 {
                while bytes.get(start).is_some_and(|&n| word_byte(n)) {
                    start += 1;
                }
            }
        }
        hits
    }

    /// Records every keyword that starts at byte `start`.
    #[inline]
    fn walk(&self, bytes: &[u8], start: usize, hits: &mut Hits) {
        let Some(&first) = bytes.get(start) else { return };
        let t = self.root[usize::from(first)];
        if t == 0 {
            return;
        }
        self.ends_at(bytes, start, start + 1, t, hits);
        // The second step comes from the pair table.
        let Some(&second) = bytes.get(start + 1) else { return };
        let (c0, c1) = (usize::from(self.classes[usize::from(first)]), usize::from(self.classes[usize::from(second)]));
        let mut t = self.pair[c0 * self.nclasses + c1];
        let mut i = start + 2;
        while t != 0 {
            self.ends_at(bytes, start, i, t, hits);
            let Some(&b) = bytes.get(i) else { break };
            let c = u64::from(self.classes[usize::from(b)]);
            let (lo, hi) = ((t >> 32) & 0xff, (t >> 40) & 0xff);
            if c < lo || c > hi {
                break;
            }
            t = self.trie[(t & 0xffff_ffff) as usize + (c - lo) as usize];
            i += 1;
        }
    }

    /// Records the keywords ending at the node step word `t` leads to, spanning `start..end`.
    #[inline]
    fn ends_at(&self, bytes: &[u8], start: usize, end: usize, t: u64, hits: &mut Hits) {
        let upper = (t >> 48) as u32;
        if upper == 0 {
            return;
        }
        if upper & ONE_KEYWORD != 0 {
            let id = (upper & 0x7ff) as KeywordId;
            if upper & (1 << 11) == 0 || !bytes.get(end).is_some_and(|&b| word_byte(b)) {
                hits.add(Hit { id, start, end }, upper & (1 << 12) != 0);
            }
        } else {
            self.record(bytes, start, end, upper, hits);
        }
    }

    /// Records the keywords listed in `end_slots[slot]`, spanning `start..end`.
    #[inline(never)]
    fn record(&self, bytes: &[u8], start: usize, end: usize, slot: u32, hits: &mut Hits) {
        let (from, len) = self.end_slots[slot as usize];
        let next_is_word = bytes.get(end).is_some_and(|&b| word_byte(b));
        for e in &self.ends[from as usize..(from + len) as usize] {
            if e.needs_after && next_is_word {
                continue;
            }
            hits.add(Hit { id: e.id, start, end }, e.listed);
        }
    }
}

/// ASCII letters and digits and every non-ASCII byte are word characters.
fn word_byte(b: u8) -> bool {
    BYTE_KIND[usize::from(b)] == WORD
}

const SPACE: u8 = 0;
const WORD: u8 = 1;
const PUNCT: u8 = 2;

/// `start_kind` bits: the byte is a word character; a keyword may start at it when it
/// starts a word; a keyword may start at it anywhere (punctuation). `IS_WORD << 1` must be
/// `BEGINS_WORD`.
const IS_WORD: u8 = 1;
const BEGINS_WORD: u8 = IS_WORD << 1;
const BEGINS_ALWAYS: u8 = 4;

/// Per byte: [`WORD`] (ASCII letter or digit, or any non-ASCII byte), [`SPACE`] (ASCII
/// whitespace) or [`PUNCT`] (everything else).
const BYTE_KIND: [u8; 256] = {
    let mut t = [PUNCT; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphanumeric() || c >= 0x80 {
            WORD
        } else if c.is_ascii_whitespace() {
            SPACE
        } else {
            PUNCT
        };
        b += 1;
    }
    t
};

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

    /// The trie against a direct reading of the rules, on many keywords (with non-ASCII
    /// bytes, punctuation and prefixes) and pseudo-random texts.
    #[test]
    fn trie_agrees_with_a_naive_matcher() {
        let words = [
            "a",
            "at",
            "atm",
            "at the",
            "paid",
            "paid to",
            "paid you",
            "debit*",
            "déb*",
            "refusé",
            "ü",
            "über*",
            "@",
            "**",
            "...",
            "•••",
            "a/c",
            "a/c*",
            "rs.",
            "₹",
            "中文",
            "x",
            "xx*",
            "zz top",
            "on",
            "one",
            "once*",
            "é",
        ];
        let mut b = LexiconBuilder::default();
        let ids: Vec<KeywordId> = words.iter().map(|w| b.add(w).unwrap_or(KeywordId::MAX)).collect();
        let lex = b.build();
        let alphabet: Vec<char> = "aAtTmMpPiIdDyYoOuUeEbBrRsSxXzZnNcC@*./ •₹中文éÉüÜ\n,:-1".chars().collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let len = usize::try_from(seed % 40).unwrap_or(0);
            let text: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[usize::try_from(seed % alphabet.len() as u64).unwrap_or(0)]
                })
                .collect();
            let bytes = text.as_bytes();
            let mut want = Vec::new();
            for start in 0..bytes.len() {
                let begins = if word_byte(bytes[start]) {
                    start == 0 || !word_byte(bytes[start - 1])
                } else {
                    !bytes[start].is_ascii_whitespace()
                };
                if !begins {
                    continue;
                }
                for (w, &id) in words.iter().zip(&ids) {
                    let (word, prefix) = match w.strip_suffix('*') {
                        Some(p) => (p, true),
                        None => (*w, false),
                    };
                    let lower = ascii_lower(word);
                    let end = start + lower.len();
                    let matches = bytes.get(start..end).is_some_and(|s| s.to_ascii_lowercase() == lower.as_bytes());
                    let needs_after = !prefix && word.chars().next_back().is_some_and(char::is_alphanumeric);
                    if matches && !(needs_after && bytes.get(end).is_some_and(|&n| word_byte(n))) {
                        want.push((start, end, id));
                    }
                }
            }
            let hits = lex.scan(&text);
            let mut got: Vec<(usize, usize, KeywordId)> = hits.list.iter().map(|h| (h.start, h.end, h.id)).collect();
            assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "hits in start order: {text:?}");
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{text:?}");
            for &id in &ids {
                assert_eq!(hits.has(id), want.iter().any(|w| w.2 == id), "{text:?}");
            }
        }
    }
}
