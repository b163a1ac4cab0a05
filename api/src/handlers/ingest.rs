//! Bank SMS from the phone: API tokens for the forwarder, the ingest endpoint,
//! unparsed messages and bill reminders.

use crate::dto::{
    ApiTokenView, BillView, CreatedApiToken, NewApiToken, SmsBatchIn, SmsIn, SmsIngestResponse, SmsResultView,
    UnparsedPage, UnparsedParams, UnparsedView,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AuthUser, IngestUser, JsonBytes, ValidJson, ValidQuery, parse_json};
use crate::state::AppState;
use crate::tokens::{API_TOKEN_PREFIX, SCOPE_INGEST_SMS, new_api_token};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use spendstream_core::inbox::{InboxItem, SmsStatus};
use spendstream_core::ports::ApiToken;
use spendstream_ingest::pipeline::IncomingSms;
use uuid::Uuid;

const MAX_TOKEN_NAME: usize = 100;

/// Creates an API token for the SMS forwarder; the secret is in this answer only.
#[utoipa::path(post, path = "/v1/tokens", tag = "ingest", security(("bearer" = [])), request_body = NewApiToken,
    responses((status = 201, body = CreatedApiToken), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidJson(req): ValidJson<NewApiToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>), ApiError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::field(
            "name",
            format!("must be 1 to {MAX_TOKEN_NAME} characters, without control characters"),
        ));
    }
    let scope = req.scope.as_deref().map(str::trim).unwrap_or(SCOPE_INGEST_SMS);
    if scope != SCOPE_INGEST_SMS {
        return Err(ApiError::field("scope", format!("unknown scope; the only scope is '{SCOPE_INGEST_SMS}'")));
    }
    let held = state.accounts.api_tokens(uid).await?.len();
    let max = state.config.ingest.max_tokens_per_user;
    if held >= max {
        return Err(ApiError::Conflict(format!("you already hold {held} API tokens (the most allowed); revoke one")));
    }
    let (secret, hash) = new_api_token();
    let token = ApiToken {
        id: Uuid::now_v7(),
        user_id: uid,
        name: name.to_owned(),
        scope: scope.to_owned(),
        prefix: secret.chars().take(API_TOKEN_PREFIX.len() + 6).collect(),
        created_at: Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap_or(Timestamp::UNIX_EPOCH),
        last_used_at: None,
    };
    state.accounts.create_api_token(&token, &hash).await?;
    Ok((StatusCode::CREATED, Json(CreatedApiToken { token: secret, details: ApiTokenView::from(&token) })))
}

/// The caller's live API tokens (never their secrets).
#[utoipa::path(get, path = "/v1/tokens", tag = "ingest", security(("bearer" = [])),
    responses((status = 200, body = Vec<ApiTokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
) -> Result<Json<Vec<ApiTokenView>>, ApiError> {
    Ok(Json(state.accounts.api_tokens(uid).await?.iter().map(ApiTokenView::from).collect()))
}

/// Revokes an API token at once.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "ingest", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_token(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::NotFound("no such API token".into());
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    if state.accounts.revoke_api_token(uid, id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(not_found()) }
}

/// `received_at` as RFC 3339, or milliseconds since the epoch (number or digits).
fn parse_received_at(v: Option<&serde_json::Value>, now: Timestamp) -> Result<Timestamp, String> {
    const HINT: &str = "must be RFC 3339 (2026-11-24T09:30:00+05:30) or milliseconds since the epoch";
    let millis = |ms: i64| Timestamp::from_millisecond(ms).map_err(|_| HINT.to_owned());
    let at = match v {
        None | Some(serde_json::Value::Null) => return Ok(now),
        Some(serde_json::Value::Number(n)) => millis(n.as_i64().ok_or_else(|| HINT.to_owned())?)?,
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            millis(s.parse().map_err(|_| HINT.to_owned())?)?
        }
        Some(serde_json::Value::String(s)) => s.trim().parse::<Timestamp>().map_err(|_| HINT.to_owned())?,
        Some(_) => return Err(HINT.to_owned()),
    };
    if at > now.checked_add(jiff::SignedDuration::from_hours(24)).unwrap_or(now) {
        return Err("is more than a day in the future".into());
    }
    if at < Timestamp::from_second(946_684_800).unwrap_or(Timestamp::UNIX_EPOCH) {
        return Err("is before the year 2000".into());
    }
    Ok(at)
}

fn result_of(index: usize, item: &InboxItem, seen_before: bool) -> SmsResultView {
    SmsResultView {
        index,
        id: Some(item.id.to_string()),
        status: item.status.as_str().to_owned(),
        class: Some(item.class.clone()),
        entry_id: item.entry_id.map(|e| e.to_string()),
        bill_id: item.bill_id.map(|b| b.to_string()),
        reason: item.reason.clone(),
        seen_before,
    }
}

fn rejected(index: usize, reason: String) -> SmsResultView {
    SmsResultView {
        index,
        id: None,
        status: "rejected".into(),
        class: None,
        entry_id: None,
        bill_id: None,
        reason: Some(reason),
        seen_before: false,
    }
}

