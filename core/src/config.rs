//! One typed configuration, layered: compiled-in defaults (`config/default.toml`
//! and `config/categories.toml`), then `--config FILE`, then environment
//! variables `SPENDSTREAM__SECTION__KEY`. Later layers win.

use crate::categories::CategoryDef;
use crate::insight::Severity;
use crate::money::Currency;
use crate::period::{WeekStart, parse_time_zone};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The compiled-in defaults.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
/// The compiled-in categories.
pub const CATEGORIES_TOML: &str = include_str!("../../config/categories.toml");
/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "SPENDSTREAM__";

/// A secret string that never prints.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(#[serde(deserialize_with = "text")] String);

/// A string, also when the environment gave digits only (`SPENDSTREAM__..=123456`
/// reaches serde as a number; ids and tokens may well be all digits).
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(Text)
}

impl Secret {
    /// Wraps a value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP server.
    pub server: ServerConfig,
    /// Local storage.
    pub storage: StorageConfig,
    /// Which engine behind each port.
    pub backends: BackendsConfig,
    /// Sign-up, login and tokens.
    pub auth: AuthConfig,
    /// Settings of new users.
    pub defaults: DefaultsConfig,
    /// API behaviour.
    pub api: ApiConfig,
    /// Stream processors.
    pub processors: ProcessorsConfig,
    /// Bank SMS ingest.
    pub ingest: IngestConfig,
    /// Risk alerts.
    pub alerts: AlertsConfig,
    /// Tips and recurring charges.
    pub tips: TipsConfig,
    /// The chat bot.
    pub bot: BotConfig,
    /// Redis, when `backends.shared = "redis"`.
    pub redis: RedisConfig,
    /// Kafka, when `backends.event_log = "kafka"`.
    pub kafka: KafkaConfig,
    /// ClickHouse, when `backends.store = "clickhouse"`.
    pub clickhouse: ClickhouseConfig,
    /// PostgreSQL, when `backends.accounts = "postgres"`.
    pub postgres: PostgresConfig,
    /// Categories, their names and rules.
    pub categories: Vec<CategoryDef>,
}

/// `[server]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: String,
    /// Largest body in bytes.
    pub max_body_bytes: usize,
    /// Request timeout.
    pub request_timeout_ms: u64,
}

/// `[storage]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Data directory of the embedded engines.
    pub data_dir: PathBuf,
}

/// Engine behind the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventLogKind {
    /// SQLite log in the data dir.
    Embedded,
    /// Kafka topics (`[kafka]`), any number of processes.
    Kafka,
}

/// Engine behind the analytics store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// In-memory windows with snapshots; SQL through DataFusion.
    Embedded,
    /// ClickHouse (`[clickhouse]`), shared by every process.
    Clickhouse,
}

/// Engine behind accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountsKind {
    /// SQLite file in the data dir.
    Sqlite,
    /// PostgreSQL (`[postgres]`), shared by every API process.
    Postgres,
}

/// Engine behind rate limits and idempotency keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharedKind {
    /// In this process.
    InProcess,
    /// In Redis (`[redis]`), shared by every API process.
    Redis,
}

/// `[backends]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendsConfig {
    /// Event log engine.
    pub event_log: EventLogKind,
    /// Analytics store engine.
    pub store: StoreKind,
    /// Accounts engine.
    pub accounts: AccountsKind,
    /// Shared state engine.
    pub shared: SharedKind,
}

/// `[auth]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// HMAC secret for access tokens; empty means generated and kept in the data dir.
    pub jwt_secret: Secret,
    /// Access token lifetime.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime.
    pub refresh_token_ttl_days: u64,
    /// Shortest password.
    pub min_password_length: usize,
    /// Failed logins per account per window.
    pub login_failures_per_account: u32,
    /// Failed logins per client address per window.
    pub login_failures_per_address: u32,
    /// Window of the login limits.
    pub login_window_secs: u64,
}

/// `[defaults]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsConfig {
    /// Currency of new users.
    pub currency: Currency,
    /// Time zone of new users.
    pub time_zone: String,
    /// Week start of new users.
    pub week_start: WeekStart,
}

/// `[api]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Wait for processing after a write, at most this long.
    pub read_your_writes_ms: u64,
    /// Default page size.
    pub list_default_limit: usize,
    /// Largest page size.
    pub list_max_limit: usize,
    /// Merchants per report.
    pub top_merchants: usize,
    /// How long a user's settings may be served from the API's cache.
    pub user_cache_ms: u64,
    /// Idempotency key lifetime.
    pub idempotency_ttl_secs: u64,
    /// Users whose serialized reports an API process keeps (0: no cache).
    pub report_cache_users: usize,
    /// Largest CSV `POST /v1/expenses/import` takes, in bytes.
    pub import_max_bytes: usize,
    /// Time limit of `POST /v1/expenses/import`, instead of `server.request_timeout_ms`.
    pub import_timeout_ms: u64,
}

