//! Sign-up, login, refresh and logout.

use crate::dto::{LoginRequest, RefreshRequest, SignupRequest, TokenResponse, UserView};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ClientAddr, ValidJson};
use crate::state::AppState;
use crate::tokens::{blocking, hash_password_blocking, new_refresh_token, refresh_hash, verify_password_blocking};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use spendstream_core::period::{WeekStart, parse_time_zone};
use spendstream_core::ports::{RateDecision, RefreshToken, Rotation, User};
use spendstream_core::{Currency, Event, UserId, UserSettings};
use std::time::Duration;

/// Lower-cases and checks an email address.
pub fn normalise_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let bad = || ApiError::field("email", "not a valid email address");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(bad());
    }
    Ok(email)
}

const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "123456789",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "iloveyou123",
    "qwerty123456",
    "11111111111",
    "abcdefghij",
    "letmein1234",
    "welcome123",
    "administrator",
];

/// Checks a new password's strength; names the field on failure.
pub fn check_password(password: &str, email: &str, min: usize) -> Result<(), ApiError> {
    let p = |m: String| ApiError::field("password", m);
    let n = password.chars().count();
    if password.trim().is_empty() {
        return Err(p("must not be blank".into()));
    }
    if n < min {
        return Err(p(format!("must be at least {min} characters")));
    }
    if n > 256 {
        return Err(p("must be at most 256 characters".into()));
    }
    let lower = password.to_lowercase();
    let distinct = lower.chars().collect::<std::collections::HashSet<_>>().len();
    if distinct < 4 || COMMON_PASSWORDS.contains(&lower.as_str()) || lower == email || email.starts_with(&lower) {
        return Err(p("is too easy to guess: use a longer phrase with more different characters".into()));
    }
    Ok(())
}

/// Validates optional settings against a base; errors name the field.
pub(crate) fn settings_from(
    tz: Option<&str>,
    currency: Option<&str>,
    week: Option<&str>,
    base: &UserSettings,
) -> Result<UserSettings, ApiError> {
    let time_zone = match tz {
        Some(t) => {
            parse_time_zone(t).map_err(|e| ApiError::field("time_zone", e))?;
            t.to_owned()
        }
        None => base.time_zone.clone(),
    };
    let currency = match currency {
        Some(c) => Currency::parse(c).map_err(|e| ApiError::field("currency", e.to_string()))?,
        None => base.currency,
    };
    let week_start = match week {
        Some(w) => WeekStart::parse(w).map_err(|e| ApiError::field("week_start", e))?,
        None => base.week_start,
    };
    Ok(UserSettings { time_zone, week_start, currency })
}

async fn issue(state: &AppState, user: &User) -> Result<TokenResponse, ApiError> {
    let (refresh, hash) = new_refresh_token();
    let expires_at = Timestamp::now() + SignedDuration::from_secs(state.tokens.refresh_ttl);
    state
        .accounts
        .insert_refresh(&RefreshToken { hash, family: uuid::Uuid::new_v4().to_string(), user_id: user.id, expires_at })
        .await?;
    Ok(TokenResponse {
        access_token: state.tokens.issue_access(user.id)?,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl,
        refresh_token: refresh,
        user: UserView::from(user),
    })
}

/// Creates an account and logs it in.
#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = TokenResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<SignupRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let email = normalise_email(&req.email)?;
    check_password(&req.password, &email, state.config.auth.min_password_length)?;
    let d = &state.config.defaults;
    let base = UserSettings { time_zone: d.time_zone.clone(), week_start: d.week_start, currency: d.currency };
    let settings = settings_from(req.time_zone.as_deref(), req.currency.as_deref(), req.week_start.as_deref(), &base)?;
    let password = req.password;
    let hash = blocking(move || hash_password_blocking(&password)).await??;
    let user = User { id: UserId(uuid::Uuid::now_v7()), email, settings, created_at: Timestamp::now() };
    state.accounts.create_user(&user, &hash).await?;
    let event = Event::SettingsChanged { user_id: user.id, settings: user.settings.clone() };
    if let Err(e) = state.log.append(vec![event]).await {
        tracing::warn!(error = %e, user = %user.id, "settings event not logged at sign-up; reports fall back to scans");
    }
    Ok((StatusCode::CREATED, Json(issue(&state, &user).await?)))
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Logs in with email and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ValidJson(req): ValidJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let auth = &state.config.auth;
    let email = req.email.trim().to_lowercase();
    let window = secs(auth.login_window_secs);
    let (acct_key, addr_key) = (format!("login:acct:{email}"), format!("login:addr:{addr}"));
    for (key, limit) in [(&acct_key, auth.login_failures_per_account), (&addr_key, auth.login_failures_per_address)] {
        if let RateDecision::Limited { retry_after_secs } = state.shared.check(key, limit, window).await? {
            return Err(ApiError::RateLimited(retry_after_secs));
        }
    }
    let found = state.accounts.user_by_email(&email).await?;
    let hash = found.as_ref().map_or_else(|| state.tokens.dummy_hash().to_owned(), |(_, h)| h.clone());
    let password = req.password;
    let ok = blocking(move || verify_password_blocking(&password, &hash)).await?;
    match found {
        Some((user, _)) if ok => {
            state.shared.reset(&acct_key).await?;
            Ok(Json(issue(&state, &user).await?))
        }
        _ => {
            state.shared.hit(&acct_key, window).await?;
            state.shared.hit(&addr_key, window).await?;
            Err(ApiError::Unauthorized("wrong email or password".into()))
        }
    }
}

/// Trades a refresh token for new tokens; a reused token revokes its family.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let (token, hash) = new_refresh_token();
    let now = Timestamp::now();
    let next = RefreshToken {
        hash,
        family: String::new(),
        user_id: UserId(uuid::Uuid::nil()),
        expires_at: now + SignedDuration::from_secs(state.tokens.refresh_ttl),
    };
    match state.accounts.rotate_refresh(&refresh_hash(req.refresh_token.trim()), &next, now).await? {
        Rotation::Rotated(user_id) => {
            let user =
                state.accounts.user(user_id).await?.ok_or_else(|| ApiError::Unauthorized("account is gone".into()))?;
            Ok(Json(TokenResponse {
                access_token: state.tokens.issue_access(user.id)?,
                token_type: "Bearer",
                expires_in: state.tokens.access_ttl,
                refresh_token: token,
                user: UserView::from(&user),
            }))
        }
        Rotation::Reused => {
            tracing::warn!("refresh token reused: family revoked");
            Err(ApiError::Unauthorized("refresh token was already used; all sessions of this login are revoked".into()))
        }
        Rotation::Invalid => Err(ApiError::Unauthorized("invalid or expired refresh token".into())),
    }
}

/// Revokes the refresh token and its family.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    if state.accounts.revoke_family_of(&refresh_hash(req.refresh_token.trim())).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::Unauthorized("invalid refresh token".into()))
    }
}
