//! The WhatsApp Cloud API adapter: the webhook Meta calls, and replies through the
//! Graph API.
//!
//! - `GET /webhooks/whatsapp`: the verification handshake; answers `hub.challenge`
//!   when `hub.verify_token` is the configured one, else 403.
//! - `POST /webhooks/whatsapp`: every request must carry `X-Hub-Signature-256`, the
//!   HMAC-SHA256 of the raw body under the app secret; a missing or bad signature gets
//!   401 and changes nothing. Each message goes to the engine; its replies go out as
//!   text, reply buttons (up to 3) or list messages (more). If the engine cannot work
//!   now the answer is 503, so Meta delivers the message again later; messages already
//!   handled are then dropped by their id.
//!
//! Replies are sent at once in answer to the user's message, so they are always inside
//! the 24-hour customer-service window. Alert pushes ([`Whatsapp::push`]) go as
//! ordinary messages inside it and as the approved template `bot.whatsapp.alert_template`
//! outside it (not at all when none is configured: `/alerts` still lists them).

use crate::constant_time_eq;
use crate::engine::{Attachment, Button, Engine, EngineError, Incoming, Input, Reply};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use spendstream_core::chats::{Channel, ChatKey};
use spendstream_core::config::WhatsappConfig;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Largest webhook body read (Meta batches at most a few messages).
const MAX_BODY: usize = 1024 * 1024;
/// WhatsApp's limits on interactive messages.
const MAX_REPLY_BUTTONS: usize = 3;
const MAX_LIST_ROWS: usize = 10;
const MAX_BUTTON_TITLE: usize = 20;
const MAX_ROW_TITLE: usize = 24;
const MAX_BODY_TEXT: usize = 4096;
const MAX_INTERACTIVE_BODY: usize = 1024;
/// Attempts at sending one reply through the Graph API.
const SEND_ATTEMPTS: u32 = 3;

/// The adapter: the engine plus a Graph API client.
pub struct Whatsapp {
    engine: Arc<Engine>,
    config: WhatsappConfig,
    http: reqwest::Client,
}

impl Whatsapp {
    /// An adapter for `engine` with `config` (`bot.whatsapp`).
    pub fn new(engine: Arc<Engine>, config: WhatsappConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(Duration::from_millis(config.timeout_ms)).build()?;
        Ok(Whatsapp { engine, config, http })
    }

    /// The webhook routes, to merge into the server's router.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/webhooks/whatsapp", get(verify).post(receive))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self)
    }

    /// Whether `signature` (`sha256=<hex>`) is the HMAC of `body` under the app secret.
    fn signed(&self, body: &[u8], signature: Option<&str>) -> bool {
        let Some(hex) = signature.and_then(|s| s.strip_prefix("sha256=")) else { return false };
        let Some(expected) = decode_hex(hex) else { return false };
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(self.config.app_secret.expose().as_bytes()) else {
            return false;
        };
        mac.update(body);
        // Constant time.
        mac.verify_slice(&expected).is_ok()
    }

    /// Whether an alert may go to a user outside their 24-hour window: only with an
    /// approved template (`bot.whatsapp.alert_template`).
    pub fn can_write_first(&self) -> bool {
        !self.config.alert_template.is_empty()
    }

    /// Pushes `replies` (an alert) to `to`, unasked: as they are while the user's
    /// 24-hour window is open, else each reply's text in the alert template.
    pub async fn push(&self, to: &str, replies: &[Reply], window_open: bool) -> Result<(), String> {
        if window_open {
            for r in replies {
                self.send(to, r).await?;
            }
            return Ok(());
        }
        let name = &self.config.alert_template;
        if name.is_empty() {
            return Err("outside the 24-hour window and no bot.whatsapp.alert_template".into());
        }
        for r in replies {
            let template = json!({
                "name": name,
                "language": {"code": self.config.template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": clip(&r.text, MAX_INTERACTIVE_BODY)}]}]
            });
            self.post(&envelope(to, "template", template)).await?;
        }
        Ok(())
    }

    /// Sends one reply as one or more WhatsApp messages.
    async fn send(&self, to: &str, reply: &Reply) -> Result<(), String> {
        if let Some(file) = &reply.attachment {
            let id = self.upload(file).await?;
            let caption = clip(&reply.text, crate::engine::MAX_CAPTION);
            // Charts as images (shown inline); other files as documents.
            let message = if file.mime.starts_with("image/") {
                let mut image = json!({"id": id});
                if !caption.is_empty() {
                    image["caption"] = json!(caption);
                }
                envelope(to, "image", image)
            } else {
                envelope(to, "document", json!({"id": id, "filename": file.name, "caption": caption}))
            };
            return self.post(&message).await;
        }
        for message in messages(to, reply) {
            self.post(&message).await?;
        }
        Ok(())
    }

    /// Uploads a file to the Graph API's media endpoint; its media id.
    async fn upload(&self, file: &Attachment) -> Result<String, String> {
        let url = format!("{}/{}/media", self.config.graph_url.trim_end_matches('/'), self.config.phone_number_id);
        let part = reqwest::multipart::Part::bytes(file.bytes.clone())
            .file_name(file.name.clone())
            .mime_str(&file.mime)
            .map_err(|e| e.to_string())?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", file.mime.clone())
            .part("file", part);
        let r = self
            .http
            .post(&url)
            .bearer_auth(self.config.access_token.expose())
            .multipart(form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body: Value = r.json().await.map_err(|e| format!("graph api media {status}: {e}"))?;
        match body["id"].as_str() {
            Some(id) if status.is_success() => Ok(id.to_owned()),
            _ => Err(format!("graph api media {status}: {body}")),
        }
    }

    async fn post(&self, message: &Value) -> Result<(), String> {
        let url = format!("{}/{}/messages", self.config.graph_url.trim_end_matches('/'), self.config.phone_number_id);
        let mut last = String::new();
        for attempt in 0..SEND_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            let sent = self.http.post(&url).bearer_auth(self.config.access_token.expose()).json(message).send().await;
            match sent {
                Ok(r) if r.status().is_success() => return Ok(()),
                // A 4xx other than 429 will not succeed on retry.
                Ok(r) if r.status().is_client_error() && r.status() != reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    let status = r.status();
                    return Err(format!("graph api {status}: {}", r.text().await.unwrap_or_default()));
                }
                Ok(r) => last = format!("graph api {}", r.status()),
                Err(e) => last = e.to_string(),
            }
        }
        Err(last)
    }
}

