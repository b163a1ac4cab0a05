//! The WhatsApp adapter over HTTP: its webhook served on a socket, Meta's calls made
//! with reqwest, and a stand-in Graph API server that records what the bot sent; the
//! engine runs over the real embedded pipeline.

#![allow(clippy::unwrap_used)]

mod common;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use spendstream_bot::whatsapp::{Whatsapp, signature, verification_query};
use spendstream_core::chats::{Channel, ChatKey};
use spendstream_core::config::{Secret, WhatsappConfig};
use spendstream_testkit::TestApp;
use std::sync::{Arc, Mutex};

const SECRET: &str = "app-secret-for-tests";
const PHONE_ID: &str = "1234567890";

/// What the stand-in Graph API received: (path, authorization, body).
type Sent = Arc<Mutex<Vec<(String, String, Value)>>>;

async fn graph_messages(
    State(sent): State<Sent>,
    Path(phone): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    sent.lock().expect("lock").push((phone, auth, body));
    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.out"}]}))
}

/// The media upload: recorded as its path, authorization, the multipart body (lossy
/// text) and, for an image, the PNG's size.
async fn graph_media(
    State(sent): State<Sent>,
    Path(phone): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Json<Value> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let png = common::multipart_parts(content_type, &body).into_iter().find_map(|(_, v)| common::png_size(&v));
    let upload = json!({"upload": String::from_utf8_lossy(&body), "png": png});
    sent.lock().expect("lock").push((phone, auth, upload));
    Json(json!({"id": "media-1"}))
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

struct Rig {
    app: TestApp,
    webhook: String,
    sent: Sent,
    http: reqwest::Client,
    adapter: Arc<Whatsapp>,
}

impl Rig {
    async fn start() -> Self {
        let app = TestApp::spawn().await;
        let sent: Sent = Arc::default();
        let graph = serve(
            axum::Router::new()
                .route("/v21.0/{phone}/messages", axum::routing::post(graph_messages))
                .route("/v21.0/{phone}/media", axum::routing::post(graph_media))
                .with_state(sent.clone()),
        )
        .await;
        let wa = WhatsappConfig {
            enabled: true,
            graph_url: format!("{graph}/v21.0"),
            phone_number_id: PHONE_ID.into(),
            access_token: Secret::new("graph-token"),
            app_secret: Secret::new(SECRET),
            verify_token: Secret::new("verify-me"),
            timeout_ms: 5000,
            alert_template: "spend_alert".into(),
            template_language: "en_US".into(),
        };
        let adapter = Arc::new(Whatsapp::new(common::engine(&app), wa).expect("client"));
        let webhook = format!("{}/webhooks/whatsapp", serve(adapter.clone().router()).await);
        Rig { app, webhook, sent, http: reqwest::Client::new(), adapter }
    }

    /// Posts a webhook payload signed with `secret` (or unsigned); returns the status.
    async fn post(&self, payload: &Value, secret: Option<&str>) -> u16 {
        let body = serde_json::to_vec(payload).expect("json");
        let mut req = self.http.post(&self.webhook).header("content-type", "application/json");
        if let Some(s) = secret {
            req = req.header("x-hub-signature-256", signature(s, &body));
        }
        req.body(body).send().await.expect("webhook answers").status().as_u16()
    }

    /// Bodies the bot has sent so far; clears the record.
    fn take(&self) -> Vec<Value> {
        let mut sent = self.sent.lock().expect("lock");
        for (phone, auth, _) in sent.iter() {
            assert_eq!((phone.as_str(), auth.as_str()), (PHONE_ID, "Bearer graph-token"));
        }
        sent.drain(..).map(|(_, _, body)| body).collect()
    }
}

fn text(from: &str, id: &str, body: &str) -> Value {
    payload(from, json!({"from": from, "id": id, "timestamp": "1732400000", "type": "text", "text": {"body": body}}))
}

fn press(from: &str, id: &str, data: &str, list: bool) -> Value {
    let (kind, reply) = if list { ("list_reply", "list") } else { ("button_reply", "button") };
    payload(
        from,
        json!({"from": from, "id": id, "type": "interactive",
               "interactive": {"type": reply, kind: {"id": data, "title": "x"}}}),
    )
}

fn payload(from: &str, message: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": PHONE_ID},
        "contacts": [{"profile": {"name": "Asha"}, "wa_id": from}],
        "messages": [message]}}]}]})
}

