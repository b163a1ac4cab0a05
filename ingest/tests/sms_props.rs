//! Property tests with proptest: `parse` never panics on arbitrary strings, on strings made
//! from arbitrary bytes, on token soup, on mutated real messages, or on hostile text
//! (emoji, mixed scripts, absurd numbers such as 30-digit amounts); its results keep their
//! invariants, including that every transaction amount converts with `amount_minor`; input
//! over `MAX_SMS_BYTES` is an error; OTP and promo messages never yield a transaction; and
//! `parse_jsonl` survives garbage lines.
//!
//! Case counts are kept small so the file runs in a few seconds in a debug build; set
//! `PROPTEST_CASES` (proptest's own variable) to run every property with more cases, e.g.
//! `PROPTEST_CASES=20000 cargo test --release -p spendstream-ingest --test sms_props`.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use spendstream_ingest::sms::{MAX_SMS_BYTES, SmsClass, SmsInputError, SmsRules, amount_minor, parse, parse_jsonl};

const DEV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sms/dev.jsonl"));

/// `cases` unless `PROPTEST_CASES` is set, which then applies to every property.
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

/// (sender, text, class) of every dev message.
fn dev() -> &'static [(String, String, String)] {
    static DEV_MSGS: std::sync::OnceLock<Vec<(String, String, String)>> = std::sync::OnceLock::new();
    DEV_MSGS.get_or_init(|| {
        DEV.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                (field("sender"), field("text"), field("class"))
            })
            .collect()
    })
}

const CHARS: &[char] = &[
    'a', 'Z', 'x', 'X', '0', '1', '5', '9', ' ', ' ', '\n', '\r', '\t', '.', ',', ':', ';', '-', '/', '*', '#', '@',
    '(', ')', '\'', '"', '$', '£', '€', '₹', '₦', '¥', '%', '+', '&', 'é', 'Ü', 'ß', 'ç', 'ñ', '中', '文', 'ع', 'ر',
    'ب', 'й', '😀', '🍕', '\u{301}', '\u{200b}', '\u{a0}', '\u{202f}', '\u{feff}', '\u{2028}', '\u{17f}', '\u{212a}',
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
    "JPY ",
    "KWD ",
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

/// Fragments of other scripts and of emoji sequences (ZWJ families, flags, skin tones,
/// keycaps, variation selectors, bidi controls, combining marks).
const SCRIPTS: &[&str] = &[
    "Ваш счёт списано",
    "تم خصم مبلغ",
    "आपके खाते से डेबिट",
    "您的账户已扣款",
    "口座から引き落とし",
    "계좌에서 출금",
    "Λογαριασμός χρεώθηκε",
    "חשבונך חויב",
    "บัญชีของคุณถูกหัก",
    "👨\u{200d}👩\u{200d}👧\u{200d}👦",
    "🇮🇳🇬🇧🇰🇪",
    "👍🏽",
    "1\u{fe0f}\u{20e3}",
    "❤\u{fe0f}",
    "\u{202e}drawkcab\u{202c}",
    "\u{200f}\u{200e}",
    "e\u{301}\u{302}\u{303}",
    "Ｒｓ．５００",
    "١٢٣٤٥",
    "१२३४",
    "ſ",
    "\u{212a}sh",
    "İ",
    "ß",
    "\u{ffff}",
    "𝟘𝟙𝟚",
];

/// Numbers no bank writes: very long digit runs, long fractions, piles of separators.
fn absurd_number() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{16,40}",
        "[1-9][0-9]{0,30}\\.[0-9]{0,12}",
        "[0-9]{1,3}(,[0-9]{2,3}){5,12}(\\.[0-9]{1,4})?",
        "[0-9]{1,3}([ .'][0-9]{3}){4,10}(,[0-9]{1,3})?",
        "0{1,20}[0-9]{0,5}(\\.0{1,10})?",
        "[0-9]{1,5}([.,][0-9]{1,5}){2,6}",
        "[0-9]{1,3}e[0-9]{1,3}",
        Just("123456789012345678901234567890".to_string()),
        Just("9".repeat(30)),
    ]
}

