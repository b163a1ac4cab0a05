//! Chats and link codes on PostgreSQL, beside the accounts (tables from
//! migration 0003); the semantics of [`crate::sqlite_chats`]. Every operation
//! is held to the configured timeout.

use crate::chat_rows;
use crate::pg_accounts::{Fault, PgAccounts, fault, within};
use async_trait::async_trait;
use jiff::Timestamp;
use spendstream_core::UserId;
use spendstream_core::chats::{ChatKey, ChatRecord, ChatStore, ChatsError};
use sqlx::Row;

fn err(e: sqlx::Error) -> ChatsError {
    match fault(&e) {
        Fault::Unavailable => ChatsError::Unavailable(format!("postgres: {e}")),
        Fault::Duplicate | Fault::Other => ChatsError::Other(format!("postgres: {e}")),
    }
}

#[async_trait]
impl ChatStore for PgAccounts {
    async fn chat(&self, key: &ChatKey) -> Result<Option<ChatRecord>, ChatsError> {
        within(self.timeout, ChatsError::Unavailable, async {
            let row = sqlx::query("SELECT user_id, state, version FROM chats WHERE channel = $1 AND chat_id = $2")
                .bind(key.channel.as_str())
                .bind(&key.chat_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?;
            row.map(|r| chat_rows::record_from_row(key, &r, err)).transpose()
        })
        .await
    }

    async fn save(
        &self,
        key: &ChatKey,
        user_id: Option<UserId>,
        state: &str,
        version: i64,
        now: Timestamp,
    ) -> Result<i64, ChatsError> {
        within(self.timeout, ChatsError::Unavailable, async {
            let user = user_id.map(|u| u.to_string());
            let done = if version == 0 {
                sqlx::query(
                    "INSERT INTO chats (channel, chat_id, user_id, state, version, updated_at) VALUES ($1, $2, $3, $4, 1, $5) \
                     ON CONFLICT (channel, chat_id) DO NOTHING",
                )
                .bind(key.channel.as_str())
                .bind(&key.chat_id)
                .bind(user)
                .bind(state)
                .bind(now.as_microsecond())
                .execute(&self.pool)
                .await
            } else {
                sqlx::query(
                    "UPDATE chats SET user_id = $1, state = $2, version = version + 1, updated_at = $3 \
                     WHERE channel = $4 AND chat_id = $5 AND version = $6",
                )
                .bind(user)
                .bind(state)
                .bind(now.as_microsecond())
                .bind(key.channel.as_str())
                .bind(&key.chat_id)
                .bind(version)
                .execute(&self.pool)
                .await
            }
            .map_err(err)?;
            if done.rows_affected() == 1 { Ok(version + 1) } else { Err(ChatsError::Conflict) }
        })
        .await
    }

    async fn chats_of(&self, user: UserId) -> Result<Vec<ChatKey>, ChatsError> {
        within(self.timeout, ChatsError::Unavailable, async {
            let rows = sqlx::query("SELECT channel, chat_id FROM chats WHERE user_id = $1 ORDER BY channel, chat_id")
                .bind(user.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(err)?;
            rows.iter().map(|r| chat_rows::key_from_row(r, err)).collect()
        })
        .await
    }

    async fn create_link_code(&self, hash: &str, user: UserId, expires_at: Timestamp) -> Result<(), ChatsError> {
        within(self.timeout, ChatsError::Unavailable, async {
            sqlx::query("INSERT INTO link_codes (hash, user_id, expires_at) VALUES ($1, $2, $3)")
                .bind(hash)
                .bind(user.to_string())
                .bind(expires_at.as_microsecond())
                .execute(&self.pool)
                .await
                .map_err(err)?;
            Ok(())
        })
        .await
    }

    async fn redeem_link_code(&self, hash: &str, now: Timestamp) -> Result<Option<UserId>, ChatsError> {
        within(self.timeout, ChatsError::Unavailable, async {
            // One statement: of two chats presenting the same code, one gets the user.
            let row = sqlx::query(
                "UPDATE link_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
            )
            .bind(now.as_microsecond())
            .bind(hash)
            .bind(now.as_microsecond())
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?;
            match row {
                Some(r) => chat_rows::user_of(Some(r.try_get("user_id").map_err(err)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn healthcheck(&self) -> Result<(), ChatsError> {
        within(self.timeout, ChatsError::Unavailable, async {
            sqlx::query("SELECT 1").execute(&self.pool).await.map_err(err)?;
            Ok(())
        })
        .await
    }
}
