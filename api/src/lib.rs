//! The spendstream REST API.
//!
//! - [`router`]: every route and layer in one `router(state)`.
//! - [`handlers`]: one free `async fn` per endpoint.
//! - [`extract`]: JSON, query, auth and client-address extractors with clear errors.
//! - [`error`]: `ApiError`, the one error type handlers return.
//! - [`tokens`]: argon2id passwords, JWT access tokens, rotating refresh tokens.
//! - [`dto`]: request and response bodies; [`openapi`]: the generated document.
//! - [`import`]: CSV of entries into events, validated like the API.

pub mod cache;
pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod import;
pub mod openapi;
pub mod router;
pub mod state;
pub mod time;
pub mod tokens;

pub use router::router;
pub use state::AppState;