/// Checks what must hold for any input.
fn check(rules: &SmsRules, sender: &str, text: &str) -> Result<(), TestCaseError> {
    match parse(rules, sender, text) {
        Ok(out) => {
            prop_assert!(!text.trim().is_empty() && text.len() <= MAX_SMS_BYTES);
            match out.class {
                SmsClass::Transaction => {
                    let t = out.transaction.as_ref();
                    prop_assert!(t.is_some(), "transaction class without fields");
                    if let Some(t) = t {
                        prop_assert!(t.amount.bytes().all(|b| b.is_ascii_digit() || b == b'.'), "{t:?}");
                        prop_assert_eq!(t.currency.len(), 3, "{:?}", t);
                        if let Some(a) = &t.account_last4 {
                            prop_assert!(a.len() <= 4 && a.bytes().all(|b| b.is_ascii_digit()), "{t:?}");
                        }
                        if let Some(m) = &t.merchant {
                            prop_assert!(!m.trim().is_empty() && m.chars().count() <= 60, "{t:?}");
                        }
                    }
                }
                _ => prop_assert!(out.transaction.is_none()),
            }
            if out.class != SmsClass::BillDue {
                prop_assert!(out.bill.is_none());
            }
        }
        Err(SmsInputError::Empty) => prop_assert!(text.trim().is_empty()),
        Err(SmsInputError::TooLong { len, max }) => {
            prop_assert_eq!(len, text.len());
            prop_assert!(len > max && max == MAX_SMS_BYTES);
        }
        Err(SmsInputError::Binary { offset }) => {
            let c = text.get(offset..).and_then(|rest| rest.chars().next());
            prop_assert!(
                c.is_some_and(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
                "offset {offset} is not a control character"
            );
        }
    }
    Ok(())
}

/// [`check`], and also that a transaction's amount fits its currency's minor units.
fn check_amount_fits(rules: &SmsRules, sender: &str, text: &str) -> Result<(), TestCaseError> {
    check(rules, sender, text)?;
    if let Ok(out) = parse(rules, sender, text)
        && let Some(t) = out.transaction
    {
        prop_assert!(
            amount_minor(&t.amount, &t.currency).is_some(),
            "amount_minor rejects {:?} {}",
            t.amount,
            t.currency
        );
    }
    Ok(())
}

fn sender() -> impl Strategy<Value = &'static str> {
    prop::sample::select(SENDERS)
}

