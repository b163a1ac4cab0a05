//! Read-only SQL for analysts over the embedded store, through DataFusion.
//!
//! Tables: `entries` (live entries), `users` (settings as the stream knows
//! them); views from `sql/datafusion/views.sql` (`expenses`, `daily_spend`,
//! `monthly_spend`, `merchant_spend`), the names ClickHouse also has.

use crate::embedded::EmbeddedStore;
use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::execution::context::{SQLOptions, SessionContext};
use std::sync::Arc;

/// The analyst views, compiled in.
pub const VIEWS_SQL: &str = include_str!("../../sql/datafusion/views.sql");

/// Why a query was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// Writes, DDL and settings are not allowed.
    #[error("only read-only queries (SELECT, WITH, EXPLAIN, SHOW) are allowed: {0}")]
    NotReadOnly(String),
    /// The query is wrong (syntax, unknown table or column).
    #[error("{0}")]
    Query(String),
}

/// A DataFusion session over a copy of the store's state.
pub struct SqlEngine {
    ctx: SessionContext,
}

impl SqlEngine {
    /// Registers the tables and views over `store`'s current state.
    pub async fn new(store: &EmbeddedStore) -> Result<Self, SqlError> {
        let ctx = SessionContext::new();
        let q = |e: datafusion::error::DataFusionError| SqlError::Query(e.to_string());
        let entries = store.to_batch(false).map_err(|e| SqlError::Query(e.to_string()))?;
        let schema = entries.schema();
        let table = MemTable::try_new(schema, vec![vec![entries]]).map_err(q)?;
        ctx.register_table("entries_all", Arc::new(table)).map_err(q)?;
        ctx.sql("CREATE VIEW entries AS SELECT entry_id, user_id, kind, amount_minor, currency, occurred_at, local_date, merchant, note, category, category_source, category_reason, source, created_at FROM entries_all")
            .await
            .map_err(q)?;
        let users = users_batch(store).map_err(|e| SqlError::Query(e.to_string()))?;
        let users = MemTable::try_new(users.schema(), vec![vec![users]]).map_err(q)?;
        ctx.register_table("users", Arc::new(users)).map_err(q)?;
        for stmt in VIEWS_SQL.split(';').map(str::trim).filter(|s| has_code(s)) {
            ctx.sql(stmt).await.map_err(q)?;
        }
        Ok(SqlEngine { ctx })
    }

    /// Runs one read-only statement and returns its batches.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
        let opts = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
        let df = self.ctx.sql_with_options(sql, opts).await.map_err(|e| {
            let msg = e.to_string();
            if msg.contains("not supported") || msg.contains("DDL") || msg.contains("DML") || msg.contains("Statement")
            {
                SqlError::NotReadOnly(msg)
            } else {
                SqlError::Query(msg)
            }
        })?;
        df.collect().await.map_err(|e| SqlError::Query(e.to_string()))
    }
}

fn has_code(stmt: &str) -> bool {
    stmt.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with("--")
    })
}

fn users_batch(store: &EmbeddedStore) -> Result<RecordBatch, arrow::error::ArrowError> {
    let settings = store.settings();
    let col = |f: &dyn Fn(&spendstream_core::UserSettings) -> String| {
        Arc::new(settings.iter().map(|(_, s)| Some(f(s))).collect::<StringArray>())
    };
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Utf8, false),
            Field::new("time_zone", DataType::Utf8, false),
            Field::new("week_start", DataType::Utf8, false),
            Field::new("currency", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(settings.iter().map(|(u, _)| Some(u.to_string())).collect::<StringArray>()),
            col(&|s| s.time_zone.clone()),
            col(&|s| s.week_start.name().to_owned()),
            col(&|s| s.currency.code().to_owned()),
        ],
    )
}
