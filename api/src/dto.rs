//! Request and response bodies of the REST API.

use serde::{Deserialize, Serialize};
use spendstream_core::ports::User;
use spendstream_core::{CategorySource, Config, EntryKind, ProcessedEntry};
use utoipa::ToSchema;

/// `POST /v1/auth/signup`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Login email.
    pub email: String,
    /// At least `auth.min_password_length` characters.
    pub password: String,
    /// IANA time zone (default from config).
    pub time_zone: Option<String>,
    /// ISO 4217 currency (default from config).
    pub currency: Option<String>,
    /// First day of the week (default monday).
    pub week_start: Option<String>,
}

/// `POST /v1/auth/login`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: String,
    /// Email.
    pub email: String,
    /// IANA time zone.
    pub time_zone: String,
    /// First day of the week.
    pub week_start: String,
    /// Default currency.
    pub currency: String,
    /// Sign-up instant (RFC 3339).
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.to_string(),
            email: u.email.clone(),
            time_zone: u.settings.time_zone.clone(),
            week_start: u.settings.week_start.name().to_owned(),
            currency: u.settings.currency.code().to_owned(),
            created_at: u.created_at.to_string(),
        }
    }
}

/// Tokens after sign-up, login or refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single-use token for `POST /v1/auth/refresh`.
    pub refresh_token: String,
    /// The user.
    pub user: UserView,
}

/// `PATCH /v1/me`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMe {
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// First day of the week.
    pub week_start: Option<String>,
    /// Default currency.
    pub currency: Option<String>,
}

/// `POST /v1/expenses`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// Positive decimal string, e.g. `"249.50"`, at most the currency's decimals.
    pub amount: String,
    /// ISO 4217 code; default: the user's currency.
    pub currency: Option<String>,
    /// `expense` (default) or `income`.
    #[schema(value_type = Option<String>)]
    pub kind: Option<EntryKind>,
    /// `YYYY-MM-DD` (noon in the user's zone) or RFC 3339; default now.
    pub occurred_at: Option<String>,
    /// Merchant or payee, up to 200 characters.
    pub merchant: Option<String>,
    /// Note, up to 1000 characters.
    pub note: Option<String>,
    /// Category id; default: chosen by the processors' rules.
    pub category: Option<String>,
}

/// An entry as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    /// Stable id.
    pub id: String,
    /// `expense` or `income`.
    pub kind: &'static str,
    /// Decimal amount.
    pub amount: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
    /// When it happened (RFC 3339, UTC).
    pub occurred_at: String,
    /// Merchant.
    pub merchant: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Category id (null while pending).
    pub category: Option<String>,
    /// Category name.
    pub category_name: Option<String>,
    /// `user` or `rule`.
    pub category_source: Option<&'static str>,
    /// Why this category.
    pub category_reason: Option<String>,
    /// `manual`, `sms`, `chat` or `import`.
    pub source: &'static str,
    /// When spendstream accepted it.
    pub created_at: String,
    /// `processed`, or `pending` if the processors had not caught up when answering.
    pub status: &'static str,
}

impl EntryView {
    /// A processed entry.
    pub fn processed(p: &ProcessedEntry, config: &Config) -> Self {
        let mut v = Self::pending(&p.entry);
        v.category = Some(p.category.to_string());
        v.category_name = config.categories.iter().find(|c| c.id == p.category).map(|c| c.name.clone());
        v.category_source = Some(match p.category_source {
            CategorySource::User => "user",
            CategorySource::Rule => "rule",
        });
        v.category_reason = Some(p.category_reason.clone());
        v.status = "processed";
        v
    }

    /// An accepted entry the processors have not reached yet.
    pub fn pending(e: &spendstream_core::Entry) -> Self {
        EntryView {
            id: e.id.to_string(),
            kind: e.kind.as_str(),
            amount: e.amount.to_decimal(),
            amount_minor: e.amount.minor,
            currency: e.amount.currency.code().to_owned(),
            occurred_at: e.occurred_at.to_string(),
            merchant: e.merchant.clone(),
            note: e.note.clone(),
            category: e.user_category.as_ref().map(|c| c.to_string()),
            category_name: None,
            category_source: None,
            category_reason: None,
            source: e.source.as_str(),
            created_at: e.created_at.to_string(),
            status: "pending",
        }
    }
}

/// `GET /v1/expenses` query.
#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// From this date (`YYYY-MM-DD`, in the user's zone) or instant (RFC 3339), inclusive.
    pub from: Option<String>,
    /// To this date (inclusive) or instant (exclusive).
    pub to: Option<String>,
    /// Only this category id.
    pub category: Option<String>,
    /// Merchant or note contains this text (case-insensitive).
    pub q: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryPage {
    /// Newest first.
    pub entries: Vec<EntryView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/reports` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// `week`, `month` or `year`.
    pub period: String,
    /// Any day of the period (`YYYY-MM-DD`); default today in the user's zone.
    pub date: Option<String>,
}

/// `GET /v1/stats` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// The day the windows end on (`YYYY-MM-DD`); default today in the user's zone.
    pub date: Option<String>,
}

/// A category as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    /// Id used in entries and filters.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Emoji.
    pub emoji: String,
}
