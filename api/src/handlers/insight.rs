//! Budgets, risk alerts, tips and recurring charges. Changes go through the
//! event log like entries, so the processors see them in order with the
//! spending they judge.

use crate::dto::{
    AlertParams, AlertView, BudgetParams, LearnedRuleView, NewBudget, PatchBudget, RecurringParams, RecurringView,
    TipsParams, TipsView,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AuthUser, ValidJson, ValidQuery};
use crate::state::AppState;
use crate::time::{parse_date, today};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::Date;
use spendstream_core::insight::{Budget, BudgetPeriod, BudgetStatus, budget_status};
use spendstream_core::period::{Period, parse_time_zone, period_range};
use spendstream_core::ports::User;
use spendstream_core::{CategoryId, Currency, Event, Money, UserId};
use spendstream_processors::history::{period_tips, recurring_as_of};
use uuid::Uuid;

/// Budgets one user may hold.
const MAX_BUDGETS: usize = 100;

fn parse_period(s: &str) -> Result<BudgetPeriod, ApiError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "week" | "weekly" => Ok(BudgetPeriod::Week),
        "month" | "monthly" => Ok(BudgetPeriod::Month),
        "year" | "yearly" => Ok(BudgetPeriod::Year),
        _ => Err(ApiError::field("period", "must be week, month or year")),
    }
}

fn check_start_day(period: BudgetPeriod, day: Option<u8>) -> Result<u8, ApiError> {
    match (period, day) {
        (_, None) => Ok(1),
        (BudgetPeriod::Month, Some(d)) if (1..=31).contains(&d) => Ok(d),
        (BudgetPeriod::Month, Some(_)) => Err(ApiError::field("start_day", "must be between 1 and 31")),
        (_, Some(1)) => Ok(1),
        (_, Some(_)) => Err(ApiError::field("start_day", "only monthly budgets start on another day")),
    }
}

fn check_category(state: &AppState, c: Option<String>) -> Result<Option<CategoryId>, ApiError> {
    let Some(c) = c.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) else { return Ok(None) };
    let id = CategoryId(c);
    if !state.config.categories.iter().any(|d| d.id == id) {
        let shown: String = id.as_str().chars().take(40).collect();
        return Err(ApiError::field("category", format!("unknown category '{shown}'; see GET /v1/categories")));
    }
    Ok(Some(id))
}

/// Appends `events` and waits (within `api.read_your_writes_ms`) until the store shows them.
async fn write(state: &AppState, events: Vec<Event>) -> Result<(), ApiError> {
    state.append_and_wait(events).await.map(|_| ())
}

async fn budgets_of(state: &AppState, uid: UserId) -> Result<Vec<Budget>, ApiError> {
    Ok(state.store.profile(uid).await?.budgets)
}

fn budget_name(state: &AppState, b: &Budget) -> String {
    b.name(&state.config.categories)
}

/// Each budget's status for its period holding `date`, judged on `today`.
pub async fn statuses(
    state: &AppState,
    user: &User,
    budgets: &[Budget],
    date: Date,
    today: Date,
) -> Result<Vec<BudgetStatus>, ApiError> {
    let mut out = Vec::with_capacity(budgets.len());
    for b in budgets {
        let range = b.range(date, user.settings.week_start);
        let summary =
            state.store.summarize(user.id, range.start, range.end, &user.settings.time_zone, 0, false).await?;
        out.push(budget_status(b, budget_name(state, b), range, b.spent_in(&summary), today));
    }
    Ok(out)
}

async fn one_status(state: &AppState, user: &User, b: &Budget) -> Result<BudgetStatus, ApiError> {
    let tz = parse_time_zone(&user.settings.time_zone).map_err(ApiError::Internal)?;
    let day = today(&tz);
    let mut v = statuses(state, user, std::slice::from_ref(b), day, day).await?;
    v.pop().ok_or_else(|| ApiError::Internal("no status".into()))
}

