//! Scores the parser on the labelled dev corpus with the rule in
//! tests/fixtures/sms/README.md. Run with `-- --nocapture` to see per-field accuracy and
//! the messages it gets wrong.

// Floats here only print accuracy and rates, never money.
#![allow(clippy::disallowed_types, clippy::float_arithmetic)]

use serde_json::Value;
use spendstream_ingest::sms::{ParsedTransaction, SmsRules, parse};

const DEV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sms/dev.jsonl"));

const FIELDS: [&str; 9] =
    ["amount", "currency", "direction", "account_last4", "merchant", "balance", "date", "kind", "reference"];

/// "1500" == "1500.00": compare as decimals without floats.
fn decimal_eq(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> Option<(String, String)> {
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        if i.is_empty() && f.is_empty() {
            return None;
        }
        let i = i.trim_start_matches('0');
        let f = f.trim_end_matches('0');
        Some((i.to_string(), f.to_string()))
    }
    norm(a).is_some() && norm(a) == norm(b)
}

fn strip_punct(s: &str) -> String {
    let kept: String = s.to_lowercase().chars().filter(|c| c.is_alphanumeric() || c.is_whitespace()).collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn merchant_eq(expected: &str, got: &str) -> bool {
    let (e, g) = (strip_punct(expected), strip_punct(got));
    !e.is_empty() && !g.is_empty() && (e.contains(&g) || g.contains(&e))
}

fn field(tx: &ParsedTransaction, name: &str) -> Option<String> {
    let v = serde_json::to_value(tx).ok()?;
    match v.get(name)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn field_ok(name: &str, expected: &str, got: Option<&str>) -> bool {
    let Some(got) = got else { return false };
    match name {
        "amount" | "balance" => decimal_eq(expected, got),
        "merchant" => merchant_eq(expected, got),
        _ => expected == got,
    }
}

#[test]
fn dev_corpus_accuracy() {
    let rules = SmsRules::shipped();
    let mut total = 0usize;
    let mut correct = 0usize;
    let mut class_ok = 0usize;
    let mut per_field = [(0usize, 0usize); 9];
    let mut bill_total = 0usize;
    let mut bill_ok = 0usize;
    let mut failures = Vec::new();
    for line in DEV.lines().filter(|l| !l.trim().is_empty()) {
        let rec: Value = serde_json::from_str(line).expect("fixture line is JSON");
        let id = rec["id"].as_str().unwrap_or("?");
        let sender = rec["sender"].as_str().unwrap_or("");
        let text = rec["text"].as_str().unwrap_or("");
        let want_class = rec["class"].as_str().unwrap_or("");
        total += 1;
        let out = parse(rules, sender, text).expect("fixture messages are valid input");
        let got_class = out.class.as_str();
        let mut ok = got_class == want_class;
        if ok {
            class_ok += 1;
        }
        let mut wrong = Vec::new();
        if want_class == "transaction" {
            let expected = &rec["expected"];
            for (i, name) in FIELDS.iter().enumerate() {
                let Some(want) = expected[*name].as_str() else {
                    continue;
                };
                per_field[i].1 += 1;
                let got = out.transaction.as_ref().and_then(|tx| field(tx, name));
                if field_ok(name, want, got.as_deref()) {
                    per_field[i].0 += 1;
                } else {
                    ok = false;
                    wrong.push(format!("{name}: want {want:?} got {got:?}"));
                }
            }
        }
        if want_class == "bill_due" {
            bill_total += 1;
            let b = &rec["bill"];
            let got = out.bill.as_ref().and_then(|b| serde_json::to_value(b).ok());
            let good = got.as_ref().is_some_and(|g| {
                ["amount_due", "min_due", "currency", "due_date", "account_last4"].iter().all(|k| {
                    match (b[*k].as_str(), g[*k].as_str()) {
                        (None, _) => true,
                        (Some(w), Some(v)) if *k == "amount_due" || *k == "min_due" => decimal_eq(w, v),
                        (Some(w), Some(v)) => w == v,
                        (Some(_), None) => false,
                    }
                })
            });
            if good {
                bill_ok += 1;
            } else {
                failures.push(format!("BILL {id}: want {b} got {got:?}"));
            }
        }
        if ok {
            correct += 1;
        } else {
            failures.push(format!(
                "{id} [{sender}] class want {want_class} got {got_class} (template {:?}) {}\n    {}",
                out.template,
                wrong.join("; "),
                text.replace('\n', " | ")
            ));
        }
    }
    println!("dev corpus: {correct}/{total} fully correct ({:.1}%)", pct(correct, total));
    println!("class: {class_ok}/{total} ({:.1}%)", pct(class_ok, total));
    for (i, name) in FIELDS.iter().enumerate() {
        let (good, n) = per_field[i];
        println!("  {name:<14} {good:>3}/{n:<3} ({:.1}%)", pct(good, n));
    }
    println!("bills (informational): {bill_ok}/{bill_total}");
    for f in &failures {
        println!("MISS {f}");
    }
    // At least 98% fully correct: correct / total >= 0.98, in integers.
    assert!(correct * 100 >= total * 98, "only {correct}/{total} fully correct");
}

#[allow(clippy::float_arithmetic)]
fn pct(a: usize, b: usize) -> f64 {
    if b == 0 { 100.0 } else { a as f64 * 100.0 / b as f64 }
}
