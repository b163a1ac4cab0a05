//! The Telegram adapter, on teloxide's Bot API client.
//!
//! - **Polling** (default): `getUpdates` long polling. An update is acknowledged (the
//!   next call's `offset` passes it) only once the engine has handled it; when the
//!   engine cannot work now, polling pauses and Telegram hands the same update over
//!   again. Run polling in one process only (Telegram allows one `getUpdates` caller).
//! - **Webhook:** `POST /webhooks/telegram` on the API's address; a request without the
//!   configured `X-Telegram-Bot-Api-Secret-Token` gets 401 and changes nothing. An
//!   update the engine cannot handle now gets 503, so Telegram delivers it again.
//!
//! Either way an update's id is the engine's message id, so an update delivered twice
//! is handled once. Replies go through teloxide's `Throttle`, which holds sends to
//! Telegram's per-chat and overall limits (`bot.telegram.messages_per_*`).

use crate::constant_time_eq;
use crate::engine::{Button, Engine, EngineError, Incoming, Input, Reply};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use spendstream_core::chats::{Channel, ChatKey};
use spendstream_core::config::{TelegramConfig, TelegramMode};
use std::sync::Arc;
use std::time::Duration;
use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Limits;
use teloxide::payloads::{
    GetUpdatesSetters, SendDocumentSetters, SendMessageSetters, SendPhotoSetters, SetWebhookSetters,
};
use teloxide::prelude::{Requester, RequesterExt};
use teloxide::types::{
    AllowedUpdate, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update, UpdateKind,
};

/// Longest text of one Telegram message, in characters.
const MAX_TEXT: usize = 4096;
/// Buttons per keyboard row.
const BUTTONS_PER_ROW: usize = 2;
/// Largest webhook body read.
const MAX_BODY: usize = 1024 * 1024;