/// Sets a budget on one category or on all spending.
#[utoipa::path(post, path = "/v1/budgets", tag = "budgets", security(("bearer" = [])), request_body = NewBudget,
    responses((status = 201, body = BudgetStatus), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidJson(req): ValidJson<NewBudget>,
) -> Result<(StatusCode, Json<BudgetStatus>), ApiError> {
    let user = state.user(uid).await?;
    let category = check_category(&state, req.category)?;
    let period = parse_period(&req.period)?;
    let start_day = check_start_day(period, req.start_day)?;
    let currency = match req.currency.as_deref() {
        Some(c) => Currency::parse(c).map_err(|e| ApiError::field("currency", e.to_string()))?,
        None => user.settings.currency,
    };
    let minor = currency.parse_amount(&req.amount).map_err(|e| ApiError::field("amount", e.to_string()))?;
    let existing = budgets_of(&state, uid).await?;
    if existing.len() >= MAX_BUDGETS {
        return Err(ApiError::Conflict(format!("at most {MAX_BUDGETS} budgets; delete one first")));
    }
    if let Some(b) = existing.iter().find(|b| b.category == category && b.period == period) {
        return Err(ApiError::Conflict(format!(
            "a {} budget for {} exists ({}); change it with PATCH /v1/budgets/{}",
            req.period.trim(),
            budget_name(&state, b),
            b.limit.to_decimal(),
            b.id
        )));
    }
    let budget = Budget {
        id: Uuid::now_v7(),
        user_id: uid,
        category,
        period,
        start_day,
        limit: Money { minor, currency },
        updated_at: Timestamp::now(),
    };
    write(&state, vec![Event::BudgetSet { budget: budget.clone() }]).await?;
    Ok((StatusCode::CREATED, Json(one_status(&state, &user, &budget).await?)))
}

/// Budgets with spent, left, share used, daily pace and projection for the period holding `date`.
#[utoipa::path(get, path = "/v1/budgets", tag = "budgets", security(("bearer" = [])), params(BudgetParams),
    responses((status = 200, body = Vec<BudgetStatus>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidQuery(p): ValidQuery<BudgetParams>,
) -> Result<Json<Vec<BudgetStatus>>, ApiError> {
    let user = state.user(uid).await?;
    let tz = parse_time_zone(&user.settings.time_zone).map_err(ApiError::Internal)?;
    let day = today(&tz);
    let date = p.date.as_deref().map(parse_date).transpose().map_err(|m| ApiError::field("date", m))?.unwrap_or(day);
    let budgets = budgets_of(&state, uid).await?;
    Ok(Json(statuses(&state, &user, &budgets, date, day).await?))
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no such budget".into()))
}

async fn find(state: &AppState, uid: UserId, raw: &str) -> Result<Budget, ApiError> {
    let id = parse_id(raw)?;
    budgets_of(state, uid)
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no budget with id '{id}'")))
}

/// One budget and its status today.
#[utoipa::path(get, path = "/v1/budgets/{id}", tag = "budgets", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = BudgetStatus), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<BudgetStatus>, ApiError> {
    let user = state.user(uid).await?;
    let b = find(&state, uid, &raw).await?;
    Ok(Json(one_status(&state, &user, &b).await?))
}

/// Changes a budget's limit, period or start day.
#[utoipa::path(patch, path = "/v1/budgets/{id}", tag = "budgets", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = PatchBudget,
    responses((status = 200, body = BudgetStatus), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    Path(raw): Path<String>,
    ValidJson(req): ValidJson<PatchBudget>,
) -> Result<Json<BudgetStatus>, ApiError> {
    let user = state.user(uid).await?;
    let mut b = find(&state, uid, &raw).await?;
    if let Some(p) = &req.period {
        let period = parse_period(p)?;
        if period != b.period
            && budgets_of(&state, uid).await?.iter().any(|o| o.category == b.category && o.period == period)
        {
            return Err(ApiError::Conflict(format!("a {p} budget for {} exists", budget_name(&state, &b))));
        }
        b.period = period;
    }
    if req.start_day.is_some() || req.period.is_some() {
        b.start_day =
            check_start_day(b.period, req.start_day.or((b.period == BudgetPeriod::Month).then_some(b.start_day)))?;
    }
    if let Some(a) = &req.amount {
        b.limit.minor = b.limit.currency.parse_amount(a).map_err(|e| ApiError::field("amount", e.to_string()))?;
    }
    b.updated_at = Timestamp::now();
    write(&state, vec![Event::BudgetSet { budget: b.clone() }]).await?;
    Ok(Json(one_status(&state, &user, &b).await?))
}