/// `[processors]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessorsConfig {
    /// Consumer group.
    pub group: String,
    /// Events per poll (an import record counts as its entries).
    pub batch_size: usize,
    /// Snapshot after this many events.
    pub snapshot_every_events: u64,
    /// Snapshot this long after the last change.
    pub snapshot_interval_secs: u64,
    /// First retry delay.
    pub retry_initial_ms: u64,
    /// Largest retry delay.
    pub retry_max_ms: u64,
    /// Commit consumed offsets at most this often (and whenever the log is idle); 0
    /// commits after every batch. Always after the store write: a crash replays at
    /// most this much into the idempotent store.
    pub commit_interval_ms: u64,
    /// Users whose processing state (budgets, recent spend, alert history) a
    /// processor keeps in memory; others are reloaded from the store when seen.
    pub cached_users: usize,
}

/// `[ingest]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// SMS template file replacing the shipped one; empty: the shipped templates.
    pub sms_rules: String,
    /// The same sender and text within this many seconds is one SMS (two forwarders, retries).
    pub same_sms_window_secs: u64,
    /// Two messages with the same amount and account within this many seconds are one transaction.
    pub same_transaction_window_secs: u64,
    /// Messages accepted in one `POST /v1/ingest/sms`.
    pub max_batch: usize,
    /// API tokens a user may hold at once.
    pub max_tokens_per_user: usize,
}

/// `[redis]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// Connection URL, e.g. `redis://127.0.0.1:6379/0`.
    pub url: Secret,
    /// Deadline of every command; past it the API answers 503.
    pub timeout_ms: u64,
    /// Prefix of every key, so several deployments can share one Redis.
    pub key_prefix: String,
}

/// `[kafka]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// Prefix of the topic names (`<prefix>events`), so deployments can share a cluster.
    pub topic_prefix: String,
    /// Partitions of the events topic when `spendstream migrate` creates it.
    pub partitions: u32,
    /// Replication factor when `spendstream migrate` creates topics.
    pub replication: u16,
    /// Deadline of an append (broker ack) or admin call; past it the API answers 503.
    pub timeout_ms: u64,
    /// Extra librdkafka settings for producer and consumers (e.g. SASL), as strings.
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, String>,
}

/// `[clickhouse]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickhouseConfig {
    /// HTTP endpoint, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    /// Database holding the tables and views (created by `spendstream migrate`).
    pub database: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: Secret,
    /// Deadline of every query; past it the API answers 503.
    pub timeout_ms: u64,
}

/// `[postgres]`: accounts, API tokens and the SMS inbox on PostgreSQL.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// Connection URL, e.g. `postgres://user:password@127.0.0.1:5432/spendstream`.
    /// It may hold a password, so it never prints: `Debug` shows `***` and
    /// `config show` the URL with its password replaced by `***`.
    pub url: Secret,
    /// Largest number of pooled connections per process.
    pub max_connections: u32,
    /// Deadline of getting a connection, of every statement and of every
    /// operation as a whole; past it the API answers 503.
    pub timeout_ms: u64,
}

/// `url` with any password (in the user info or a `password=` parameter)
/// replaced by `***`; a string that is not a URL is hidden entirely.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return if url.is_empty() { String::new() } else { "***".into() };
    };
    let (head, rest) = url.split_at(scheme_end + 3);
    // The last '@' ends the user info: a password may hold unencoded '@' or '/'.
    let mut out = match rest.rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{head}{}:***{}", &rest[..colon], &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    if let Some(q) = out.find('?') {
        let mut query = String::new();
        for (i, pair) in out[q + 1..].split('&').enumerate() {
            if i > 0 {
                query.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => query.push_str(&format!("{key}=***")),
                _ => query.push_str(pair),
            }
        }
        out.truncate(q + 1);
        out.push_str(&query);
    }
    out
}

/// Why `url` is not a PostgreSQL URL, without repeating it (it may hold a password).
fn postgres_url_problem(url: &str) -> Option<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("is not a URL such as postgres://user@host:5432/database".into());
    };
    if scheme != "postgres" && scheme != "postgresql" {
        let shown = if scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) { scheme } else { "?" };
        return Some(format!("must be a postgres:// or postgresql:// URL, not {shown}://"));
    }
    if url.chars().any(char::is_whitespace) {
        return Some("must not contain spaces (percent-encode them)".into());
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // The user info ends at the last '@' before the path (a password may hold '@').
    let authority = &rest[..authority_end];
    let host_port = authority.rfind('@').map_or(authority, |at| &authority[at + 1..]);
    let port = match host_port.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((_, tail)) => tail.strip_prefix(':'),
            None => return Some("has an unclosed [ in its host".into()),
        },
        None => host_port.rsplit_once(':').map(|(_, port)| port),
    };
    // An empty port or host is libpq's and sqlx's default (5432; PGHOST, else localhost).
    if let Some(port) = port
        && !port.is_empty()
        && !matches!(port.parse::<u16>(), Ok(p) if p > 0)
    {
        return Some("has a port that is not a number between 1 and 65535".into());
    }
    None
}

