//! The Telegram adapter against a stand-in Bot API server that speaks Telegram's HTTP
//! API (`/bot<token>/<method>`), queues updates for `getUpdates` and records what the
//! bot sent; the engine runs over the real embedded pipeline.

#![allow(clippy::unwrap_used)]

mod common;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use spendstream_bot::notify::Notifier;
use spendstream_bot::telegram::Telegram;
use spendstream_core::config::{Secret, TelegramConfig, TelegramMode};
use spendstream_testkit::TestApp;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

const TOKEN: &str = "123456:TEST-token";
const SECRET: &str = "webhook-secret-for-tests";

/// The stand-in's state: updates waiting, calls seen.
#[derive(Default)]
struct Api {
    updates: Mutex<Vec<Value>>,
    calls: Mutex<Vec<(String, Value)>>,
    changed: Notify,
}

impl Api {
    fn push(&self, update: Value) {
        self.updates.lock().unwrap().push(update);
        self.changed.notify_waiters();
    }

    fn calls(&self, method: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m.eq_ignore_ascii_case(method))
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Waits (at most 10 s) until `method` was called `n` times; its bodies.
    /// Waits until the calls of `method` satisfy `done`; all of them.
    async fn wait_until(&self, method: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.changed.notified();
            let calls = self.calls(method);
            if done(&calls) {
                return calls;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("{method} calls never got there: {calls:#?}");
            }
        }
    }

    async fn wait_for(&self, method: &str, n: usize) -> Vec<Value> {
        self.wait_until(method, |calls| calls.len() >= n).await
    }
}

/// The fields of a `multipart/form-data` body (teloxide sends files and `setWebhook`
/// so): text as JSON strings, a PNG as `{"png": [width, height]}`.
fn form_fields(content_type: &str, body: &[u8]) -> Value {
    let mut fields = serde_json::Map::new();
    for (name, value) in common::multipart_parts(content_type, body) {
        let field = match (common::png_size(&value), String::from_utf8(value)) {
            (Some((w, h)), _) => json!({"png": [w, h]}),
            (None, Ok(text)) => json!(text),
            (None, Err(e)) => json!({"binary": e.into_bytes().len()}),
        };
        fields.insert(name, field);
    }
    Value::Object(fields)
}

async fn bot_api(
    State(api): State<Arc<Api>>,
    Path((bot, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Json<Value> {
    assert_eq!(bot, format!("bot{TOKEN}"), "the token goes in the path");
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let body: Value = if content_type.starts_with("multipart/form-data") {
        form_fields(content_type, &body)
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    api.calls.lock().unwrap().push((method.clone(), body.clone()));
    api.changed.notify_waiters();
    // Bot API method names are case-insensitive (teloxide sends `SendMessage`).
    let result = match method.to_ascii_lowercase().as_str() {
        "getupdates" => {
            let offset = body["offset"].as_i64().unwrap_or(0);
            let wait = api.changed.notified();
            let ready: Vec<Value> = api
                .updates
                .lock()
                .unwrap()
                .iter()
                .filter(|u| u["update_id"].as_i64().unwrap_or(0) >= offset)
                .cloned()
                .collect();
            if ready.is_empty() {
                // A short long-poll: answer when something arrives, or empty.
                let _ = tokio::time::timeout(Duration::from_millis(200), wait).await;
            }
            // Telegram forgets updates below the offset.
            api.updates.lock().unwrap().retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            json!(ready)
        }
        "sendmessage" => json!({
            "message_id": 1000, "date": 1_732_400_000,
            "chat": {"id": body["chat_id"], "type": "private", "first_name": "Asha"},
            "from": {"id": 1, "is_bot": true, "first_name": "spendstream", "username": "spendstream_bot"},
            "text": body["text"]
        }),
        "sendphoto" | "senddocument" => json!({
            "message_id": 1001, "date": 1_732_400_000,
            "chat": {"id": body["chat_id"], "type": "private", "first_name": "Asha"},
            "from": {"id": 1, "is_bot": true, "first_name": "spendstream", "username": "spendstream_bot"},
            "document": {"file_id": "sent", "file_unique_id": "sent"}
        }),
        _ => json!(true),
    };
    Json(json!({"ok": true, "result": result}))
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

async fn rig(mode: TelegramMode) -> (TestApp, Arc<Api>, Arc<Telegram>) {
    let app = TestApp::spawn().await;
    let api = Arc::new(Api::default());
    let url =
        serve(axum::Router::new().route("/{bot}/{method}", axum::routing::post(bot_api)).with_state(api.clone())).await;
    let tg = TelegramConfig {
        enabled: true,
        token: Secret::new(TOKEN),
        api_url: url,
        mode,
        webhook_url: "https://bot.example.com/webhooks/telegram".into(),
        webhook_secret: Secret::new(SECRET),
        poll_timeout_secs: 1,
        messages_per_sec_chat: 3,
        messages_per_min_chat: 20,
        messages_per_sec_overall: 30,
    };
    let adapter = Arc::new(Telegram::new(common::engine(&app), tg).expect("adapter"));
    (app, api, adapter)
}

fn message(update_id: i64, chat: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_732_400_000,
        "chat": {"id": chat, "type": "private", "first_name": "Asha"},
        "from": {"id": chat, "is_bot": false, "first_name": "Asha"},
        "text": text}})
}

fn button(update_id: i64, chat: i64, data: &str) -> Value {
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cq{update_id}"), "chat_instance": "ci",
        "from": {"id": chat, "is_bot": false, "first_name": "Asha"},
        "message": {"message_id": 999, "date": 1_732_400_000,
                    "chat": {"id": chat, "type": "private", "first_name": "Asha"}, "text": "earlier reply"},
        "data": data}})
}

