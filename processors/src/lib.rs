//! The stream processors.
//!
//! - [`categorise`]: config rules that pick an entry's category, with the reason (pure).
//! - [`process`]: one log event into what the store applies (pure).
//! - [`runner`]: the consume, process, write, commit loop, written once for every engine.

pub mod categorise;
pub mod process;
pub mod runner;
