//! Every route in one place, plus the layers: body limit, timeout, panic guard, tracing.

use crate::error::ApiError;
use crate::handlers::{auth, chats, expenses, health, ingest, insight, me, reports};
use crate::openapi::openapi_json;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// The REST API.
pub fn router(state: AppState) -> Router {
    let config = &state.config;
    // The CSV import parses and appends a whole file: its body and time limits are its own.
    let import = Router::new()
        .route("/v1/expenses/import", post(expenses::import).layer(DefaultBodyLimit::max(config.api.import_max_bytes)))
        .layer(middleware::from_fn_with_state(Duration::from_millis(config.api.import_timeout_ms), timeout));
    Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/openapi.json", get(openapi_json))
        .route("/v1/auth/signup", post(auth::signup))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/refresh", post(auth::refresh))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/me", get(me::get_me).patch(me::patch_me))
        .route("/v1/link-codes", post(chats::create_link_code))
        .route("/v1/expenses", post(expenses::create).get(expenses::list))
        .route("/v1/expenses/{id}", get(expenses::get_one).delete(expenses::remove).patch(expenses::recategorise))
        .route("/v1/budgets", post(insight::create).get(insight::list))
        .route("/v1/budgets/{id}", get(insight::get_one).patch(insight::patch).delete(insight::remove))
        .route("/v1/alerts", get(insight::alerts))
        .route("/v1/alerts/{id}/ack", post(insight::acknowledge))
        .route("/v1/tips", get(insight::tips))
        .route("/v1/recurring", get(insight::recurring))
        .route("/v1/rules", get(insight::rules))
        .route("/v1/categories", get(reports::categories))
        .route("/v1/reports", get(reports::report))
        .route("/v1/stats", get(reports::stats))
        .route("/v1/tokens", post(ingest::create_token).get(ingest::list_tokens))
        .route("/v1/tokens/{id}", delete(ingest::delete_token))
        .route("/v1/ingest/sms", post(ingest::ingest_sms))
        .route("/v1/ingest/unparsed", get(ingest::unparsed))
        .route("/v1/bills", get(ingest::bills))
        .fallback(|| async { ApiError::NotFound("no such endpoint; see /openapi.json".into()) })
        .layer(middleware::from_fn_with_state(Duration::from_millis(config.server.request_timeout_ms), timeout))
        .merge(import)
        .layer(DefaultBodyLimit::max(config.server.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| ApiError::Internal("handler panicked".into()).into_response()))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Answers 503 with Retry-After when the request takes longer than `limit`.
async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Unavailable(format!("request took longer than {} ms", limit.as_millis())).into_response(),
    }
}
