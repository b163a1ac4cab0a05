//! `spendstream chat` through the binary: `--understand` prints one JSON line per stdin
//! line with the config's currency and time zone; without it the bot chats on the
//! embedded default and keeps its data in the data dir.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn run(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spendstream"));
    cmd.args(args).env("RUST_LOG", "warn").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run spendstream");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may stop reading early on an error; a broken pipe is fine then.
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn lines(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

#[test]
fn prints_one_understanding_per_line() {
    let input = "spent 250 on lunch at subway\n\n1.200\n₹99 netflix yesterday\nundo\n\
                 how much did I spend on food this month?\r\nhello\ngot salary 85000";
    let out = run(&["chat", "--understand", "--today", "2026-10-15"], input.as_bytes(), &[]);
    let got = lines(&out);
    assert_eq!(got.len(), 8, "{got:?}");
    assert_eq!(
        got[0],
        json!({"intent": "add_expense", "amount": "250", "currency": "INR", "merchant": "Subway", "category": "food_dining"})
    );
    assert_eq!(got[1], json!({"intent": "unknown"}));
    assert_eq!(got[2]["intent"], "add_expense");
    assert!(got[2].get("amount").is_none(), "1.200 must not be guessed: {}", got[2]);
    assert!(got[2]["question"].as_str().unwrap().contains("1200"));
    assert_eq!(
        got[3],
        json!({"intent": "add_expense", "amount": "99", "currency": "INR", "merchant": "Netflix", "category": "subscriptions", "date": "2026-10-14"})
    );
    assert_eq!(got[4], json!({"intent": "delete_last"}));
    assert_eq!(got[5], json!({"intent": "report", "category": "food_dining", "period": "month"}));
    assert_eq!(got[6], json!({"intent": "unknown"}));
    assert_eq!(got[7], json!({"intent": "add_income", "amount": "85000", "currency": "INR", "category": "transfers"}));
}

#[test]
fn currency_and_time_zone_come_from_config_or_flags() {
    // The config's default currency.
    let out = run(
        &["chat", "--understand", "--today", "2026-10-15"],
        b"coffee 4.50\n",
        &[("SPENDSTREAM__DEFAULTS__CURRENCY", "EUR")],
    );
    assert_eq!(lines(&out)[0]["currency"], "EUR");
    // A flag wins over the config.
    let out = run(
        &["chat", "--understand", "--today", "2026-10-15", "--currency", "usd"],
        b"coffee 4.50\n",
        &[("SPENDSTREAM__DEFAULTS__CURRENCY", "EUR")],
    );
    assert_eq!(lines(&out)[0]["currency"], "USD");
    // Without --today, "today" is the date in the time zone given.
    for tz in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        let zone = jiff::tz::TimeZone::get(tz).unwrap();
        let before = jiff::Timestamp::now().to_zoned_datetime(zone.clone()).date();
        let out = run(&["chat", "--understand", "--tz", tz], b"lunch 200 today\n", &[]);
        let after = jiff::Timestamp::now().to_zoned_datetime(zone).date();
        let got = lines(&out)[0]["date"].as_str().unwrap().to_owned();
        assert!(got == before.to_string() || got == after.to_string(), "{tz}: {got} not {before}");
    }
    // The date order flag.
    let out = run(&["chat", "--understand", "--today", "2026-10-15", "--date-order", "ask"], b"taxi 90 12/10\n", &[]);
    let got = lines(&out);
    assert!(got[0].get("date").is_none());
    assert!(got[0]["question"].as_str().unwrap().contains("10 December"));
}

#[test]
fn hostile_lines_still_give_one_object_each() {
    let mut input = Vec::new();
    input.extend_from_slice(b"uber 180\n");
    input.extend_from_slice(b"\xff\xfe\x00 bad bytes 50\n");
    input.extend_from_slice("x".repeat(200_000).as_bytes());
    input.extend_from_slice(b"\n\x1b[31mred 20\x1b[0m\n");
    let out = run(&["chat", "--understand", "--today", "2026-10-15"], &input, &[]);
    let got = lines(&out);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0]["amount"], "180");
    assert_eq!(got[1]["amount"], "50");
    assert_eq!(got[2]["intent"], "unknown");
    assert!(got[2]["question"].as_str().unwrap().contains("too long"));
    assert_eq!(got[3]["intent"], "add_expense");
}

#[test]
fn chat_talks_to_the_bot_on_the_embedded_default_and_remembers_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let env = [("SPENDSTREAM__STORAGE__DATA_DIR", data)];
    // "1" presses the first button of the last reply: the guessed currency.
    let first =
        run(&["chat"], "hello\n1\nAsia/Kolkata\nspent 250 on lunch at subway\nuber 180\n/undo\n".as_bytes(), &env);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let out = String::from_utf8(first.stdout).unwrap();
    assert!(out.contains("bot> Hi!"), "{out}");
    assert!(out.contains("[1] INR"), "buttons are numbered: {out}");
    assert!(out.contains("bot> All set: amounts in INR"), "{out}");
    assert!(out.contains("bot> Added ₹250.00 · 🍽️ Food & dining · today"), "{out}");
    assert!(out.contains("bot> Removed ₹180.00"), "{out}");

    // A second run on the same data dir: the same chat, the same account.
    let second = run(&["chat"], b"/list\n/export\n/month\n", &env);
    let out = String::from_utf8(second.stdout).unwrap();
    // The monthly report prints, and its chart is saved as a PNG under charts/.
    assert!(out.contains(": spent ₹250.00") && out.contains("/charts/report-month-"), "{out}");
    let charts: Vec<_> = std::fs::read_dir(dir.path().join("charts")).unwrap().collect();
    let png = std::fs::read(charts[0].as_ref().unwrap().path()).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
    assert!(out.contains("bot> CSV of ") && out.contains("Saved to "), "{out}");
    let exports: Vec<_> = std::fs::read_dir(dir.path().join("exports")).unwrap().collect();
    let csv = std::fs::read_to_string(exports[0].as_ref().unwrap().path()).unwrap();
    assert!(csv.starts_with("occurred_at,amount,currency") && csv.contains("250.00,INR,Subway"), "{csv}");
    assert!(out.contains("1. today · ₹250.00"), "{out}");
    assert!(!out.contains("₹180.00"), "{out}");
    // While another process runs the processors on the data dir, chat refuses it.
    let lock = std::fs::File::create(dir.path().join("processing.lock")).unwrap();
    lock.try_lock().unwrap();
    let busy = run(&["chat"], b"/list\n", &env);
    let err = String::from_utf8_lossy(&busy.stderr);
    assert!(!busy.status.success() && err.contains("is in use: another spendstream process"), "{err}");
    drop(lock);
    // Another name is another chat, with its own sign-up.
    let other = run(&["chat", "--as", "guest"], b"/list\n", &env);
    assert!(String::from_utf8(other.stdout).unwrap().contains("bot> Hi!"));

    let bad = run(&["chat", "--understand", "--today", "15/10/2026"], b"hello\n", &[]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--today"));
}
