//! Request and response bodies of the REST API.

use serde::{Deserialize, Serialize};
use spendstream_core::ports::User;
use spendstream_core::{Config, EntryKind, ProcessedEntry};
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

/// What `POST /v1/expenses/import` stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// Rows stored. A row imported before is counted again but kept once.
    pub imported: usize,
    /// Whether the processors took every row in before this answer (within
    /// `api.read_your_writes_ms`): reports and lists already count them.
    pub processed: bool,
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
    /// `user` (set by the user), `learned` (a rule learned from the user's
    /// correction of an entry of this merchant) or `rule` (a config rule).
    pub category_source: Option<&'static str>,
    /// Why this category.
    pub category_reason: Option<String>,
    /// `manual`, `sms`, `chat` or `import`.
    pub source: &'static str,
    /// When spendstream accepted it.
    pub created_at: String,
    /// `processed`, or `pending` if the processors had not caught up when answering.
    pub status: &'static str,
    /// The bank SMS it was read from (entries with source `sms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsOriginView>,
}

/// The bank SMS behind an entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsOriginView {
    /// Inbox id of the message.
    pub sms_id: String,
    /// Sender, e.g. `VM-HDFCBK`.
    pub sender: String,
    /// The original text.
    pub text: String,
    /// When the phone received it (RFC 3339).
    pub received_at: String,
    /// Last digits of the account or card.
    pub account_last4: Option<String>,
    /// UPI / IMPS / NEFT / bank reference.
    pub reference: Option<String>,
    /// upi, card, atm, netbanking, wallet, transfer, refund or other.
    pub channel: String,
    /// Available balance after it, as a decimal string.
    pub balance: Option<String>,
}

impl EntryView {
    /// A processed entry.
    pub fn processed(p: &ProcessedEntry, config: &Config) -> Self {
        let mut v = Self::pending(&p.entry);
        v.category = Some(p.category.to_string());
        v.category_name = config.categories.iter().find(|c| c.id == p.category).map(|c| c.name.clone());
        v.category_source = Some(p.category_source.as_str());
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
            sms: e.origin.as_deref().map(|o| SmsOriginView {
                sms_id: o.sms_id.to_string(),
                sender: o.sender.clone(),
                text: o.text.clone(),
                received_at: o.received_at.to_string(),
                account_last4: o.account_last4.clone(),
                reference: o.reference.clone(),
                channel: o.channel.clone(),
                balance: o
                    .balance_minor
                    .map(|m| spendstream_core::Money { minor: m, currency: e.amount.currency }.to_decimal()),
            }),
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

/// `POST /v1/tokens`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// Your name for it, e.g. "Pixel 8 SMS forwarder" (1 to 100 characters).
    pub name: String,
    /// What it may do; `ingest:sms` (the default and, for now, the only scope).
    pub scope: Option<String>,
}

/// An API token as listed (never the secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenView {
    /// Id, for `DELETE /v1/tokens/{id}`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scope: String,
    /// The token's first characters.
    pub prefix: String,
    /// Creation instant (RFC 3339).
    pub created_at: String,
    /// Last use (RFC 3339), if any.
    pub last_used_at: Option<String>,
}

impl From<&spendstream_core::ports::ApiToken> for ApiTokenView {
    fn from(t: &spendstream_core::ports::ApiToken) -> Self {
        ApiTokenView {
            id: t.id.to_string(),
            name: t.name.clone(),
            scope: t.scope.clone(),
            prefix: t.prefix.clone(),
            created_at: t.created_at.to_string(),
            last_used_at: t.last_used_at.map(|t| t.to_string()),
        }
    }
}

/// A new API token: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiToken {
    /// The secret, for `Authorization: Bearer <token>`; store it now, it is not shown again.
    pub token: String,
    /// The token's details.
    #[serde(flatten)]
    pub details: ApiTokenView,
}

/// One forwarded SMS in `POST /v1/ingest/sms`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsIn {
    /// Sender as the phone shows it (`VM-HDFCBK`, `MPESA`, a number).
    pub sender: String,
    /// The message text (at most 2048 bytes).
    pub body: String,
    /// When the phone received it: RFC 3339, or milliseconds since the epoch
    /// (number or string, as Android forwarders send it); default now.
    #[schema(value_type = Option<String>)]
    pub received_at: Option<serde_json::Value>,
}

