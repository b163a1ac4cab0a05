//! The event log conformance story on a real Kafka-compatible broker (tansu in
//! CI), at `SPENDSTREAM_TEST_KAFKA_BROKERS` (default 127.0.0.1:9092). Without
//! a broker these tests say so and pass, except under `CI=true`, where a
//! missing broker fails them.

#![allow(clippy::unwrap_used)]

use spendstream_backends::kafka::{KafkaEventLog, migrate};
use spendstream_core::config::KafkaConfig;
use spendstream_core::ports::{EventLog, LogError};
use spendstream_testkit::conformance::event_log_story;
use std::sync::Arc;

fn config(partitions: u32) -> KafkaConfig {
    KafkaConfig {
        brokers: std::env::var("SPENDSTREAM_TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
        // A topic of its own per test run: nothing left over from earlier runs.
        topic_prefix: format!("test-{}.", uuid::Uuid::new_v4().simple()),
        partitions,
        replication: 1,
        timeout_ms: 5000,
        options: Default::default(),
    }
}

/// Creates the topics, or returns None (skip) when no broker answers outside CI.
async fn ready(cfg: &KafkaConfig) -> Option<()> {
    match migrate(cfg).await {
        Ok(created) => {
            assert_eq!(created.len(), 2, "events and alerts topics created: {created:?}");
            Some(())
        }
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: no Kafka broker at {} ({e}); CI=true makes this a failure", cfg.brokers);
            None
        }
        Err(e) => panic!("a Kafka broker at {} is required under CI=true: {e}", cfg.brokers),
    }
}

#[tokio::test]
async fn kafka_event_log_conformance() {
    let cfg = config(3);
    if ready(&cfg).await.is_none() {
        return;
    }
    // Migrating again creates nothing and fails nothing.
    assert!(migrate(&cfg).await.unwrap().is_empty());
    let log = KafkaEventLog::connect(&cfg).unwrap();
    assert_eq!(log.check_topics().await.unwrap(), 3);
    let again = cfg.clone();
    event_log_story(
        Arc::new(log),
        || async move { Arc::new(KafkaEventLog::connect(&again).unwrap()) as Arc<dyn EventLog> },
    )
    .await;
}

#[tokio::test]
async fn missing_topic_is_a_clear_error() {
    let cfg = config(1);
    if ready(&KafkaConfig { topic_prefix: format!("probe-{}", cfg.topic_prefix), ..cfg.clone() }).await.is_none() {
        return;
    }
    let err = KafkaEventLog::connect(&cfg).unwrap().check_topics().await.unwrap_err();
    assert!(err.to_string().contains("spendstream migrate"), "{err}");
}

#[tokio::test]
async fn broker_down_is_unavailable_within_the_timeout() {
    // Nothing listens on port 1: the append fails as Unavailable (the API's 503), not a hang.
    let cfg = KafkaConfig { brokers: "127.0.0.1:1".into(), timeout_ms: 800, ..config(1) };
    let log = KafkaEventLog::connect(&cfg).unwrap();
    let u = spendstream_core::UserId(uuid::Uuid::now_v7());
    let e = spendstream_core::Event::EntryAdded {
        entry: spendstream_testkit::conformance::entry(u, 1, "2026-10-01T10:00:00Z"),
    };
    let err = log.append(vec![e]).await.unwrap_err();
    assert!(matches!(err, LogError::Unavailable(_)), "{err}");
    assert!(matches!(log.healthcheck().await.unwrap_err(), LogError::Unavailable(_)));
}