/// `[tips]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TipsConfig {
    /// Tip rules and recurring-charge thresholds replacing the shipped `config/tips.toml`; empty: shipped.
    pub rules: String,
}

/// `[bot]`: the chat bot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// Language of the bot's texts (a table of the texts file), e.g. `en`.
    pub language: String,
    /// Texts replacing the shipped `config/bot.toml` (same layout); empty: shipped.
    pub texts: String,
    /// How long a code from `POST /v1/link-codes` stays valid.
    pub link_code_ttl_secs: u64,
    /// Entries per `/list` page.
    pub list_page: usize,
    /// How long a reply waits for a new entry to be processed (to show its
    /// category); past it the reply says the entry is saved and still being sorted.
    pub reply_wait_ms: u64,
    /// Send weekly, monthly and yearly reports with a chart image (PNG) under the text.
    pub charts: bool,
    /// Alerts pushed to linked chats.
    pub alerts: BotAlertsConfig,
    /// The WhatsApp Cloud API adapter.
    pub whatsapp: WhatsappConfig,
    /// The Telegram adapter.
    pub telegram: TelegramConfig,
}

/// `[bot.alerts]`: risk alerts and bill reminders pushed to the user's linked chats.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotAlertsConfig {
    /// Push alerts as the processors raise them (`serve` and `bot` run the notifier).
    pub push: bool,
    /// Consumer group of the notifiers (processes of one group share the alerts).
    pub group: String,
    /// Quiet hours of a chat that set none, in the user's time zone (`22:00-07:00`);
    /// empty: none. Alerts raised then wait until they end; critical ones do not.
    pub quiet_hours: String,
    /// Alerts raised longer ago than this are not pushed (after a replay or a long
    /// outage); `/alerts` still lists them.
    pub max_age_hours: u64,
}

/// How the Telegram adapter gets updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelegramMode {
    /// `getUpdates` long polling from one process (`serve` or `bot`); no public URL needed.
    Polling,
    /// Telegram calls `/webhooks/telegram` on the API's address (any number of `api` processes).
    Webhook,
}

/// `[bot.telegram]`: the Telegram adapter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Run the adapter.
    pub enabled: bool,
    /// The bot token from @BotFather.
    pub token: Secret,
    /// Bot API base URL (tests point it at a local stand-in).
    pub api_url: String,
    /// `polling` or `webhook`.
    pub mode: TelegramMode,
    /// Webhook mode: the public HTTPS URL Telegram should call (ends in `/webhooks/telegram`).
    pub webhook_url: String,
    /// Webhook mode: the secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token`.
    pub webhook_secret: Secret,
    /// Polling: how long one `getUpdates` waits for updates.
    pub poll_timeout_secs: u32,
    /// Send limits (Telegram's): messages per second in one chat.
    pub messages_per_sec_chat: u32,
    /// Messages per minute in one chat.
    pub messages_per_min_chat: u32,
    /// Messages per second over all chats.
    pub messages_per_sec_overall: u32,
}

/// `[bot.whatsapp]`: the WhatsApp Cloud API adapter (webhook plus Graph API).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappConfig {
    /// Serve the webhook (`/webhooks/whatsapp` on the API's address) and answer.
    pub enabled: bool,
    /// Graph API base URL, version included (tests point it at a local stand-in).
    pub graph_url: String,
    /// The business phone number's id (the sender of replies).
    #[serde(deserialize_with = "text")]
    pub phone_number_id: String,
    /// Bearer token for the Graph API.
    pub access_token: Secret,
    /// The app secret: every webhook POST must carry its HMAC in `X-Hub-Signature-256`.
    pub app_secret: Secret,
    /// What the GET verification request must present as `hub.verify_token`.
    pub verify_token: Secret,
    /// Deadline of one Graph API call.
    pub timeout_ms: u64,
    /// Approved template for alerts pushed outside WhatsApp's 24-hour window (one
    /// body parameter: the alert's text); empty: such alerts are not pushed.
    pub alert_template: String,
    /// Language code of `alert_template`, e.g. `en` or `en_US`.
    pub template_language: String,
}

/// `[alerts]`: the risk alert rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Entries that occurred more than this many days before they were accepted raise no alerts.
    pub max_age_days: i64,
    /// Past expenses per category remembered for `unusual_amount`.
    pub history_size: usize,
    /// Days of past spending a processor keeps per user for budgets.
    pub window_days: i64,
    /// `[alerts.budget_threshold]`
    pub budget_threshold: BudgetThresholdRule,
    /// `[alerts.projected_overspend]`
    pub projected_overspend: ProjectedOverspendRule,
    /// `[alerts.unusual_amount]`
    pub unusual_amount: UnusualAmountRule,
    /// `[alerts.velocity]`
    pub velocity: VelocityRule,
    /// `[alerts.low_balance]`
    pub low_balance: ThresholdRule,
    /// `[alerts.large_debit]`
    pub large_debit: ThresholdRule,
    /// `[alerts.new_merchant_large]`
    pub new_merchant_large: ThresholdRule,
    /// `[alerts.bill_due]`
    pub bill_due: BillDueRule,
}