/// The GET verification request's query.
#[derive(Debug, Deserialize)]
struct VerifyQuery {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn verify(State(wa): State<Arc<Whatsapp>>, Query(q): Query<VerifyQuery>) -> Response {
    let expected = wa.config.verify_token.expose();
    let token_ok = q.token.as_deref().is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()));
    match (q.mode.as_deref(), token_ok, q.challenge) {
        (Some("subscribe"), true, Some(challenge)) => (StatusCode::OK, challenge).into_response(),
        _ => (StatusCode::FORBIDDEN, "verification failed").into_response(),
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// The parts of a webhook payload the bot reads (Meta sends more).
#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(default)]
    entry: Vec<PayloadEntry>,
}

#[derive(Debug, Deserialize)]
struct PayloadEntry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    #[serde(default)]
    value: ChangeValue,
}

#[derive(Debug, Default, Deserialize)]
struct ChangeValue {
    #[serde(default)]
    messages: Vec<Message>,
}

/// One inbound message.
#[derive(Debug, Deserialize)]
struct Message {
    from: String,
    id: String,
    #[serde(rename = "type", default)]
    kind: String,
    text: Option<TextBody>,
    interactive: Option<Interactive>,
    button: Option<TemplateButton>,
}

#[derive(Debug, Deserialize)]
struct TextBody {
    body: String,
}

#[derive(Debug, Deserialize)]
struct Interactive {
    button_reply: Option<Choice>,
    list_reply: Option<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    id: String,
}

#[derive(Debug, Deserialize)]
struct TemplateButton {
    payload: Option<String>,
    text: Option<String>,
}

impl Message {
    /// What the user sent, or `None` for a kind the bot does not read (images, audio, ...).
    fn input(&self) -> Option<Input> {
        match self.kind.as_str() {
            "text" => self.text.as_ref().map(|t| Input::Text(t.body.clone())),
            "interactive" => {
                let i = self.interactive.as_ref()?;
                i.button_reply.as_ref().or(i.list_reply.as_ref()).map(|c| Input::Button(c.id.clone()))
            }
            "button" => {
                let b = self.button.as_ref()?;
                b.payload.clone().map(Input::Button).or_else(|| b.text.clone().map(Input::Text))
            }
            _ => None,
        }
    }
}

