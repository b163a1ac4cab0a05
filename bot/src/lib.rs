//! The chat bot of spendstream.
//!
//! - [`understand`]: what a free-text chat message asks for (add an expense or income,
//!   undo, a report, a list, a budget, tips, help), with the amount, currency, merchant,
//!   category, period and date it names. Pure: no clock, no storage.
//!
//! The conversation engine and the Telegram / WhatsApp adapters come next (issue 6).
#![forbid(unsafe_code)]

pub mod understand;

pub use understand::{Context, DateOrder, Intent, Understanding, understand};
