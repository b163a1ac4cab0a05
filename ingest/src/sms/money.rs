//! A hand-written scanner for amounts ("Rs.1,23,456.78", "12,50 EUR", "₹ 99"): the same
//! shapes as the `{{money}}` / `{{moneyb}}` macros, without a regex engine's capture cost.

/// Byte ranges of one amount: the number and, when written, the currency mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// Start of the whole amount (mark or number).
    pub start: usize,
    /// End of the whole amount.
    pub end: usize,
    /// The number.
    pub num: (usize, usize),
    /// The currency mark, if any.
    pub cur: Option<(usize, usize)>,
}

/// Currency marks in a byte trie (ASCII case-insensitive).
#[derive(Debug)]
pub struct MoneyScanner {
    /// Per node: start and length of its edges in `edges`, and whether a mark ends there.
    nodes: Vec<(u32, u32, bool)>,
    /// (lowercase byte, node), grouped by node.
    edges: Vec<(u8, u32)>,
    /// First-byte transitions from the root (0: none).
    root: [u32; 256],
    /// Bytes at which an amount can start: a digit or the first byte of a mark.
    starts: [bool; 256],
}

fn ascii_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl MoneyScanner {
    /// Builds the scanner from currency marks as written in the config.
    pub fn new<'a>(marks: impl IntoIterator<Item = &'a str>) -> Self {
        let mut edges: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
        let mut ends = vec![false];
        for mark in marks {
            let mut at = 0usize;
            for b in mark.bytes() {
                let b = b.to_ascii_lowercase();
                at = match edges[at].iter().find(|e| e.0 == b) {
                    Some(e) => e.1 as usize,
                    None => {
                        edges.push(Vec::new());
                        ends.push(false);
                        let new = edges.len() - 1;
                        edges[at].push((b, new as u32));
                        new
                    }
                };
            }
            if at != 0 {
                ends[at] = true;
            }
        }
        let mut root = [0u32; 256];
        for &(b, n) in &edges[0] {
            root[usize::from(b)] = n;
        }
        // All edges in one array, so a step does not follow a pointer per node.
        let mut nodes = Vec::with_capacity(edges.len());
        let mut flat = Vec::new();
        for (e, &end) in edges.iter().zip(&ends) {
            nodes.push((flat.len() as u32, e.len() as u32, end));
            flat.extend_from_slice(e);
        }
        let edges = flat;
        let mut starts = [false; 256];
        for (b, st) in starts.iter_mut().enumerate() {
            let byte = b as u8;
            *st = byte.is_ascii_digit() || root[usize::from(byte.to_ascii_lowercase())] != 0;
        }
        MoneyScanner { nodes, edges, root, starts }
    }

    /// End of the longest currency mark starting at `i`, respecting a word boundary before
    /// marks that start with a letter.
    fn mark_at(&self, b: &[u8], i: usize) -> Option<usize> {
        let first = *b.get(i)?;
        let mut node = self.root[usize::from(first.to_ascii_lowercase())] as usize;
        if node == 0 || (first.is_ascii_alphabetic() && i > 0 && ascii_word(b[i - 1])) {
            return None;
        }
        let mut best = self.nodes[node].2.then_some(i + 1);
        let mut j = i + 1;
        while let Some(&c) = b.get(j) {
            let c = c.to_ascii_lowercase();
            let (from, len, _) = self.nodes[node];
            let Some(e) = self.edges[from as usize..(from + len) as usize].iter().find(|e| e.0 == c) else {
                break;
            };
            node = e.1 as usize;
            j += 1;
            if self.nodes[node].2 {
                best = Some(j);
            }
        }
        best
    }

    /// Finds the first amount in `text[from..to]`; with `bare`, a number with decimals and
    /// no currency mark also counts.
    pub fn find(&self, text: &str, from: usize, to: usize, bare: bool) -> Option<Found> {
        let b = &text.as_bytes()[..to.min(text.len())];
        let mut i = from;
        while i < b.len() {
            // Nothing can start at other bytes (a mark's first byte is never a UTF-8
            // continuation byte).
            if !self.starts[usize::from(b[i])] {
                i += 1;
                continue;
            }
            if !text.is_char_boundary(i) {
                i += 1;
                continue;
            }
            if b[i].is_ascii_alphabetic() && i > 0 && ascii_word(b[i - 1]) {
                // A letter inside a word starts neither a mark (those need a word boundary
                // before a letter) nor a number; nor do the letters after it.
                i += 1;
                while b.get(i).is_some_and(u8::is_ascii_alphabetic) {
                    i += 1;
                }
                continue;
            }
            if let Some(me) = self.mark_at(b, i) {
                let after = skip_one_space(text, me, b.len());
                let colon = if b.get(me) == Some(&b':') { skip_one_space(text, me + 1, b.len()) } else { me };
                for j in [after, me, colon] {
                    if let Some(ne) = number_at(b, j) {
                        return Some(Found { start: i, end: ne, num: (j, ne), cur: Some((i, me)) });
                    }
                }
            }
            if b[i].is_ascii_digit()
                && (i == 0 || !b[i - 1].is_ascii_digit())
                && let Some(ne) = number_at(b, i)
            {
                {
                    for k in [skip_one_space(text, ne, b.len()), ne] {
                        if let Some(me) = self.mark_at(b, k) {
                            // A mark followed by a number belongs to that number.
                            let next = skip_one_space(text, me, b.len());
                            if number_at(b, next).is_none() && number_at(b, me).is_none() {
                                return Some(Found { start: i, end: me, num: (i, ne), cur: Some((k, me)) });
                            }
                        }
                    }
                    if bare && let Some(be) = bare_at(b, i) {
                        return Some(Found { start: i, end: be, num: (i, be), cur: None });
                    }
                }
            }
            i += 1;
        }
        None
    }
}

