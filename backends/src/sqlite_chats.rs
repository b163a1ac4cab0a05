//! Chats and link codes in the accounts SQLite file (tables from migration 0003).

use crate::chat_rows;
use crate::sqlite_accounts::SqliteAccounts;
use async_trait::async_trait;
use jiff::Timestamp;
use spendstream_core::UserId;
use spendstream_core::chats::{ChatKey, ChatRecord, ChatStore, ChatsError};
use sqlx::Row;

fn err(e: sqlx::Error) -> ChatsError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            ChatsError::Unavailable(e.to_string())
        }
        _ => ChatsError::Other(e.to_string()),
    }
}

#[async_trait]
impl ChatStore for SqliteAccounts {
    async fn chat(&self, key: &ChatKey) -> Result<Option<ChatRecord>, ChatsError> {
        let row = sqlx::query("SELECT user_id, state, version FROM chats WHERE channel = ? AND chat_id = ?")
            .bind(key.channel.as_str())
            .bind(&key.chat_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(err)?;
        row.map(|r| chat_rows::record_from_row(key, &r, err)).transpose()
    }

    async fn save(
        &self,
        key: &ChatKey,
        user_id: Option<UserId>,
        state: &str,
        version: i64,
        now: Timestamp,
    ) -> Result<i64, ChatsError> {
        let user = user_id.map(|u| u.to_string());
        let done = if version == 0 {
            sqlx::query(
                "INSERT INTO chats (channel, chat_id, user_id, state, version, updated_at) VALUES (?, ?, ?, ?, 1, ?) \
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
                "UPDATE chats SET user_id = ?, state = ?, version = version + 1, updated_at = ? \
                 WHERE channel = ? AND chat_id = ? AND version = ?",
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
    }

    async fn chats_of(&self, user: UserId) -> Result<Vec<ChatKey>, ChatsError> {
        let rows = sqlx::query("SELECT channel, chat_id FROM chats WHERE user_id = ? ORDER BY channel, chat_id")
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
        rows.iter().map(|r| chat_rows::key_from_row(r, err)).collect()
    }

    async fn create_link_code(&self, hash: &str, user: UserId, expires_at: Timestamp) -> Result<(), ChatsError> {
        sqlx::query("INSERT INTO link_codes (hash, user_id, expires_at) VALUES (?, ?, ?)")
            .bind(hash)
            .bind(user.to_string())
            .bind(expires_at.as_microsecond())
            .execute(&self.pool)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn redeem_link_code(&self, hash: &str, now: Timestamp) -> Result<Option<UserId>, ChatsError> {
        // One statement: of two chats presenting the same code, one gets the user.
        let row = sqlx::query(
            "UPDATE link_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id",
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
    }

    async fn healthcheck(&self) -> Result<(), ChatsError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(err)?;
        Ok(())
    }
}
