//! The chat bot of spendstream.
//!
//! - [`understand`]: what a free-text chat message asks for (add an expense or income,
//!   undo, a report, a list, a budget, tips, help), with the amount, currency, merchant,
//!   category, period and date it names. Pure: no clock, no storage.
//! - [`engine`]: the conversation engine: a message and the chat's stored dialogue in,
//!   replies out; sign-up by chat, `/link`, adding, undoing, listing and reports.
//! - [`texts`]: the bot's texts (`config/bot.toml`), per language.
//!
//! The Telegram and WhatsApp adapters come next (issue 6).
#![forbid(unsafe_code)]

pub mod engine;
pub mod texts;
pub mod understand;

pub use engine::{Button, Engine, EngineError, EnginePorts, Incoming, Input, Reply};
pub use texts::Texts;
pub use understand::{Context, DateOrder, Intent, Understanding, understand};