/// One level of `[alerts.budget_threshold]`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetLevel {
    /// Share of the budget, in percent.
    pub pct: u32,
    /// Severity at this level.
    pub severity: Severity,
}

/// `[alerts.budget_threshold]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetThresholdRule {
    /// Off switch.
    pub enabled: bool,
    /// Shares that fire, each once per budget period.
    pub levels: Vec<BudgetLevel>,
    /// Template.
    pub message: String,
}

/// `[alerts.projected_overspend]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectedOverspendRule {
    /// Off switch.
    pub enabled: bool,
    /// Severity.
    pub severity: Severity,
    /// Days of the period that must have passed before the pace is judged.
    pub min_elapsed_days: i64,
    /// Template.
    pub message: String,
}

/// `[alerts.unusual_amount]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnusualAmountRule {
    /// Off switch.
    pub enabled: bool,
    /// Severity.
    pub severity: Severity,
    /// Fires at this share (percent) of the user's median in the category.
    pub factor_pct: u32,
    /// Past expenses needed in the category first.
    pub min_history: usize,
    /// Template.
    pub message: String,
}

/// `[alerts.velocity]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocityRule {
    /// Off switch.
    pub enabled: bool,
    /// Severity.
    pub severity: Severity,
    /// Expenses within the window that fire it.
    pub count: usize,
    /// Window length.
    pub window_minutes: i64,
    /// Template.
    pub message: String,
}

/// A rule with an amount threshold per currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    /// Off switch.
    pub enabled: bool,
    /// Severity.
    pub severity: Severity,
    /// Template.
    pub message: String,
    /// Currency code to amount in major units (`"25000"`); other currencies never fire.
    pub thresholds: std::collections::BTreeMap<String, String>,
}

impl ThresholdRule {
    /// The threshold for `currency` in minor units, if one is configured and valid.
    pub fn threshold(&self, currency: Currency) -> Option<i64> {
        self.thresholds.get(currency.code()).and_then(|a| currency.parse_amount(a).ok())
    }
}

/// `[alerts.bill_due]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillDueRule {
    /// Off switch.
    pub enabled: bool,
    /// Severity.
    pub severity: Severity,
    /// Remind when a bill is due within this many days.
    pub days_before: i64,
    /// Template.
    pub message: String,
}

impl AlertsConfig {
    fn validate(&self, p: &mut Vec<String>) {
        use crate::insight::placeholders;
        let mut template = |key: &str, t: &str, names: &[&str]| {
            if t.trim().is_empty() {
                p.push(format!("alerts.{key}.message: must not be empty"));
            }
            for name in placeholders(t) {
                if !names.contains(&name) {
                    p.push(format!(
                        "alerts.{key}.message: unknown placeholder {{{name}}}; known: {}",
                        names.join(", ")
                    ));
                }
            }
        };
        template(
            "budget_threshold",
            &self.budget_threshold.message,
            &["budget", "period", "share", "spent", "limit", "left", "days_left", "threshold"],
        );
        template(
            "projected_overspend",
            &self.projected_overspend.message,
            &["budget", "period", "pace", "projected", "limit", "over", "spent", "days_left"],
        );
        template(
            "unusual_amount",
            &self.unusual_amount.message,
            &["amount", "merchant", "category", "usual", "factor"],
        );
        template("velocity", &self.velocity.message, &["count", "minutes", "total"]);
        template("low_balance", &self.low_balance.message, &["account", "balance", "threshold"]);
        template("large_debit", &self.large_debit.message, &["amount", "merchant", "threshold"]);
        template("new_merchant_large", &self.new_merchant_large.message, &["amount", "merchant", "threshold"]);
        template("bill_due", &self.bill_due.message, &["bill", "amount", "minimum", "due_date", "days"]);
        for (key, rule) in [
            ("low_balance", &self.low_balance),
            ("large_debit", &self.large_debit),
            ("new_merchant_large", &self.new_merchant_large),
        ] {
            for (code, amount) in &rule.thresholds {
                match Currency::parse(code) {
                    Err(e) => p.push(format!("alerts.{key}.thresholds.{code}: {e}")),
                    Ok(c) => {
                        if let Err(e) = c.parse_amount(amount) {
                            p.push(format!("alerts.{key}.thresholds.{code}: '{amount}': {e}"));
                        }
                    }
                }
            }
        }
        if self.budget_threshold.levels.iter().any(|l| l.pct == 0 || l.pct > 1000) {
            p.push("alerts.budget_threshold.levels: pct must be between 1 and 1000".into());
        }
        if self.max_age_days < 0 || self.window_days < 31 {
            p.push("alerts: max_age_days must be at least 0 and window_days at least 31".into());
        }
        if self.unusual_amount.factor_pct <= 100 {
            p.push("alerts.unusual_amount.factor_pct: must be above 100".into());
        }
        if self.velocity.count < 2 || self.velocity.window_minutes <= 0 {
            p.push("alerts.velocity: count must be at least 2 and window_minutes above 0".into());
        }
        if self.projected_overspend.min_elapsed_days < 1 || self.bill_due.days_before < 0 {
            p.push(
                "alerts: projected_overspend.min_elapsed_days must be at least 1, bill_due.days_before at least 0"
                    .into(),
            );
        }
    }
}

