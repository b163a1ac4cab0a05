//! Adding, removing, reading and listing entries.

use crate::dto::{EntryPage, EntryView, ImportResult, ListParams, NewEntry, PatchEntry};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AuthUser, CsvBytes, JsonBytes, ValidJson, ValidQuery, parse_json};
use crate::handlers::reports;
use crate::state::AppState;
use crate::time::{parse_bound, parse_occurred_at};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use spendstream_core::entry::to_micros;
use spendstream_core::period::parse_time_zone;
use spendstream_core::ports::{Cursor, ListQuery, User};
use spendstream_core::{CategoryId, Config, Currency, Entry, EntryId, Event, Money, Source, UserId};
use std::time::Duration;

const MAX_MERCHANT: usize = 200;
const MAX_NOTE: usize = 1000;

fn clean_text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > max {
        return Err(ApiError::field(field, format!("must be at most {max} characters")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ApiError::field(field, "must not contain control characters"));
    }
    Ok(Some(t.to_owned()))
}

/// Validates a new entry into an `Entry` for `user`.
pub fn validate_entry(
    config: &Config,
    user: &User,
    id: EntryId,
    req: NewEntry,
    source: Source,
) -> Result<Entry, ApiError> {
    let currency = match req.currency.as_deref() {
        Some(c) => Currency::parse(c).map_err(|e| ApiError::field("currency", e.to_string()))?,
        None => user.settings.currency,
    };
    let minor = currency.parse_amount(&req.amount).map_err(|e| ApiError::field("amount", e.to_string()))?;
    let tz = parse_time_zone(&user.settings.time_zone).map_err(ApiError::Internal)?;
    let now = to_micros(Timestamp::now());
    let occurred_at = match req.occurred_at.as_deref() {
        Some(s) => to_micros(parse_occurred_at(s, &tz, now).map_err(|m| ApiError::field("occurred_at", m))?),
        None => now,
    };
    let user_category = match req.category {
        Some(c) => {
            let id = CategoryId(c.trim().to_owned());
            if !config.categories.iter().any(|d| d.id == id) {
                return Err(ApiError::field(
                    "category",
                    format!("unknown category '{}'; see GET /v1/categories", truncate(&c)),
                ));
            }
            Some(id)
        }
        None => None,
    };
    Ok(Entry {
        id,
        user_id: user.id,
        kind: req.kind.unwrap_or_default(),
        amount: Money { minor, currency },
        occurred_at,
        merchant: clean_text("merchant", req.merchant, MAX_MERCHANT)?,
        note: clean_text("note", req.note, MAX_NOTE)?,
        user_category,
        source,
        created_at: now,
        origin: None,
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let s = v.to_str().map_err(|_| ApiError::field("Idempotency-Key", "must be visible ASCII"))?;
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field("Idempotency-Key", "must be 1 to 255 visible ASCII characters"));
    }
    Ok(Some(s.to_owned()))
}

async fn current_user(state: &AppState, id: UserId) -> Result<User, ApiError> {
    state.user(id).await
}

