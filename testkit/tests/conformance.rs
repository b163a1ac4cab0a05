//! The conformance stories on the embedded engines.

#![allow(clippy::unwrap_used)]

use spendstream_backends::embedded::{EmbeddedEventLog, EmbeddedStore};
use spendstream_backends::sqlite_accounts::SqliteAccounts;
use spendstream_core::ports::EventLog;
use spendstream_testkit::conformance::{
    accounts_story, chats_story, event_log_story, inbox_story, profile_story, shared_story, store_story,
};
use std::sync::Arc;

#[tokio::test]
async fn embedded_event_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let log: Arc<dyn EventLog> = Arc::new(EmbeddedEventLog::open(&path).await.unwrap());
    event_log_story(log, || async move { Arc::new(EmbeddedEventLog::open(&path).await.unwrap()) as Arc<dyn EventLog> })
        .await;
}

#[tokio::test]
async fn embedded_store() {
    store_story(Arc::new(EmbeddedStore::in_memory())).await;
}

#[tokio::test]
async fn embedded_store_profiles_survive_a_snapshot() {
    use spendstream_core::ports::AnalyticsStore;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).await.unwrap());
    let u = profile_story(store.clone()).await;
    let before = store.profile(u).await.unwrap();
    store.checkpoint().await.unwrap();
    let back = EmbeddedStore::open(dir.path()).await.unwrap();
    assert_eq!(back.profile(u).await.unwrap().alerts, before.alerts);
    assert_eq!(back.profile(u).await.unwrap().budgets, before.budgets);
    assert_eq!(back.profile(u).await.unwrap().learned, before.learned);
    assert_eq!(back.profile(u).await.unwrap().bills, before.bills);
}

#[tokio::test]
async fn embedded_store_survives_a_snapshot() {
    use spendstream_core::ports::{AnalyticsStore, Position, Processed};
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    let u = spendstream_core::UserId(uuid::Uuid::now_v7());
    let e = spendstream_testkit::conformance::entry(u, 4200, "2026-10-01T10:00:00Z");
    let p = Processed::Added(spendstream_core::ProcessedEntry {
        entry: e.clone(),
        category: spendstream_core::CategoryId("food_dining".into()),
        category_source: spendstream_core::CategorySource::User,
        category_reason: "set by the user".into(),
    });
    store.apply(vec![p], &[Position { partition: 0, offset: 41 }]).await.unwrap();
    store.checkpoint().await.unwrap();
    let back = EmbeddedStore::open(dir.path()).await.unwrap();
    assert_eq!(back.resume_from().await.unwrap(), vec![Position { partition: 0, offset: 42 }]);
    let got = back.entry(u, e.id).await.unwrap().expect("entry survives");
    assert_eq!(got.entry, e);
    assert_eq!(got.category_source, spendstream_core::CategorySource::User);
}

#[tokio::test]
async fn sqlite_accounts() {
    let dir = tempfile::tempdir().unwrap();
    accounts_story(Arc::new(SqliteAccounts::open(&dir.path().join("a.db")).await.unwrap())).await;
}

#[tokio::test]
async fn sqlite_inbox() {
    let dir = tempfile::tempdir().unwrap();
    inbox_story(Arc::new(SqliteAccounts::open(&dir.path().join("a.db")).await.unwrap())).await;
}

#[tokio::test]
async fn sqlite_chats() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(SqliteAccounts::open(&dir.path().join("a.db")).await.unwrap());
    chats_story(db.clone(), db).await;
}

#[tokio::test]
async fn in_process_shared_state() {
    shared_story(Arc::new(spendstream_backends::in_process::InProcessShared::new())).await;
}

/// Against the Redis at `SPENDSTREAM_TEST_REDIS_URL` (default the local one).
/// Without a Redis this test says so and passes, except under `CI=true`,
/// where a missing service fails it.
#[tokio::test]
async fn redis_shared_state() {
    use spendstream_backends::redis_shared::RedisShared;
    let url = std::env::var("SPENDSTREAM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    let shared = match RedisShared::connect(&url, "spendstream-test:", std::time::Duration::from_secs(2)).await {
        Ok(s) => s,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: no Redis at {url} ({e}); CI=true makes this a failure");
            return;
        }
        Err(e) => panic!("Redis at {url} is required under CI=true: {e}"),
    };
    shared_story(Arc::new(shared)).await;
}

#[tokio::test]
async fn redis_down_is_unavailable() {
    use spendstream_backends::redis_shared::RedisShared;
    use spendstream_core::ports::SharedError;
    // Nothing listens on port 1: connecting fails and says so.
    let err = RedisShared::connect("redis://127.0.0.1:1/0", "x:", std::time::Duration::from_millis(300))
        .await
        .err()
        .expect("no server");
    let SharedError::Unavailable(msg) = err;
    assert!(msg.starts_with("redis:"), "{msg}");
}