/// Position after one whitespace character at `i` (or `i` itself when there is none).
fn skip_one_space(text: &str, i: usize, limit: usize) -> usize {
    match text.get(i..limit).and_then(|r| r.chars().next()) {
        Some(c) if c.is_whitespace() => i + c.len_utf8(),
        _ => i,
    }
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// `[0-9]{1,3}(?:[ NBSP NNBSP][0-9]{3})+,[0-9]{1,2}` or `[0-9]+(?:[.,'][0-9]+)*`.
fn number_at(b: &[u8], i: usize) -> Option<usize> {
    let first = digits(b, i);
    if first == i {
        return None;
    }
    if first - i <= 3
        && let Some(end) = space_grouped(b, first)
    {
        return Some(end);
    }
    let mut end = first;
    while matches!(b.get(end), Some(b'.' | b',' | b'\'')) {
        let next = digits(b, end + 1);
        if next == end + 1 {
            break;
        }
        end = next;
    }
    Some(end)
}

fn space_sep(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i..) {
        Some([b' ', ..]) => Some(i + 1),
        Some([0xC2, 0xA0, ..]) => Some(i + 2),
        Some([0xE2, 0x80, 0xAF, ..]) => Some(i + 3),
        _ => None,
    }
}

fn space_grouped(b: &[u8], mut i: usize) -> Option<usize> {
    let mut groups = 0;
    while let Some(j) = space_sep(b, i) {
        if digits(b, j) != j + 3 {
            break;
        }
        i = j + 3;
        groups += 1;
    }
    if groups == 0 || b.get(i) != Some(&b',') {
        return None;
    }
    let end = digits(b, i + 1);
    (1..=2).contains(&(end - i - 1)).then_some(end)
}

/// `[0-9][0-9,]*\.[0-9]{1,3}\b`
fn bare_at(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while b.get(j).is_some_and(|c| c.is_ascii_digit() || *c == b',') {
        j += 1;
    }
    if b.get(j) != Some(&b'.') {
        return None;
    }
    let end = digits(b, j + 1);
    let n = end - j - 1;
    if !(1..=3).contains(&n) || b.get(end).is_some_and(|c| ascii_word(*c)) {
        return None;
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str, bare: bool) -> Option<(String, Option<String>)> {
        let s = MoneyScanner::new(["rs.", "rs", "inr", "₹", "$", "eur", "€", "ksh", "s$", "ngn"]);
        let f = s.find(text, 0, text.len(), bare)?;
        Some((text[f.num.0..f.num.1].to_string(), f.cur.map(|c| text[c.0..c.1].to_string())))
    }

    #[test]
    fn shapes() {
        let got = |t: &str| scan(t, false).map(|(n, c)| format!("{n}|{}", c.unwrap_or_default()));
        assert_eq!(got("Sent Rs.450.00 From").as_deref(), Some("450.00|Rs."));
        assert_eq!(got("by Rs1500 on").as_deref(), Some("1500|Rs"));
        assert_eq!(got("₹ 1,05,000 paid").as_deref(), Some("1,05,000|₹"));
        assert_eq!(got("Solde : 1 208,44 €").as_deref(), Some("1 208,44|€"));
        assert_eq!(got("Belastung 1.234,56 EUR auf").as_deref(), Some("1.234,56|EUR"));
        assert_eq!(got("A/c XX4821 Rs.500 debited").as_deref(), Some("500|Rs."));
        assert_eq!(got("hours 500"), None);
        assert_eq!(got("S$10 off").as_deref(), Some("10|S$"));
        assert_eq!(got("Amt:NGN 12,400.00").as_deref(), Some("12,400.00|NGN"));
        assert_eq!(scan("debited by 120.0 on", true).map(|x| x.0).as_deref(), Some("120.0"));
        assert_eq!(scan("A/C X6612 debited", true), None);
    }
}