/// Adds an expense or income. With `Idempotency-Key`, a retry returns the same entry.
#[utoipa::path(post, path = "/v1/expenses", tag = "expenses", security(("bearer" = [])), request_body = NewEntry,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    responses((status = 201, body = EntryView), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    headers: HeaderMap,
    JsonBytes(body): JsonBytes,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let req: NewEntry = parse_json(&body)?;
    let user = current_user(&state, uid).await?;
    let id = match &key {
        Some(k) => EntryId::from_idempotency_key(uid, k),
        None => EntryId::random(),
    };
    let entry = validate_entry(&state.config, &user, id, req, Source::Manual)?;
    if let Some(k) = &key {
        let fingerprint = crate::tokens::sha256_hex(&body);
        let ttl = Duration::from_secs(state.config.api.idempotency_ttl_secs);
        let stored = state.shared.put_if_absent(&format!("idem:{uid}:{k}"), &fingerprint, ttl).await?;
        if stored != fingerprint {
            return Err(ApiError::Unprocessable("Idempotency-Key was already used with a different request".into()));
        }
        if state.store.known(uid, id).await? {
            return replay(&state, uid, id).await;
        }
    }
    let applied = state.append_and_wait(vec![Event::EntryAdded { entry: entry.clone() }]).await?;
    let processed = if applied { state.store.entry(uid, id).await? } else { None };
    let view = match processed {
        Some(e) => EntryView::processed(&e, &state.config),
        None => EntryView::pending(&entry),
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Refused rows named in a 422, at most.
const REFUSED_SHOWN: usize = 20;

/// Imports a CSV of entries, all or nothing: `Content-Type: text/csv`, the
/// columns of `spendstream import` (`occurred_at,amount,currency,merchant,note,category,kind,id`,
/// only `amount` required), up to `api.import_max_bytes`, within
/// `api.import_timeout_ms` (not `server.request_timeout_ms`). A row with an `id`
/// column, or any row of a file sent again, is stored once: a retry is safe.
/// If any row is wrong nothing is stored and the 422 names the lines.
#[utoipa::path(post, path = "/v1/expenses/import", tag = "expenses", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "CSV with a header row"),
    responses((status = 201, body = ImportResult), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    CsvBytes(body): CsvBytes,
) -> Result<Response, ApiError> {
    let user = current_user(&state, uid).await?;
    // Rows without an `id` get one from the file's digest and their line:
    // the same file sent again maps to the same entries.
    let digest = crate::tokens::sha256_hex(&body);
    let config = state.config.clone();
    let (entries, refused) = tokio::task::spawn_blocking(move || {
        let row_id = |line: usize| EntryId::from_idempotency_key(uid, &format!("import:{digest}:{line}"));
        let (mut entries, mut refused) = (Vec::new(), Vec::new());
        for row in crate::import::csv_entries(&config, &user, &body[..], row_id) {
            match row {
                Ok(e) => entries.push(e),
                Err(r) => refused.push(r),
            }
        }
        (entries, refused)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("CSV parser: {e}")))?;
    if !refused.is_empty() {
        let shown: Vec<String> =
            refused.iter().take(REFUSED_SHOWN).map(|r| format!("line {}: {}", r.line, r.reason)).collect();
        let more = refused.len().saturating_sub(REFUSED_SHOWN);
        return Err(ApiError::Unprocessable(format!(
            "{} of {} rows refused, nothing imported: {}{}",
            refused.len(),
            refused.len() + entries.len(),
            shown.join("; "),
            if more > 0 { format!("; and {more} more") } else { String::new() }
        )));
    }
    if entries.is_empty() {
        return Err(ApiError::BadRequest("the CSV has no rows under its header".into()));
    }
    let imported = entries.len();
    let processed = state.append_and_wait(crate::import::records(uid, entries)).await?;
    Ok((StatusCode::CREATED, Json(ImportResult { imported, processed })).into_response())
}

async fn replay(state: &AppState, uid: UserId, id: EntryId) -> Result<Response, ApiError> {
    let e = state
        .store
        .entry(uid, id)
        .await?
        .ok_or_else(|| ApiError::Conflict("the entry created with this Idempotency-Key was removed".into()))?;
    let mut resp = (StatusCode::CREATED, Json(EntryView::processed(&e, &state.config))).into_response();
    resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(resp)
}

fn parse_id(raw: &str) -> Result<EntryId, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(EntryId)
        .map_err(|_| ApiError::NotFound(format!("no entry with id '{}'", truncate(raw))))
}

/// One entry.
#[utoipa::path(get, path = "/v1/expenses/{id}", tag = "expenses", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = EntryView), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<EntryView>, ApiError> {
    let id = parse_id(&raw)?;
    let e = state.store.entry(uid, id).await?.ok_or_else(|| ApiError::NotFound(format!("no entry with id '{id}'")))?;
    Ok(Json(EntryView::processed(&e, &state.config)))
}

