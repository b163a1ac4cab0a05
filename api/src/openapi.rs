//! The OpenAPI document, generated from the handlers' annotations.

use crate::dto;
use crate::error::{ErrorBody, ErrorDetail};
use crate::handlers::{auth, chats, expenses, health, ingest, insight, me, reports};
use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The spendstream REST API.
#[derive(OpenApi)]
#[openapi(
    info(title = "spendstream", description = "Expense tracking as a stream: entries, reports, statistics, bank SMS."),
    paths(
        health::live, health::ready,
        auth::signup, auth::login, auth::refresh, auth::logout,
        me::get_me, me::patch_me, chats::create_link_code,
        expenses::create, expenses::import, expenses::list, expenses::get_one, expenses::remove, expenses::recategorise,
        insight::create, insight::list, insight::get_one, insight::patch, insight::remove,
        insight::alerts, insight::acknowledge, insight::tips, insight::recurring, insight::rules,
        reports::report, reports::stats, reports::categories,
        ingest::create_token, ingest::list_tokens, ingest::delete_token,
        ingest::ingest_sms, ingest::unparsed, ingest::bills,
    ),
    components(schemas(ErrorBody, ErrorDetail, dto::EntryView, dto::ImportResult, dto::EntryPage, dto::TokenResponse, dto::UserView,
        dto::SmsOriginView, dto::SmsIn, dto::PatchEntry, dto::NewBudget, dto::PatchBudget, dto::AlertView, dto::TipsView, dto::RecurringView, dto::LearnedRuleView,
        spendstream_core::insight::BudgetStatus, chats::LinkCode)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// `GET /openapi.json`
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
