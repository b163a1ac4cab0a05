//! Row decoding shared by the SQLite and PostgreSQL chats stores.

use crate::inbox_rows::InboxRow;
use spendstream_core::UserId;
use spendstream_core::chats::{Channel, ChatKey, ChatRecord, ChatsError};

/// Maps a driver error to the chats store's (each engine says what is unavailable).
pub(crate) type ErrFn = fn(sqlx::Error) -> ChatsError;

/// A stored user id column.
pub(crate) fn user_of(raw: Option<String>) -> Result<Option<UserId>, ChatsError> {
    raw.map(|s| uuid::Uuid::parse_str(&s).map(UserId).map_err(|e| ChatsError::Other(format!("stored user id: {e}"))))
        .transpose()
}

/// A `chats` row (`user_id, state, version`) of `key`.
pub(crate) fn record_from_row(key: &ChatKey, r: &impl InboxRow, err: ErrFn) -> Result<ChatRecord, ChatsError> {
    Ok(ChatRecord {
        key: key.clone(),
        user_id: user_of(r.opt_text("user_id").map_err(err)?)?,
        state: r.text("state").map_err(err)?,
        version: r.int("version").map_err(err)?,
    })
}

/// The key of a `chats` row (`channel, chat_id`).
pub(crate) fn key_from_row(r: &impl InboxRow, err: ErrFn) -> Result<ChatKey, ChatsError> {
    Ok(ChatKey {
        channel: Channel::parse(&r.text("channel").map_err(err)?).map_err(ChatsError::Other)?,
        chat_id: r.text("chat_id").map_err(err)?,
    })
}
