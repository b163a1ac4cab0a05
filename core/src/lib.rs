//! The shared heart of spendstream: domain types, configuration and ports.
//!
//! - [`money`]: integer minor units plus ISO 4217 currency; no floats.
//! - [`entry`]: entries, user settings and the events that carry them on the log.
//! - [`period`]: days, weeks, months and years cut in a user's time zone.
//! - [`categories`]: category definitions from config.
//! - [`report`]: reports and rolling windows built from daily cells.
//! - [`config`]: the one typed, layered, validated configuration.
//! - [`ports`]: the traits every engine implements (event log, analytics store,
//!   accounts, shared state).
//! - [`inbox`]: the SMS inbox port: received messages, transaction keys, bills.
//! - [`chats`]: the chats port: messenger chats, dialogue state, link codes.
//! - [`insight`]: learned category rules, budgets and risk alerts.

pub mod categories;
pub mod chats;
pub mod config;
pub mod entry;
pub mod inbox;
pub mod insight;
pub mod money;
pub mod period;
pub mod ports;
pub mod report;

pub use categories::{CategoryDef, CategoryId};
pub use config::Config;
pub use entry::{
    CategorySource, Entry, EntryId, EntryKind, Event, ProcessedEntry, SmsOrigin, Source, UserId, UserSettings,
};
pub use money::{Currency, Money, MoneyError};
