//! The conversation engine: a message (text or button press) and the chat's stored
//! dialogue in, replies and the new dialogue out. No transport: the Telegram and
//! WhatsApp adapters and `spendstream chat` all call [`Engine::handle`].
//!
//! Every turn reads the chat's record from the [`ChatStore`], works, and saves it back
//! with a compare-and-set; if another turn of the same chat saved first, the turn runs
//! again on the new state. What a turn writes elsewhere is safe to repeat: an entry's id
//! is derived from the chat and message id, a removal of a removed entry is a no-op, and
//! an account made by chat has an id derived from the chat. A message id already seen
//! (a redelivered update) gets no reply and changes nothing.

mod alerts;
mod budgets;
mod dialogue;
mod export;
pub mod format;
mod push;
mod reports;
mod tips;

use crate::texts::Texts;
use crate::understand::{self, Context, Intent, Understanding};
use dialogue::{Dialogue, Step};
use jiff::Timestamp;
use jiff::civil::Date;
pub use push::Push;
use serde::Serialize;
use spendstream_core::chats::{Channel, ChatKey, ChatStore, ChatsError, link_code_hash, normalise_link_code};
use spendstream_core::period::{local_date, parse_time_zone};
use spendstream_core::ports::{
    Accounts, AccountsError, AnalyticsStore, EventLog, ListQuery, LogError, StoreError, User,
};
use spendstream_core::{
    CategoryId, Config, Currency, Entry, EntryId, EntryKind, Event, Money, ProcessedEntry, Source, UserId, UserSettings,
};
use spendstream_ingest::sms::SmsRules;
use spendstream_processors::categorise::Categoriser;
use spendstream_processors::tips::TipRules;
use std::sync::Arc;
use std::time::Duration;

/// Longest message id kept, in bytes.
pub const MAX_MESSAGE_ID: usize = 128;
const SAVE_ATTEMPTS: usize = 5;
const MAX_NOTE_CHARS: usize = 1000;
const MAX_MERCHANT_CHARS: usize = 200;

/// One message at the adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The chat it came from.
    pub chat: ChatKey,
    /// The provider's id of the message or button press (unique within the chat);
    /// a message seen again under the same id is ignored.
    pub message_id: String,
    /// What the user sent.
    pub input: Input,
    /// When the adapter received it.
    pub at: Timestamp,
}

/// What the user sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Typed, pasted or forwarded text.
    Text(String),
    /// A button of an earlier reply was pressed; its `data`.
    Button(String),
}

/// Longest text sent as a file's caption (Telegram's and WhatsApp's limit).
pub const MAX_CAPTION: usize = 1024;

/// One reply message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The text.
    pub text: String,
    /// Buttons under it, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
    /// A file sent with it (the text is then its caption).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

impl Reply {
    /// A reply with buttons (none: an empty list).
    pub fn new(text: impl Into<String>, buttons: Vec<Button>) -> Self {
        Reply { text: text.into(), buttons, attachment: None }
    }

    fn text(text: impl Into<String>) -> Self {
        Reply::new(text, Vec::new())
    }

    /// A file with `caption` (may be empty).
    fn file(caption: impl Into<String>, file: Attachment) -> Self {
        Reply { text: caption.into(), buttons: Vec::new(), attachment: Some(file) }
    }
}

/// A file a reply carries, such as an `/export` CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// File name shown to the user.
    pub name: String,
    /// MIME type, e.g. `text/csv`.
    pub mime: String,
    /// The content.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// A button under a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Button {
    /// What it says.
    pub label: String,
    /// What comes back as [`Input::Button`] when pressed (at most 64 bytes, Telegram's limit).
    pub data: String,
}

/// Why a message could not be handled. Nothing was changed; the adapter should not
/// acknowledge the message, so that the provider delivers it again later.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A storage engine is down or slow; retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The message itself is unusable (e.g. an over-long id).
    #[error("bad message: {0}")]
    BadMessage(String),
    /// A bug or corrupt data.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<LogError> for EngineError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Unavailable(m) => EngineError::Unavailable(m),
            other => EngineError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => EngineError::Unavailable(m),
            StoreError::Other(m) => EngineError::Internal(m),
        }
    }
}

impl From<AccountsError> for EngineError {
    fn from(e: AccountsError) -> Self {
        match e {
            AccountsError::Unavailable(m) => EngineError::Unavailable(m),
            other => EngineError::Internal(other.to_string()),
        }
    }
}

impl From<ChatsError> for EngineError {
    fn from(e: ChatsError) -> Self {
        match e {
            ChatsError::Unavailable(m) => EngineError::Unavailable(m),
            other => EngineError::Internal(other.to_string()),
        }
    }
}

/// Configuration the engine could not be built from.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(String);

