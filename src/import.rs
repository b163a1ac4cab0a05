//! `import`: loads a CSV of entries for one user straight onto the event log,
//! with the same validation as the API. A running server picks them up.

use anyhow::{Context, bail};
use spendstream_api::import::{ENTRIES_PER_RECORD, Refused, csv_entries, records};
use spendstream_backends::wiring;
use spendstream_core::{Config, EntryId};
use std::io::Read;
use std::path::Path;

/// Entries per append: the log is handed this many at once, and a failure
/// loses nothing of what an earlier append stored.
const BATCH: usize = 200 * ENTRIES_PER_RECORD;

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
    let (mut batch, mut total, mut errors) = (Vec::with_capacity(BATCH), 0usize, 0usize);
    for entry in csv_entries(&config, &user, std::io::BufReader::new(input), |_| EntryId::random()) {
        match entry {
            Ok(entry) => batch.push(entry),
            Err(Refused { line, reason }) => {
                eprintln!("line {line}: {reason}");
                errors += 1;
                continue;
            }
        }
        if batch.len() == BATCH {
            total += batch.len();
            ports.log.append(records(user.id, std::mem::take(&mut batch))).await?;
        }
    }
    total += batch.len();
    ports.log.append(records(user.id, batch)).await?;
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
