//! `SqliteAccounts`: users, settings and refresh tokens in a local SQLite file.

use async_trait::async_trait;
use jiff::Timestamp;
use spendstream_core::period::WeekStart;
use spendstream_core::ports::{Accounts, AccountsError, ApiToken, RefreshToken, Rotation, User};
use spendstream_core::{Currency, UserId, UserSettings};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// Accounts in SQLite (WAL, synchronous=FULL).
#[derive(Clone)]
pub struct SqliteAccounts {
    pub(crate) pool: SqlitePool,
}

fn err(e: sqlx::Error) -> AccountsError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => AccountsError::DuplicateEmail,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            AccountsError::Unavailable(e.to_string())
        }
        _ => AccountsError::Other(e.to_string()),
    }
}

impl SqliteAccounts {
    /// Opens (or creates) the database at `path` and runs migrations.
    pub async fn open(path: &Path) -> Result<Self, AccountsError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await.map_err(err)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| AccountsError::Other(format!("migrations: {e}")))?;
        Ok(SqliteAccounts { pool })
    }
}

fn user_from_row(r: &SqliteRow) -> Result<User, AccountsError> {
    let get = |n: &str| r.try_get::<String, _>(n).map_err(err);
    let bad = |e: String| AccountsError::Other(e);
    Ok(User {
        id: UserId(uuid::Uuid::parse_str(&get("id")?).map_err(|e| bad(e.to_string()))?),
        email: get("email")?,
        settings: UserSettings {
            time_zone: get("time_zone")?,
            week_start: WeekStart::parse(&get("week_start")?).map_err(bad)?,
            currency: Currency::parse(&get("currency")?).map_err(|e| bad(e.to_string()))?,
        },
        created_at: Timestamp::from_millisecond(r.try_get("created_at").map_err(err)?)
            .map_err(|e| bad(e.to_string()))?,
    })
}

#[async_trait]
impl Accounts for SqliteAccounts {
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<(), AccountsError> {
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, time_zone, week_start, currency, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
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
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, AccountsError> {
        let row = sqlx::query("SELECT * FROM users WHERE email = ?")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash").map_err(err)?))).transpose()
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, AccountsError> {
        let row = sqlx::query("SELECT * FROM users WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    async fn update_settings(&self, id: UserId, s: &UserSettings) -> Result<(), AccountsError> {
        let done = sqlx::query("UPDATE users SET time_zone = ?, week_start = ?, currency = ? WHERE id = ?")
            .bind(&s.time_zone)
            .bind(s.week_start.name())
            .bind(s.currency.code())
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(err)?;
        if done.rows_affected() == 0 { Err(AccountsError::NotFound) } else { Ok(()) }
    }

    async fn insert_refresh(&self, t: &RefreshToken) -> Result<(), AccountsError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (hash, family, user_id, expires_at, state) VALUES (?, ?, ?, ?, 'current')",
        )
        .bind(&t.hash)
        .bind(&t.family)
        .bind(t.user_id.to_string())
        .bind(t.expires_at.as_millisecond())
        .execute(&self.pool)
        .await
        .map_err(err)?;
        Ok(())
    }

    async fn rotate_refresh(&self, hash: &str, next: &RefreshToken, now: Timestamp) -> Result<Rotation, AccountsError> {
        let mut tx = self.pool.begin().await.map_err(err)?;
        let row = sqlx::query("SELECT family, user_id, expires_at, state FROM refresh_tokens WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
        let Some(row) = row else { return Ok(Rotation::Invalid) };
        let family: String = row.try_get("family").map_err(err)?;
        let state: String = row.try_get("state").map_err(err)?;
        let expires: i64 = row.try_get("expires_at").map_err(err)?;
        if state != "current" {
            sqlx::query("UPDATE refresh_tokens SET state = 'revoked' WHERE family = ?")
                .bind(&family)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
            return Ok(Rotation::Reused);
        }
        if expires <= now.as_millisecond() {
            return Ok(Rotation::Invalid);
        }
        let user: String = row.try_get("user_id").map_err(err)?;
        sqlx::query("UPDATE refresh_tokens SET state = 'retired' WHERE hash = ?")
            .bind(hash)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        sqlx::query(
            "INSERT INTO refresh_tokens (hash, family, user_id, expires_at, state) VALUES (?, ?, ?, ?, 'current')",
        )
        .bind(&next.hash)
        .bind(&family)
        .bind(&user)
        .bind(next.expires_at.as_millisecond())
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        let id = uuid::Uuid::parse_str(&user).map_err(|e| AccountsError::Other(e.to_string()))?;
        Ok(Rotation::Rotated(UserId(id)))
    }

    async fn revoke_family_of(&self, hash: &str) -> Result<bool, AccountsError> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET state = 'revoked' WHERE family = (SELECT family FROM refresh_tokens WHERE hash = ?)",
        )
        .bind(hash)
        .execute(&self.pool)
        .await
        .map_err(err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_api_token(&self, t: &ApiToken, hash: &str) -> Result<(), AccountsError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, scope, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        .map_err(|e| AccountsError::Other(e.to_string()))?;
        Ok(())
    }

    async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, AccountsError> {
        let rows = sqlx::query(
            "SELECT * FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_api_token(&self, user: UserId, id: uuid::Uuid) -> Result<bool, AccountsError> {
        let done =
            sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")
                .bind(Timestamp::now().as_millisecond())
                .bind(id.to_string())
                .bind(user.to_string())
                .execute(&self.pool)
                .await
                .map_err(err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn use_api_token(&self, hash: &str, now: Timestamp) -> Result<Option<ApiToken>, AccountsError> {
        let row =
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE hash = ? AND revoked_at IS NULL RETURNING *")
                .bind(now.as_millisecond())
                .bind(hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn healthcheck(&self) -> Result<(), AccountsError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(err)?;
        Ok(())
    }
}

fn token_from_row(r: &SqliteRow) -> Result<ApiToken, AccountsError> {
    let get = |n: &str| r.try_get::<String, _>(n).map_err(err);
    let bad = |e: String| AccountsError::Other(e);
    let ms = |v: i64| Timestamp::from_millisecond(v).map_err(|e| bad(e.to_string()));
    Ok(ApiToken {
        id: uuid::Uuid::parse_str(&get("id")?).map_err(|e| bad(e.to_string()))?,
        user_id: UserId(uuid::Uuid::parse_str(&get("user_id")?).map_err(|e| bad(e.to_string()))?),
        name: get("name")?,
        scope: get("scope")?,
        prefix: get("prefix")?,
        created_at: ms(r.try_get("created_at").map_err(err)?)?,
        last_used_at: r.try_get::<Option<i64>, _>("last_used_at").map_err(err)?.map(ms).transpose()?,
    })
}
