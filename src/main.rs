//! `spendstream`: one binary, many roles.
//!
//! `serve` runs every role in one process on the embedded engines; `sql`
//! queries the data read-only; `config check` validates configuration;
//! `import` loads a CSV of entries; `chat` is the bot in the terminal, and
//! `chat --understand` shows how chat messages are read.

mod chat;
mod cli;
mod import;
mod serve;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command, ConfigCommand, IngestCommand};
use spendstream_core::Config;

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let load = || Config::load(cli.config.as_deref());
    match cli.command {
        Command::Serve => serve::serve(load()?, serve::Role::All).await,
        Command::Api => serve::serve(load()?, serve::Role::Api).await,
        Command::Process => serve::serve(load()?, serve::Role::Process).await,
        Command::Bot => serve::serve(load()?, serve::Role::Bot).await,
        Command::Migrate => serve::migrate(&load()?).await,
        Command::Sql { query, format } => serve::sql(load()?, &query, format).await,
        Command::Import { email, file } => import::import(load()?, &email, &file).await,
        Command::Ingest { command: IngestCommand::Parse { .. } } => {
            let rules = spendstream_ingest::pipeline::load_rules(&load()?.ingest).map_err(anyhow::Error::msg)?;
            let stats =
                spendstream_ingest::sms::parse_jsonl(&rules, std::io::stdin().lock(), std::io::stdout().lock())?;
            eprintln!("{} lines, {} transactions, {} errors", stats.lines, stats.transactions, stats.errors);
            Ok(())
        }
        Command::Ingest { command: IngestCommand::Reparse } => import::reparse(load()?).await,
        Command::Categorise => categorise(&load()?),
        Command::Chat { understand: false, name, .. } => chat::interactive(load()?, &name).await,
        Command::Chat { understand: true, currency, tz, today, date_order, .. } => {
            chat::understand_lines(&load()?, chat::Options { currency, tz, today, date_order })
        }
        Command::Config { command: ConfigCommand::Check } => {
            let config = load()?;
            serve::check(&config).await?;
            println!("configuration is valid and every backend answers");
            Ok(())
        }
        Command::Config { command: ConfigCommand::Show } => {
            println!("{}", serde_json::to_string_pretty(&load()?.redacted())?);
            Ok(())
        }
    }
}

fn categorise(config: &Config) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let c = spendstream_processors::categorise::Categoriser::new(&config.categories)?;
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(["merchant", "category", "reason"])?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let merchant = line.trim();
        if merchant.is_empty() {
            continue;
        }
        let got = c.categorise(&spendstream_processors::categorise::CategoriseInput {
            merchant: Some(merchant),
            ..Default::default()
        });
        out.write_record([merchant, got.category.as_str(), &got.reason.describe()])?;
    }
    out.flush()?;
    std::io::stdout().flush()?;
    Ok(())
}