/// `POST /v1/ingest/sms` body: one message, `{"messages": [...]}`, or a bare array.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SmsBatchIn {
    /// A batch.
    Batch {
        /// Up to `ingest.max_batch` messages.
        messages: Vec<serde_json::Value>,
    },
    /// A bare array.
    List(Vec<serde_json::Value>),
    /// One message.
    One(serde_json::Value),
}

/// What became of one forwarded SMS.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsResultView {
    /// Position in the request (0 for a single message).
    pub index: usize,
    /// Inbox id (absent when the message was rejected).
    pub id: Option<String>,
    /// `entered`, `duplicate`, `bill`, `ignored`, `unparsed`, `received` or `rejected`.
    pub status: String,
    /// Parser class: transaction, bill_due, otp, promo, declined, balance, other.
    pub class: Option<String>,
    /// The entry it became (or, for a duplicate, the entry it repeats).
    pub entry_id: Option<String>,
    /// The bill it became.
    pub bill_id: Option<String>,
    /// Why it was ignored, rejected or left unparsed.
    pub reason: Option<String>,
    /// True when this very SMS had been forwarded before (a retry or a second forwarder).
    pub seen_before: bool,
}

/// `POST /v1/ingest/sms` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsIngestResponse {
    /// One result per message, in request order.
    pub results: Vec<SmsResultView>,
}

/// A stored SMS that could not be read.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnparsedView {
    /// Inbox id.
    pub id: String,
    /// Sender.
    pub sender: String,
    /// Text.
    pub body: String,
    /// When the phone received it (RFC 3339).
    pub received_at: String,
    /// Parser class.
    pub class: String,
    /// Why it was not read.
    pub reason: Option<String>,
}