async fn receive(State(wa): State<Arc<Whatsapp>>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !wa.signed(&body, signature) {
        tracing::warn!("whatsapp webhook with a missing or bad signature refused");
        return (StatusCode::UNAUTHORIZED, "bad or missing X-Hub-Signature-256").into_response();
    }
    let payload: Payload = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not a webhook payload: {e}")).into_response(),
    };
    let messages = payload.entry.into_iter().flat_map(|e| e.changes).flat_map(|c| c.value.messages);
    for m in messages {
        let Ok(chat) = ChatKey::new(Channel::Whatsapp, m.from.as_str()) else {
            tracing::warn!("whatsapp message with an unusable sender id skipped");
            continue;
        };
        let replies = match m.input() {
            Some(input) => {
                let msg = Incoming { chat, message_id: m.id.clone(), input, at: jiff::Timestamp::now() };
                match wa.engine.handle(&msg).await {
                    Ok(r) => r,
                    Err(EngineError::Unavailable(e)) => {
                        tracing::warn!(error = %e, "whatsapp message not handled now; asking for redelivery");
                        return (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response();
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "whatsapp message dropped");
                        continue;
                    }
                }
            }
            None => vec![Reply::new(wa.engine.texts().get("unsupported").to_owned(), Vec::new())],
        };
        for r in &replies {
            if let Err(e) = wa.send(&m.from, r).await {
                tracing::error!(error = %e, "whatsapp reply not sent");
            }
        }
    }
    StatusCode::OK.into_response()
}

/// At most `max` characters.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A Graph API message of `kind` (`text`, `interactive`, `document`) to `to`.
fn envelope(to: &str, kind: &str, content: Value) -> Value {
    let mut m = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind});
    m[kind] = content;
    m
}

/// A reply as Graph API messages: plain text; reply buttons for up to three; list
/// messages of ten rows for more.
fn messages(to: &str, reply: &Reply) -> Vec<Value> {
    if reply.buttons.is_empty() {
        return vec![envelope(to, "text", json!({"body": clip(&reply.text, MAX_BODY_TEXT), "preview_url": false}))];
    }
    let body = clip(&reply.text, MAX_INTERACTIVE_BODY);
    if reply.buttons.len() <= MAX_REPLY_BUTTONS {
        let buttons: Vec<Value> = reply
            .buttons
            .iter()
            .map(|b| json!({"type": "reply", "reply": {"id": b.data, "title": clip(&b.label, MAX_BUTTON_TITLE)}}))
            .collect();
        return vec![envelope(
            to,
            "interactive",
            json!({"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}),
        )];
    }
    reply
        .buttons
        .chunks(MAX_LIST_ROWS)
        .enumerate()
        .map(|(i, chunk)| {
            let rows: Vec<Value> =
                chunk.iter().map(|b: &Button| json!({"id": b.data, "title": clip(&b.label, MAX_ROW_TITLE)})).collect();
            let text = if i == 0 { body.clone() } else { "…".to_owned() };
            envelope(
                to,
                "interactive",
                json!({"type": "list", "body": {"text": text},
                       "action": {"button": "Choose", "sections": [{"title": "Choose", "rows": rows}]}}),
            )
        })
        .collect()
}

/// Query parameters of the verification request, for tests and tooling.
pub fn verification_query(token: &str, challenge: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("hub.mode", "subscribe".to_owned()),
        ("hub.verify_token", token.to_owned()),
        ("hub.challenge", challenge.to_owned()),
    ])
}

/// `sha256=<hex>`: the `X-Hub-Signature-256` Meta sends for `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(n: usize) -> Reply {
        Reply::new(
            "pick",
            (0..n).map(|i| Button { label: format!("a very long button label {i}"), data: format!("d{i}") }).collect(),
        )
    }

    #[test]
    fn replies_become_text_buttons_or_lists_within_whatsapp_limits() {
        let plain = messages("91", &Reply::new("x".repeat(5000), vec![]));
        assert_eq!(plain[0]["type"], "text");
        assert_eq!(plain[0]["text"]["body"].as_str().map(|s| s.chars().count()), Some(MAX_BODY_TEXT));
        let two = messages("91", &reply(2));
        assert_eq!(two[0]["interactive"]["type"], "button");
        let title = two[0]["interactive"]["action"]["buttons"][1]["reply"]["title"].as_str().unwrap_or_default();
        assert_eq!(title.chars().count(), MAX_BUTTON_TITLE);
        let many = messages("91", &reply(18));
        assert_eq!(many.len(), 2, "ten rows a list");
        assert_eq!(many[1]["interactive"]["action"]["sections"][0]["rows"].as_array().map(Vec::len), Some(8));
        assert_eq!(many[0]["interactive"]["action"]["sections"][0]["rows"][0]["id"], "d0");
    }

    #[test]
    fn hex_and_signatures() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        // RFC 4231 test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