/// Deletes a budget.
#[utoipa::path(delete, path = "/v1/budgets/{id}", tag = "budgets", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let b = find(&state, uid, &raw).await?;
    write(&state, vec![Event::BudgetRemoved { user_id: uid, budget_id: b.id, at: Timestamp::now() }]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Risk alerts, newest first; acknowledged ones only on request.
#[utoipa::path(get, path = "/v1/alerts", tag = "alerts", security(("bearer" = [])), params(AlertParams),
    responses((status = 200, body = Vec<AlertView>), (status = 400, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidQuery(p): ValidQuery<AlertParams>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let max = state.config.api.list_max_limit;
    let limit = p.limit.unwrap_or(state.config.api.list_default_limit);
    if limit == 0 || limit > max {
        return Err(ApiError::field("limit", format!("must be between 1 and {max}")));
    }
    let profile = state.store.profile(uid).await?;
    Ok(Json(
        profile
            .alerts
            .iter()
            .filter(|a| p.include_acknowledged || a.acknowledged_at.is_none())
            .take(limit)
            .map(AlertView::from)
            .collect(),
    ))
}

/// Acknowledges an alert: it no longer shows in `GET /v1/alerts`. Repeating it is harmless.
#[utoipa::path(post, path = "/v1/alerts/{id}/ack", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound("no such alert".into()))?;
    let profile = state.store.profile(uid).await?;
    let alert = profile
        .alerts
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no alert with id '{id}'")))?;
    if alert.acknowledged_at.is_none() {
        write(&state, vec![Event::AlertAcknowledged { user_id: uid, alert_id: id, at: Timestamp::now() }]).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The user's live entries occurring in local dates `[from, to)`.
/// Spending tips for a period, each with the numbers behind it, ranked by money at stake.
#[utoipa::path(get, path = "/v1/tips", tag = "insight", security(("bearer" = [])), params(TipsParams),
    responses((status = 200, body = TipsView), (status = 400, body = ErrorBody)))]
pub async fn tips(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidQuery(p): ValidQuery<TipsParams>,
) -> Result<Response, ApiError> {
    let period: Period =
        p.period.as_deref().unwrap_or("month").parse().map_err(|e: String| ApiError::field("period", e))?;
    let user = state.user(uid).await?;
    let tz = parse_time_zone(&user.settings.time_zone).map_err(ApiError::Internal)?;
    let day = today(&tz);
    let date = p.date.as_deref().map(parse_date).transpose().map_err(|m| ApiError::field("date", m))?.unwrap_or(day);
    let ws = user.settings.week_start;
    let current = period_range(period, date, ws);
    let key = format!(
        "tips|{period:?}|{}|{day}|{}|{}|{}",
        current.start,
        user.settings.time_zone,
        ws.name(),
        user.settings.currency.code()
    );
    super::reports::cached(&state, uid, key, async {
        let (current, tips) =
            period_tips(state.store.as_ref(), &user, period, date, day, &state.config.categories, &state.tips).await?;
        Ok(TipsView {
            period: period.name().to_owned(),
            start: current.start.to_string(),
            end: current.end.yesterday().unwrap_or(current.end).to_string(),
            currency: user.settings.currency.code().to_owned(),
            tips,
        })
    })
    .await
}

/// Recurring charges and subscriptions still running, with the next expected date and amount.
#[utoipa::path(get, path = "/v1/recurring", tag = "insight", security(("bearer" = [])), params(RecurringParams),
    responses((status = 200, body = RecurringView), (status = 400, body = ErrorBody)))]
pub async fn recurring(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
    ValidQuery(p): ValidQuery<RecurringParams>,
) -> Result<Response, ApiError> {
    let user = state.user(uid).await?;
    let tz = parse_time_zone(&user.settings.time_zone).map_err(ApiError::Internal)?;
    let day =
        p.date.as_deref().map(parse_date).transpose().map_err(|m| ApiError::field("date", m))?.unwrap_or(today(&tz));
    let key = format!("recurring|{day}|{}|{}", user.settings.time_zone, user.settings.currency.code());
    super::reports::cached(&state, uid, key, async {
        let found = recurring_as_of(state.store.as_ref(), &user, day, &state.tips).await?;
        let cur = user.settings.currency;
        let total: i64 = found.iter().filter(|r| r.currency == cur).map(|r| r.monthly_cost_minor).sum();
        Ok(RecurringView {
            as_of: day.to_string(),
            monthly_total: cur.format(total),
            currency: cur.code().to_owned(),
            recurring: found,
        })
    })
    .await
}

/// The category rules learned from your corrections, one per merchant (the latest correction wins).
#[utoipa::path(get, path = "/v1/rules", tag = "insight", security(("bearer" = [])),
    responses((status = 200, body = Vec<LearnedRuleView>)))]
pub async fn rules(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
) -> Result<Json<Vec<LearnedRuleView>>, ApiError> {
    let profile = state.store.profile(uid).await?;
    Ok(Json(
        profile
            .learned
            .iter()
            .map(|r| LearnedRuleView {
                merchant: r.merchant_key.clone(),
                category: r.category.to_string(),
                from_entry: r.from_entry.to_string(),
                learned_at: r.learned_at.to_string(),
            })
            .collect(),
    ))
}