/// The ports the engine works through.
#[derive(Clone)]
pub struct EnginePorts {
    /// Where entries go.
    pub log: Arc<dyn EventLog>,
    /// Where lists and reports come from.
    pub store: Arc<dyn AnalyticsStore>,
    /// Users.
    pub accounts: Arc<dyn Accounts>,
    /// Chats, dialogue state and link codes.
    pub chats: Arc<dyn ChatStore>,
}

/// The conversation engine; cheap to share (`Arc`).
pub struct Engine {
    config: Arc<Config>,
    ports: EnginePorts,
    categoriser: Arc<Categoriser>,
    sms_rules: Arc<SmsRules>,
    tips: Arc<TipRules>,
    texts: Texts,
    /// Turns of one chat in this process run one at a time (a chat hashes to one of
    /// these); across processes the store's compare-and-set keeps them apart.
    lanes: Vec<tokio::sync::Mutex<()>>,
}

/// Lanes of [`Engine::lanes`]: bounded memory, however many chats.
const LANES: usize = 256;

/// The user a turn acts for.
struct Me {
    user: User,
    tz: jiff::tz::TimeZone,
    today: Date,
}

/// A turn in progress: the dialogue as it will be saved, and the replies so far.
struct Turn {
    user_id: Option<UserId>,
    dialogue: Dialogue,
    replies: Vec<Reply>,
}

impl Engine {
    /// An engine over `ports` with the config's categories, SMS rules, tip rules and texts.
    pub fn new(
        config: Arc<Config>,
        ports: EnginePorts,
        categoriser: Arc<Categoriser>,
        sms_rules: Arc<SmsRules>,
        tips: Arc<TipRules>,
        texts: Texts,
    ) -> Self {
        let lanes = (0..LANES).map(|_| tokio::sync::Mutex::new(())).collect();
        Engine { config, ports, categoriser, sms_rules, tips, texts, lanes }
    }

    /// An engine over `ports` with what `config` names: its categories, the SMS rules
    /// (`ingest.sms_rules`), the tip rules (`tips.rules`) and the texts (`bot.texts` in
    /// `bot.language`).
    pub fn from_config(config: Arc<Config>, ports: EnginePorts) -> Result<Self, SetupError> {
        let texts =
            Texts::from_config(&config.bot.texts, &config.bot.language).map_err(|e| SetupError(e.to_string()))?;
        let categoriser =
            Arc::new(Categoriser::new(&config.categories).map_err(|e| SetupError(format!("categories: {e}")))?);
        let sms_rules = spendstream_ingest::pipeline::load_rules(&config.ingest)
            .map_err(|e| SetupError(format!("ingest.sms_rules: {e}")))?;
        let tips = TipRules::from_config(&config.tips.rules).map_err(|e| SetupError(format!("tips.rules: {e}")))?;
        Ok(Engine::new(config, ports, categoriser, sms_rules, tips, texts))
    }

