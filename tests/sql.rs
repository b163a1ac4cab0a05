//! Analyst SQL through the binary: views against golden outputs, and refusal
//! of anything that is not read-only.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn spendstream(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spendstream"))
        .args(args)
        .env("SPENDSTREAM__STORAGE__DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run spendstream")
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn views_match_golden_outputs_and_writes_are_refused() {
    // An account made through the API (Asia/Kolkata: the 20:00Z entry is November 1st there).
    let app = spendstream_testkit::TestApp::spawn().await;
    app.signup("analyst@example.com", "Asia/Kolkata").await;
    let dir = app.stop().await;
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/fixtures/entries.csv");
    let out = spendstream(dir.path(), &["import", "--email", "analyst@example.com", csv.to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    // Importing the same file again adds nothing: rows carry stable ids.
    let again = spendstream(dir.path(), &["import", "--email", "analyst@example.com", csv.to_str().unwrap()]);
    assert!(again.status.success());

    for (view, columns, order) in [
        ("daily_spend", "day, category, currency, spent_minor, income_minor, entries", "day, category, currency"),
        (
            "monthly_spend",
            "CAST(month AS DATE) AS month, category, currency, spent_minor, income_minor, entries",
            "month, category, currency",
        ),
        ("merchant_spend", "merchant, currency, spent_minor, entries", "merchant, currency"),
    ] {
        let q = format!("SELECT {columns} FROM {view} ORDER BY {order}");
        let out = spendstream(dir.path(), &["sql", "--format", "csv", &q]);
        assert!(out.status.success(), "{view}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), fixture(&format!("golden/{view}.csv")), "{view}");
    }

    for write in [
        "INSERT INTO entries (entry_id) VALUES ('x')",
        "DELETE FROM entries",
        "CREATE TABLE t (a INT)",
        "DROP VIEW daily_spend",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let out = spendstream(dir.path(), &["sql", write]);
        assert!(!out.status.success(), "{write} must be refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("read-only") || err.contains("not supported") || err.contains("not allowed"),
            "{write}: {err}"
        );
    }
    let bad = spendstream(dir.path(), &["sql", "SELEC nonsense"]);
    assert!(!bad.status.success());
}
