//! `ApiError`: every failure as a JSON body with a stable code. 4xx carry a
//! message for the client; 5xx carry a generic message and the cause is logged.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use spendstream_core::ports::{AccountsError, LogError, SharedError, StoreError};
use utoipa::ToSchema;

/// The error body: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Details of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_field`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a field is missing or wrong.
    #[error("{field}: {message}")]
    Field {
        /// Field name.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// 400: the request is wrong as a whole (malformed JSON, ...).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or bad credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid credentials that may not do this (an API token outside its scope).
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 413.
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// 415.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but cannot be processed (e.g. idempotency key reuse).
    #[error("{0}")]
    Unprocessable(String),
    /// 429.
    #[error("too many attempts; retry after {0} seconds")]
    RateLimited(u64),
    /// 503: an engine is down or slow; retry.
    #[error("service temporarily unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected engine failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming `field`.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Field { field: field.to_owned(), message: message.into() }
    }

    fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Field { .. } => (StatusCode::BAD_REQUEST, "invalid_field"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        let message = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "internal error; it has been logged".to_owned()
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                "service temporarily unavailable; retry shortly".to_owned()
            }
            ApiError::Field { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let field = match &self {
            ApiError::Field { field, .. } => Some(field.clone()),
            _ => None,
        };
        let mut resp = (status, Json(ErrorBody { error: ErrorDetail { code, message, field } })).into_response();
        let retry = match &self {
            ApiError::RateLimited(s) => Some(*s),
            ApiError::Unavailable(_) => Some(1),
            _ => None,
        };
        if let Some(s) = retry
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Unavailable(m) => ApiError::Unavailable(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ApiError::Unavailable(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AccountsError> for ApiError {
    fn from(e: AccountsError) -> Self {
        match e {
            AccountsError::DuplicateEmail => ApiError::Conflict("an account with this email already exists".into()),
            AccountsError::NotFound => ApiError::NotFound("not found".into()),
            AccountsError::Unavailable(m) => ApiError::Unavailable(m),
            AccountsError::Other(m) => ApiError::Internal(m),
        }
    }
}

impl From<spendstream_core::chats::ChatsError> for ApiError {
    fn from(e: spendstream_core::chats::ChatsError) -> Self {
        match e {
            spendstream_core::chats::ChatsError::Unavailable(m) => ApiError::Unavailable(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<SharedError> for ApiError {
    fn from(e: SharedError) -> Self {
        match e {
            SharedError::Unavailable(m) => ApiError::Unavailable(m),
        }
    }
}

impl From<spendstream_core::inbox::InboxError> for ApiError {
    fn from(e: spendstream_core::inbox::InboxError) -> Self {
        match e {
            spendstream_core::inbox::InboxError::Unavailable(m) => ApiError::Unavailable(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<spendstream_ingest::pipeline::IngestError> for ApiError {
    fn from(e: spendstream_ingest::pipeline::IngestError) -> Self {
        use spendstream_ingest::pipeline::IngestError;
        match e {
            IngestError::Input { field, message } => ApiError::field(field, message),
            IngestError::Log(e) => e.into(),
            IngestError::Inbox(e) => e.into(),
            IngestError::Accounts(e) => e.into(),
        }
    }
}
