//! Two API processes sharing login limits through Redis, and idempotency keys kept there
//! (`backends.shared = "redis"`), against the Redis at
//! `SPENDSTREAM_TEST_REDIS_URL` (default the local one). Without a Redis the
//! test says so and passes, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::json;
use spendstream_backends::redis_shared::RedisShared;
use spendstream_core::config::SharedKind;
use spendstream_testkit::TestApp;
use std::time::Duration;

async fn redis_url() -> Option<String> {
    let url = std::env::var("SPENDSTREAM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    match RedisShared::connect(&url, "probe:", Duration::from_secs(2)).await {
        Ok(_) => Some(url),
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: no Redis at {url} ({e}); CI=true makes this a failure");
            None
        }
        Err(e) => panic!("Redis at {url} is required under CI=true: {e}"),
    }
}

/// POSTs an expense with the Idempotency-Key `phone-42`.
async fn send(app: &TestApp, tok: &str, amount: &str) -> spendstream_testkit::Resp {
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/expenses")
        .header("authorization", format!("Bearer {tok}"))
        .header("content-type", "application/json")
        .header("idempotency-key", "phone-42")
        .body(axum::body::Body::from(json!({"amount": amount, "merchant": "Cafe"}).to_string()))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn two_api_processes_share_login_limits_and_idempotency_keys() {
    let Some(url) = redis_url().await else { return };
    // A prefix of its own, so earlier runs' counters never leak in.
    let prefix = format!("spendstream-test:{}:", uuid::Uuid::now_v7());
    let configure = |c: &mut spendstream_core::Config| {
        c.backends.shared = SharedKind::Redis;
        c.redis.url = spendstream_core::config::Secret::new(url.clone());
        c.redis.key_prefix = prefix.clone();
        c.auth.login_failures_per_account = 3;
    };
    let a = TestApp::spawn_with(configure).await;
    let b = TestApp::spawn_with(configure).await;
    let (tok, _) = a.signup("shared@example.com", "UTC").await;
    b.signup("shared@example.com", "UTC").await;

    // Failed logins counted across both processes.
    let bad = json!({"email": "shared@example.com", "password": "wrong wrong wrong"});
    for app in [&a, &b, &a] {
        assert_eq!(app.call("POST", "/v1/auth/login", None, Some(bad.clone())).await.status, StatusCode::UNAUTHORIZED);
    }
    let good = json!({"email": "shared@example.com", "password": "correct horse battery"});
    let limited = b.call("POST", "/v1/auth/login", None, Some(good)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.body);
    assert!(limited.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);

    // Idempotency keys live in Redis: a retry replays, another body under the
    // same key is refused. (Each test app has its own accounts, so a user's
    // key is shared only by processes that share accounts, as in production.)
    assert_eq!(send(&a, &tok, "10").await.status, StatusCode::CREATED);
    let again = send(&a, &tok, "10").await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = send(&a, &tok, "99").await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.body);
}