    /// The texts in use (adapters label their own buttons with them).
    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    /// The lane of `chat`: turns (and push records) of one chat run one at a time here.
    fn lane(&self, chat: &ChatKey) -> &tokio::sync::Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        chat.hash(&mut h);
        &self.lanes[usize::try_from(h.finish() % LANES as u64).unwrap_or(0)]
    }

    /// Handles one message: replies to send, in order (none for a message seen before).
    pub async fn handle(&self, msg: &Incoming) -> Result<Vec<Reply>, EngineError> {
        if msg.message_id.is_empty() || msg.message_id.len() > MAX_MESSAGE_ID {
            return Err(EngineError::BadMessage(format!("a message id must be 1 to {MAX_MESSAGE_ID} bytes")));
        }
        let _one_at_a_time = self.lane(&msg.chat).lock().await;
        for _ in 0..SAVE_ATTEMPTS {
            let record = self.ports.chats.chat(&msg.chat).await?;
            let (user_id, dialogue, version) = match record {
                Some(r) => (r.user_id, Dialogue::decode(&r.state), r.version),
                None => (None, Dialogue::default(), 0),
            };
            if dialogue.seen(&msg.message_id) {
                return Ok(Vec::new());
            }
            let mut turn = Turn { user_id, dialogue, replies: Vec::new() };
            self.turn(&mut turn, msg).await?;
            turn.dialogue.remember(&msg.message_id);
            turn.dialogue.last_in = Some(msg.at.as_microsecond());
            let state = turn.dialogue.encode().map_err(|e| EngineError::Internal(format!("dialogue: {e}")))?;
            match self.ports.chats.save(&msg.chat, turn.user_id, &state, version, msg.at).await {
                Ok(_) => return Ok(turn.replies),
                Err(ChatsError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Unavailable(format!("the chat changed {SAVE_ATTEMPTS} times while this message was handled")))
    }

    async fn turn(&self, turn: &mut Turn, msg: &Incoming) -> Result<(), EngineError> {
        if let Input::Text(text) = &msg.input
            && let Some(rest) = command(text, "link")
        {
            return self.link(turn, rest, msg.at).await;
        }
        let me = match turn.user_id {
            Some(id) => self.ports.accounts.user(id).await?,
            None => None,
        };
        let Some(user) = me else {
            turn.user_id = None;
            return self.sign_up(turn, msg).await;
        };
        let me = self.me(user, msg.at)?;
        self.ready(turn, &me, msg).await
    }

    fn me(&self, user: User, at: Timestamp) -> Result<Me, EngineError> {
        let tz = parse_time_zone(&user.settings.time_zone).map_err(EngineError::Internal)?;
        let today = local_date(at, &tz);
        Ok(Me { user, tz, today })
    }

    /// `/link CODE`: joins this chat to the account the code was made for.
    async fn link(&self, turn: &mut Turn, code: &str, at: Timestamp) -> Result<(), EngineError> {
        if normalise_link_code(code).is_empty() {
            turn.replies.push(Reply::text(self.texts.get("link_usage")));
            return Ok(());
        }
        // Guessing codes is slowed to a few tries an hour per chat (kept in the dialogue,
        // so a restart does not reset it).
        if !turn.dialogue.may_try_link(at) {
            turn.replies.push(Reply::text(self.texts.get("link_locked")));
            return Ok(());
        }
        match self.ports.chats.redeem_link_code(&link_code_hash(code), at).await? {
            Some(user) => {
                turn.dialogue.link_worked();
                let email = self.ports.accounts.user(user).await?.map(|u| u.email).unwrap_or_default();
                turn.user_id = Some(user);
                turn.dialogue.step = Step::Ready;
                turn.dialogue.forget_entries();
                turn.replies.push(Reply::text(self.texts.fill("linked", &[("email", &email)])));
            }
            None => {
                turn.dialogue.link_failed(at);
                turn.replies.push(Reply::text(self.texts.get("link_bad")));
            }
        }
        Ok(())
    }

    /// The first messages of a chat with no account: currency, then time zone.
    async fn sign_up(&self, turn: &mut Turn, msg: &Incoming) -> Result<(), EngineError> {
        let (guess_currency, guess_zone) = guess(&msg.chat, &self.config);
        let answer = match &msg.input {
            Input::Text(t) => t.trim().to_owned(),
            Input::Button(data) => data.split_once(':').map(|(_, v)| v.to_owned()).unwrap_or_default(),
        };
        match turn.dialogue.step.clone() {
            Step::New | Step::Ready => {
                turn.dialogue.step = Step::Currency;
                if let Input::Text(t) = &msg.input
                    && !t.trim().is_empty()
                    && command(t, "start").is_none()
                {
                    // Kept, and handled once the account exists.
                    turn.dialogue.held = Some(t.chars().take(understand::MAX_INPUT_BYTES).collect());
                }
                turn.replies.push(Reply::text(self.texts.get("welcome")));
                turn.replies.push(self.ask_currency(guess_currency));
            }
            Step::Currency => match Currency::parse(&answer.to_ascii_uppercase()) {
                Ok(c) => {
                    turn.dialogue.step = Step::TimeZone { currency: c.code().to_owned() };
                    turn.replies.push(self.ask_time_zone(&guess_zone));
                }
                Err(_) => {
                    turn.replies.push(Reply::text(self.texts.fill("bad_currency", &[("input", &clip(&answer, 40))])));
                    turn.replies.push(self.ask_currency(guess_currency));
                }
            },
            Step::TimeZone { currency } => {
                let zone = canonical_zone(&answer);
                let (Some(zone), Ok(currency)) = (zone, Currency::parse(&currency)) else {
                    turn.replies.push(Reply::text(self.texts.fill("bad_time_zone", &[("input", &clip(&answer, 60))])));
                    turn.replies.push(self.ask_time_zone(&guess_zone));
                    return Ok(());
                };
                let user = self.create_user(&msg.chat, turn.dialogue.generation, currency, zone, msg.at).await?;
                turn.user_id = Some(user.id);
                turn.dialogue.step = Step::Ready;
                turn.replies.push(Reply::text(self.texts.fill(
                    "signed_up",
                    &[("currency", user.settings.currency.code()), ("time_zone", &user.settings.time_zone)],
                )));
                if let Some(held) = turn.dialogue.held.take() {
                    let me = self.me(user, msg.at)?;
                    let replay = Incoming { input: Input::Text(held), ..msg.clone() };
                    self.ready(turn, &me, &replay).await?;
                }
            }
        }
        Ok(())
    }

    fn ask_currency(&self, guess: Currency) -> Reply {
        let mut codes = vec![guess.code()];
        for c in ["INR", "USD", "EUR", "GBP"] {
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
        Reply::new(
            self.texts.fill("ask_currency", &[("guess", guess.code())]),
            codes.into_iter().map(|c| Button { label: c.to_owned(), data: format!("cur:{c}") }).collect(),
        )
    }

    fn ask_time_zone(&self, guess: &str) -> Reply {
        let mut zones = vec![guess.to_owned()];
        if guess != "UTC" {
            zones.push("UTC".to_owned());
        }
        Reply::new(
            self.texts.fill("ask_time_zone", &[("guess", guess)]),
            zones.into_iter().map(|z| Button { data: format!("tz:{z}"), label: z }).collect(),
        )
    }

    /// The chat's own account: its id comes from the chat (and how many times the chat
    /// unlinked), so a turn that runs twice finds the account the first run made.
    async fn create_user(
        &self,
        chat: &ChatKey,
        generation: u32,
        currency: Currency,
        time_zone: String,
        at: Timestamp,
    ) -> Result<User, EngineError> {
        let name = format!("spendstream-chat/{chat}/{generation}");
        let id = UserId(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()));
        if let Some(existing) = self.ports.accounts.user(id).await? {
            return Ok(existing);
        }
        let user = User {
            id,
            // Chat accounts have no password; the address only has to be unique.
            email: format!("{}-{}@chat.invalid", chat.channel.as_str(), id.0.simple()),
            settings: UserSettings { time_zone, week_start: self.config.defaults.week_start, currency },
            created_at: at,
        };
        match self.ports.accounts.create_user(&user, "!chat-account-no-password").await {
            Ok(()) | Err(AccountsError::DuplicateEmail) => {}
            Err(e) => return Err(e.into()),
        }
        // As at sign-up through the API: the processors cut alerts in the user's zone.
        let event = Event::SettingsChanged { user_id: user.id, settings: user.settings.clone() };
        if let Err(e) = self.ports.log.append(vec![event]).await {
            tracing::warn!(error = %e, user = %user.id, "settings event not logged at chat sign-up");
        }
        Ok(user)
    }

    /// A message of a chat with an account.
    async fn ready(&self, turn: &mut Turn, me: &Me, msg: &Incoming) -> Result<(), EngineError> {
        match &msg.input {
            Input::Button(data) => self.button(turn, me, data, msg.at).await,
            Input::Text(text) => {
                let t = text.trim();
                if t.starts_with('/') {
                    return self.command(turn, me, t, msg).await;
                }
                let u = understand::understand(text, &self.context(me));
                self.understood(turn, me, u, text, msg).await
            }
        }
    }

    fn context(&self, me: &Me) -> Context {
        let mut ctx = Context::new(me.user.settings.currency, me.today, self.categoriser.clone());
        ctx.sms_rules = Some(self.sms_rules.clone());
        ctx
    }

    async fn command(&self, turn: &mut Turn, me: &Me, text: &str, msg: &Incoming) -> Result<(), EngineError> {
        let (name, rest) = split_command(text);
        match name.as_str() {
            "start" | "help" => turn.replies.push(Reply::text(self.texts.get("help"))),
            "add" => {
                let u = understand::understand(rest, &self.context(me));
                let u = match u.intent {
                    Intent::AddExpense | Intent::AddIncome => u,
                    _ if u.amount.is_some() => Understanding { intent: Intent::AddExpense, ..u },
                    _ => u,
                };
                self.understood(turn, me, u, rest, msg).await?;
            }
            "undo" => self.undo(turn, me, None, msg.at).await?,
            "delete" => self.delete(turn, me, rest, msg.at).await?,
            "list" => self.list(turn, me, false).await?,
            "today" | "week" | "month" | "year" => {
                // `/week last` reads as "last week"; `/month 2026-10`, `/month october` as given.
                let rest = rest.trim();
                let period = match rest.to_ascii_lowercase().as_str() {
                    "" => name.clone(),
                    "last" | "previous" => format!("last {name}"),
                    _ => rest.to_owned(),
                };
                let u = understand::understand(&format!("how much did I spend {period}"), &self.context(me));
                let period = u.period.unwrap_or(name);
                self.report(turn, me, &period, None).await?;
            }
            "categories" => {
                let mut lines = vec![self.texts.get("categories_header").to_owned()];
                for c in &self.config.categories {
                    lines.push(
                        self.texts
                            .fill("categories_line", &[("emoji", &c.emoji), ("name", &c.name), ("id", c.id.as_str())]),
                    );
                }
                turn.replies.push(Reply::text(lines.join("\n")));
            }
            "unlink" => {
                turn.user_id = None;
                turn.dialogue.unlink();
                turn.replies.push(Reply::text(self.texts.get("unlinked")));
            }
            "budget" | "budgets" if rest.trim().is_empty() => self.show_budgets(turn, me).await?,
            "budget" | "budgets" => {
                let u = understand::understand(&format!("set budget {rest}"), &self.context(me));
                match u.amount {
                    Some(amount) if u.question.is_none() => {
                        self.set_budget(turn, me, &amount, u.category, u.period.as_deref(), msg.at).await?
                    }
                    _ => turn.replies.push(Reply::text(self.texts.get("budgets_none"))),
                }
            }
            "tips" => self.show_tips(turn, me, rest).await?,
            "alerts" => self.alerts_command(turn, me, rest).await?,
            "export" => self.export(turn, me, rest).await?,
            _ => turn.replies.push(Reply::text(self.texts.get("not_understood"))),
        }
        Ok(())
    }

    async fn understood(
        &self,
        turn: &mut Turn,
        me: &Me,
        u: Understanding,
        text: &str,
        msg: &Incoming,
    ) -> Result<(), EngineError> {
        if let Some(q) = &u.question {
            turn.replies.push(Reply::text(self.texts.fill("amount_question", &[("question", q)])));
            return Ok(());
        }
        match u.intent {
            Intent::AddExpense | Intent::AddIncome if u.amount.is_some() => self.add(turn, me, &u, text, msg).await,
            Intent::DeleteLast => self.undo(turn, me, None, msg.at).await,
            Intent::Report => {
                let period = u.period.clone().unwrap_or_else(|| "month".to_owned());
                self.report(turn, me, &period, u.category.as_ref()).await
            }
            Intent::List => self.list(turn, me, false).await,
            Intent::Help => {
                turn.replies.push(Reply::text(self.texts.get("help")));
                Ok(())
            }
            Intent::BudgetSet => match u.amount.clone() {
                Some(amount) => {
                    self.set_budget(turn, me, &amount, u.category.clone(), u.period.as_deref(), msg.at).await
                }
                None => self.show_budgets(turn, me).await,
            },
            Intent::Tips => self.show_tips(turn, me, u.period.as_deref().unwrap_or("month")).await,
            _ => {
                turn.replies.push(Reply::text(self.texts.get("not_understood")));
                Ok(())
            }
        }
    }

    async fn add(
        &self,
        turn: &mut Turn,
        me: &Me,
        u: &Understanding,
        text: &str,
        msg: &Incoming,
    ) -> Result<(), EngineError> {
        let currency = u.currency.unwrap_or(me.user.settings.currency);
        let amount = u.amount.as_deref().unwrap_or_default();
        let minor = match currency.parse_amount(amount) {
            Ok(m) => m,
            Err(e) => {
                turn.replies.push(Reply::text(self.texts.fill("bad_amount", &[("reason", &e.to_string())])));
                return Ok(());
            }
        };
        let occurred_at = match u.date {
            Some(d) if d != me.today => d
                .at(12, 0, 0, 0)
                .to_zoned_datetime(me.tz.clone())
                .map(|z| z.timestamp())
                .map_err(|e| EngineError::Internal(e.to_string()))?,
            _ => msg.at,
        };
        let user = me.user.id;
        let id = EntryId::from_idempotency_key(user, &format!("chat:{}:{}", msg.chat, msg.message_id));
        let entry = Entry {
            id,
            user_id: user,
            kind: if u.intent == Intent::AddIncome { EntryKind::Income } else { EntryKind::Expense },
            amount: Money { minor, currency },
            occurred_at: spendstream_core::entry::to_micros(occurred_at),
            merchant: u.merchant.as_deref().map(|m| clip(m, MAX_MERCHANT_CHARS)),
            note: Some(clip(&printable(text), MAX_NOTE_CHARS)),
            user_category: None,
            source: Source::Chat,
            created_at: spendstream_core::entry::to_micros(msg.at),
            origin: None,
        };
        let processed = self.append_and_read(vec![Event::EntryAdded { entry: entry.clone() }], user, id).await?;
        turn.dialogue.push_entry(id);
        let day = self.day(local_date(entry.occurred_at, &me.tz), me.today);
        let amount = format::money(minor, currency);
        let text = match &processed {
            Some(p) => {
                let name = if entry.kind == EntryKind::Income { "added_income" } else { "added_expense" };
                self.texts
                    .fill(name, &[("amount", &amount), ("category", &self.category_name(&p.category)), ("day", &day)])
            }
            None => self.texts.fill("added_pending", &[("amount", &amount), ("day", &day)]),
        };
        turn.replies.push(Reply::new(text, self.entry_buttons(id)));
        Ok(())
    }

    fn entry_buttons(&self, id: EntryId) -> Vec<Button> {
        vec![
            Button { label: self.texts.get("button_undo").to_owned(), data: format!("u:{}", id.0) },
            Button { label: self.texts.get("button_category").to_owned(), data: format!("c:{}", id.0) },
        ]
    }

    /// Appends and waits (at most `bot.reply_wait_ms`) for the entry to be processed.
    async fn append_and_read(
        &self,
        events: Vec<Event>,
        user: UserId,
        id: EntryId,
    ) -> Result<Option<ProcessedEntry>, EngineError> {
        if !self.append_and_wait(events).await? {
            return Ok(None);
        }
        Ok(self.ports.store.entry(user, id).await?)
    }

    /// Appends and waits (at most `bot.reply_wait_ms`) until the processors applied
    /// the events; false if they had not by then (the events are durable either way).
    async fn append_and_wait(&self, events: Vec<Event>) -> Result<bool, EngineError> {
        let positions = self.ports.log.append(events).await?;
        let wait = Duration::from_millis(self.config.bot.reply_wait_ms);
        Ok(match positions.last() {
            Some(p) => self.ports.store.wait_applied(*p, wait).await,
            None => true,
        })
    }

    fn day(&self, d: Date, today: Date) -> String {
        format::day(d, today, self.texts.get("today"), self.texts.get("yesterday"))
    }

    fn category_name(&self, id: &CategoryId) -> String {
        match self.config.categories.iter().find(|c| &c.id == id) {
            Some(c) if c.emoji.is_empty() => c.name.clone(),
            Some(c) => format!("{} {}", c.emoji, c.name),
            None => id.as_str().to_owned(),
        }
    }

    /// Removes `which` (or the chat's last added entry that still exists).
    async fn undo(&self, turn: &mut Turn, me: &Me, which: Option<EntryId>, at: Timestamp) -> Result<(), EngineError> {
        let user = me.user.id;
        let target = match which {
            Some(id) => self.ports.store.entry(user, id).await?,
            None => {
                let mut found = None;
                while let Some(id) = turn.dialogue.pop_entry() {
                    if let Some(e) = self.ports.store.entry(user, id).await? {
                        found = Some(e);
                        break;
                    }
                }
                found
            }
        };
        let Some(e) = target else {
            let name = if which.is_some() { "already_removed" } else { "nothing_to_undo" };
            turn.replies.push(Reply::text(self.texts.get(name)));
            return Ok(());
        };
        self.remove(turn, me, &e, at).await
    }

    async fn remove(&self, turn: &mut Turn, me: &Me, e: &ProcessedEntry, at: Timestamp) -> Result<(), EngineError> {
        let event = Event::EntryRemoved { user_id: me.user.id, entry_id: e.entry.id, removed_at: at };
        self.append_and_read(vec![event], me.user.id, e.entry.id).await?;
        turn.dialogue.drop_entry(e.entry.id);
        let text = self.texts.fill(
            "undone",
            &[
                ("amount", &format::money(e.entry.amount.minor, e.entry.amount.currency)),
                ("category", &self.category_name(&e.category)),
                ("day", &self.day(local_date(e.entry.occurred_at, &me.tz), me.today)),
            ],
        );
        turn.replies.push(Reply::text(text));
        Ok(())
    }

    /// `/delete N`: the N-th entry of the last `/list`.
    async fn delete(&self, turn: &mut Turn, me: &Me, arg: &str, at: Timestamp) -> Result<(), EngineError> {
        let Ok(n) = arg.trim().trim_start_matches('#').parse::<usize>() else {
            turn.replies.push(Reply::text(self.texts.get("delete_usage")));
            return Ok(());
        };
        let Some(id) = n.checked_sub(1).and_then(|i| turn.dialogue.listed.get(i)).copied() else {
            turn.replies.push(Reply::text(self.texts.fill("delete_unknown", &[("n", &n.to_string())])));
            return Ok(());
        };
        match self.ports.store.entry(me.user.id, id).await? {
            Some(e) => self.remove(turn, me, &e, at).await,
            None => {
                turn.replies.push(Reply::text(self.texts.get("already_removed")));
                Ok(())
            }
        }
    }

    /// A page of recent entries; `more` continues after the last page shown.
    async fn list(&self, turn: &mut Turn, me: &Me, more: bool) -> Result<(), EngineError> {
        let after =
            if more { turn.dialogue.list_cursor.as_ref().and_then(dialogue::StoredCursor::cursor) } else { None };
        let query =
            ListQuery { from: None, to: None, category: None, text: None, after, limit: self.config.bot.list_page };
        let page = self.ports.store.list(me.user.id, &query).await?;
        if page.entries.is_empty() {
            let name = if more { "list_end" } else { "list_empty" };
            turn.replies.push(Reply::text(self.texts.get(name)));
            return Ok(());
        }
        let mut lines = vec![self.texts.get(if more { "list_more_header" } else { "list_header" }).to_owned()];
        turn.dialogue.listed = page.entries.iter().map(|e| e.entry.id).collect();
        for (i, e) in page.entries.iter().enumerate() {
            let sign = if e.entry.kind == EntryKind::Income { "+" } else { "" };
            let merchant = e.entry.merchant.as_deref().map(|m| format!(" · {m}")).unwrap_or_default();
            lines.push(self.texts.fill(
                "list_line",
                &[
                    ("n", &(i + 1).to_string()),
                    ("day", &self.day(local_date(e.entry.occurred_at, &me.tz), me.today)),
                    ("amount", &format!("{sign}{}", format::money(e.entry.amount.minor, e.entry.amount.currency))),
                    ("category", &self.category_name(&e.category)),
                    ("merchant", &merchant),
                ],
            ));
        }
        turn.dialogue.list_cursor = page.next.as_ref().map(dialogue::StoredCursor::from);
        let buttons = match page.next {
            Some(_) => vec![Button { label: self.texts.get("button_more").to_owned(), data: "more".to_owned() }],
            None => Vec::new(),
        };
        turn.replies.push(Reply::new(lines.join("\n"), buttons));
        Ok(())
    }

    async fn report(
        &self,
        turn: &mut Turn,
        me: &Me,
        period: &str,
        category: Option<&CategoryId>,
    ) -> Result<(), EngineError> {
        let report = reports::report(self, me, period, category).await?;
        let chart = match report.chart.filter(|_| self.config.bot.charts) {
            // Drawing takes milliseconds of CPU: off the async workers.
            Some(chart) => match tokio::task::spawn_blocking(move || crate::chart::render(&chart)).await {
                Ok(Ok(png)) => Some(png),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "report sent without its chart");
                    None
                }
                Err(e) => {
                    tracing::error!(error = %e, "chart drawing panicked; report sent without it");
                    None
                }
            },
            None => None,
        };
        let Some(png) = chart else {
            turn.replies.push(Reply::text(report.text));
            return Ok(());
        };
        let image = Attachment { name: format!("report-{}.png", report.slug), mime: "image/png".into(), bytes: png };
        if report.text.chars().count() <= MAX_CAPTION {
            turn.replies.push(Reply::file(report.text, image));
        } else {
            // Too long for a caption on Telegram or WhatsApp: the text, then the picture.
            turn.replies.push(Reply::text(report.text));
            turn.replies.push(Reply::file("", image));
        }
        Ok(())
    }

    async fn button(&self, turn: &mut Turn, me: &Me, data: &str, at: Timestamp) -> Result<(), EngineError> {
        let (kind, rest) = data.split_once(':').unwrap_or((data, ""));
        let entry_id = |s: &str| uuid::Uuid::parse_str(s).ok().map(EntryId);
        match (kind, rest) {
            ("u", id) => match entry_id(id) {
                Some(id) => self.undo(turn, me, Some(id), at).await?,
                None => turn.replies.push(Reply::text(self.texts.get("already_removed"))),
            },
            ("c", id) => match entry_id(id) {
                Some(id) if self.ports.store.entry(me.user.id, id).await?.is_some() => {
                    let buttons = self
                        .config
                        .categories
                        .iter()
                        .map(|c| Button {
                            label: self.category_name(&c.id),
                            data: clip_bytes(&format!("s:{}:{}", id.0, c.id.as_str()), 64),
                        })
                        .collect();
                    turn.replies.push(Reply::new(self.texts.get("choose_category"), buttons));
                }
                _ => turn.replies.push(Reply::text(self.texts.get("already_removed"))),
            },
            ("s", rest) => {
                let (id, cat) = rest.split_once(':').unwrap_or((rest, ""));
                self.recategorise(turn, me, entry_id(id), cat, at).await?;
            }
            ("more", _) => self.list(turn, me, true).await?,
            ("a", id) => self.acknowledge(turn, me, id, at).await?,
            // A sign-up button pressed again after sign-up, or an unknown one: nothing to do.
            _ => turn.replies.push(Reply::text(self.texts.get("not_understood"))),
        }
        Ok(())
    }

    async fn recategorise(
        &self,
        turn: &mut Turn,
        me: &Me,
        id: Option<EntryId>,
        category: &str,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let Some(def) = self.config.categories.iter().find(|c| c.id.as_str() == category) else {
            turn.replies.push(Reply::text(self.texts.fill("unknown_category", &[("input", &clip(category, 40))])));
            return Ok(());
        };
        let found = match id {
            Some(id) => self.ports.store.entry(me.user.id, id).await?,
            None => None,
        };
        let Some(e) = found else {
            turn.replies.push(Reply::text(self.texts.get("already_removed")));
            return Ok(());
        };
        let event = Event::EntryRecategorised {
            user_id: me.user.id,
            entry_id: e.entry.id,
            category: def.id.clone(),
            apply_to_past: false,
            at,
            merchant: e.entry.merchant.clone(),
        };
        self.append_and_read(vec![event], me.user.id, e.entry.id).await?;
        let text = self.texts.fill(
            "recategorised",
            &[
                ("category", &self.category_name(&def.id)),
                ("amount", &format::money(e.entry.amount.minor, e.entry.amount.currency)),
                ("day", &self.day(local_date(e.entry.occurred_at, &me.tz), me.today)),
            ],
        );
        turn.replies.push(Reply::new(text, self.entry_buttons(e.entry.id)));
        Ok(())
    }
}

