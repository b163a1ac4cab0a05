//! Property tests (a seeded generator instead of proptest, so it needs no extra crates and
//! runs the same way in CI): `parse` never panics on arbitrary strings, on strings derived
//! from arbitrary bytes, or on mutated real messages, and its results keep their invariants.

use spendstream_ingest::sms::{MAX_SMS_BYTES, SmsClass, SmsInputError, SmsRules, amount_minor, parse, parse_jsonl};

const DEV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sms/dev.jsonl"));

/// Case counts are multiplied by `SMS_PROP_SCALE` (default 1) for longer local runs.
fn scale(n: usize) -> usize {
    let k = std::env::var("SMS_PROP_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1usize);
    n * k.max(1)
}

/// xorshift64*: small, deterministic, good enough to spread cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn word(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

const CHARS: &[char] = &[
    'a', 'Z', 'x', 'X', '0', '1', '5', '9', ' ', ' ', '\n', '\r', '\t', '.', ',', ':', ';', '-', '/', '*', '#', '@',
    '(', ')', '\'', '"', '$', '£', '€', '₹', '₦', '¥', '%', '+', '&', 'é', 'Ü', 'ß', 'ç', 'ñ', '中', '文', 'ع', 'ر',
    'ب', 'й', '😀', '🍕', '\u{301}', '\u{200b}', '\u{a0}', '\u{202f}', '\u{feff}', '\u{2028}',
];

const TOKENS: &[&str] = &[
    "Rs.",
    "Rs",
    "INR ",
    "₹ ",
    "$",
    "USD ",
    "£",
    "€",
    "EUR",
    "Ksh",
    "NGN",
    "AED ",
    "S$",
    "A$",
    "1,23,456.78",
    "1.234,56",
    "12,50",
    "1 208,44",
    "120.0",
    "0.00",
    "99999999999999999999",
    "1,",
    ",5",
    "..",
    "debited",
    "credited",
    "spent",
    "sent",
    "paid",
    "received",
    "withdrawn",
    "Dr.",
    "Cr.",
    "from",
    "to",
    "at",
    "towards",
    "by VPA",
    "A/c XX1234",
    "Card ending 31007",
    "**9999",
    "...7788",
    "on",
    "14/03/25",
    "31-JAN-25",
    "2024-11-08:19:42:11",
    "Nov 8, 2024",
    "08.11.2024",
    "11Mar25",
    "31-02-25",
    "99/99/9999",
    "Ref No",
    "UPI/P2M/507412345678/",
    "UTR:",
    "Txn ID",
    "Avl Bal",
    "Bal:",
    "OTP",
    "is 123456",
    "cashback",
    "declined",
    "failed",
    "due on",
    "Min Amt Due",
    "statement",
    "ZOMATO LIMITED",
    "swiggy@axisbank",
    "Mr.",
    "M.",
    "*TRIP",
    "IND*",
    "PVT LTD",
    "GmbH",
    ".COM",
    "Confirmed.",
    "SCL4X7B2QK",
    "Amt:",
    "Desc:",
    "\n",
    " ",
    ". ",
    ", ",
    "(",
    ")",
    "-",
    "/",
    "😀",
    "中文",
];

const SENDERS: &[&str] = &[
    "VM-HDFCBK",
    "AD-ICICIB",
    "MPESA",
    "24273",
    "Monzo",
    "GTBank",
    "N26",
    "DBS",
    "CommBank",
    "",
    " ",
    "??-*",
    "unknown",
    "😀",
    "VM-SBIUPI",
];

/// Checks what must hold for any input.
fn check(rules: &SmsRules, sender: &str, text: &str) {
    match parse(rules, sender, text) {
        Ok(out) => {
            assert!(!text.trim().is_empty() && text.len() <= MAX_SMS_BYTES);
            match out.class {
                SmsClass::Transaction => {
                    let t = out.transaction.as_ref().expect("transaction class has fields");
                    assert!(t.amount.bytes().all(|b| b.is_ascii_digit() || b == b'.'), "{t:?}");
                    assert_eq!(t.currency.len(), 3, "{t:?}");
                    if let Some(a) = &t.account_last4 {
                        assert!(a.len() <= 4 && a.bytes().all(|b| b.is_ascii_digit()), "{t:?}");
                    }
                    if let Some(m) = &t.merchant {
                        assert!(!m.trim().is_empty() && m.chars().count() <= 60, "{t:?}");
                    }
                    // Amounts either fit the currency's minor units or keep extra digits.
                    let _ = amount_minor(&t.amount, &t.currency);
                }
                _ => assert!(out.transaction.is_none()),
            }
            if out.class != SmsClass::BillDue {
                assert!(out.bill.is_none());
            }
        }
        Err(SmsInputError::Empty) => assert!(text.trim().is_empty()),
        Err(SmsInputError::TooLong { len, .. }) => assert!(len > MAX_SMS_BYTES),
        Err(SmsInputError::Binary { offset }) => {
            let c = text[offset..].chars().next().expect("offset is in the text");
            assert!(c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        }
    }
}

#[test]
fn arbitrary_strings_never_panic() {
    let rules = SmsRules::shipped();
    let mut rng = Rng(0x5EED_0001);
    for _ in 0..scale(2500) {
        let len = rng.below(320);
        let text: String = (0..len).map(|_| *rng.pick(CHARS)).collect();
        check(rules, rng.word(SENDERS), &text);
    }
}

#[test]
fn byte_derived_strings_never_panic() {
    let rules = SmsRules::shipped();
    let mut rng = Rng(0x5EED_0002);
    for i in 0..scale(2500) {
        let len = if i % 50 == 0 { 2000 + rng.below(200) } else { rng.below(400) };
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() >> 24) as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        check(rules, rng.word(SENDERS), &text);
        // Also the printable-ASCII projection, which reaches the templates more often.
        let ascii: String = bytes.iter().map(|b| char::from(32 + b % 95)).collect();
        check(rules, rng.word(SENDERS), &ascii);
    }
}

#[test]
fn token_soup_never_panics() {
    let rules = SmsRules::shipped();
    let mut rng = Rng(0x5EED_0003);
    for _ in 0..scale(3000) {
        let n = 1 + rng.below(24);
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(rng.word(TOKENS));
            if rng.below(3) > 0 {
                text.push(' ');
            }
        }
        check(rules, rng.word(SENDERS), &text);
    }
}