/// Why the adapter could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// A configured URL does not parse.
    #[error("bot.telegram: {0}")]
    Config(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The adapter: the engine plus a throttled Bot API client.
pub struct Telegram {
    engine: Arc<Engine>,
    bot: Throttle<teloxide::Bot>,
    config: TelegramConfig,
}

impl Telegram {
    /// An adapter for `engine` with `config` (`bot.telegram`). Spawns the throttle's
    /// worker, so call it inside the runtime.
    pub fn new(engine: Arc<Engine>, config: TelegramConfig) -> Result<Self, TelegramError> {
        let api = reqwest::Url::parse(&config.api_url).map_err(|e| TelegramError::Config(format!("api_url: {e}")))?;
        // Long enough for one long poll plus the reply to it.
        let timeout = Duration::from_secs(u64::from(config.poll_timeout_secs) + 15);
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        let limits = Limits {
            messages_per_sec_chat: config.messages_per_sec_chat,
            messages_per_min_chat: config.messages_per_min_chat,
            messages_per_min_channel_or_supergroup: config.messages_per_min_chat,
            messages_per_sec_overall: config.messages_per_sec_overall,
        };
        let bot = teloxide::Bot::with_client(config.token.expose(), client).set_api_url(api).throttle(limits);
        Ok(Telegram { engine, bot, config })
    }

    /// Webhook mode: the route Telegram calls, to merge into the server's router.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().route("/webhooks/telegram", post(receive)).layer(DefaultBodyLimit::max(MAX_BODY)).with_state(self)
    }

    /// Webhook mode: tells Telegram where to call and with which secret.
    pub async fn register_webhook(&self) -> Result<(), String> {
        let url = reqwest::Url::parse(&self.config.webhook_url).map_err(|e| format!("webhook_url: {e}"))?;
        self.bot
            .set_webhook(url)
            .secret_token(self.config.webhook_secret.expose().to_owned())
            .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Handles one update and sends its replies. `Err` when the engine cannot work
    /// now: the update must be delivered again.
    pub async fn handle(&self, update: Update) -> Result<(), EngineError> {
        let message_id = format!("u{}", update.id.0);
        let (chat, input) = match update.kind {
            UpdateKind::Message(m) => {
                let text = m.text().or_else(|| m.caption()).map(|t| Input::Text(t.to_owned()));
                (m.chat.id, text)
            }
            UpdateKind::CallbackQuery(q) => {
                // Stops the button's spinner; the answer comes as a message.
                if let Err(e) = self.bot.answer_callback_query(q.id.clone()).await {
                    tracing::debug!(error = %e, "callback query not answered");
                }
                let Some(chat) = q.message.as_ref().map(|m| m.chat().id) else { return Ok(()) };
                (chat, q.data.map(Input::Button))
            }
            // Edits, channel posts, reactions, ...: not asked for, nothing to do.
            _ => return Ok(()),
        };
        let Ok(key) = ChatKey::new(Channel::Telegram, chat.0.to_string()) else { return Ok(()) };
        let replies = match input {
            Some(input) => {
                let msg = Incoming { chat: key, message_id, input, at: jiff::Timestamp::now() };
                match self.engine.handle(&msg).await {
                    Ok(r) => r,
                    Err(e @ EngineError::Unavailable(_)) => return Err(e),
                    Err(e) => {
                        tracing::error!(error = %e, "telegram update dropped");
                        return Ok(());
                    }
                }
            }
            None => vec![Reply::new(self.engine.texts().get("unsupported").to_owned(), Vec::new())],
        };
        for r in &replies {
            if let Err(e) = self.send(chat, r).await {
                tracing::error!(error = %e, chat = chat.0, "telegram reply not sent");
            }
        }
        Ok(())
    }

    /// Pushes `replies` (an alert) to the chat with this id, unasked.
    pub async fn push(&self, chat_id: &str, replies: &[Reply]) -> Result<(), String> {
        let chat = ChatId(chat_id.parse().map_err(|_| format!("'{chat_id}' is not a Telegram chat id"))?);
        for r in replies {
            self.send(chat, r).await?;
        }
        Ok(())
    }

    async fn send(&self, chat: ChatId, reply: &Reply) -> Result<(), String> {
        if let Some(file) = &reply.attachment {
            // A photo (charts) or a document, with the text as its caption.
            let caption: String = reply.text.chars().take(crate::engine::MAX_CAPTION).collect();
            let input = InputFile::memory(file.bytes.clone()).file_name(file.name.clone());
            let sent = if file.mime.starts_with("image/") {
                let mut req = self.bot.send_photo(chat, input);
                if !caption.is_empty() {
                    req = req.caption(caption);
                }
                req.await.map(drop)
            } else {
                self.bot.send_document(chat, input).caption(caption).await.map(drop)
            };
            return sent.map_err(|e| format!("{}: {e}", file.name));
        }
        let text: String = reply.text.chars().take(MAX_TEXT).collect();
        let mut req = self.bot.send_message(chat, text);
        if !reply.buttons.is_empty() {
            req = req.reply_markup(keyboard(&reply.buttons));
        }
        req.await.map(drop).map_err(|e| e.to_string())
    }

    /// Polling mode: runs until `stop` turns true.
    pub async fn poll(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        if self.config.mode != TelegramMode::Polling {
            return;
        }
        // getUpdates fails while a webhook is set.
        if let Err(e) = self.bot.delete_webhook().await {
            tracing::warn!(error = %e, "telegram: could not clear a webhook before polling");
        }
        let mut offset: Option<i32> = None;
        let mut backoff = Duration::from_millis(500);
        loop {
            let mut req = self
                .bot
                .get_updates()
                .timeout(self.config.poll_timeout_secs)
                .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
            if let Some(o) = offset {
                req = req.offset(o);
            }
            let polled = tokio::select! {
                r = req => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            let updates = match polled {
                Ok(u) => u,
                Err(e) => {
                    tracing::warn!(error = %e, retry_ms = backoff.as_millis() as u64, "telegram getUpdates failed");
                    if pause(&mut stop, &mut backoff).await {
                        return;
                    }
                    continue;
                }
            };
            let mut stalled = false;
            for u in updates {
                // The offset that confirms this update (its id + 1).
                let next = u.id.as_offset();
                match self.handle(u).await {
                    Ok(()) => offset = Some(next),
                    Err(e) => {
                        tracing::warn!(error = %e, "telegram update not handled now; it will come again");
                        stalled = true;
                        break;
                    }
                }
            }
            if stalled {
                if pause(&mut stop, &mut backoff).await {
                    return;
                }
            } else {
                backoff = Duration::from_millis(500);
            }
        }
    }
}

/// Waits `backoff` (doubling it, up to 30 s); true if told to stop meanwhile.
async fn pause(stop: &mut tokio::sync::watch::Receiver<bool>, backoff: &mut Duration) -> bool {
    let wait = *backoff;
    *backoff = (*backoff * 2).min(Duration::from_secs(30));
    tokio::select! {
        _ = tokio::time::sleep(wait) => false,
        _ = stop.wait_for(|s| *s) => true,
    }
}

fn keyboard(buttons: &[Button]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(buttons.chunks(BUTTONS_PER_ROW).map(|row| {
        row.iter().map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone())).collect::<Vec<_>>()
    }))
}

async fn receive(State(tg): State<Arc<Telegram>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let given = headers.get("x-telegram-bot-api-secret-token").map(|v| v.as_bytes()).unwrap_or_default();
    let expected = tg.config.webhook_secret.expose().as_bytes();
    if expected.is_empty() || !constant_time_eq(given, expected) {
        tracing::warn!("telegram webhook with a missing or wrong secret token refused");
        return (StatusCode::UNAUTHORIZED, "bad or missing X-Telegram-Bot-Api-Secret-Token").into_response();
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not an update: {e}")).into_response(),
    };
    match tg.handle(update).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_go_two_a_row() {
        let buttons: Vec<Button> = (0..5).map(|i| Button { label: format!("b{i}"), data: format!("d{i}") }).collect();
        let k = keyboard(&buttons);
        let rows: Vec<usize> = k.inline_keyboard.iter().map(Vec::len).collect();
        assert_eq!(rows, [2, 2, 1]);
    }
}