/// `Some(rest)` when `text` is the command `/name` (also `/name@botname`).
fn command<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let (cmd, rest) = split_command_ref(text.trim())?;
    (cmd.eq_ignore_ascii_case(name)).then_some(rest)
}

fn split_command_ref(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('/')?;
    let (head, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let name = head.split_once('@').map_or(head, |(n, _)| n);
    Some((name, rest.trim()))
}

/// The command name (lower case, without `/` and `@bot`) and its argument text.
fn split_command(text: &str) -> (String, &str) {
    match split_command_ref(text) {
        Some((name, rest)) => (name.to_ascii_lowercase(), rest),
        None => (String::new(), text),
    }
}

/// Guesses of currency and time zone for a new chat: from a WhatsApp number's
/// country code where it names one, else the configured defaults.
fn guess(chat: &ChatKey, config: &Config) -> (Currency, String) {
    const BY_PREFIX: &[(&str, &str, &str)] = &[
        ("91", "INR", "Asia/Kolkata"),
        ("44", "GBP", "Europe/London"),
        ("49", "EUR", "Europe/Berlin"),
        ("33", "EUR", "Europe/Paris"),
        ("34", "EUR", "Europe/Madrid"),
        ("39", "EUR", "Europe/Rome"),
        ("65", "SGD", "Asia/Singapore"),
        ("971", "AED", "Asia/Dubai"),
        ("61", "AUD", "Australia/Sydney"),
        ("1", "USD", "America/New_York"),
    ];
    if chat.channel == Channel::Whatsapp {
        let digits = chat.chat_id.trim_start_matches('+');
        for (prefix, currency, zone) in BY_PREFIX {
            if digits.starts_with(prefix)
                && let Ok(c) = Currency::parse(currency)
            {
                return (c, (*zone).to_owned());
            }
        }
    }
    (config.defaults.currency, config.defaults.time_zone.clone())
}

/// The IANA name of a zone typed in any case (`asia/kolkata`), if it exists.
fn canonical_zone(input: &str) -> Option<String> {
    let t = input.trim();
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    // The database finds names in any case and knows their canonical spelling.
    let tz = parse_time_zone(t).ok()?;
    Some(tz.iana_name().unwrap_or(t).to_owned())
}

/// At most `max` characters of `s`.
fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn clip_bytes(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// `s` with control characters (but newlines and tabs) turned into spaces, trimmed.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\n' && c != '\t' { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_with_or_without_the_bot_name() {
        assert_eq!(command("/link 4F7Q-K2M9", "link"), Some("4F7Q-K2M9"));
        assert_eq!(command("/LINK@spendstream_bot abc", "link"), Some("abc"));
        assert_eq!(command("/linked", "link"), None);
        assert_eq!(command("link abc", "link"), None);
        assert_eq!(split_command("/Month last"), ("month".to_owned(), "last"));
    }

    #[test]
    fn zones_are_found_in_any_case_and_whatsapp_numbers_guess_a_country() {
        assert_eq!(canonical_zone("asia/kolkata").as_deref(), Some("Asia/Kolkata"));
        assert_eq!(canonical_zone("Mars/Olympus"), None);
        let config = Config::load_with_env(None, figment::providers::Env::prefixed("SPENDSTREAM_TEST_UNSET__"))
            .expect("defaults");
        let wa = ChatKey::new(Channel::Whatsapp, "447700900123").expect("key");
        let (c, z) = guess(&wa, &config);
        assert_eq!((c.code(), z.as_str()), ("GBP", "Europe/London"));
        let tg = ChatKey::new(Channel::Telegram, "447700900123").expect("key");
        assert_eq!(guess(&tg, &config).1, config.defaults.time_zone);
    }

    #[test]
    fn button_data_fits_telegram() {
        let long = format!("s:{}:{}", uuid::Uuid::nil(), "a_very_long_category_identifier_that_goes_on");
        assert!(clip_bytes(&long, 64).len() <= 64);
        assert_eq!(clip_bytes("₹₹", 4), "₹");
    }
}