/// Configuration that failed to load or validate: every problem, with its key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    /// One line per problem, each starting with the key path.
    pub problems: Vec<String>,
}

impl Config {
    /// Loads the layers: defaults, then `file`, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with_env(file, Env::prefixed(ENV_PREFIX).split("__"))
    }

    /// Loads the layers with an explicit environment provider (for tests).
    pub fn load_with_env(file: Option<&Path>, env: Env) -> Result<Config, ConfigError> {
        let mut fig = Figment::new().merge(Toml::string(DEFAULT_TOML)).merge(Toml::string(CATEGORIES_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError { problems: vec![format!("--config: no such file {}", path.display())] });
            }
            fig = fig.merge(Toml::file(path));
        }
        let config: Config = fig
            .merge(env)
            .extract()
            .map_err(|e| ConfigError { problems: e.into_iter().map(|e| describe_figment_error(&e)).collect() })?;
        let problems = config.validate();
        if problems.is_empty() { Ok(config) } else { Err(ConfigError { problems }) }
    }

    /// Cross-field checks; returns every problem with its key path.
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            p.push(format!("server.listen: '{}' is not an address such as 127.0.0.1:8080", self.server.listen));
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.server.max_body_bytes) {
            p.push("server.max_body_bytes: must be between 1024 and 16777216".into());
        }
        if !(1024..=256 * 1024 * 1024).contains(&self.api.import_max_bytes) {
            p.push("api.import_max_bytes: must be between 1024 and 268435456".into());
        }
        if !(1..=3_600_000).contains(&self.api.import_timeout_ms) {
            p.push("api.import_timeout_ms: must be between 1 and 3600000".into());
        }
        if self.server.request_timeout_ms == 0 {
            p.push("server.request_timeout_ms: must be greater than 0".into());
        }
        let secret = self.auth.jwt_secret.expose();
        if !secret.is_empty() && secret.len() < 32 {
            p.push("auth.jwt_secret: must be at least 32 bytes (or empty to generate one)".into());
        }
        if self.auth.access_token_ttl_secs == 0 || self.auth.refresh_token_ttl_days == 0 {
            p.push("auth: token lifetimes must be greater than 0".into());
        }
        if self.auth.min_password_length < 8 {
            p.push("auth.min_password_length: must be at least 8".into());
        }
        if let Err(e) = parse_time_zone(&self.defaults.time_zone) {
            p.push(format!("defaults.time_zone: {e}"));
        }
        if self.api.list_default_limit == 0 || self.api.list_default_limit > self.api.list_max_limit {
            p.push("api.list_default_limit: must be between 1 and api.list_max_limit".into());
        }
        if self.processors.batch_size == 0 {
            p.push("processors.batch_size: must be greater than 0".into());
        }
        if self.processors.group.trim().is_empty() {
            p.push("processors.group: must not be empty".into());
        }
        if self.processors.retry_initial_ms == 0 || self.processors.retry_initial_ms > self.processors.retry_max_ms {
            p.push("processors.retry_initial_ms: must be between 1 and processors.retry_max_ms".into());
        }
        if self.processors.commit_interval_ms > 60_000 {
            p.push("processors.commit_interval_ms: must be at most 60000".into());
        }
        if self.ingest.max_batch == 0 || self.ingest.max_batch > 1000 {
            p.push("ingest.max_batch: must be between 1 and 1000".into());
        }
        if self.ingest.max_tokens_per_user == 0 {
            p.push("ingest.max_tokens_per_user: must be greater than 0".into());
        }
        if !self.ingest.sms_rules.is_empty() && !std::path::Path::new(&self.ingest.sms_rules).is_file() {
            p.push(format!("ingest.sms_rules: '{}' is not a readable file", self.ingest.sms_rules));
        }
        self.alerts.validate(&mut p);
        if self.redis.timeout_ms == 0 {
            p.push("redis.timeout_ms: must be greater than 0".into());
        }
        if self.backends.shared == SharedKind::Redis && !self.redis.url.expose().starts_with("redis") {
            p.push("redis.url: must be a redis:// or rediss:// URL when backends.shared = \"redis\"".into());
        }
        if self.backends.event_log == EventLogKind::Kafka {
            if self.kafka.brokers.trim().is_empty() {
                p.push("kafka.brokers: must name at least one broker when backends.event_log = \"kafka\"".into());
            }
            if self.backends.store == StoreKind::Embedded {
                p.push(
                    "backends.store: the embedded store follows one partition of the embedded log; \
                     with backends.event_log = \"kafka\" use store = \"clickhouse\""
                        .into(),
                );
            }
            if self.kafka.partitions == 0 || self.kafka.replication == 0 {
                p.push("kafka.partitions, kafka.replication: must be greater than 0".into());
            }
        }
        if self.kafka.timeout_ms == 0 {
            p.push("kafka.timeout_ms: must be greater than 0".into());
        }
        if self.clickhouse.timeout_ms == 0 {
            p.push("clickhouse.timeout_ms: must be greater than 0".into());
        }
        if self.backends.store == StoreKind::Clickhouse && !self.clickhouse.url.starts_with("http") {
            p.push("clickhouse.url: must be an http:// or https:// URL when backends.store = \"clickhouse\"".into());
        }
        if self.postgres.timeout_ms == 0 {
            p.push("postgres.timeout_ms: must be greater than 0".into());
        }
        if self.postgres.max_connections == 0 {
            p.push("postgres.max_connections: must be greater than 0".into());
        }
        if self.backends.accounts == AccountsKind::Postgres
            && let Some(problem) = postgres_url_problem(self.postgres.url.expose())
        {
            p.push(format!("postgres.url: {problem} (backends.accounts = \"postgres\")"));
        }
        if !self.bot.texts.is_empty() && !Path::new(&self.bot.texts).is_file() {
            p.push(format!("bot.texts: '{}' is not a readable file", self.bot.texts));
        }
        if self.bot.language.is_empty() || !self.bot.language.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            p.push(format!("bot.language: '{}' is not a language tag such as en", self.bot.language));
        }
        if !(60..=7 * 86400).contains(&self.bot.link_code_ttl_secs) {
            p.push("bot.link_code_ttl_secs: must be between 60 and 604800".into());
        }
        if !(1..=50).contains(&self.bot.list_page) {
            p.push("bot.list_page: must be between 1 and 50".into());
        }
        if self.bot.reply_wait_ms > 10_000 {
            p.push("bot.reply_wait_ms: must be at most 10000".into());
        }
        let alerts = &self.bot.alerts;
        if !alerts.quiet_hours.is_empty() && crate::chats::QuietHours::parse(&alerts.quiet_hours).is_none() {
            p.push(format!("bot.alerts.quiet_hours: '{}' is not a window such as 22:00-07:00", alerts.quiet_hours));
        }
        if alerts.group.is_empty() {
            p.push("bot.alerts.group: must not be empty".into());
        }
        if !(1..=24 * 30).contains(&alerts.max_age_hours) {
            p.push("bot.alerts.max_age_hours: must be between 1 and 720".into());
        }
        let wa = &self.bot.whatsapp;
        if !wa.alert_template.is_empty() && wa.template_language.is_empty() {
            p.push("bot.whatsapp.template_language: required with bot.whatsapp.alert_template".into());
        }
        if wa.enabled {
            for (name, empty) in [
                ("phone_number_id", wa.phone_number_id.is_empty()),
                ("access_token", wa.access_token.expose().is_empty()),
                ("app_secret", wa.app_secret.expose().is_empty()),
                ("verify_token", wa.verify_token.expose().is_empty()),
            ] {
                if empty {
                    p.push(format!("bot.whatsapp.{name}: required when bot.whatsapp.enabled = true"));
                }
            }
            if !(wa.graph_url.starts_with("https://") || wa.graph_url.starts_with("http://")) {
                p.push(format!("bot.whatsapp.graph_url: '{}' is not an http(s) URL", wa.graph_url));
            }
        }
        let tg = &self.bot.telegram;
        if tg.enabled {
            if tg.token.expose().is_empty() {
                p.push("bot.telegram.token: required when bot.telegram.enabled = true".into());
            }
            if !(tg.api_url.starts_with("https://") || tg.api_url.starts_with("http://")) {
                p.push(format!("bot.telegram.api_url: '{}' is not an http(s) URL", tg.api_url));
            }
            if tg.mode == TelegramMode::Webhook {
                if !tg.webhook_url.starts_with("https://") {
                    p.push("bot.telegram.webhook_url: webhook mode needs the public https:// URL".into());
                }
                let secret = tg.webhook_secret.expose();
                if secret.len() < 16 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                    p.push("bot.telegram.webhook_secret: 16 to 256 characters of A-Z, a-z, 0-9, _ and -".into());
                }
            }
        }
        if !(1..=50).contains(&tg.poll_timeout_secs) {
            p.push("bot.telegram.poll_timeout_secs: must be between 1 and 50".into());
        }
        if tg.messages_per_sec_chat == 0 || tg.messages_per_min_chat == 0 || tg.messages_per_sec_overall == 0 {
            p.push("bot.telegram.messages_per_*: must be greater than 0".into());
        }
        if wa.timeout_ms == 0 {
            p.push("bot.whatsapp.timeout_ms: must be greater than 0".into());
        }
        if !self.tips.rules.is_empty() && !Path::new(&self.tips.rules).is_file() {
            p.push(format!("tips.rules: '{}' is not a readable file", self.tips.rules));
        }
        p.extend(crate::categories::validate_categories(&self.categories));
        p
    }

    /// The configuration as TOML-like JSON with secrets hidden (for `config show`).
    pub fn redacted(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(auth) = v.get_mut("auth").and_then(|a| a.as_object_mut())
            && auth.get("jwt_secret").and_then(|s| s.as_str()).is_some_and(|s| !s.is_empty())
        {
            auth.insert("jwt_secret".into(), "***".into());
        }
        // A password in a URL (`redis://:pw@host`) is replaced by ***.
        if let Some(redis) = v.get_mut("redis").and_then(|r| r.as_object_mut())
            && let Some(url) = redis.get("url").and_then(|u| u.as_str())
            && let (Some(scheme), Some(at)) = (url.find("://"), url.rfind('@'))
            && at > scheme
        {
            let hidden = format!("{}***{}", &url[..scheme + 3], &url[at..]);
            redis.insert("url".into(), hidden.into());
        }
        if let Some(tg) = v.pointer_mut("/bot/telegram").and_then(|c| c.as_object_mut()) {
            for key in ["token", "webhook_secret"] {
                if tg.get(key).and_then(|s| s.as_str()).is_some_and(|s| !s.is_empty()) {
                    tg.insert(key.into(), "***".into());
                }
            }
        }
        if let Some(wa) = v.pointer_mut("/bot/whatsapp").and_then(|c| c.as_object_mut()) {
            for key in ["access_token", "app_secret", "verify_token"] {
                if wa.get(key).and_then(|s| s.as_str()).is_some_and(|s| !s.is_empty()) {
                    wa.insert(key.into(), "***".into());
                }
            }
        }
        if let Some(ch) = v.get_mut("clickhouse").and_then(|c| c.as_object_mut())
            && ch.get("password").and_then(|s| s.as_str()).is_some_and(|s| !s.is_empty())
        {
            ch.insert("password".into(), "***".into());
        }
        if let Some(pg) = v.get_mut("postgres").and_then(|c| c.as_object_mut())
            && let Some(url) = pg.get("url").and_then(|u| u.as_str())
        {
            let hidden = redact_url(url);
            pg.insert("url".into(), hidden.into());
        }
        v
    }
}