fn buttons(sent: &Value) -> Vec<String> {
    sent["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| b["callback_data"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn long_polling_signs_up_adds_and_acknowledges_each_update_once() {
    let (_app, api, tg) = rig(TelegramMode::Polling).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let polling = tokio::spawn(tg.clone().poll(stopped));

    api.push(message(10, 42, "spent 250 on lunch at subway"));
    let sent = api.wait_for("sendMessage", 2).await;
    assert!(sent[0]["text"].as_str().unwrap().starts_with("Hi!"), "{sent:#?}");
    assert_eq!(sent[1]["chat_id"], 42);
    assert_eq!(buttons(&sent[1])[0], "cur:INR");

    api.push(button(11, 42, "cur:INR"));
    api.wait_for("answerCallbackQuery", 1).await;
    let sent = api.wait_for("sendMessage", 3).await;
    assert!(buttons(&sent[2]).contains(&"tz:UTC".to_owned()), "{sent:#?}");
    api.push(button(12, 42, "tz:UTC"));
    let sent = api.wait_for("sendMessage", 5).await;
    assert!(sent[3]["text"].as_str().unwrap().starts_with("All set"), "{sent:#?}");
    let added = sent[4]["text"].as_str().unwrap();
    assert!(added.starts_with("Added ₹250.00"), "the held first message: {added}");
    assert_eq!(buttons(&sent[4])[0].len(), 2 + 36, "u:<entry id>");

    // The acknowledgement is the next call's offset.
    api.wait_for("getUpdates", 1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while api.calls("getUpdates").last().map(|b| b["offset"].clone()) != Some(json!(13)) {
        assert!(tokio::time::Instant::now() < deadline, "offset never passed update 12");
        let _ = tokio::time::timeout(Duration::from_millis(100), api.changed.notified()).await;
    }

    // Telegram hands update 12 over again (an acknowledgement lost): nothing happens.
    api.push(button(12, 42, "tz:UTC"));
    api.push(message(13, 42, "/list"));
    let sent = api.wait_for("sendMessage", 6).await;
    assert_eq!(sent.len(), 6, "one reply, to /list only: {sent:#?}");
    let list = sent[5]["text"].as_str().unwrap();
    assert_eq!(list.lines().count(), 2, "one entry: {list}");

    // /export comes as a document with the text as its caption.
    api.push(message(14, 42, "/export"));
    let docs = api.wait_for("sendDocument", 1).await;
    assert!(docs[0]["caption"].as_str().unwrap().starts_with("CSV of "), "{docs:#?}");
    // teloxide sends the file as a part of its own, named by `attach://<part>`.
    let part = docs[0]["document"].as_str().unwrap().strip_prefix("attach://").unwrap();
    assert!(docs[0][part].as_str().unwrap().starts_with("occurred_at,amount,currency"), "{docs:#?}");

    // A photo without a caption: the bot says what it reads.
    api.push(json!({"update_id": 15, "message": {"message_id": 15, "date": 1_732_400_000,
        "chat": {"id": 42, "type": "private", "first_name": "Asha"},
        "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]}}));
    let sent = api.wait_for("sendMessage", 7).await;
    assert!(sent[6]["text"].as_str().unwrap().contains("text messages only"));

    // /month comes as a photo: the chart, with the report as its caption.
    api.push(message(16, 42, "/month"));
    let photos = api.wait_for("sendPhoto", 1).await;
    let caption = photos[0]["caption"].as_str().unwrap();
    assert!(caption.contains("spent ₹250.00"), "{photos:#?}");
    let part = photos[0]["photo"].as_str().unwrap().strip_prefix("attach://").unwrap();
    let size = &photos[0][part]["png"];
    assert_eq!(size[0], spendstream_bot::chart::WIDTH, "{photos:#?}");
    assert!(size[1].as_u64().unwrap() > u64::from(spendstream_bot::chart::TREND_HEIGHT), "bars and trend: {size}");

    stop.send(true).unwrap();
    polling.await.unwrap();
    assert!(api.calls("deleteWebhook").len() == 1, "polling clears a webhook first");
}

#[tokio::test]
async fn the_webhook_needs_the_secret_token() {
    let (app, api, tg) = rig(TelegramMode::Webhook).await;
    tg.register_webhook().await.expect("setWebhook");
    let set = api.calls("setWebhook");
    assert_eq!(set[0]["secret_token"], SECRET, "{set:#?}");
    assert_eq!(set[0]["url"], "https://bot.example.com/webhooks/telegram");

    let hook = format!("{}/webhooks/telegram", serve(tg.router()).await);
    let http = reqwest::Client::new();
    let update = message(20, 77, "uber 180");
    for secret in [None, Some("wrong-secret-value-123")] {
        let mut req = http.post(&hook).json(&update);
        if let Some(s) = secret {
            req = req.header("x-telegram-bot-api-secret-token", s);
        }
        assert_eq!(req.send().await.unwrap().status().as_u16(), 401);
    }
    let key = spendstream_core::chats::ChatKey::new(spendstream_core::chats::Channel::Telegram, "77").unwrap();
    assert_eq!(app.ports.chats.chat(&key).await.unwrap(), None, "refused updates change nothing");
    assert!(api.calls("sendMessage").is_empty());

    let ok = http.post(&hook).header("x-telegram-bot-api-secret-token", SECRET).json(&update).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(api.calls("sendMessage").len(), 2, "welcome and the currency question");
    let junk = http.post(&hook).header("x-telegram-bot-api-secret-token", SECRET).body("{").send().await.unwrap();
    assert_eq!(junk.status().as_u16(), 400);
}

#[test]
fn the_stand_in_updates_read_as_telegram_updates() {
    use teloxide::types::{Message, Update, UpdateKind};
    let inner: Message = serde_json::from_value(message(1, 42, "hi")["message"].clone()).unwrap();
    assert_eq!(inner.text(), Some("hi"));
    // As Telegram sends them: text (teloxide reads update kinds from borrowed keys).
    let m: Update = serde_json::from_str(&message(1, 42, "hi").to_string()).unwrap();
    assert!(matches!(m.kind, UpdateKind::Message(_)), "{m:?}");
    let b: Update = serde_json::from_str(&button(2, 42, "cur:INR").to_string()).unwrap();
    assert!(matches!(b.kind, UpdateKind::CallbackQuery(_)), "{b:?}");
    let all: Vec<Update> = serde_json::from_str(&json!([button(3, 42, "x"), message(4, 42, "y")]).to_string()).unwrap();
    assert!(matches!(all[0].kind, UpdateKind::CallbackQuery(_)), "{all:?}");
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Resp {
        Ok { ok: bool, result: Vec<Update> },
    }
    let body = json!({"ok": true, "result": [button(3, 42, "x"), message(4, 42, "y")]}).to_string();
    let Resp::Ok { ok, result } = serde_json::from_str(&body).unwrap();
    assert!(ok);
    assert!(matches!(result[1].kind, UpdateKind::Message(_)), "{result:?}");
    assert!(matches!(result[0].kind, UpdateKind::CallbackQuery(_)), "{result:?}");
}

/// The ids of the alerts pushed in `sent` (their Seen buttons), in order.
fn pushed_alerts(sent: &[Value]) -> Vec<String> {
    sent.iter().flat_map(buttons).filter_map(|b| b.strip_prefix("a:").map(str::to_owned)).collect()
}

#[tokio::test]
async fn alerts_are_pushed_to_the_chat_once_across_a_notifier_restart() {
    let (app, api, tg) = rig(TelegramMode::Polling).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let polling = tokio::spawn(tg.clone().poll(stopped));
    let steps = [
        (message(1, 77, "/start"), 2),
        (button(2, 77, "cur:INR"), 3),
        (button(3, 77, "tz:UTC"), 4),
        (message(4, 77, "/alerts quiet off"), 5),
        (message(5, 77, "/budget 1000 food"), 6),
    ];
    for (update, replies) in steps {
        api.push(update);
        api.wait_for("sendMessage", replies).await;
    }
    let notifier = |app: &TestApp| {
        let log = app.ports.log.clone();
        Notifier::new(common::engine(app), log, app.ports.chats.clone(), "notifier").telegram(tg.clone())
    };
    let (stop_first, stopped) = tokio::sync::watch::channel(false);
    let first = tokio::spawn(notifier(&app).run(stopped));

    // 90% of the food budget: the alert comes to the chat unasked, with a Seen button.
    api.push(message(6, 77, "lunch 900"));
    let sent = api.wait_until("sendMessage", |s| !pushed_alerts(s).is_empty()).await;
    let push = sent.iter().find(|m| !pushed_alerts(std::slice::from_ref(m)).is_empty()).unwrap();
    assert_eq!(push["chat_id"], 77);
    assert!(push["text"].as_str().unwrap().contains("Food & dining"), "{push:#?}");

    // A new notifier of the same group pushes the next alert, and none twice.
    stop_first.send(true).unwrap();
    first.await.unwrap();
    let (stop_second, stopped) = tokio::sync::watch::channel(false);
    let second = tokio::spawn(notifier(&app).run(stopped));
    api.push(message(7, 77, "lunch 200"));
    let added = |s: &[Value]| s.iter().any(|m| m["text"].as_str().is_some_and(|t| t.starts_with("Added ₹200.00")));
    api.wait_until("sendMessage", added).await;
    let chat = spendstream_core::chats::ChatKey::new(spendstream_core::chats::Channel::Telegram, "77").unwrap();
    let user = app.ports.chats.chat(&chat).await.unwrap().and_then(|r| r.user_id).unwrap();
    let raised: Vec<String> =
        app.ports.store.profile(user).await.unwrap().alerts.iter().map(|a| a.id.to_string()).collect();
    assert!(raised.len() >= 2, "over the budget raises another alert: {raised:?}");
    let sent = api.wait_until("sendMessage", |s| raised.iter().all(|id| pushed_alerts(s).contains(id))).await;
    let pushed = pushed_alerts(&sent);
    for id in &raised {
        assert_eq!(pushed.iter().filter(|p| *p == id).count(), 1, "{id} pushed once: {pushed:?}");
    }

    // The Seen button works on a pushed alert.
    api.push(button(8, 77, &format!("a:{}", raised[0])));
    let sent = api.wait_until("sendMessage", |s| s.iter().any(|m| m["text"] == "Marked as seen.")).await;
    assert!(!sent.is_empty());
    stop_second.send(true).unwrap();
    second.await.unwrap();
    stop.send(true).unwrap();
    polling.await.unwrap();
}
