//! Liveness and readiness.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200)))]
pub async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Every engine answers; 503 names the ones that do not.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses((status = 200), (status = 503)))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (log, store, accounts, shared) = tokio::join!(
        state.log.healthcheck(),
        state.store.healthcheck(),
        state.accounts.healthcheck(),
        state.shared.healthcheck(),
    );
    let checks = json!({
        "event_log": log.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into()),
        "store": store.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into()),
        "accounts": accounts.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into()),
        "shared": shared.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into()),
    });
    let ok = log.is_ok() && store.is_ok() && accounts.is_ok() && shared.is_ok();
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({"status": if ok { "ok" } else { "unavailable" }, "checks": checks})))
}
