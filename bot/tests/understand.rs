//! Free-text understanding: a table of phrasings with their full expected answer, the
//! questions asked instead of guesses, and hostile input.
//!
//! Today is Thursday 2026-10-15 and the user's currency is INR unless a test says otherwise.

#![allow(clippy::unwrap_used)]

use jiff::civil::{Date, date};
use serde_json::{Value, json};
use spendstream_bot::understand::{
    Context, DateOrder, Intent, MAX_INPUT_BYTES, Understanding, shipped_categoriser, understand,
};
use spendstream_core::Currency;

const TODAY: Date = date(2026, 10, 15);

fn ctx() -> Context {
    Context::new(Currency::parse("INR").unwrap(), TODAY, shipped_categoriser().unwrap())
}

fn read(text: &str) -> Understanding {
    understand(text, &ctx())
}

fn json_of(u: &Understanding) -> Value {
    serde_json::to_value(u).unwrap()
}

/// Every phrasing with its whole expected JSON: a field missing here must be absent.
fn table() -> Vec<(&'static str, Value)> {
    vec![
        // The phrasings of issue 6.
        (
            "spent 250 on lunch at subway",
            json!({"intent": "add_expense", "amount": "250", "currency": "INR", "merchant": "Subway", "category": "food_dining"}),
        ),
        (
            "uber 180",
            json!({"intent": "add_expense", "amount": "180", "currency": "INR", "merchant": "Uber", "category": "transport"}),
        ),
        (
            "₹99 netflix yesterday",
            json!({"intent": "add_expense", "amount": "99", "currency": "INR", "merchant": "Netflix", "category": "subscriptions", "date": "2026-10-14"}),
        ),
        (
            "coffee 4.50",
            json!({"intent": "add_expense", "amount": "4.50", "currency": "INR", "category": "food_dining"}),
        ),
        (
            "2.5k groceries",
            json!({"intent": "add_expense", "amount": "2500", "currency": "INR", "category": "groceries"}),
        ),
        (
            "got salary 85000",
            json!({"intent": "add_income", "amount": "85000", "currency": "INR", "category": "transfers"}),
        ),
        (
            "Rs. 1,250 for electricity",
            json!({"intent": "add_expense", "amount": "1250", "currency": "INR", "category": "utilities"}),
        ),
        (
            "$12.99 spotify",
            json!({"intent": "add_expense", "amount": "12.99", "currency": "USD", "merchant": "Spotify", "category": "subscriptions"}),
        ),
        (
            "paid 3,500 rent last friday",
            json!({"intent": "add_expense", "amount": "3500", "currency": "INR", "category": "rent", "date": "2026-10-09"}),
        ),
        (
            "dinner 640 on 12 oct",
            json!({"intent": "add_expense", "amount": "640", "currency": "INR", "category": "food_dining", "date": "2026-10-12"}),
        ),
        ("undo", json!({"intent": "delete_last"})),
        ("delete last", json!({"intent": "delete_last"})),
        (
            "how much did I spend on food this month?",
            json!({"intent": "report", "category": "food_dining", "period": "month"}),
        ),
        ("show my expenses", json!({"intent": "list"})),
        ("report for last week", json!({"intent": "report", "period": "last_week"})),
        (
            "set budget 20000 for food",
            json!({"intent": "budget_set", "amount": "20000", "currency": "INR", "category": "food_dining"}),
        ),
        (
            "budget 15k groceries",
            json!({"intent": "budget_set", "amount": "15000", "currency": "INR", "category": "groceries"}),
        ),
        ("tips", json!({"intent": "tips"})),
        ("help", json!({"intent": "help"})),
        ("hello", json!({"intent": "unknown"})),
        // Grouping, multipliers, currencies.
        ("rent 1,25,000", json!({"intent": "add_expense", "amount": "125000", "currency": "INR", "category": "rent"})),
        (
            "shoes 125,000",
            json!({"intent": "add_expense", "amount": "125000", "currency": "INR", "category": "shopping"}),
        ),
        ("INR 500 petrol", json!({"intent": "add_expense", "amount": "500", "currency": "INR", "category": "fuel"})),
        (
            "USD 40 dinner",
            json!({"intent": "add_expense", "amount": "40", "currency": "USD", "category": "food_dining"}),
        ),
        ("€15 taxi", json!({"intent": "add_expense", "amount": "15", "currency": "EUR", "category": "transport"})),
        (
            "EUR 8.4 breakfast",
            json!({"intent": "add_expense", "amount": "8.40", "currency": "EUR", "category": "food_dining"}),
        ),
        (
            "12 usd parking",
            json!({"intent": "add_expense", "amount": "12", "currency": "USD", "category": "transport"}),
        ),
        (
            "school fees 1.5 lakh",
            json!({"intent": "add_expense", "amount": "150000", "currency": "INR", "category": "education"}),
        ),
        (
            "1,250.50 shopping",
            json!({"intent": "add_expense", "amount": "1250.50", "currency": "INR", "category": "shopping"}),
        ),
        ("chai 20/-", json!({"intent": "add_expense", "amount": "20", "currency": "INR", "category": "food_dining"})),
        (
            "starbucks 5 bucks",
            json!({"intent": "add_expense", "amount": "5", "currency": "USD", "merchant": "Starbucks", "category": "food_dining"}),
        ),
        (
            "uber eats 320",
            json!({"intent": "add_expense", "amount": "320", "currency": "INR", "merchant": "Uber Eats", "category": "food_dining"}),
        ),
        // Days.
        (
            "groceries 850 yesterday",
            json!({"intent": "add_expense", "amount": "850", "currency": "INR", "category": "groceries", "date": "2026-10-14"}),
        ),
        (
            "movie tickets 500 on monday",
            json!({"intent": "add_expense", "amount": "500", "currency": "INR", "category": "entertainment", "date": "2026-10-12"}),
        ),
        (
            "petrol 2000 oct 3",
            json!({"intent": "add_expense", "amount": "2000", "currency": "INR", "category": "fuel", "date": "2026-10-03"}),
        ),
        (
            "gym 1500 on 20 oct",
            json!({"intent": "add_expense", "amount": "1500", "currency": "INR", "category": "health", "date": "2025-10-20"}),
        ),
        (
            "pharmacy 320 12/10",
            json!({"intent": "add_expense", "amount": "320", "currency": "INR", "category": "health", "date": "2026-10-12"}),
        ),
        (
            "zomato 450 3 days ago",
            json!({"intent": "add_expense", "amount": "450", "currency": "INR", "merchant": "Zomato", "category": "food_dining", "date": "2026-10-12"}),
        ),
        (
            "cab 300 on the 5th",
            json!({"intent": "add_expense", "amount": "300", "currency": "INR", "category": "transport", "date": "2026-10-05"}),
        ),
        (
            "electricity bill 1,450 on 2026-10-01",
            json!({"intent": "add_expense", "amount": "1450", "currency": "INR", "category": "utilities", "date": "2026-10-01"}),
        ),
        (
            "day before yesterday auto 60",
            json!({"intent": "add_expense", "amount": "60", "currency": "INR", "category": "transport", "date": "2026-10-13"}),
        ),
        (
            "Paid 700 at D-Mart yesterday",
            json!({"intent": "add_expense", "amount": "700", "currency": "INR", "merchant": "D-Mart", "category": "groceries", "date": "2026-10-14"}),
        ),
        // Merchants named by a preposition, and places that are not merchants.
        (
            "paid 500 to rahul",
            json!({"intent": "add_expense", "amount": "500", "currency": "INR", "merchant": "Rahul"}),
        ),
        (
            "lunch at office 180",
            json!({"intent": "add_expense", "amount": "180", "currency": "INR", "category": "food_dining"}),
        ),
        // Income.
        (
            "received 5000 from rahul",
            json!({"intent": "add_income", "amount": "5000", "currency": "INR", "merchant": "Rahul", "category": "transfers"}),
        ),
        (
            "got 5000 from dad",
            json!({"intent": "add_income", "amount": "5000", "currency": "INR", "merchant": "Dad", "category": "transfers"}),
        ),
        (
            "refund 1200 from amazon",
            json!({"intent": "add_income", "amount": "1200", "currency": "INR", "merchant": "Amazon", "category": "shopping"}),
        ),
        ("bonus 20k", json!({"intent": "add_income", "amount": "20000", "currency": "INR", "category": "transfers"})),
        // Commands.
        ("/undo", json!({"intent": "delete_last"})),
        ("remove the last entry", json!({"intent": "delete_last"})),
        ("/today", json!({"intent": "report", "period": "today"})),
        ("/budget 10000", json!({"intent": "budget_set", "amount": "10000", "currency": "INR"})),
        (
            "/add 99 netflix",
            json!({"intent": "add_expense", "amount": "99", "currency": "INR", "merchant": "Netflix", "category": "subscriptions"}),
        ),
        // Questions, reports and lists.
        ("how much did i spend yesterday", json!({"intent": "report", "period": "2026-10-14"})),
        (
            "total spent on uber last month",
            json!({"intent": "report", "merchant": "Uber", "category": "transport", "period": "2026-09"}),
        ),
        ("list transactions this week", json!({"intent": "list", "period": "week"})),
        ("show expenses for swiggy", json!({"intent": "list", "merchant": "Swiggy", "category": "food_dining"})),
        ("spending in october", json!({"intent": "report", "period": "2026-10"})),
        ("what did i spend in 2025?", json!({"intent": "report", "period": "2025"})),
        ("this month", json!({"intent": "report", "period": "month"})),
        ("last 7 days", json!({"intent": "report", "period": "last_7_days"})),
        ("show budget", json!({"intent": "report"})),
        // Budgets.
        (
            "monthly budget 50000",
            json!({"intent": "budget_set", "amount": "50000", "currency": "INR", "period": "month"}),
        ),
        (
            "food budget 8000 per week",
            json!({"intent": "budget_set", "amount": "8000", "currency": "INR", "category": "food_dining", "period": "week"}),
        ),
        // Tips, help, small talk.
        ("how can i save money", json!({"intent": "tips"})),
        ("what can you do", json!({"intent": "help"})),
        ("thanks!", json!({"intent": "unknown"})),
        ("hi there", json!({"intent": "unknown"})),
        (
            "got paid 50000",
            json!({"intent": "add_income", "amount": "50000", "currency": "INR", "category": "transfers"}),
        ),
        (
            "salary credited 85,000",
            json!({"intent": "add_income", "amount": "85000", "currency": "INR", "category": "transfers"}),
        ),
        ("+500 salary", json!({"intent": "add_income", "amount": "500", "currency": "INR", "category": "transfers"})),
        // More everyday phrasings.
        (
            "spent 1,200 on groceries at bigbasket",
            json!({"intent": "add_expense", "amount": "1200", "currency": "INR", "merchant": "Bigbasket", "category": "groceries"}),
        ),
        (
            "petrol 1500 at indian oil",
            json!({"intent": "add_expense", "amount": "1500", "currency": "INR", "merchant": "Indian Oil", "category": "fuel"}),
        ),
        (
            "bought 2 kg apples for 300",
            json!({"intent": "add_expense", "amount": "300", "currency": "INR", "category": "shopping"}),
        ),
        (
            "groceries 3.5k on 2nd",
            json!({"intent": "add_expense", "amount": "3500", "currency": "INR", "category": "groceries", "date": "2026-10-02"}),
        ),
        (
            "1.234,56 € groceries",
            json!({"intent": "add_expense", "amount": "1234.56", "currency": "EUR", "category": "groceries"}),
        ),
        (
            "450rs dinner",
            json!({"intent": "add_expense", "amount": "450", "currency": "INR", "category": "food_dining"}),
        ),
        (
            "¥1500 ramen",
            json!({"intent": "add_expense", "amount": "1500", "currency": "JPY", "category": "food_dining"}),
        ),
        (
            "how much on swiggy this week",
            json!({"intent": "report", "merchant": "Swiggy", "category": "food_dining", "period": "week"}),
        ),
        ("year report 2025", json!({"intent": "report", "period": "2025"})),
        ("expenses yesterday", json!({"intent": "list", "period": "2026-10-14"})),
        ("oops delete it", json!({"intent": "delete_last"})),
        // Missing pieces become questions.
        ("spent on lunch", json!({"intent": "add_expense", "category": "food_dining", "question": "How much was it?"})),
        (
            "budget for food",
            json!({"intent": "budget_set", "category": "food_dining", "question": "How much should the budget be?"}),
        ),
        (
            "2 coffees 180",
            json!({"intent": "add_expense", "category": "food_dining", "question": "Which is the amount: 2 or 180?"}),
        ),
    ]
}

