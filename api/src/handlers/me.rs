//! The signed-in user's profile and settings.

use crate::dto::{PatchMe, UserView};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AuthUser, ValidJson};
use crate::handlers::auth::settings_from;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use spendstream_core::Event;

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, AuthUser(id): AuthUser) -> Result<Json<UserView>, ApiError> {
    let user = state.accounts.user(id).await?.ok_or_else(|| ApiError::Unauthorized("account is gone".into()))?;
    Ok(Json(UserView::from(&user)))
}

/// Changes time zone, week start or currency; reports are re-cut accordingly.
#[utoipa::path(patch, path = "/v1/me", tag = "me", security(("bearer" = [])), request_body = PatchMe,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody)))]
pub async fn patch_me(
    State(state): State<AppState>,
    AuthUser(id): AuthUser,
    ValidJson(req): ValidJson<PatchMe>,
) -> Result<Json<UserView>, ApiError> {
    let mut user = state.accounts.user(id).await?.ok_or_else(|| ApiError::Unauthorized("account is gone".into()))?;
    state.forget_user(id);
    let settings =
        settings_from(req.time_zone.as_deref(), req.currency.as_deref(), req.week_start.as_deref(), &user.settings)?;
    state.accounts.update_settings(id, &settings).await?;
    state.forget_user(id);
    state.append_and_wait(vec![Event::SettingsChanged { user_id: id, settings: settings.clone() }]).await?;
    user.settings = settings;
    Ok(Json(UserView::from(&user)))
}
