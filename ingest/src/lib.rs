//! Turning what users send into entries.
//!
//! - [`sms`]: bank / card / UPI / wallet SMS parsing driven by templates in config.
#![forbid(unsafe_code)]

pub mod sms;
