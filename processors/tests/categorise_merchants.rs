//! Accuracy of the shipped `config/categories.toml` on `tests/fixtures/merchants.csv`.
//!
//! Run with `--nocapture` to see the accuracy and every miss.

use serde::Deserialize;
use spendstream_core::categories::{CategoryDef, validate_categories};
use spendstream_processors::categorise::{CategoriseInput, Categoriser};

const CONFIG: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/categories.toml"));
const MERCHANTS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/merchants.csv"));

/// The 18 shipped ids, in the documented order.
const IDS: [&str; 18] = [
    "food_dining",
    "groceries",
    "transport",
    "fuel",
    "rent",
    "utilities",
    "bills_recharge",
    "shopping",
    "entertainment",
    "health",
    "travel",
    "education",
    "subscriptions",
    "gifts_donations",
    "personal_care",
    "investments",
    "transfers",
    "other",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shipped {
    categories: Vec<CategoryDef>,
}

fn shipped() -> Vec<CategoryDef> {
    toml::from_str::<Shipped>(CONFIG).expect("config/categories.toml parses").categories
}

#[test]
fn shipped_config_is_valid_and_ordered() {
    let defs = shipped();
    let problems = validate_categories(&defs);
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));
    let ids: Vec<&str> = defs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, IDS);
    for d in &defs {
        assert!(!d.emoji.is_empty(), "{} has no emoji", d.id);
        assert!(!d.keywords.is_empty() || d.id.as_str() == "other", "{} has no keywords", d.id);
    }
}

/// Splits one CSV line `merchant,category` (the merchant may be double-quoted).
fn split_row(line: &str) -> Option<(String, &str)> {
    let (merchant, category) = line.rsplit_once(',')?;
    let merchant = match merchant.strip_prefix('"').and_then(|m| m.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => merchant.to_owned(),
    };
    Some((merchant, category.trim()))
}

#[test]
fn merchants_csv_accuracy_is_at_least_90_percent() {
    let categoriser = Categoriser::new(&shipped()).expect("shipped config compiles");
    let mut total = 0usize;
    let mut hits = 0usize;
    let mut misses = Vec::new();
    for line in MERCHANTS.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (merchant, expected) = split_row(line).expect("merchant,category row");
        let input = CategoriseInput { merchant: Some(&merchant), amount_minor: -10_000, ..Default::default() };
        let got = categoriser.categorise(&input);
        total += 1;
        if got.category.as_str() == expected {
            hits += 1;
        } else {
            misses.push(format!(
                "  {merchant:40} expected {expected:16} got {:16} by {}",
                got.category,
                got.reason.describe()
            ));
        }
    }
    let per_mille = hits * 1000 / total.max(1);
    println!(
        "merchants.csv: {hits}/{total} correct = {}.{}%; {} misses:",
        per_mille / 10,
        per_mille % 10,
        misses.len()
    );
    for miss in &misses {
        println!("{miss}");
    }
    assert!(total >= 700, "expected the full fixture, read {total} rows");
    assert!(hits * 10 >= total * 9, "accuracy {hits}/{total} is below 90%");
}

#[test]
fn shipped_config_handles_the_documented_conflicts() {
    let categoriser = Categoriser::new(&shipped()).expect("shipped config compiles");
    let cases = [
        ("UBER *EATS", "food_dining"),
        ("UBER *TRIP", "transport"),
        ("UBER", "transport"),
        ("AMAZON PRIME", "subscriptions"),
        ("AMZN Mktp US*2K4", "shopping"),
        ("AMAZON GIFT CARD", "gifts_donations"),
        ("SWIGGY INSTAMART", "groceries"),
        ("SWIGGY*ORDER 1234", "food_dining"),
        ("uber.rides@axisbank", "transport"),
        ("REWE Markt GmbH", "groceries"),
        ("BARCLAYS BANK PLC", "other"),
        ("LAS VEGAS SOUVENIRS", "other"),
        ("Joe's Bar & Grill", "food_dining"),
    ];
    for (merchant, expected) in cases {
        let input = CategoriseInput { merchant: Some(merchant), ..Default::default() };
        let got = categoriser.categorise(&input);
        assert_eq!(got.category.as_str(), expected, "{merchant}: {}", got.reason.describe());
    }
}

/// Throughput smoke check; run with `--ignored --nocapture` in release mode for a figure.
#[test]
#[ignore = "timing; run explicitly"]
fn throughput() {
    let categoriser = Categoriser::new(&shipped()).expect("shipped config compiles");
    let rows: Vec<String> = MERCHANTS.lines().skip(1).filter_map(|l| split_row(l).map(|(m, _)| m)).collect();
    let rounds = 200;
    let start = std::time::Instant::now();
    let mut seen = 0usize;
    for _ in 0..rounds {
        for merchant in &rows {
            let input =
                CategoriseInput { merchant: Some(merchant), note: Some("lunch with the team"), ..Default::default() };
            seen += categoriser.categorise(&input).category.as_str().len();
        }
    }
    let elapsed = start.elapsed();
    let n = (rows.len() * rounds) as u128;
    println!(
        "{n} entries in {} ms = {} entries/s ({seen})",
        elapsed.as_millis(),
        n * 1_000_000 / elapsed.as_micros().max(1)
    );
}