/// One mutation of a message, as a list of characters.
#[derive(Clone, Debug)]
enum Edit {
    Delete { at: usize, len: usize },
    InsertToken { at: usize, token: &'static str },
    InsertChar { at: usize, c: char },
    Truncate { at: usize },
    Nines { at: usize, count: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    // `at` is taken modulo the current length when the edit is applied.
    let at = any::<usize>();
    prop_oneof![
        (at, 0..12usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (at, prop::sample::select(TOKENS)).prop_map(|(at, token)| Edit::InsertToken { at, token }),
        (at, prop::sample::select(CHARS)).prop_map(|(at, c)| Edit::InsertChar { at, c }),
        at.prop_map(|at| Edit::Truncate { at }),
        (at, 0..40usize).prop_map(|(at, count)| Edit::Nines { at, count }),
    ]
}

fn apply(base: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for e in edits {
        let pos = |at: usize| at % (chars.len() + 1);
        match *e {
            Edit::Delete { at, len } => {
                let at = pos(at);
                let end = (at + len).min(chars.len());
                chars.drain(at..end);
            }
            Edit::InsertToken { at, token } => {
                let at = pos(at);
                chars.splice(at..at, token.chars());
            }
            Edit::InsertChar { at, c } => {
                let at = pos(at);
                chars.insert(at, c);
            }
            Edit::Truncate { at } => {
                let at = pos(at);
                chars.truncate(at);
            }
            Edit::Nines { at, count } => {
                let at = pos(at);
                chars.splice(at..at, std::iter::repeat_n('9', count));
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn arbitrary_strings_never_panic(
        sender in sender(),
        text in prop::collection::vec(prop::sample::select(CHARS), 0..320).prop_map(|v| v.into_iter().collect::<String>()),
    ) {
        check(SmsRules::shipped(), sender, &text)?;
    }

    #[test]
    fn any_unicode_string_never_panics(sender in any::<String>(), text in any::<String>()) {
        check(SmsRules::shipped(), &sender, &text)?;
    }

    #[test]
    fn byte_derived_strings_never_panic(
        sender in sender(),
        bytes in prop_oneof![
            9 => prop::collection::vec(any::<u8>(), 0..400),
            1 => prop::collection::vec(any::<u8>(), 2000..2200),
        ],
    ) {
        let rules = SmsRules::shipped();
        check(rules, sender, &String::from_utf8_lossy(&bytes))?;
        // Also the printable-ASCII projection, which reaches the templates more often.
        let ascii: String = bytes.iter().map(|b| char::from(32 + b % 95)).collect();
        check(rules, sender, &ascii)?;
    }

    #[test]
    fn token_soup_never_panics(
        sender in sender(),
        parts in prop::collection::vec((prop::sample::select(TOKENS), any::<bool>()), 1..24),
    ) {
        let mut text = String::new();
        for (token, space) in parts {
            text.push_str(token);
            if space {
                text.push(' ');
            }
        }
        check(SmsRules::shipped(), sender, &text)?;
    }

    #[test]
    fn mutated_real_messages_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..7),
    ) {
        let (sender, base, _) = pick.get(dev());
        check(SmsRules::shipped(), sender, &apply(base, &edits))?;
    }

    #[test]
    fn hostile_text_never_panics_and_amounts_fit(
        sender in sender(),
        parts in prop::collection::vec(
            prop_oneof![
                3 => prop::sample::select(TOKENS).prop_map(str::to_string),
                2 => prop::sample::select(SCRIPTS).prop_map(str::to_string),
                2 => absurd_number(),
                1 => (prop::sample::select(&["Rs.", "INR ", "₹", "$", "€", "KWD ", "JPY ", "Ksh ", "NGN "][..]), absurd_number())
                    .prop_map(|(cur, n)| format!("{cur}{n}")),
            ],
            1..16,
        ),
    ) {
        check_amount_fits(SmsRules::shipped(), sender, &parts.join(" "))?;
    }

    #[test]
    fn absurd_amounts_in_real_messages_fit(
        pick in any::<prop::sample::Index>(),
        number in absurd_number(),
        script in prop::sample::select(SCRIPTS),
        at in any::<prop::sample::Index>(),
    ) {
        let (sender, base, _) = pick.get(dev());
        // Replace the first run of digits with the absurd number and put foreign text in.
        let text = match base.find(|c: char| c.is_ascii_digit()) {
            Some(start) => {
                let end = base[start..].find(|c: char| !c.is_ascii_digit() && c != ',' && c != '.').map_or(base.len(), |e| start + e);
                format!("{}{number}{}", &base[..start], &base[end..])
            }
            None => format!("{base} {number}"),
        };
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let cut = *at.get(&bounds);
        let text = format!("{}{script}{}", &text[..cut], &text[cut..]);
        check_amount_fits(SmsRules::shipped(), sender, &text)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn over_max_bytes_is_an_error(
        sender in sender(),
        unit in prop::sample::select(&["a", "Rs.5 debited ", "€", "😀", "\n", " "][..]),
        extra in 1..300usize,
    ) {
        let mut text = String::new();
        while text.len() < MAX_SMS_BYTES + extra {
            text.push_str(unit);
        }
        prop_assert!(text.len() > MAX_SMS_BYTES);
        prop_assert_eq!(
            parse(SmsRules::shipped(), sender, &text),
            Err(SmsInputError::TooLong { len: text.len(), max: MAX_SMS_BYTES })
        );
    }

    #[test]
    fn otp_and_promo_never_yield_a_transaction(
        pick in any::<prop::sample::Index>(),
        sender in prop_oneof![sender().prop_map(str::to_string), any::<String>()],
        edits in prop::collection::vec(edit(), 0..4),
    ) {
        let rules = SmsRules::shipped();
        let negatives: Vec<&(String, String, String)> = dev().iter().filter(|m| m.2 == "otp" || m.2 == "promo").collect();
        prop_assume!(!negatives.is_empty());
        let (_, text, class) = *pick.get(&negatives);
        // The class rules do not look at the sender: any sender keeps the class.
        let out = parse(rules, &sender, text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(out.class.as_str(), class.as_str());
        prop_assert!(out.transaction.is_none());
        // Edited, the message may change class, but an OTP or promo still has no transaction.
        let edited = apply(text, &edits);
        check(rules, &sender, &edited)?;
        if let Ok(out) = parse(rules, &sender, &edited)
            && matches!(out.class, SmsClass::Otp | SmsClass::Promo)
        {
            prop_assert!(out.transaction.is_none() && out.bill.is_none());
        }
    }
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn jsonl_survives_garbage_lines(
        lines in prop::collection::vec(
            prop_oneof![
                (any::<u32>(), sender(), prop::collection::vec(prop::sample::select(CHARS), 0..80))
                    .prop_map(|(i, s, t)| serde_json::json!({"id": i, "sender": s, "text": t.into_iter().collect::<String>()}).to_string()),
                prop::collection::vec(prop::sample::select(CHARS), 0..60)
                    .prop_map(|t| t.into_iter().filter(|c| !matches!(c, '\n' | '\r' | '\u{2028}')).collect::<String>()),
                any::<u32>().prop_map(|i| serde_json::json!({"id": [i], "text": 5}).to_string()),
                prop::sample::select(TOKENS).prop_map(|t| serde_json::json!({"text": t}).to_string()),
            ],
            0..300,
        ),
    ) {
        let mut input = String::new();
        let mut count = 0u64;
        // parse_jsonl skips lines of ASCII whitespace only.
        for line in lines.iter().filter(|l| !l.bytes().all(|b| b.is_ascii_whitespace())) {
            count += 1;
            input.push_str(line);
            input.push('\n');
        }
        let mut out = Vec::new();
        let stats = parse_jsonl(SmsRules::shipped(), input.as_bytes(), &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(stats.lines, count);
        prop_assert_eq!(stats.parsed + stats.errors, stats.lines);
        let text = String::from_utf8(out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(text.lines().count() as u64, count);
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(v.get("id").is_some() && v.get("class").is_some() && v.get("parsed").is_some());
        }
    }
}
