//! Extractors: JSON bodies and query strings whose rejections become
//! `ApiError`s with clear messages, the authenticated user, the client address.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use spendstream_core::UserId;
use std::net::SocketAddr;

/// The media type of `req`'s `Content-Type`, without parameters.
fn media_type(req: &Request) -> Option<&str> {
    let value = req.headers().get(axum::http::header::CONTENT_TYPE)?.to_str().ok()?;
    value.split(';').next().map(str::trim)
}

/// The whole body of `req`; over the route's body limit (`limit` bytes) a 413.
async fn body<S: Send + Sync>(req: Request, state: &S, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    match axum::body::Bytes::from_request(req, state).await {
        Ok(b) => Ok(b),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::TooLarge(limit)),
        Err(e) => Err(ApiError::BadRequest(format!("could not read the body: {}", e.body_text()))),
    }
}

/// The raw body of a JSON request: checks the content type and the size limit.
pub struct JsonBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = media_type(&req)
            .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "expected a JSON body with Content-Type: application/json".into(),
            ));
        }
        body(req, state, crate::state::body_limit()).await.map(JsonBytes)
    }
}

/// The raw body of a CSV upload (`text/csv` or `application/csv`), up to
/// `api.import_max_bytes` (the route's own body limit).
pub struct CsvBytes(pub axum::body::Bytes);

impl FromRequest<AppState> for CsvBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !media_type(&req).is_some_and(|m| matches!(m, "text/csv" | "application/csv")) {
            return Err(ApiError::UnsupportedMediaType("expected a CSV body with Content-Type: text/csv".into()));
        }
        body(req, state, state.config.api.import_max_bytes).await.map(CsvBytes)
    }
}

/// Parses a JSON body; syntax errors and wrong or unknown fields become 400s
/// that say where.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::BadRequest(format!("invalid request body: {e}")),
        _ => ApiError::BadRequest(format!("malformed JSON: {e}")),
    })
}

/// A JSON body with clear 400 / 413 / 415 errors.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        parse_json(&bytes).map(ValidJson)
    }
}

/// A query string with clear errors.
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(q) => Ok(ValidQuery(q.0)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::BadRequest(format!(
                "invalid query string: {}",
                e.body_text().trim_start_matches("Failed to deserialize query string: ")
            ))),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// The token of `Authorization: Bearer <token>`; `what` names it in the error.
fn bearer<'a>(parts: &'a Parts, what: &str) -> Result<&'a str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::Unauthorized(format!("missing Authorization: Bearer <{what}>")))?;
    let token = header
        .strip_prefix("Bearer ")
        .ok_or_else(|| ApiError::Unauthorized(format!("Authorization must be 'Bearer <{what}>'")))?;
    Ok(token.trim())
}

/// The user of a valid `Authorization: Bearer <access token>`.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub UserId);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts, "access token")?;
        if token.starts_with(crate::tokens::API_TOKEN_PREFIX) {
            return Err(ApiError::Forbidden(
                "API tokens only work for POST /v1/ingest/sms; sign in for an access token".into(),
            ));
        }
        state.tokens.verify_access(token).map(AuthUser)
    }
}

/// The user behind `Authorization: Bearer <token>` on the SMS ingest endpoint:
/// an API token with scope `ingest:sms` (what a phone holds) or an access token.
#[derive(Debug, Clone, Copy)]
pub struct IngestUser(pub UserId);

impl FromRequestParts<AppState> for IngestUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts, "API token")?;
        if !token.starts_with(crate::tokens::API_TOKEN_PREFIX) {
            return state.tokens.verify_access(token).map(IngestUser);
        }
        let found = state.accounts.use_api_token(&crate::tokens::refresh_hash(token), jiff::Timestamp::now()).await?;
        match found {
            Some(t) if t.scope == crate::tokens::SCOPE_INGEST_SMS => Ok(IngestUser(t.user_id)),
            Some(t) => Err(ApiError::Forbidden(format!("this token's scope is '{}', not 'ingest:sms'", t.scope))),
            None => Err(ApiError::Unauthorized("unknown or revoked API token".into())),
        }
    }
}

/// The client's address, for per-address rate limits ("unknown" without a socket).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}
