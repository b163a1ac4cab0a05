//! The analytics store on ClickHouse, for any number of processes.
//!
//! - [`migrate`]: creates the database and applies `sql/clickhouse/*.sql`
//!   not yet recorded in `schema_migrations`.
//! - [`ClickhouseStore`]: [`spendstream_core::ports::AnalyticsStore`] over
//!   those tables: entry versions in a collapsing table (daily cells and
//!   monthly merchant totals kept by materialized views), tombstones, one
//!   profile row per user and change, and the offsets applied per partition.
//!
//! Runs on ClickHouse 18.16 and on current releases (no DateTime64, no
//! server-side query parameters, no row validation by the client).

mod rows;
mod store;

pub use store::ClickhouseStore;

use clickhouse::Client;
use spendstream_core::config::ClickhouseConfig;
use spendstream_core::ports::StoreError;
use std::future::Future;
use std::time::Duration;

/// The migrations, in order: name and SQL (statements separated by `;`).
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("001_tables", include_str!("../../../sql/clickhouse/001_tables.sql")),
    ("002_views", include_str!("../../../sql/clickhouse/002_views.sql")),
];

/// A client for `cfg` (no database chosen), without the row validation
/// that ClickHouse 18.16 cannot answer.
fn client(cfg: &ClickhouseConfig) -> Client {
    let mut c = Client::default().with_url(cfg.url.clone()).with_user(cfg.user.clone()).with_validation(false);
    if !cfg.password.expose().is_empty() {
        c = c.with_password(cfg.password.expose().to_owned());
    }
    c
}

fn deadline(cfg: &ClickhouseConfig) -> Duration {
    Duration::from_millis(cfg.timeout_ms.max(1))
}

/// A client error as a store error: network trouble is `Unavailable`.
fn store_error(e: clickhouse::error::Error) -> StoreError {
    use clickhouse::error::Error;
    match e {
        Error::Network(_) | Error::TimedOut => StoreError::Unavailable(format!("clickhouse: {e}")),
        // Too many simultaneous queries, or the server's own timeout: worth a retry.
        Error::BadResponse(ref m) if m.contains("Code: 202") || m.contains("Code: 159") => {
            StoreError::Unavailable(format!("clickhouse: {e}"))
        }
        _ => StoreError::Other(format!("clickhouse: {e}")),
    }
}

/// Runs `fut` within `limit`; past it the store is `Unavailable`.
async fn within<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, clickhouse::error::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.map_err(store_error),
        Err(_) => Err(StoreError::Unavailable(format!("clickhouse: no answer within {} ms", limit.as_millis()))),
    }
}

/// A database name safe to put in DDL as is.
fn database_name(cfg: &ClickhouseConfig) -> Result<&str, StoreError> {
    let db = cfg.database.as_str();
    let ok = !db.is_empty()
        && db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !db.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(db)
    } else {
        Err(StoreError::Other(format!("clickhouse: database name '{db}' must be letters, digits and _")))
    }
}

/// The statements of a migration: `--` comment lines dropped, split on `;`.
fn statements(sql: &str) -> Vec<String> {
    let code: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).map(|l| format!("{l}\n")).collect();
    code.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Creates the database if missing and applies, in order, the migrations
/// not yet recorded in its `schema_migrations` table; returns their names.
/// Running it again applies nothing.
pub async fn migrate(cfg: &ClickhouseConfig) -> Result<Vec<String>, StoreError> {
    let db = database_name(cfg)?;
    let limit = deadline(cfg).max(Duration::from_secs(30));
    let root = client(cfg);
    within(limit, root.query(&format!("CREATE DATABASE IF NOT EXISTS {db}")).execute()).await?;
    let c = root.with_database(db);
    within(
        limit,
        c.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version String, applied_at DateTime('UTC')) \
             ENGINE = ReplacingMergeTree ORDER BY version",
        )
        .execute(),
    )
    .await?;
    let done: Vec<String> =
        within(limit, c.query("SELECT DISTINCT version FROM schema_migrations").fetch_all::<String>()).await?;
    let mut applied = Vec::new();
    for (name, sql) in MIGRATIONS {
        if done.iter().any(|d| d == name) {
            continue;
        }
        for stmt in statements(sql) {
            within(limit, c.query(&stmt).execute()).await?;
        }
        within(
            limit,
            c.query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, now())").bind(*name).execute(),
        )
        .await?;
        tracing::info!(migration = name, database = db, "clickhouse migration applied");
        applied.push((*name).to_owned());
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_skip_comments_and_blank_parts() {
        let s = statements("-- a; b\nCREATE TABLE t (a Int8);\n\n-- c\nCREATE VIEW v AS SELECT 1;\n");
        assert_eq!(s, vec!["CREATE TABLE t (a Int8)".to_owned(), "CREATE VIEW v AS SELECT 1".to_owned()]);
        for (_, sql) in MIGRATIONS {
            assert!(!statements(sql).is_empty());
        }
    }
}
