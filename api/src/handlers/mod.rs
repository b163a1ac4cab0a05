//! One free `async fn` per endpoint, grouped by resource.

pub mod auth;
pub mod chats;
pub mod expenses;
pub mod health;
pub mod ingest;
pub mod insight;
pub mod me;
pub mod reports;
