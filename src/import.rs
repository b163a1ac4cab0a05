//! `import`: loads a CSV of entries for one user straight onto the event log,
//! with the same validation as the API. A running server picks them up.

use anyhow::{Context, bail};
use spendstream_api::dto::NewEntry;
use spendstream_api::handlers::expenses::validate_entry;
use spendstream_backends::wiring;
use spendstream_core::{Config, EntryId, EntryKind, Event, Source};
use std::io::Read;
use std::path::Path;

const BATCH: usize = 5000;

#[derive(Debug, serde::Deserialize)]
struct Row {
    occurred_at: Option<String>,
    amount: String,
    currency: Option<String>,
    merchant: Option<String>,
    note: Option<String>,
    category: Option<String>,
    kind: Option<String>,
    /// Optional stable id: importing the same file twice adds nothing twice.
    id: Option<String>,
}

/// Imports `file` (or stdin for `-`) for the account `email`.
pub async fn import(config: Config, email: &str, file: &Path) -> anyhow::Result<()> {
    let ports = wiring::open(&config).await?;
    let (user, _) = ports
        .accounts
        .user_by_email(&email.trim().to_lowercase())
        .await?
        .with_context(|| format!("no account with email {email}"))?;
    let input: Box<dyn Read> = if file == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| file.display().to_string())?)
    };
    let mut reader = csv::Reader::from_reader(std::io::BufReader::new(input));
    let (mut batch, mut total, mut errors) = (Vec::with_capacity(BATCH), 0usize, 0usize);
    for (line, row) in reader.deserialize::<Row>().enumerate() {
        let line = line + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                eprintln!("line {line}: {e}");
                errors += 1;
                continue;
            }
        };
        let id = match &row.id {
            Some(k) => EntryId::from_idempotency_key(user.id, &format!("import:{k}")),
            None => EntryId::random(),
        };
        let kind = match row.kind.as_deref().map(str::trim) {
            None | Some("") | Some("expense") => EntryKind::Expense,
            Some("income") => EntryKind::Income,
            Some(other) => {
                eprintln!("line {line}: kind: '{other}' is neither expense nor income");
                errors += 1;
                continue;
            }
        };
        let req = NewEntry {
            amount: row.amount,
            currency: row.currency.filter(|c| !c.is_empty()),
            kind: Some(kind),
            occurred_at: row.occurred_at.filter(|c| !c.is_empty()),
            merchant: row.merchant,
            note: row.note,
            category: row.category.filter(|c| !c.is_empty()),
        };
        match validate_entry(&config, &user, id, req, Source::Import) {
            Ok(entry) => batch.push(Event::EntryAdded { entry }),
            Err(e) => {
                eprintln!("line {line}: {e}");
                errors += 1;
                continue;
            }
        }
        if batch.len() == BATCH {
            total += batch.len();
            ports.log.append(std::mem::take(&mut batch)).await?;
        }
    }
    total += batch.len();
    ports.log.append(batch).await?;
    println!("imported {total} entries for {email}; {errors} rows refused");
    if errors > 0 && total == 0 {
        bail!("nothing imported");
    }
    Ok(())
}

/// `spendstream ingest reparse`: unparsed SMS through the current templates.
pub async fn reparse(config: Config) -> anyhow::Result<()> {
    let rules = spendstream_ingest::pipeline::load_rules(&config.ingest).map_err(anyhow::Error::msg)?;
    let ports = wiring::open(&config).await?;
    let ingest = spendstream_ingest::pipeline::SmsIngest::new(rules, ports.log, ports.inbox, &config.ingest);
    let stats = ingest.reparse(ports.accounts.as_ref()).await?;
    println!("{}", serde_json::to_string(&stats)?);
    eprintln!(
        "{} messages looked at: {} entered, {} duplicates, {} bills, {} ignored, {} still unparsed",
        stats.examined, stats.entered, stats.duplicates, stats.bills, stats.ignored, stats.unparsed
    );
    Ok(())
}
