//! `PgAccounts`: users, settings, refresh and API tokens on PostgreSQL, for
//! deployments where several API processes share the accounts
//! (`backends.accounts = "postgres"`). The SMS inbox on the same database is in
//! [`crate::pg_inbox`]. Tables and semantics are those of
//! [`crate::sqlite_accounts`]; `migrations/postgres` is kept in step with
//! `migrations/sqlite` and applied on [`PgAccounts::connect`].
//!
//! Deadlines: `timeout_ms` bounds getting a pooled connection, every statement
//! (the server's `statement_timeout`) and every operation as a whole, so a
//! server that is down, unreachable or stuck gives `Unavailable` within it.
//!
//! Concurrency: SQLite serialises writers; here each check-then-write runs in a
//! transaction under a transaction-scoped advisory lock on what it decides
//! about (a refresh-token family, one SMS, a user's transaction keys), or as one
//! conditional statement, so concurrent API processes reach the outcomes a
//! serial run would.

use async_trait::async_trait;
use jiff::Timestamp;
use spendstream_core::config::PostgresConfig;
use spendstream_core::period::WeekStart;
use spendstream_core::ports::{Accounts, AccountsError, ApiToken, RefreshToken, Rotation, User};
use spendstream_core::{Currency, UserId, UserSettings};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

/// How long applying the migrations at start may take (waiting for another
/// process that is applying them included); a statement of a migration is not
/// held to `timeout_ms`, so a long index build is not cut short.
const MIGRATIONS_WITHIN: Duration = Duration::from_secs(300);

/// Accounts, API tokens and the SMS inbox in a PostgreSQL database.
#[derive(Clone)]
pub struct PgAccounts {
    pub(crate) pool: PgPool,
    /// Deadline of every operation as a whole.
    pub(crate) timeout: Duration,
}

/// How a failed statement reads to callers.
pub(crate) enum Fault {
    /// Down, unreachable, overloaded, timed out or a retryable conflict.
    Unavailable,
    /// A unique constraint refused the row.
    Duplicate,
    /// Anything else (a bug, a schema mismatch, bad credentials).
    Other,
}

/// Classifies `e`: connection failures, timeouts (pool or `statement_timeout`)
/// and the server's transient states are `Unavailable`.
pub(crate) fn fault(e: &sqlx::Error) -> Fault {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Fault::Duplicate,
        sqlx::Error::Database(d) => match d.code().as_deref() {
            // 08 connection exception, 40 serialization failure or deadlock,
            // 53 insufficient resources (too many connections), 57 operator
            // intervention (statement_timeout, shutdown, starting up),
            // 55P03 lock not available, 25P03 idle-in-transaction timeout.
            Some(c) if ["08", "40", "53", "57"].iter().any(|class| c.starts_with(class)) => Fault::Unavailable,
            Some("55P03" | "25P03") => Fault::Unavailable,
            _ => Fault::Other,
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => {
            Fault::Unavailable
        }
        _ => Fault::Other,
    }
}

/// The accounts error for `e`; any unique violation is `DuplicateEmail`, as in SQLite.
fn err(e: sqlx::Error) -> AccountsError {
    match fault(&e) {
        Fault::Unavailable => AccountsError::Unavailable(format!("postgres: {e}")),
        Fault::Duplicate => AccountsError::DuplicateEmail,
        Fault::Other => AccountsError::Other(format!("postgres: {e}")),
    }
}

/// Runs `work`, giving up with `unavailable` once `limit` has passed. A
/// transaction cut short is rolled back by the server (the pool flushes the
/// pending `ROLLBACK` before reusing the connection).
pub(crate) async fn within<T, E>(
    limit: Duration,
    unavailable: fn(String) -> E,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    match tokio::time::timeout(limit, work).await {
        Ok(done) => done,
        Err(_) => Err(unavailable(format!("postgres: no answer within {} ms", limit.as_millis()))),
    }
}