#[test]
fn mutated_real_messages_never_panic() {
    let rules = SmsRules::shipped();
    let msgs: Vec<(String, String)> = DEV
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            let s = v["sender"].as_str().unwrap_or_default().to_string();
            let t = v["text"].as_str().unwrap_or_default().to_string();
            (s, t)
        })
        .collect();
    assert!(!msgs.is_empty());
    let mut rng = Rng(0x5EED_0004);
    for _ in 0..scale(3000) {
        let (sender, base) = rng.pick(&msgs);
        let mut chars: Vec<char> = base.chars().collect();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(chars.len() + 1);
            match rng.below(5) {
                0 if !chars.is_empty() => {
                    let end = (at + rng.below(12)).min(chars.len());
                    chars.drain(at.min(end)..end);
                }
                1 => {
                    for c in rng.word(TOKENS).chars().rev() {
                        chars.insert(at, c);
                    }
                }
                2 => chars.insert(at, *rng.pick(CHARS)),
                3 => chars.truncate(at),
                _ => {
                    // Absurd digit runs.
                    for _ in 0..rng.below(40) {
                        chars.insert(at, '9');
                    }
                }
            }
        }
        let text: String = chars.into_iter().collect();
        check(rules, sender, &text);
    }
}

#[test]
fn jsonl_survives_garbage_lines() {
    let rules = SmsRules::shipped();
    let mut rng = Rng(0x5EED_0005);
    let mut input = String::new();
    let mut lines = 0;
    for i in 0..300 {
        let line = match i % 4 {
            0 => {
                let text: String = (0..rng.below(80)).map(|_| *rng.pick(CHARS)).collect();
                serde_json::json!({"id": i, "sender": rng.word(SENDERS), "text": text}).to_string()
            }
            1 => (0..rng.below(60))
                .map(|_| *rng.pick(CHARS))
                .filter(|c| *c != '\n' && *c != '\r' && *c != '\u{2028}')
                .collect(),
            2 => serde_json::json!({"id": [i], "text": 5}).to_string(),
            _ => serde_json::json!({"text": rng.word(TOKENS)}).to_string(),
        };
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        input.push_str(&line);
        input.push('\n');
    }
    let mut out = Vec::new();
    let stats = parse_jsonl(rules, input.as_bytes(), &mut out).expect("in-memory io");
    assert_eq!(stats.lines, lines);
    assert_eq!(stats.parsed + stats.errors, stats.lines);
    let text = String::from_utf8(out).expect("utf8");
    assert_eq!(text.lines().count() as u64, lines);
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("every output line is JSON");
        assert!(v.get("id").is_some() && v.get("class").is_some() && v.get("parsed").is_some());
    }
}
