//! Reports, rolling statistics and the category list.

use crate::dto::{CategoryView, ReportParams, StatsParams};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AuthUser, ValidQuery};
use crate::handlers::insight;
use crate::state::AppState;
use crate::time::{parse_date, today};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use spendstream_core::UserId;
use spendstream_core::config::SharedKind;
use spendstream_core::insight::BudgetPeriod;
use spendstream_core::period::{Period, parse_time_zone};
use spendstream_core::report::{Report, ReportRequest, Window, build_report, build_stats, stats_windows};
use utoipa::ToSchema;

/// A weekly, monthly or yearly report, cut in the user's zone and week.
#[utoipa::path(get, path = "/v1/reports", tag = "reports", security(("bearer" = [])), params(ReportParams),
    responses((status = 200, body = Report), (status = 400, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidQuery(p): ValidQuery<ReportParams>,
) -> Result<Response, ApiError> {
    let period: Period = p.period.parse().map_err(|e: String| ApiError::field("period", e))?;
    let user = state.user(uid).await?;
    let tz = parse_time_zone(&user.settings.time_zone).map_err(ApiError::Internal)?;
    let today = today(&tz);
    let date = p.date.as_deref().map(parse_date).transpose().map_err(|m| ApiError::field("date", m))?.unwrap_or(today);
    let req = ReportRequest {
        period,
        date,
        today,
        week_start: user.settings.week_start,
        currency: user.settings.currency,
        time_zone: &user.settings.time_zone,
        categories: &state.config.categories,
    };
    let (cur, prev) = req.ranges();
    let key = format!(
        "report|{period:?}|{}|{}|{}|{}|{}",
        cur.start,
        today,
        user.settings.time_zone,
        user.settings.week_start.name(),
        user.settings.currency.code()
    );
    let top = state.config.api.top_merchants;
    let zone = &user.settings.time_zone;
    // A year needs only monthly cells (its buckets are months), and the
    // previous period only its totals, so monthly cells serve it where they can.
    let by_month = period == Period::Year;
    cached(&state, uid, key, async {
        let (current, previous, profile) = tokio::try_join!(
            state.store.summarize(uid, cur.start, cur.end, zone, top, by_month),
            state.store.summarize(uid, prev.start, prev.end, zone, 0, true),
            state.store.profile(uid),
        )?;
        let mut report = build_report(&req, &current, &previous);
        let kind = match period {
            Period::Week => BudgetPeriod::Week,
            Period::Month => BudgetPeriod::Month,
            Period::Year => BudgetPeriod::Year,
        };
        let budgets: Vec<_> = profile.budgets.into_iter().filter(|b| b.period == kind).collect();
        if !budgets.is_empty() {
            report.budgets = insight::statuses(&state, &user, &budgets, date, today).await?;
        }
        Ok(report)
    })
    .await
}

/// The cached answer for `key`, or `compute`'s, serialized and cached.
///
/// The store's version is read before `compute` runs (futures start when
/// awaited), so a write racing this request can only make the cached answer
/// miss, never serve old totals.
pub(crate) async fn cached<T: Serialize>(
    state: &AppState,
    uid: UserId,
    key: String,
    compute: impl Future<Output = Result<T, ApiError>>,
) -> Result<Response, ApiError> {
    let version = state.store.version(uid).await?;
    if let Some(body) = state.report_cache.get(uid, version, &key) {
        return Ok(json_body(body));
    }
    // With several API processes, one computes and the others find it in Redis.
    // The version is part of the key, so a shared answer is never stale; a
    // Redis outage only costs the computation.
    let remote = state.config.backends.shared == SharedKind::Redis;
    let shared_key = format!("report:{uid}:{version}:{key}");
    if remote {
        match state.shared.cache_get(&shared_key).await {
            Ok(Some(body)) => {
                let body = Bytes::from(body);
                state.report_cache.put(uid, version, key, body.clone());
                return Ok(json_body(body));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "shared report cache unavailable; computing"),
        }
    }
    let value = compute.await?;
    let body =
        serde_json::to_vec(&value).map(Bytes::from).map_err(|e| ApiError::Internal(format!("serializing: {e}")))?;
    if remote && let Err(e) = state.shared.cache_put(&shared_key, &body, SHARED_REPORT_TTL).await {
        tracing::warn!(error = %e, "shared report cache unavailable; not kept");
    }
    state.report_cache.put(uid, version, key, body.clone());
    Ok(json_body(body))
}

/// How long a computed answer stays in the shared cache (answers of old
/// versions are never asked for again; this bounds the memory they hold).
const SHARED_REPORT_TTL: std::time::Duration = std::time::Duration::from_secs(600);

fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// Rolling windows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// Day the windows end on.
    #[schema(value_type = String)]
    pub date: jiff::civil::Date,
    /// Currency of the amounts.
    pub currency: String,
    /// today, last_7_days, last_30_days, last_90_days, month_to_date, year_to_date.
    pub windows: Vec<Window>,
}

/// Rolling spend per category: today, last 7 / 30 / 90 days, month and year to date.
#[utoipa::path(get, path = "/v1/stats", tag = "reports", security(("bearer" = [])), params(StatsParams),
    responses((status = 200, body = Stats), (status = 400, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidQuery(p): ValidQuery<StatsParams>,
) -> Result<Response, ApiError> {
    let user = state.user(uid).await?;
    let tz = parse_time_zone(&user.settings.time_zone).map_err(ApiError::Internal)?;
    let date = p
        .date
        .as_deref()
        .map(parse_date)
        .transpose()
        .map_err(|m| ApiError::field("date", m))?
        .unwrap_or_else(|| today(&tz));
    let key = format!("stats|{date}|{}|{}", user.settings.time_zone, user.settings.currency.code());
    cached(&state, uid, key, async {
        let windows = stats_windows(date);
        let from = windows.iter().map(|(_, r)| r.start).min().unwrap_or(date);
        let to = windows.iter().map(|(_, r)| r.end).max().unwrap_or(date);
        let summary = state.store.summarize(uid, from, to, &user.settings.time_zone, 0, false).await?;
        Ok(Stats {
            date,
            currency: user.settings.currency.code().to_owned(),
            windows: build_stats(date, user.settings.currency, &summary, &state.config.categories),
        })
    })
    .await
}

/// The categories in force.
#[utoipa::path(get, path = "/v1/categories", tag = "reports", responses((status = 200, body = Vec<CategoryView>)))]
pub async fn categories(State(state): State<AppState>) -> Json<Vec<CategoryView>> {
    Json(
        state
            .config
            .categories
            .iter()
            .map(|c| CategoryView { id: c.id.to_string(), name: c.name.clone(), emoji: c.emoji.clone() })
            .collect(),
    )
}
