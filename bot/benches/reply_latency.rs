//! Reply latency at the adapter, on the embedded default.
//!
//! The whole pipeline runs in this process (embedded event log, processors, store,
//! SQLite accounts and chats); the WhatsApp adapter serves its webhook on a socket and
//! sends replies to a stand-in Graph API on another. Each sample is one signed webhook
//! POST, timed from sending it until its answer: the adapter answers only after the
//! engine handled the message and every reply reached the stand-in, so a sample is
//! "message at the adapter → last reply delivered". Chats sign up first, then send a
//! mix of entries, reports (text and chart image), lists and undo presses from several
//! clients at once.
//!
//! `cargo bench -p spendstream-bot --bench reply_latency` (knobs: REPLY_BENCH_CHATS,
//! REPLY_BENCH_MESSAGES, REPLY_BENCH_CLIENTS). Prints p50 / p90 / p99 / max per kind.

// Floats here are timings for the printout, never money.
#![allow(clippy::unwrap_used, clippy::disallowed_types, clippy::float_arithmetic, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use axum::Json;
use serde_json::{Value, json};
use spendstream_bot::whatsapp::{Whatsapp, signature};
use spendstream_core::config::{Secret, WhatsappConfig};
use spendstream_testkit::TestApp;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret";
/// Charts uploaded to the stand-in Graph API (reports come with one).
static CHARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn payload(from: &str, id: &str, message: Value) -> Value {
    let mut m = message;
    m["from"] = json!(from);
    m["id"] = json!(id);
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "messages": [m]}}]}]})
}

fn text(body: &str) -> Value {
    json!({"type": "text", "text": {"body": body}})
}

fn press(data: &str) -> Value {
    json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": data, "title": "x"}}})
}

struct Client {
    http: reqwest::Client,
    webhook: String,
}

impl Client {
    async fn post(&self, body: &Value) -> Duration {
        let bytes = serde_json::to_vec(body).unwrap();
        let started = Instant::now();
        let r = self
            .http
            .post(&self.webhook)
            .header("x-hub-signature-256", signature(SECRET, &bytes))
            .header("content-type", "application/json")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        started.elapsed()
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() * p).div_ceil(100)).saturating_sub(1).min(sorted.len() - 1)]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let chats = knob("REPLY_BENCH_CHATS", 50);
    let messages = knob("REPLY_BENCH_MESSAGES", 4000);
    let clients = knob("REPLY_BENCH_CLIENTS", 8);
    let app = TestApp::spawn().await;
    // Reports carry a chart: uploaded to /media (read whole), then sent as an image.
    let graph = serve(
        axum::Router::new()
            .route(
                "/v21.0/{phone}/messages",
                axum::routing::post(|Json(_): Json<Value>| async { Json(json!({"messages": [{"id": "wamid.out"}]})) }),
            )
            .route(
                "/v21.0/{phone}/media",
                axum::routing::post(|body: axum::body::Bytes| async move {
                    assert!(!body.is_empty());
                    CHARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    Json(json!({"id": "media-1"}))
                }),
            ),
    )
    .await;
    let wa = WhatsappConfig {
        enabled: true,
        graph_url: format!("{graph}/v21.0"),
        phone_number_id: "1".into(),
        access_token: Secret::new("t"),
        app_secret: Secret::new(SECRET),
        verify_token: Secret::new("v"),
        timeout_ms: 5000,
        alert_template: String::new(),
        template_language: "en".into(),
    };
    let adapter = Arc::new(Whatsapp::new(common::engine(&app), wa).unwrap());
    let webhook = format!("{}/webhooks/whatsapp", serve(adapter.router()).await);
    let client = Arc::new(Client { http: reqwest::Client::new(), webhook });

    // Sign-up: three messages a chat.
    let phones: Vec<String> = (0..chats).map(|i| format!("9198{i:08}")).collect();
    for p in &phones {
        client.post(&payload(p, &format!("{p}-s1"), text("hi"))).await;
        client.post(&payload(p, &format!("{p}-s2"), press("cur:INR"))).await;
        client.post(&payload(p, &format!("{p}-s3"), press("tz:Asia/Kolkata"))).await;
    }

    let phrases = ["spent 250 on lunch at subway", "uber 180", "coffee 4.50", "2.5k groceries", "swiggy 420 yesterday"];
    let started = Instant::now();
    let per_client = messages / clients.max(1);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        let phones = phones.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples: Vec<(&'static str, Duration)> = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let n = c * per_client + i;
                // Ten messages in a row per chat, one of each kind: every chat adds entries
                // and asks for reports, lists and undos of its own.
                let phone = &phones[(n / 10) % phones.len()];
                let id = format!("{phone}-m{n}");
                let (kind, message) = match n % 10 {
                    0 => ("report", text("/month")),
                    1 => ("list", text("/list")),
                    2 => ("question", text("how much did I spend on food this month?")),
                    3 => ("undo", text("/undo")),
                    k => ("add", text(phrases[k % phrases.len()])),
                };
                samples.push((kind, client.post(&payload(phone, &id, message)).await));
            }
            samples
        }));
    }
    let mut by_kind: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for t in tasks {
        for (kind, d) in t.await.unwrap() {
            by_kind.entry(kind).or_default().push(d);
            by_kind.entry("all").or_default().push(d);
        }
    }
    let elapsed = started.elapsed();
    let total = by_kind.get("all").map_or(0, Vec::len);
    println!(
        "reply latency at the WhatsApp adapter, embedded default: {chats} chats, {total} messages, {clients} clients, \
         {:.0} messages/s",
        total as f64 / elapsed.as_secs_f64()
    );
    println!("chart images drawn and uploaded: {}", CHARTS.load(std::sync::atomic::Ordering::Relaxed));
    println!("{:<9} {:>6} {:>9} {:>9} {:>9} {:>9}", "kind", "n", "p50 ms", "p90 ms", "p99 ms", "max ms");
    for (kind, mut v) in by_kind {
        v.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{kind:<9} {:>6} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            v.len(),
            ms(percentile(&v, 50)),
            ms(percentile(&v, 90)),
            ms(percentile(&v, 99)),
            ms(v[v.len() - 1])
        );
    }
}