/// A page of unparsed messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnparsedPage {
    /// Newest first.
    pub messages: Vec<UnparsedView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/ingest/unparsed` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UnparsedParams {
    /// Page size (default 50, at most 500).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A bill reminder.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillView {
    /// Id.
    pub id: String,
    /// `due` or `paid`.
    pub status: &'static str,
    /// The biller's SMS sender.
    pub sender: String,
    /// Card or account digits.
    pub account_last4: Option<String>,
    /// Currency.
    pub currency: String,
    /// Total due, decimal string.
    pub amount_due: String,
    /// Minimum due, decimal string.
    pub min_due: Option<String>,
    /// Due date (`YYYY-MM-DD`).
    pub due_date: Option<String>,
    /// The entry that paid it.
    pub paid_by: Option<String>,
    /// When it was paid (RFC 3339).
    pub paid_at: Option<String>,
    /// The latest reminder's inbox id.
    pub sms_id: String,
}

impl From<&spendstream_core::inbox::Bill> for BillView {
    fn from(b: &spendstream_core::inbox::Bill) -> Self {
        let dec = |m: i64| match spendstream_core::Currency::parse(&b.currency) {
            Ok(c) => spendstream_core::Money { minor: m, currency: c }.to_decimal(),
            Err(_) => m.to_string(),
        };
        BillView {
            id: b.id.to_string(),
            status: b.status.as_str(),
            sender: b.sender.clone(),
            account_last4: b.account_last4.clone(),
            currency: b.currency.clone(),
            amount_due: dec(b.amount_due_minor),
            min_due: b.min_due_minor.map(dec),
            due_date: b.due_date.map(|d| d.to_string()),
            paid_by: b.paid_by.map(|e| e.to_string()),
            paid_at: b.paid_at.map(|t| t.to_string()),
            sms_id: b.sms_id.to_string(),
        }
    }
}

/// `PATCH /v1/expenses/{id}`: move an entry to another category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEntry {
    /// Category id (see `GET /v1/categories`). Later entries from the same
    /// merchant get it too (a learned rule).
    pub category: String,
    /// Also move the earlier entries of this merchant whose category you did not set.
    #[serde(default)]
    pub apply_to_past: bool,
}

/// `POST /v1/budgets`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBudget {
    /// Category id; absent or null for a budget on all spending.
    pub category: Option<String>,
    /// `week`, `month` or `year`.
    pub period: String,
    /// Limit as a positive decimal string, e.g. `"15000"`.
    pub amount: String,
    /// ISO 4217 code; default: the user's currency. Only expenses in it count.
    pub currency: Option<String>,
    /// Day a monthly period starts, 1 to 31 (e.g. 25 for payday; clamped to
    /// short months' last day). Default 1; monthly budgets only.
    pub start_day: Option<u8>,
}

/// `PATCH /v1/budgets/{id}`: fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchBudget {
    /// New limit (decimal string, in the budget's currency).
    pub amount: Option<String>,
    /// New period: `week`, `month` or `year`.
    pub period: Option<String>,
    /// New start day of a monthly period.
    pub start_day: Option<u8>,
}

/// `GET /v1/budgets` query.
#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BudgetParams {
    /// Show each budget's period containing this date (`YYYY-MM-DD`); default today.
    pub date: Option<String>,
}

/// `GET /v1/alerts` query.
#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// Also list acknowledged alerts.
    #[serde(default)]
    pub include_acknowledged: bool,
    /// At most this many, newest first (default 50, at most 500).
    pub limit: Option<usize>,
}

/// A risk alert as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    /// Stable id (the same rule, subject and window always give the same id).
    pub id: String,
    /// budget_threshold, projected_overspend, unusual_amount, velocity,
    /// low_balance, large_debit, new_merchant_large or bill_due.
    pub rule: &'static str,
    /// info, warning or critical.
    #[schema(value_type = String)]
    pub severity: spendstream_core::insight::Severity,
    /// What happened, in words.
    pub message: String,
    /// The numbers behind it.
    pub numbers: std::collections::BTreeMap<String, String>,
    /// What it is about (budget id, category, account, entry id).
    pub subject: String,
    /// The window it fired for (a period start, a day).
    pub window: String,
    /// The entry that set it off.
    pub entry_id: Option<String>,
    /// When that entry occurred (RFC 3339).
    pub occurred_at: String,
    /// When it was raised.
    pub raised_at: String,
    /// When you acknowledged it.
    pub acknowledged_at: Option<String>,
}

impl From<&spendstream_core::insight::Alert> for AlertView {
    fn from(a: &spendstream_core::insight::Alert) -> Self {
        AlertView {
            id: a.id.to_string(),
            rule: a.rule.as_str(),
            severity: a.severity,
            message: a.message.clone(),
            numbers: a.numbers.clone(),
            subject: a.subject.clone(),
            window: a.window.clone(),
            entry_id: a.entry_id.map(|e| e.to_string()),
            occurred_at: a.occurred_at.to_string(),
            raised_at: a.raised_at.to_string(),
            acknowledged_at: a.acknowledged_at.map(|t| t.to_string()),
        }
    }
}

/// `GET /v1/tips` query.
#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TipsParams {
    /// `week`, `month` (default) or `year`.
    pub period: Option<String>,
    /// Any day of the period (`YYYY-MM-DD`); default today in the user's zone.
    pub date: Option<String>,
}

/// Tips for one period, the largest money at stake first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TipsView {
    /// week, month or year.
    pub period: String,
    /// First day of the period.
    pub start: String,
    /// Last day (inclusive).
    pub end: String,
    /// The user's currency: tips count only entries in it.
    pub currency: String,
    /// Each with `rule`, `kind`, `message`, `impact_minor`, `currency` and the `numbers` behind it.
    #[schema(value_type = Vec<Object>)]
    pub tips: Vec<spendstream_processors::tips::Tip>,
}

/// `GET /v1/recurring` query.
#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecurringParams {
    /// Judge on this day (`YYYY-MM-DD`): charges after it are ignored; default today.
    pub date: Option<String>,
}

/// Recurring charges still running.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecurringView {
    /// The day they were judged on.
    pub as_of: String,
    /// Monthly cost of all of them in the user's currency (decimal string).
    pub monthly_total: String,
    /// The user's currency.
    pub currency: String,
    /// Each with merchant, category, cadence, typical and last amount (minor units),
    /// occurrences, first / last date, next_expected, monthly_cost_minor, subscription
    /// and the entry ids of the series; the largest monthly cost first.
    #[schema(value_type = Vec<Object>)]
    pub recurring: Vec<spendstream_processors::recurring::Recurring>,
}

/// A category rule learned from one of your corrections.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearnedRuleView {
    /// The merchant as compared (lower case, no punctuation or order numbers).
    pub merchant: String,
    /// The category its entries get.
    pub category: String,
    /// The entry whose correction taught it.
    pub from_entry: String,
    /// When (RFC 3339).
    pub learned_at: String,
}
