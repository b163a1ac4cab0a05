//! The chat bot of spendstream.
//!
//! - [`understand`]: what a free-text chat message asks for (add an expense or income,
//!   undo, a report, a list, a budget, tips, help), with the amount, currency, merchant,
//!   category, period and date it names. Pure: no clock, no storage.
//! - [`engine`]: the conversation engine: a message and the chat's stored dialogue in,
//!   replies out; sign-up by chat, `/link`, adding, undoing, listing and reports.
//! - [`chart`]: report charts (category bars and the trend) as PNG, drawn with plotters.
//! - [`texts`]: the bot's texts (`config/bot.toml`), per language.
//! - [`telegram`]: the Telegram adapter (teloxide; long polling or a secret-checked webhook).
//! - [`whatsapp`]: the WhatsApp Cloud API adapter (signed webhook, Graph API replies).
//! - [`notify`]: pushes the alerts the processors raise to the users' linked chats.
#![forbid(unsafe_code)]

pub mod chart;
pub mod engine;
pub mod notify;
pub mod telegram;
pub mod texts;
pub mod understand;
pub mod whatsapp;

/// Whether two secrets are equal, in time that depends on their lengths only (webhook
/// tokens and signatures).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub use engine::{Attachment, Button, Engine, EngineError, EnginePorts, Incoming, Input, Push, Reply, SetupError};
pub use texts::Texts;
pub use understand::{Context, DateOrder, Intent, Understanding, understand};

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_whole() {
        use super::constant_time_eq as eq;
        assert!(eq(b"s3cret", b"s3cret") && !eq(b"s3cret", b"s3creT") && !eq(b"a", b"ab") && eq(b"", b""));
    }
}