/// Takes bank SMS forwarded from the user's phone: one message, a
/// `{"messages": [...]}` batch or a bare array. Transactions become entries
/// (the same SMS twice, or one transaction reported by two messages, is one
/// entry), bill reminders become bills, and messages that look financial but
/// do not parse are kept at `GET /v1/ingest/unparsed`. Authenticate with an
/// API token of scope `ingest:sms` (or an access token).
#[utoipa::path(post, path = "/v1/ingest/sms", tag = "ingest", security(("bearer" = [])), request_body = SmsBatchIn,
    responses((status = 200, body = SmsIngestResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn ingest_sms(
    State(state): State<AppState>,
    IngestUser(uid): IngestUser,
    JsonBytes(body): JsonBytes,
) -> Result<Json<SmsIngestResponse>, ApiError> {
    let input: SmsBatchIn = parse_json(&body)?;
    let (single, values) = match input {
        SmsBatchIn::One(v) => (true, vec![v]),
        SmsBatchIn::Batch { messages } | SmsBatchIn::List(messages) => (false, messages),
    };
    let max = state.config.ingest.max_batch;
    if values.is_empty() || values.len() > max {
        return Err(ApiError::field("messages", format!("must hold 1 to {max} messages")));
    }
    let user = state.user(uid).await?;
    let now = Timestamp::now();
    let mut results = Vec::with_capacity(values.len());
    let mut last = None;
    for (index, value) in values.into_iter().enumerate() {
        let parsed: Result<IncomingSms, ApiError> = (|| {
            let m: SmsIn =
                serde_json::from_value(value).map_err(|e| ApiError::BadRequest(format!("invalid message: {e}")))?;
            let received_at =
                parse_received_at(m.received_at.as_ref(), now).map_err(|e| ApiError::field("received_at", e))?;
            Ok(IncomingSms { sender: m.sender, body: m.body, received_at })
        })();
        let outcome = match parsed {
            Ok(sms) => state.sms.ingest(&user, sms).await.map_err(ApiError::from),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(done) => {
                last = done.position.or(last);
                results.push(result_of(index, &done.item, done.seen_before));
            }
            // One bad message of a batch does not reject the others.
            Err(e @ (ApiError::Field { .. } | ApiError::BadRequest(_))) if !single => {
                results.push(rejected(index, e.to_string()))
            }
            Err(e) => return Err(e),
        }
    }
    // As for POST /v1/expenses: answer once the entries count in reports, or
    // after api.read_your_writes_ms (they are durable either way).
    if let Some(p) = last {
        let wait = std::time::Duration::from_millis(state.config.api.read_your_writes_ms);
        state.store.wait_applied(p, wait).await;
    }
    Ok(Json(SmsIngestResponse { results }))
}

fn encode_cursor(item: &InboxItem) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", item.received_at.as_microsecond(), item.id))
}

fn decode_cursor(s: &str) -> Option<(Timestamp, Uuid)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    let (at, id) = raw.split_once(':')?;
    Some((Timestamp::from_microsecond(at.parse().ok()?).ok()?, Uuid::parse_str(id).ok()?))
}

/// Forwarded messages that look financial but could not be read, newest
/// first, with the reason; `spendstream ingest reparse` reads them again.
#[utoipa::path(get, path = "/v1/ingest/unparsed", tag = "ingest", security(("bearer" = [])), params(UnparsedParams),
    responses((status = 200, body = UnparsedPage), (status = 400, body = ErrorBody)))]
pub async fn unparsed(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidQuery(p): ValidQuery<UnparsedParams>,
) -> Result<Json<UnparsedPage>, ApiError> {
    let max = state.config.api.list_max_limit;
    let limit = p.limit.unwrap_or(state.config.api.list_default_limit);
    if limit == 0 || limit > max {
        return Err(ApiError::field("limit", format!("must be between 1 and {max}")));
    }
    let before = match p.cursor.as_deref() {
        Some(c) => Some(decode_cursor(c).ok_or_else(|| ApiError::field("cursor", "is not a cursor from this API"))?),
        None => None,
    };
    let mut items = state.inbox.items(uid, SmsStatus::Unparsed, before, limit + 1).await?;
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = if more { items.last().map(encode_cursor) } else { None };
    let messages = items
        .iter()
        .map(|i| UnparsedView {
            id: i.id.to_string(),
            sender: i.sender.clone(),
            body: i.body.clone(),
            received_at: i.received_at.to_string(),
            class: i.class.clone(),
            reason: i.reason.clone(),
        })
        .collect();
    Ok(Json(UnparsedPage { messages, next_cursor }))
}

/// Bill and card-statement reminders read from SMS: due ones first (soonest
/// first), then paid ones with the payment that settled them.
#[utoipa::path(get, path = "/v1/bills", tag = "ingest", security(("bearer" = [])),
    responses((status = 200, body = Vec<BillView>)))]
pub async fn bills(State(state): State<AppState>, AuthUser(uid): AuthUser) -> Result<Json<Vec<BillView>>, ApiError> {
    Ok(Json(state.inbox.bills(uid).await?.iter().map(BillView::from).collect()))
}
