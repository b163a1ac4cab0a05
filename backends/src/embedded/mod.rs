//! The embedded engines: everything in one process and a data directory.

mod arrow;
mod log;
pub(crate) mod state;
mod store;

pub use log::{EmbeddedConsumer, EmbeddedEventLog};
pub use store::EmbeddedStore;