fn describe_figment_error(e: &figment::Error) -> String {
    let path = e.path.join(".");
    let source = e.metadata.as_ref().map(|m| format!(" (from {})", m.name)).unwrap_or_default();
    if path.is_empty() { format!("{}{source}", e.kind) } else { format!("{path}: {}{source}", e.kind) }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    fn env() -> Env {
        Env::prefixed("SPENDSTREAM_TEST_NOTHING__").split("__")
    }

    #[test]
    fn defaults_load_and_validate() {
        let c = Config::load_with_env(None, env()).expect("defaults are valid");
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.categories.len(), 18);
        assert_eq!(c.categories.last().map(|c| c.id.as_str()), Some("other"));
    }

    #[test]
    fn file_then_env_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("x.toml", "[server]\nlisten = \"127.0.0.1:9000\"\nmax_body_bytes = 2048\n")?;
            jail.set_env("SPENDSTREAM__SERVER__LISTEN", "127.0.0.1:9001");
            let c = Config::load(Some(Path::new("x.toml"))).expect("valid");
            assert_eq!(c.server.listen, "127.0.0.1:9001", "env wins over file");
            assert_eq!(c.server.max_body_bytes, 2048, "file wins over defaults");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_name_their_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[server]\nlisen = \"x\"\n")?;
            let e = Config::load(Some(Path::new("bad.toml"))).expect_err("unknown key");
            assert!(e.to_string().contains("lisen"), "{e}");
            jail.create_file("bad2.toml", "[defaults]\ntime_zone = \"Mars/Base\"\n[auth]\njwt_secret = \"short\"\n")?;
            let e = Config::load(Some(Path::new("bad2.toml"))).expect_err("invalid");
            assert_eq!(e.problems.len(), 2, "{e}");
            assert!(e.problems.iter().any(|p| p.starts_with("defaults.time_zone")));
            assert!(e.problems.iter().any(|p| p.starts_with("auth.jwt_secret")));
            assert!(!format!("{:?}", Config::load_with_env(None, env()).unwrap().auth.jwt_secret).contains("short"));
            Ok(())
        });
    }

    #[test]
    fn bot_adapters_need_their_secrets_and_never_print_them() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SPENDSTREAM__BOT__TELEGRAM__ENABLED", "true");
            jail.set_env("SPENDSTREAM__BOT__TELEGRAM__MODE", "webhook");
            jail.set_env("SPENDSTREAM__BOT__WHATSAPP__ENABLED", "true");
            let e = Config::load(None).expect_err("secrets missing");
            for key in [
                "bot.telegram.token",
                "bot.telegram.webhook_url",
                "bot.telegram.webhook_secret",
                "bot.whatsapp.phone_number_id",
                "bot.whatsapp.access_token",
                "bot.whatsapp.app_secret",
                "bot.whatsapp.verify_token",
            ] {
                assert!(e.problems.iter().any(|p| p.starts_with(key)), "{key}: {e}");
            }
            jail.set_env("SPENDSTREAM__BOT__TELEGRAM__TOKEN", "123:tg-token-value");
            jail.set_env("SPENDSTREAM__BOT__TELEGRAM__WEBHOOK_URL", "https://bot.example.com/webhooks/telegram");
            jail.set_env("SPENDSTREAM__BOT__TELEGRAM__WEBHOOK_SECRET", "tg-webhook-secret-value");
            jail.set_env("SPENDSTREAM__BOT__WHATSAPP__PHONE_NUMBER_ID", "1234");
            jail.set_env("SPENDSTREAM__BOT__WHATSAPP__ACCESS_TOKEN", "wa-access-token-value");
            jail.set_env("SPENDSTREAM__BOT__WHATSAPP__APP_SECRET", "wa-app-secret-value");
            jail.set_env("SPENDSTREAM__BOT__WHATSAPP__VERIFY_TOKEN", "987654321");
            let c = Config::load(None).expect("complete");
            let shown = format!("{} {c:?}", c.redacted());
            for secret in ["tg-token-value", "tg-webhook-secret-value", "wa-access-token-value", "wa-app-secret-value"]
            {
                assert!(!shown.contains(secret), "{secret} printed");
            }
            assert!(!shown.contains("987654321"), "a secret of digits only is read and hidden too");
            assert_eq!(c.bot.whatsapp.verify_token.expose(), "987654321");
            assert_eq!(c.redacted()["bot"]["whatsapp"]["phone_number_id"], "1234", "not a secret");
            Ok(())
        });
    }

    #[test]
    fn postgres_section_from_env_validated_and_never_printing_its_password() {
        let c = Config::load_with_env(None, env()).expect("defaults are valid");
        assert_eq!(c.backends.accounts, AccountsKind::Sqlite);
        assert_eq!(c.postgres.url.expose(), "postgres://postgres@127.0.0.1:5432/spendstream");
        assert_eq!((c.postgres.max_connections, c.postgres.timeout_ms), (10, 2000));
        figment::Jail::expect_with(|jail| {
            jail.set_env("SPENDSTREAM__BACKENDS__ACCOUNTS", "postgres");
            jail.set_env("SPENDSTREAM__POSTGRES__URL", "postgresql://app:s3cr@t@db.internal:6432/spend?sslmode=prefer");
            jail.set_env("SPENDSTREAM__POSTGRES__MAX_CONNECTIONS", "20");
            let c = Config::load(None).expect("valid");
            assert_eq!(c.backends.accounts, AccountsKind::Postgres);
            assert_eq!(c.postgres.url.expose(), "postgresql://app:s3cr@t@db.internal:6432/spend?sslmode=prefer");
            assert_eq!(c.postgres.max_connections, 20);
            assert!(!format!("{c:?}").contains("s3cr"), "Debug hides the URL");
            let shown = c.redacted()["postgres"]["url"].as_str().unwrap_or_default().to_owned();
            assert_eq!(shown, "postgresql://app:***@db.internal:6432/spend?sslmode=prefer");

            jail.set_env("SPENDSTREAM__POSTGRES__URL", "mysql://app:s3cret@db:3306/spend");
            jail.set_env("SPENDSTREAM__POSTGRES__TIMEOUT_MS", "0");
            jail.set_env("SPENDSTREAM__POSTGRES__MAX_CONNECTIONS", "0");
            let e = Config::load(None).expect_err("invalid");
            assert_eq!(e.problems.len(), 3, "{e}");
            assert!(e.problems.iter().any(|p| p.starts_with("postgres.url: must be a postgres://")), "{e}");
            assert!(e.problems.iter().any(|p| p.starts_with("postgres.timeout_ms")), "{e}");
            assert!(e.problems.iter().any(|p| p.starts_with("postgres.max_connections")), "{e}");
            jail.set_env("SPENDSTREAM__POSTGRES__TIMEOUT_MS", "2000");
            jail.set_env("SPENDSTREAM__POSTGRES__MAX_CONNECTIONS", "10");
            jail.set_env("SPENDSTREAM__POSTGRES__URL", "postgres://app:s3cret@db:99999/spend");
            let e = Config::load(None).expect_err("bad port");
            assert!(e.problems[0].starts_with("postgres.url: has a port"), "{e}");
            jail.set_env("SPENDSTREAM__POSTGRES__URL", "app:s3cret@db/spend");
            let e = Config::load(None).expect_err("no scheme");
            assert!(!e.to_string().contains("s3cret"), "{e}");
            // Not checked while the accounts stay on SQLite.
            jail.set_env("SPENDSTREAM__BACKENDS__ACCOUNTS", "sqlite");
            let c = Config::load(None).expect("postgres.url unused");
            assert_eq!(c.redacted()["postgres"]["url"], "***", "not a URL: hidden entirely");
            Ok(())
        });
    }

    #[test]
    fn redact_url_hides_passwords_only() {
        assert_eq!(redact_url("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=pw&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
        assert_eq!(redact_url("postgres://u:p/w@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url(""), "");
    }
}
