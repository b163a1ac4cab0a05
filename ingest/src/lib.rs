//! Turning what users send into entries.
//!
//! - [`sms`]: bank / card / UPI / wallet SMS parsing driven by templates in config.
//! - [`pipeline`]: forwarded SMS to inbox rows, entries on the event log, and bills.
#![forbid(unsafe_code)]

pub mod pipeline;
pub mod sms;
