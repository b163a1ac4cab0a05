//! Command-line interface.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Expense tracking as a stream.
#[derive(Debug, Parser)]
#[command(name = "spendstream", version, about)]
pub struct Cli {
    /// Config file layered over the compiled-in defaults (env SPENDSTREAM__* wins over both).
    #[arg(long, global = true, env = "SPENDSTREAM_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Roles and tools.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process: API and processors (the embedded default).
    Serve,
    /// Run only the HTTP API (scale-out: any number, behind a load balancer).
    Api,
    /// Run only the stream processors (scale-out: any number; they split the partitions).
    Process,
    /// Run the chat side: Telegram long polling (one process) and alert pushes to chats
    /// (any number; they split the alerts). See `[bot.telegram]` and `[bot.alerts]`.
    Bot,
    /// Create what the configured engines need (Kafka topics, ClickHouse
    /// tables and views, account tables); safe to repeat.
    Migrate,
    /// Run one read-only SQL statement over the data (tables: entries, users; views: daily_spend, ...).
    Sql {
        /// The statement, e.g. "SELECT category, SUM(amount_minor) FROM entries GROUP BY category".
        query: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Load entries for a user from a CSV file (header: occurred_at,amount,currency,merchant,note,category,kind).
    Import {
        /// Email of the account that owns the entries.
        #[arg(long)]
        email: String,
        /// CSV file, or - for standard input.
        file: PathBuf,
    },
    /// Offline tools of the ingest path.
    Ingest {
        /// What to do.
        #[command(subcommand)]
        command: IngestCommand,
    },
    /// Read merchant strings, one a line, and print `merchant,category,reason` CSV.
    Categorise,
    /// Chat with the bot in the terminal, on the configured engines (the embedded
    /// default needs no tokens and no services). With `--understand`: read messages from
    /// stdin, one a line, and print how each is understood as one JSON object a line
    /// (intent, amount, currency, merchant, category, period, date, question); no data is
    /// read or changed.
    Chat {
        /// The local chat's name: each name is its own chat (and account).
        #[arg(long = "as", default_value = "me")]
        name: String,
        /// Print the understanding of each stdin line instead of chatting.
        #[arg(long)]
        understand: bool,
        /// Currency of amounts written without one (default: `defaults.currency`).
        #[arg(long)]
        currency: Option<String>,
        /// Time zone that decides what "today" is (default: `defaults.time_zone`).
        #[arg(long)]
        tz: Option<String>,
        /// Today's date (YYYY-MM-DD) instead of the clock, for repeatable runs.
        #[arg(long)]
        today: Option<String>,
        /// How to read all-numeric dates such as 12/10 when both readings are dates.
        #[arg(long, value_enum, default_value_t = DateOrderArg::DayMonth)]
        date_order: DateOrderArg,
    },
    /// Inspect configuration.
    Config {
        /// What to do.
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// `ingest` subcommands.
#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// Parse SMS from JSON lines `{"id","sender","text"}` on stdin; one JSON line out per input.
    Parse {
        /// Input is JSON lines (the only format so far).
        #[arg(long)]
        jsonl: bool,
    },
    /// Parse every stored unparsed SMS again with the current templates
    /// (`ingest.sms_rules`); those that now read become entries or bills.
    /// Safe while the server runs, and safe to repeat.
    Reparse,
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and check that every backend answers.
    Check,
    /// Print the effective configuration (secrets hidden).
    Show,
}

/// Output formats of `sql`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned table.
    Table,
    /// CSV with a header.
    Csv,
    /// One JSON object per line.
    Json,
}

/// Readings of `12/10` for `chat --understand`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DateOrderArg {
    /// 12 October.
    DayMonth,
    /// December 10.
    MonthDay,
    /// Ask which one.
    Ask,
}