fn body_text(m: &Value) -> String {
    m["text"]["body"].as_str().or_else(|| m["interactive"]["body"]["text"].as_str()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn verification_answers_the_challenge_only_for_the_right_token() {
    let rig = Rig::start().await;
    let good = rig.http.get(&rig.webhook).query(&verification_query("verify-me", "1158201444")).send().await.unwrap();
    assert_eq!(good.status().as_u16(), 200);
    assert_eq!(good.text().await.unwrap(), "1158201444");
    let bad = rig.http.get(&rig.webhook).query(&verification_query("guess", "1158201444")).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 403);
    assert_eq!(rig.http.get(&rig.webhook).send().await.unwrap().status().as_u16(), 403);
}

#[tokio::test]
async fn unsigned_or_badly_signed_posts_get_401_and_change_nothing() {
    let rig = Rig::start().await;
    let msg = text("919800000010", "wamid.1", "uber 180");
    assert_eq!(rig.post(&msg, None).await, 401);
    assert_eq!(rig.post(&msg, Some("not-the-secret")).await, 401);
    let forged = rig
        .http
        .post(&rig.webhook)
        .header("x-hub-signature-256", "sha256=zz")
        .body(serde_json::to_vec(&msg).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    let key = ChatKey::new(Channel::Whatsapp, "919800000010").unwrap();
    assert_eq!(rig.app.ports.chats.chat(&key).await.unwrap(), None, "no chat was even created");
    assert!(rig.take().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_whatsapp_user_signs_up_adds_and_undoes_with_buttons() {
    let rig = Rig::start().await;
    let me = "919800000011";
    assert_eq!(rig.post(&text(me, "wamid.1", "uber 180"), Some(SECRET)).await, 200);
    let sent = rig.take();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(body_text(&sent[0]).starts_with("Hi!"));
    assert_eq!(sent[0]["to"], me);
    // Four currency choices are more than three reply buttons: a list, INR first (+91).
    assert_eq!(sent[1]["interactive"]["type"], "list", "{:#?}", sent[1]);
    assert_eq!(sent[1]["interactive"]["action"]["sections"][0]["rows"][0]["id"], "cur:INR");

    assert_eq!(rig.post(&press(me, "wamid.2", "cur:INR", true), Some(SECRET)).await, 200);
    let sent = rig.take();
    assert_eq!(sent[0]["interactive"]["type"], "button", "{sent:#?}");
    assert_eq!(sent[0]["interactive"]["action"]["buttons"][0]["reply"]["id"], "tz:Asia/Kolkata");
    assert_eq!(rig.post(&press(me, "wamid.3", "tz:Asia/Kolkata", false), Some(SECRET)).await, 200);
    let sent = rig.take();
    assert_eq!(sent.len(), 2, "all set, then the held 'uber 180': {sent:#?}");
    assert!(body_text(&sent[1]).starts_with("Added ₹180.00"), "{sent:#?}");
    let undo = sent[1]["interactive"]["action"]["buttons"][0]["reply"]["id"].as_str().unwrap().to_owned();
    assert!(undo.starts_with("u:"), "{undo}");

    // Meta delivers the same message again: no second entry, no second reply.
    assert_eq!(rig.post(&press(me, "wamid.3", "tz:Asia/Kolkata", false), Some(SECRET)).await, 200);
    assert!(rig.take().is_empty());

    assert_eq!(rig.post(&press(me, "wamid.4", &undo, false), Some(SECRET)).await, 200);
    assert!(body_text(&rig.take()[0]).starts_with("Removed ₹180.00"));
    assert_eq!(rig.post(&text(me, "wamid.5", "/list"), Some(SECRET)).await, 200);
    assert!(body_text(&rig.take()[0]).starts_with("No entries yet"));

    // /export: the CSV is uploaded, then sent as a document with the text as caption.
    assert_eq!(rig.post(&text(me, "wamid.7", "uber 90"), Some(SECRET)).await, 200);
    rig.take();
    assert_eq!(rig.post(&text(me, "wamid.8", "/export"), Some(SECRET)).await, 200);
    let sent = rig.take();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let upload = sent[0]["upload"].as_str().unwrap();
    assert!(
        upload.contains("name=\"messaging_product\"") && upload.contains("occurred_at,amount,currency"),
        "{upload}"
    );
    assert_eq!(sent[1]["type"], "document");
    assert_eq!(sent[1]["document"]["id"], "media-1");
    assert!(sent[1]["document"]["caption"].as_str().unwrap().starts_with("CSV of "), "{sent:#?}");

    // /month: the chart is uploaded as a PNG, then sent as an image with the report as caption.
    assert_eq!(rig.post(&text(me, "wamid.9", "/month"), Some(SECRET)).await, 200);
    let sent = rig.take();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(sent[0]["png"][0], spendstream_bot::chart::WIDTH, "the upload is the chart: {sent:#?}");
    assert!(sent[0]["upload"].as_str().unwrap().contains("image/png"));
    assert_eq!((&sent[1]["type"], &sent[1]["image"]["id"]), (&json!("image"), &json!("media-1")), "{sent:#?}");
    assert!(sent[1]["image"]["caption"].as_str().unwrap().contains("spent ₹"), "{sent:#?}");

    // An image: the bot says what it reads; malformed JSON with a good signature: 400.
    let image = payload(me, json!({"from": me, "id": "wamid.6", "type": "image", "image": {"id": "m1"}}));
    assert_eq!(rig.post(&image, Some(SECRET)).await, 200);
    assert!(body_text(&rig.take()[0]).contains("text messages only"));
    let junk = b"{not json";
    let status = rig
        .http
        .post(&rig.webhook)
        .header("x-hub-signature-256", signature(SECRET, junk))
        .body(junk.to_vec())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 400);
}

#[tokio::test]
async fn alert_pushes_use_the_template_outside_the_24_hour_window() {
    let rig = Rig::start().await;
    let alert = spendstream_bot::Reply::new("⚠️ Food & dining at 90% of its budget".to_owned(), Vec::new());
    assert!(rig.adapter.can_write_first());
    rig.adapter.push("919812345678", std::slice::from_ref(&alert), true).await.expect("pushed");
    rig.adapter.push("919812345678", std::slice::from_ref(&alert), false).await.expect("pushed");
    let sent = rig.take();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!((&sent[0]["type"], &sent[0]["to"]), (&json!("text"), &json!("919812345678")), "inside: as it is");
    assert_eq!(body_text(&sent[0]), alert.text);
    let template = &sent[1]["template"];
    assert_eq!((&sent[1]["type"], &template["name"]), (&json!("template"), &json!("spend_alert")), "{sent:#?}");
    assert_eq!(template["language"]["code"], "en_US");
    assert_eq!(template["components"][0]["parameters"][0]["text"], json!(alert.text));
}