/// Takes a transaction-scoped advisory lock on `scope` and `key` (a 64-bit
/// hash of them): holders of the same lock run one after the other.
pub(crate) async fn lock(conn: &mut PgConnection, scope: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(('x' || left(md5($1), 16))::bit(64)::bigint)")
        .bind(format!("spendstream:{scope}:{key}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// The family of the refresh token `hash`, locked for the rest of `tx`
/// (`None` when no such token exists): rotations and revocations of one
/// family are serialised.
async fn locked_family(tx: &mut PgConnection, hash: &str) -> Result<Option<String>, sqlx::Error> {
    let family: Option<String> = sqlx::query_scalar("SELECT family FROM refresh_tokens WHERE hash = $1")
        .bind(hash)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(f) = &family {
        lock(tx, "refresh-family", f).await?;
    }
    Ok(family)
}

impl PgAccounts {
    /// Connects to `config.url` and applies the migrations of
    /// `migrations/postgres` not yet applied (none on a later start; several
    /// processes starting at once apply them once, under sqlx's lock).
    ///
    /// `Unavailable` if the server cannot be reached within `timeout_ms`;
    /// `Other` for a bad URL, refused credentials or a failed migration. The
    /// migrations are held to five minutes, not to `timeout_ms`.
    pub async fn connect(config: &PostgresConfig) -> Result<Self, AccountsError> {
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        // The error names the problem, never the URL (it may hold a password).
        let url = PgConnectOptions::from_str(config.url.expose())
            .map_err(|e| AccountsError::Other(format!("postgres.url: {e}")))?
            .application_name("spendstream");
        let ms = timeout.as_millis().to_string();
        let pooled = url
            .clone()
            .options([("statement_timeout", ms.as_str()), ("idle_in_transaction_session_timeout", ms.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(timeout)
            .connect_lazy_with(pooled);
        // Migrations on a connection of their own, without statement_timeout.
        let migrator = within(timeout, AccountsError::Unavailable, async {
            PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(timeout)
                .connect_with(url.options([("statement_timeout", "0")]))
                .await
                .map_err(err)
        })
        .await?;
        let migrated = within(MIGRATIONS_WITHIN, AccountsError::Unavailable, async {
            sqlx::migrate!("./migrations/postgres").run(&migrator).await.map_err(|e| match e {
                sqlx::migrate::MigrateError::Execute(e) if matches!(fault(&e), Fault::Unavailable) => {
                    AccountsError::Unavailable(format!("postgres migrations: {e}"))
                }
                e => AccountsError::Other(format!("postgres migrations: {e}")),
            })
        })
        .await;
        let _ = tokio::time::timeout(timeout, migrator.close()).await;
        migrated?;
        Ok(PgAccounts { pool, timeout })
    }

    /// Runs an accounts operation within the deadline.
    async fn run<T>(&self, work: impl Future<Output = Result<T, AccountsError>>) -> Result<T, AccountsError> {
        within(self.timeout, AccountsError::Unavailable, work).await
    }
}

fn bad(e: impl std::fmt::Display) -> AccountsError {
    AccountsError::Other(format!("postgres: {e}"))
}

fn user_from_row(r: &PgRow) -> Result<User, AccountsError> {
    let get = |n: &str| r.try_get::<String, _>(n).map_err(err);
    Ok(User {
        id: UserId(uuid::Uuid::parse_str(&get("id")?).map_err(bad)?),
        email: get("email")?,
        settings: UserSettings {
            time_zone: get("time_zone")?,
            week_start: WeekStart::parse(&get("week_start")?).map_err(bad)?,
            currency: Currency::parse(&get("currency")?).map_err(bad)?,
        },
        created_at: Timestamp::from_millisecond(r.try_get("created_at").map_err(err)?).map_err(bad)?,
    })
}

fn token_from_row(r: &PgRow) -> Result<ApiToken, AccountsError> {
    let get = |n: &str| r.try_get::<String, _>(n).map_err(err);
    let ms = |v: i64| Timestamp::from_millisecond(v).map_err(bad);
    Ok(ApiToken {
        id: uuid::Uuid::parse_str(&get("id")?).map_err(bad)?,
        user_id: UserId(uuid::Uuid::parse_str(&get("user_id")?).map_err(bad)?),
        name: get("name")?,
        scope: get("scope")?,
        prefix: get("prefix")?,
        created_at: ms(r.try_get("created_at").map_err(err)?)?,
        last_used_at: r.try_get::<Option<i64>, _>("last_used_at").map_err(err)?.map(ms).transpose()?,
    })
}

const INSERT_REFRESH: &str =
    "INSERT INTO refresh_tokens (hash, family, user_id, expires_at, state) VALUES ($1, $2, $3, $4, 'current')";

#[async_trait]
impl Accounts for PgAccounts {
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<(), AccountsError> {
        self.run(async {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, time_zone, week_start, currency, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(user.id.to_string())
            .bind(&user.email)
            .bind(password_hash)
            .bind(&user.settings.time_zone)
            .bind(user.settings.week_start.name())
            .bind(user.settings.currency.code())
            .bind(user.created_at.as_millisecond())
            .execute(&self.pool)
            .await
            .map_err(err)?;
            Ok(())
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, AccountsError> {
        self.run(async {
            let row = sqlx::query("SELECT * FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?;
            row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash").map_err(err)?))).transpose()
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, AccountsError> {
        self.run(async {
            let row = sqlx::query("SELECT * FROM users WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?;
            row.map(|r| user_from_row(&r)).transpose()
        })
        .await
    }

    async fn update_settings(&self, id: UserId, s: &UserSettings) -> Result<(), AccountsError> {
        self.run(async {
            let done = sqlx::query("UPDATE users SET time_zone = $1, week_start = $2, currency = $3 WHERE id = $4")
                .bind(&s.time_zone)
                .bind(s.week_start.name())
                .bind(s.currency.code())
                .bind(id.to_string())
                .execute(&self.pool)
                .await
                .map_err(err)?;
            if done.rows_affected() == 0 { Err(AccountsError::NotFound) } else { Ok(()) }
        })
        .await
    }

    async fn insert_refresh(&self, t: &RefreshToken) -> Result<(), AccountsError> {
        self.run(async {
            sqlx::query(INSERT_REFRESH)
                .bind(&t.hash)
                .bind(&t.family)
                .bind(t.user_id.to_string())
                .bind(t.expires_at.as_millisecond())
                .execute(&self.pool)
                .await
                .map_err(err)?;
            Ok(())
        })
        .await
    }

    /// Under the family's lock: two presentations of one token (a client's
    /// retry racing the original, or a thief racing the owner) are serialised,
    /// so exactly one rotates and the other finds it retired and revokes the
    /// family, including the token the winner just made current.
    async fn rotate_refresh(&self, hash: &str, next: &RefreshToken, now: Timestamp) -> Result<Rotation, AccountsError> {
        self.run(async {
            let mut tx = self.pool.begin().await.map_err(err)?;
            let Some(family) = locked_family(&mut tx, hash).await.map_err(err)? else {
                tx.rollback().await.map_err(err)?;
                return Ok(Rotation::Invalid);
            };
            let row = sqlx::query("SELECT user_id, expires_at, state FROM refresh_tokens WHERE hash = $1 FOR UPDATE")
                .bind(hash)
                .fetch_one(&mut *tx)
                .await
                .map_err(err)?;
            let state: String = row.try_get("state").map_err(err)?;
            let expires: i64 = row.try_get("expires_at").map_err(err)?;
            if state != "current" {
                sqlx::query("UPDATE refresh_tokens SET state = 'revoked' WHERE family = $1")
                    .bind(&family)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
                return Ok(Rotation::Reused);
            }
            if expires <= now.as_millisecond() {
                tx.rollback().await.map_err(err)?;
                return Ok(Rotation::Invalid);
            }
            let user: String = row.try_get("user_id").map_err(err)?;
            sqlx::query("UPDATE refresh_tokens SET state = 'retired' WHERE hash = $1")
                .bind(hash)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            sqlx::query(INSERT_REFRESH)
                .bind(&next.hash)
                .bind(&family)
                .bind(&user)
                .bind(next.expires_at.as_millisecond())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
            Ok(Rotation::Rotated(UserId(uuid::Uuid::parse_str(&user).map_err(bad)?)))
        })
        .await
    }

    async fn revoke_family_of(&self, hash: &str) -> Result<bool, AccountsError> {
        self.run(async {
            let mut tx = self.pool.begin().await.map_err(err)?;
            let Some(family) = locked_family(&mut tx, hash).await.map_err(err)? else {
                tx.rollback().await.map_err(err)?;
                return Ok(false);
            };
            let done = sqlx::query("UPDATE refresh_tokens SET state = 'revoked' WHERE family = $1")
                .bind(&family)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }

    async fn create_api_token(&self, t: &ApiToken, hash: &str) -> Result<(), AccountsError> {
        self.run(async {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, name, scope, prefix, hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(t.id.to_string())
            .bind(t.user_id.to_string())
            .bind(&t.name)
            .bind(&t.scope)
            .bind(&t.prefix)
            .bind(hash)
            .bind(t.created_at.as_millisecond())
            .execute(&self.pool)
            .await
            // As in SQLite a clash is no duplicate email; an outage stays one.
            .map_err(|e| match fault(&e) {
                Fault::Unavailable => err(e),
                _ => AccountsError::Other(format!("postgres: {e}")),
            })?;
            Ok(())
        })
        .await
    }

    async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, AccountsError> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT * FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
            )
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
            rows.iter().map(token_from_row).collect()
        })
        .await
    }

    async fn revoke_api_token(&self, user: UserId, id: uuid::Uuid) -> Result<bool, AccountsError> {
        self.run(async {
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(Timestamp::now().as_millisecond())
            .bind(id.to_string())
            .bind(user.to_string())
            .execute(&self.pool)
            .await
            .map_err(err)?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }

    async fn use_api_token(&self, hash: &str, now: Timestamp) -> Result<Option<ApiToken>, AccountsError> {
        self.run(async {
            let row = sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1 WHERE hash = $2 AND revoked_at IS NULL RETURNING *",
            )
            .bind(now.as_millisecond())
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?;
            row.as_ref().map(token_from_row).transpose()
        })
        .await
    }

    async fn healthcheck(&self) -> Result<(), AccountsError> {
        self.run(async {
            sqlx::query("SELECT 1").execute(&self.pool).await.map_err(err)?;
            Ok(())
        })
        .await
    }
}
