//! The chats port: which messenger chats belong to which user, each chat's
//! dialogue state, and one-time codes that link a chat to an existing account.
//!
//! The bot keeps its dialogue state here, not in memory, so that a restart (or a
//! second bot process) carries on every conversation where it stopped.

use crate::UserId;
use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest chat id kept, in bytes (Telegram's are integers, WhatsApp's phone numbers).
pub const MAX_CHAT_ID: usize = 128;

/// The messenger a chat is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Telegram (chat id).
    Telegram,
    /// WhatsApp Cloud API (the user's phone number, `wa_id`).
    Whatsapp,
    /// `spendstream chat` in a terminal.
    Local,
}

impl Channel {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Whatsapp => "whatsapp",
            Channel::Local => "local",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "telegram" => Ok(Channel::Telegram),
            "whatsapp" => Ok(Channel::Whatsapp),
            "local" => Ok(Channel::Local),
            other => Err(format!("unknown chat channel '{other}'")),
        }
    }
}

/// One chat: the messenger and the chat's id there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChatKey {
    /// Messenger.
    pub channel: Channel,
    /// The chat's id on it, at most [`MAX_CHAT_ID`] bytes.
    pub chat_id: String,
}

impl ChatKey {
    /// A key; `Err` for an empty, over-long or control-character id.
    pub fn new(channel: Channel, chat_id: impl Into<String>) -> Result<Self, String> {
        let chat_id = chat_id.into();
        if chat_id.is_empty() || chat_id.len() > MAX_CHAT_ID || chat_id.chars().any(char::is_control) {
            return Err(format!("a chat id must be 1 to {MAX_CHAT_ID} bytes of printable text"));
        }
        Ok(ChatKey { channel, chat_id })
    }
}

impl fmt::Display for ChatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.channel.as_str(), self.chat_id)
    }
}

/// A link code as typed: case, spaces and dashes do not matter (`4f7q-k2m9` is `4F7QK2M9`).
pub fn normalise_link_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).take(64).collect()
}

/// What the chats store keeps of a link code: SHA-256 of its normalised form, hex.
pub fn link_code_hash(code: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(normalise_link_code(code).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A chat's stored row: its user (once signed up or linked) and dialogue state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    /// The chat.
    pub key: ChatKey,
    /// The account it belongs to, if any yet.
    pub user_id: Option<UserId>,
    /// The bot's dialogue state, as the bot serialised it (JSON).
    pub state: String,
    /// Bumped by every save; a save names the version it read.
    pub version: i64,
}

/// Hours of the day in which alert pushes wait, in the user's time zone; a window may
/// run past midnight (`22:00-07:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// First quiet minute of the day (0 to 1439).
    pub start: u16,
    /// First minute after the window.
    pub end: u16,
}

impl QuietHours {
    /// Reads `22:00-07:00`, `22-7`, `22.30 - 6:15` or `22:00–07:00`; `None` for
    /// anything else, a window of no length included.
    pub fn parse(text: &str) -> Option<QuietHours> {
        let text = text.trim().replace(['–', '—'], "-").replace(" to ", "-");
        let (a, b) = text.split_once('-')?;
        let minute = |t: &str| -> Option<u16> {
            let t = t.trim();
            let (h, m) = t.split_once([':', '.']).unwrap_or((t, "0"));
            let (h, m): (u16, u16) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some((h * 60 + m) % 1440)
        };
        let q = QuietHours { start: minute(a)?, end: minute(b)? };
        (q.start != q.end).then_some(q)
    }

    /// Whether `minute` of the day falls in the window.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}-{:02}:{:02}", self.start / 60, self.start % 60, self.end / 60, self.end % 60)
    }
}

/// A failure of the chats store.
#[derive(Debug, thiserror::Error)]
pub enum ChatsError {
    /// Another save of the same chat won; read again and retry.
    #[error("the chat changed meanwhile")]
    Conflict,
    /// The engine cannot be reached; retry later.
    #[error("chats store unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("chats store error: {0}")]
    Other(String),
}

/// Chats, their users and dialogue state, and link codes.
///
/// Contract: `save` is a compare-and-set on `version` (0 = the chat is new), so two
/// messages of one chat handled at once cannot both apply; a link code works once
/// and only before it expires.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// The chat's record, if it was ever saved.
    async fn chat(&self, key: &ChatKey) -> Result<Option<ChatRecord>, ChatsError>;
    /// Saves `user_id` and `state` if the stored version is still `version`
    /// (0 for a chat never saved); returns the new version, or `Conflict`.
    async fn save(
        &self,
        key: &ChatKey,
        user_id: Option<UserId>,
        state: &str,
        version: i64,
        now: Timestamp,
    ) -> Result<i64, ChatsError>;
    /// The chats linked to `user`, for pushing alerts.
    async fn chats_of(&self, user: UserId) -> Result<Vec<ChatKey>, ChatsError>;
    /// Stores a link code (only its SHA-256 `hash`) for `user` until `expires_at`.
    async fn create_link_code(&self, hash: &str, user: UserId, expires_at: Timestamp) -> Result<(), ChatsError>;
    /// Uses up the code with this hash: its user if it was live at `now`.
    async fn redeem_link_code(&self, hash: &str, now: Timestamp) -> Result<Option<UserId>, ChatsError>;
    /// Answers whether the store can serve now.
    async fn healthcheck(&self) -> Result<(), ChatsError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_codes_ignore_case_and_separators() {
        assert_eq!(normalise_link_code(" 4f7q-k2m9 "), "4F7QK2M9");
        assert_eq!(link_code_hash("4F7Q-K2M9"), link_code_hash("4f7q k2m9"));
        assert_ne!(link_code_hash("4F7QK2M9"), link_code_hash("4F7QK2M8"));
    }

    #[test]
    fn quiet_hours_read_common_spellings_and_wrap_midnight() {
        let q = QuietHours::parse("22:00-07:00").expect("parsed");
        assert_eq!(q, QuietHours { start: 22 * 60, end: 7 * 60 });
        assert_eq!(QuietHours::parse(" 22 - 7 "), Some(q));
        assert_eq!(QuietHours::parse("22.00–7.00"), Some(q));
        assert_eq!(QuietHours::parse("22 to 7"), Some(q));
        assert_eq!(q.to_string(), "22:00-07:00");
        assert!(q.contains(23 * 60) && q.contains(0) && q.contains(6 * 60 + 59));
        assert!(!q.contains(7 * 60) && !q.contains(12 * 60) && !q.contains(21 * 60 + 59));
        let day = QuietHours::parse("13:30-14:00").expect("parsed");
        assert!(day.contains(13 * 60 + 30) && !day.contains(14 * 60) && !day.contains(0));
        assert_eq!(QuietHours::parse("0-24").map(|q| (q.start, q.end)), None, "no length: 0 == 24");
        for bad in ["", "22", "25-7", "22:60-7", "x-y", "7-7", "-1-5"] {
            assert_eq!(QuietHours::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn chat_ids_are_bounded_printable_text() {
        assert!(ChatKey::new(Channel::Telegram, "123").is_ok());
        assert!(ChatKey::new(Channel::Telegram, "").is_err());
        assert!(ChatKey::new(Channel::Telegram, "a\u{0}b").is_err());
        assert!(ChatKey::new(Channel::Telegram, "9".repeat(MAX_CHAT_ID + 1)).is_err());
        assert_eq!(Channel::parse(Channel::Whatsapp.as_str()), Ok(Channel::Whatsapp));
    }
}