/// Moves an entry to another category. The store learns the merchant: later
/// entries from it get the category too, and with `apply_to_past` so do the
/// earlier ones whose category the user did not set.
#[utoipa::path(patch, path = "/v1/expenses/{id}", tag = "expenses", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PatchEntry,
    responses((status = 200, body = EntryView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn recategorise(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    Path(raw): Path<String>,
    ValidJson(req): ValidJson<PatchEntry>,
) -> Result<Json<EntryView>, ApiError> {
    let id = parse_id(&raw)?;
    let category = CategoryId(req.category.trim().to_owned());
    if !state.config.categories.iter().any(|d| d.id == category) {
        return Err(ApiError::field(
            "category",
            format!("unknown category '{}'; see GET /v1/categories", truncate(&req.category)),
        ));
    }
    let e = state.store.entry(uid, id).await?.ok_or_else(|| ApiError::NotFound(format!("no entry with id '{id}'")))?;
    let event = Event::EntryRecategorised {
        user_id: uid,
        entry_id: id,
        category,
        apply_to_past: req.apply_to_past,
        at: Timestamp::now(),
        merchant: e.entry.merchant.clone(),
    };
    state.append_and_wait(vec![event]).await?;
    let e = state.store.entry(uid, id).await?.ok_or_else(|| ApiError::NotFound(format!("no entry with id '{id}'")))?;
    Ok(Json(EntryView::processed(&e, &state.config)))
}

/// Removes an entry; reports stop counting it.
#[utoipa::path(delete, path = "/v1/expenses/{id}", tag = "expenses", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&raw)?;
    if state.store.entry(uid, id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no entry with id '{id}'")));
    }
    state
        .append_and_wait(vec![Event::EntryRemoved { user_id: uid, entry_id: id, removed_at: Timestamp::now() }])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn encode_cursor(c: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", c.occurred_at.as_microsecond(), c.id))
}

fn decode_cursor(s: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::field("cursor", "not a cursor returned by this API");
    let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (ts, id) = text.split_once('|').ok_or_else(bad)?;
    Ok(Cursor {
        occurred_at: Timestamp::from_microsecond(ts.parse().map_err(|_| bad())?).map_err(|_| bad())?,
        id: EntryId(uuid::Uuid::parse_str(id).map_err(|_| bad())?),
    })
}

/// Entries, newest first, filtered and cursor-paginated.
#[utoipa::path(get, path = "/v1/expenses", tag = "expenses", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = EntryPage), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidQuery(p): ValidQuery<ListParams>,
) -> Result<Response, ApiError> {
    let api = &state.config.api;
    let limit = p.limit.unwrap_or(api.list_default_limit);
    if limit == 0 || limit > api.list_max_limit {
        return Err(ApiError::field("limit", format!("must be between 1 and {}", api.list_max_limit)));
    }
    let needs_zone = p.from.is_some() || p.to.is_some();
    let tz = if needs_zone {
        let user = current_user(&state, uid).await?;
        parse_time_zone(&user.settings.time_zone).map_err(ApiError::Internal)?
    } else {
        jiff::tz::TimeZone::UTC
    };
    let from =
        p.from.as_deref().map(|s| parse_bound(s, &tz, false)).transpose().map_err(|m| ApiError::field("from", m))?;
    let to = p.to.as_deref().map(|s| parse_bound(s, &tz, true)).transpose().map_err(|m| ApiError::field("to", m))?;
    let category = match p.category {
        Some(c) if !state.config.categories.iter().any(|d| d.id.as_str() == c) => {
            return Err(ApiError::field("category", format!("unknown category '{}'", truncate(&c))));
        }
        other => other.map(CategoryId),
    };
    if p.q.as_ref().is_some_and(|q| q.chars().count() > MAX_MERCHANT) {
        return Err(ApiError::field("q", format!("must be at most {MAX_MERCHANT} characters")));
    }
    let query = ListQuery {
        from,
        to,
        category,
        text: p.q.filter(|q| !q.trim().is_empty()),
        after: p.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    // A page is a function of the user's data and the query alone, so it is
    // cached under the store's version like a report: a write makes it miss.
    let key = format!(
        "list|{:?}|{:?}|{:?}|{:?}|{:?}|{limit}",
        query.from.map(|t| t.as_microsecond()),
        query.to.map(|t| t.as_microsecond()),
        query.category.as_ref().map(|c| c.as_str()),
        query.text,
        query.after.as_ref().map(encode_cursor),
    );
    reports::cached(&state, uid, key, async {
        let page = state.store.list(uid, &query).await?;
        Ok(EntryPage {
            entries: page.entries.iter().map(|e| EntryView::processed(e, &state.config)).collect(),
            next_cursor: page.next.as_ref().map(encode_cursor),
        })
    })
    .await
}