#[test]
fn phrasings_are_understood() {
    let table = table();
    let distinct: std::collections::HashSet<&str> = table.iter().map(|(t, _)| *t).collect();
    assert_eq!(distinct.len(), table.len(), "phrasings repeat");
    assert!(table.len() >= 45, "only {} phrasings", table.len());
    let ctx = ctx();
    let mut failures = Vec::new();
    for (text, want) in &table {
        let got = json_of(&understand(text, &ctx));
        if &got != want {
            failures.push(format!("{text:?}\n    want {want}\n    got  {got}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} wrong:\n{}", failures.len(), table.len(), failures.join("\n"));
}

#[test]
fn every_intent_is_reached() {
    let table = table();
    for intent in
        ["add_expense", "add_income", "delete_last", "report", "list", "budget_set", "tips", "help", "unknown"]
    {
        assert!(table.iter().any(|(_, v)| v["intent"] == intent), "no phrasing for {intent}");
    }
}

#[test]
fn ambiguous_amounts_ask_instead_of_guessing() {
    for (text, small, large) in [
        ("1.200", "1.20", "1200"),
        ("₹1.200 rent", "1.20", "1200"),
        ("spent 2.500 on groceries", "2.50", "2500"),
        ("$1.500 coffee", "1.50", "1500"),
    ] {
        let u = read(text);
        assert_eq!(u.intent, Intent::AddExpense, "{text}");
        assert_eq!(u.amount, None, "{text}: must not guess");
        assert_eq!(u.currency, None, "{text}");
        let q = u.question.unwrap_or_default();
        assert!(q.contains(small) && q.contains(large), "{text}: question {q:?} must offer {small} and {large}");
    }
    // The same digits are not ambiguous with a comma, a multiplier, a leading zero or
    // three decimals that a currency without decimals cannot have.
    assert_eq!(read("1,200 rent").amount.as_deref(), Some("1200"));
    assert_eq!(read("1.200k rent").amount.as_deref(), Some("1200"));
    assert_eq!(read("0.500 tea").amount.as_deref(), Some("0.50"));
    let yen = Context::new(Currency::parse("JPY").unwrap(), TODAY, shipped_categoriser().unwrap());
    assert_eq!(understand("ramen 1.200", &yen).amount.as_deref(), Some("1200"));
}

#[test]
fn unreadable_amounts_ask() {
    for (text, needle) in [
        ("coffee 4.505", "decimal places"),
        ("coffee 1,2345", "can't read"),
        ("coffee 0", "more than zero"),
        ("yacht 99999999999999999999", "too large"),
        ("car 2 crore 3 lakh", "Which is the amount"),
    ] {
        let u = read(text);
        assert_eq!(u.amount, None, "{text}");
        let q = u.question.unwrap_or_default();
        assert!(q.contains(needle), "{text}: question {q:?} should say {needle:?}");
    }
}

#[test]
fn numeric_dates_follow_the_date_order() {
    let day_first = read("pharmacy 320 12/10").date;
    assert_eq!(day_first, Some(date(2026, 10, 12)));
    let month_first = understand("pharmacy 320 12/10", &ctx().with_date_order(DateOrder::MonthDay)).date;
    assert_eq!(month_first, Some(date(2025, 12, 10)), "10 December 2026 is in the future");
    let ask = understand("pharmacy 320 12/10", &ctx().with_date_order(DateOrder::Ask));
    assert_eq!(ask.date, None);
    assert_eq!(ask.amount.as_deref(), Some("320"));
    let q = ask.question.unwrap_or_default();
    assert!(q.contains("12 October") && q.contains("10 December"), "{q}");
    // One reading only: no question even when asking.
    let only = understand("pharmacy 320 25/10", &ctx().with_date_order(DateOrder::Ask));
    assert_eq!(only.date, Some(date(2025, 10, 25)));
    assert_eq!(only.question, None);
    // With a year.
    assert_eq!(read("taxi 90 14/03/2025").date, Some(date(2025, 3, 14)));
    assert_eq!(read("taxi 90 14.03.25").date, Some(date(2025, 3, 14)));
}

#[test]
fn days_resolve_against_today() {
    let cases = [
        ("lunch 200 today", date(2026, 10, 15)),
        ("lunch 200 on thursday", date(2026, 10, 8)),
        ("lunch 200 last thursday", date(2026, 10, 8)),
        ("lunch 200 on wed", date(2026, 10, 14)),
        ("lunch 200 sunday", date(2026, 10, 11)),
        ("lunch 200 15 oct", date(2026, 10, 15)),
        ("lunch 200 16 oct", date(2025, 10, 16)),
        ("lunch 200 october 16th", date(2025, 10, 16)),
        ("lunch 200 12th of january", date(2026, 1, 12)),
        ("lunch 200 12-oct", date(2026, 10, 12)),
        ("lunch 200 dec 31 2024", date(2024, 12, 31)),
        ("lunch 200 a week ago", date(2026, 10, 8)),
        ("lunch 200 on the 20th", date(2026, 9, 20)),
        ("lunch 200 last night", date(2026, 10, 14)),
    ];
    for (text, want) in cases {
        let u = read(text);
        assert_eq!(u.date, Some(want), "{text}");
        assert_eq!(u.amount.as_deref(), Some("200"), "{text}");
    }
    let feb = read("lunch 200 on 30 feb");
    assert_eq!(feb.date, None);
    assert!(feb.question.unwrap_or_default().contains("30 February"));
}

#[test]
fn periods_for_reports() {
    let cases = [
        ("report this week", "week"),
        ("report this year", "year"),
        ("report last year", "2025"),
        ("report last month", "2026-09"),
        ("report past week", "last_7_days"),
        ("how much in oct 2025", "2025-10"),
        ("how much in november", "2025-11"),
        ("how much last october", "2025-10"),
        ("summary for 2026-08", "2026-08"),
        ("how much on last friday", "2026-10-09"),
        ("/week", "week"),
        ("/month", "month"),
    ];
    for (text, want) in cases {
        let u = read(text);
        assert_eq!(u.intent, Intent::Report, "{text}");
        assert_eq!(u.period.as_deref(), Some(want), "{text}");
    }
}

#[test]
fn control_characters_emoji_and_blank_lines() {
    let plain = read("uber 180");
    assert_eq!(read("\u{0}uber\u{7} 180\u{1b}"), plain);
    assert_eq!(read("uber\t180\r\n"), plain);
    assert_eq!(read("\u{200b}uber \u{feff}180"), plain);
    let pizza = read("🍕 pizza 300 🍕");
    assert_eq!(pizza.amount.as_deref(), Some("300"));
    assert_eq!(pizza.category.as_ref().map(|c| c.as_str()), Some("food_dining"));
    for blank in ["", "   ", "\n\n", "\u{0}\u{0}", "🙂", "...", "—"] {
        let u = read(blank);
        assert_eq!(u.intent, Intent::Unknown, "{blank:?}");
        assert_eq!(json_of(&u), json!({"intent": "unknown"}), "{blank:?}");
    }
    assert_eq!(read("?").intent, Intent::Help);
}

#[test]
fn long_input_is_refused_with_a_question() {
    let at_limit = format!("uber 180{}", " ".repeat(MAX_INPUT_BYTES - 8));
    assert_eq!(at_limit.len(), MAX_INPUT_BYTES);
    assert_eq!(read(&at_limit).amount.as_deref(), Some("180"));
    let over = format!("{at_limit}x");
    let u = read(&over);
    assert_eq!(u.intent, Intent::Unknown);
    assert_eq!(u.amount, None);
    assert!(u.question.unwrap_or_default().contains("too long"));
    let huge = "spent 250 on lunch ".repeat(100_000);
    assert_eq!(read(&huge).intent, Intent::Unknown);
}

#[test]
fn a_forwarded_bank_sms_is_read_by_the_sms_parser() {
    let u = read(
        "Rs.5000 withdrawn from HDFC Bank Debit Card x3390 at HDFC BANK ATM on 2024-06-15:11:05:43. \
         Avl bal: Rs.18,204.50.",
    );
    assert_eq!(u.intent, Intent::AddExpense);
    assert_eq!(u.amount.as_deref(), Some("5000"));
    assert_eq!(u.currency.map(|c| c.code()), Some("INR"));
    assert_eq!(u.date, Some(date(2024, 6, 15)));
}

#[test]
fn understanding_is_pure() {
    let c = ctx();
    for (text, _) in table() {
        assert_eq!(understand(text, &c), understand(text, &c), "{text}");
    }
    // Another today moves relative days and nothing else.
    let later = Context { today: date(2027, 3, 1), ..ctx() };
    let u = understand("₹99 netflix yesterday", &later);
    assert_eq!(u.date, Some(date(2027, 2, 28)));
    assert_eq!(u.amount.as_deref(), Some("99"));
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

#[test]
fn generated_garbage_never_panics_and_keeps_the_invariants() {
    let pieces = [
        "1",
        "12",
        "1.200",
        "2.5k",
        "1,25,000",
        "125,000",
        "0",
        "00",
        "9999999999999999999999",
        "₹",
        "$",
        "€",
        "rs.",
        "Rs",
        "usd",
        "k",
        "lakh",
        "crore",
        ".",
        ",",
        "/",
        "-",
        "/-",
        "'",
        "oct",
        "12/10",
        "31/02",
        "29 feb",
        "13/13",
        "2099-12-31",
        "0000-00-00",
        "last",
        "friday",
        "yesterday",
        "on",
        "at",
        "from",
        "to",
        "the",
        "undo",
        "budget",
        "how much",
        "?",
        "spent",
        "got",
        "salary",
        "uber",
        "netflix",
        "lunch",
        "@",
        "\u{0}",
        "\u{1b}[31m",
        "\t",
        "\n",
        "\u{200b}",
        "\u{202e}",
        "🍕",
        "👨‍👩‍👧",
        "é",
        "日本",
        "ß",
        "İ",
        "\u{fffd}",
        " ",
        "  ",
        "/start",
        "/",
        "x",
        "a",
        "ago",
        "days",
        "3",
        "the 31st",
        "of",
        "k1",
        "1k1",
        "1..2",
        ",,",
        "..",
        "₹₹",
        "$$1",
        "1$",
        "1e5",
        "-5",
        "+5",
        "∞",
        "١٢٣",
        "１２３",
    ];
    let c = ctx();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let n = (rng.next() % 12) as usize;
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(rng.pick(&pieces));
            if !rng.next().is_multiple_of(3) {
                text.push(' ');
            }
        }
        let u = understand(&text, &c);
        let _ = json_of(&u);
        if let Some(amount) = &u.amount {
            let currency = u.currency.unwrap_or_else(|| panic!("{text:?}: amount without currency"));
            let minor = currency
                .parse_amount(amount)
                .unwrap_or_else(|e| panic!("{text:?}: amount {amount:?} is not a plain decimal: {e}"));
            assert!(minor > 0, "{text:?}");
            assert_eq!(currency.format(minor).trim_end_matches(".00"), amount.trim_end_matches(".00"), "{text:?}");
            assert!(u.question.is_none() || u.intent != Intent::Unknown, "{text:?}");
        }
        if matches!(u.intent, Intent::DeleteLast | Intent::Help) {
            assert!(u.amount.is_none() && u.date.is_none(), "{text:?}");
        }
        if let Some(d) = u.date {
            assert!((1970..=2099).contains(&d.year()), "{text:?}: {d}");
        }
    }
    // Random bytes made into text, too.
    for _ in 0..2_000 {
        let len = (rng.next() % 200) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = json_of(&understand(&text, &c));
    }
}
