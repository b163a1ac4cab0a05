//! The stream processors.
//!
//! - [`categorise`]: config rules that pick an entry's category, with the reason (pure).
//! - [`insight`]: per-user state, learned categories and the risk alert rules (pure).
//! - [`process`]: log events into store changes and alerts, loading each user's state once.
//! - [`recurring`]: recurring charges and subscriptions found in expenses (pure).
//! - [`runner`]: the consume, process, write, commit loop, written once for every engine.
//! - [`tips`]: spending tips with the user's own numbers, ranked by money at stake (pure).

pub mod categorise;
pub mod history;
pub mod insight;
pub mod process;
pub mod recurring;
pub mod runner;
pub mod tips;
