//! `KafkaEventLog`: the event log on Kafka (or a Kafka-compatible broker).
//!
//! Events go to `<prefix>events`, keyed by user id, so one user's events keep
//! their order in one partition; alerts go to `<prefix>alerts`. The producer is
//! idempotent with `acks=all`, and `append` returns only after the broker acked
//! every event (or fails with `Unavailable` at `kafka.timeout_ms`). Consumers
//! join a consumer group (partitions are split between the processes of a
//! group and move to the survivors when one dies) and commit offsets only when
//! told to, after the store accepted the batch.

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer, PurgeConfig};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};
use spendstream_core::Event;
use spendstream_core::config::KafkaConfig;
use spendstream_core::ports::{EventLog, LogConsumer, LogError, Position, Record};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The event log on Kafka.
#[derive(Clone)]
pub struct KafkaEventLog {
    /// Replaced after a failed delivery (see `renew_producer`), with its generation.
    producer: Arc<RwLock<(u64, FutureProducer)>>,
    renewed: Arc<Mutex<Instant>>,
    /// A renewal is scheduled for when the current producer is old enough.
    renewal_due: Arc<std::sync::atomic::AtomicBool>,
    cfg: KafkaConfig,
    events_topic: String,
    alerts_topic: String,
}

fn unavailable(e: impl std::fmt::Display) -> LogError {
    LogError::Unavailable(e.to_string())
}

fn client_config(cfg: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers);
    // librdkafka logs through `tracing` (rdkafka's `tracing` feature).
    c.set("log_level", "4");
    for (k, v) in &cfg.options {
        c.set(k, v);
    }
    c
}

fn new_producer(cfg: &KafkaConfig) -> Result<FutureProducer, LogError> {
    client_config(cfg)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // Low latency for the API's single appends; concurrent appends still batch.
        .set("linger.ms", "2")
        // `append` gives up at `kafka.timeout_ms` and replaces the producer
        // (see `renew_producer`) long before librdkafka would time a message
        // out: a timed-out idempotent producer bumps its epoch on its own,
        // which some Kafka-compatible brokers (tansu 0.6) cannot follow.
        .set("message.timeout.ms", cfg.timeout_ms.saturating_mul(10).max(60_000).to_string())
        .create()
        .map_err(unavailable)
}

/// Name of the events topic.
pub fn events_topic(cfg: &KafkaConfig) -> String {
    format!("{}events", cfg.topic_prefix)
}

/// Name of the alerts topic.
pub fn alerts_topic(cfg: &KafkaConfig) -> String {
    format!("{}alerts", cfg.topic_prefix)
}

/// Creates the topics that are missing (`kafka.partitions`, `kafka.replication`);
/// returns the names it created.
pub async fn migrate(cfg: &KafkaConfig) -> Result<Vec<String>, LogError> {
    let admin: AdminClient<DefaultClientContext> = client_config(cfg).create().map_err(unavailable)?;
    let names = [events_topic(cfg), alerts_topic(cfg)];
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, cfg.partitions as i32, TopicReplication::Fixed(i32::from(cfg.replication))))
        .collect();
    let timeout = Duration::from_millis(cfg.timeout_ms);
    let opts = AdminOptions::new().operation_timeout(Some(timeout)).request_timeout(Some(timeout));
    let results = tokio::time::timeout(timeout * 2, admin.create_topics(&topics, &opts))
        .await
        .map_err(|_| unavailable(format!("no answer from {} in {timeout:?}", cfg.brokers)))?
        .map_err(unavailable)?;
    let mut created = Vec::new();
    for r in results {
        match r {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => return Err(LogError::Other(format!("creating topic {name}: {code}"))),
        }
    }
    Ok(created)
}

impl KafkaEventLog {
    /// A member of `group` on `topic`, committing by hand.
    fn consumer_of(&self, topic: &str, group: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        let seeks = SeekOnAssign { topic: topic.to_owned(), pending: Default::default() };
        let consumer: StreamConsumer<SeekOnAssign> = client_config(&self.cfg)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            .set("fetch.wait.max.ms", "10")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .create_with_context(seeks.clone())
            .map_err(unavailable)?;
        consumer.subscribe(&[topic]).map_err(unavailable)?;
        Ok(Box::new(KafkaConsumer {
            consumer: Arc::new(consumer),
            topic: topic.to_owned(),
            seeks,
            timeout: self.timeout(),
        }))
    }

    /// A producer for `cfg.brokers`. Connecting is lazy: a broker that is down
    /// shows as `Unavailable` on the first append or healthcheck.
    pub fn connect(cfg: &KafkaConfig) -> Result<Self, LogError> {
        Ok(KafkaEventLog {
            producer: Arc::new(RwLock::new((0, new_producer(cfg)?))),
            renewed: Arc::new(Mutex::new(Instant::now())),
            renewal_due: Default::default(),
            cfg: cfg.clone(),
            events_topic: events_topic(cfg),
            alerts_topic: alerts_topic(cfg),
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.timeout_ms)
    }

    /// After a failed delivery (no ack within `kafka.timeout_ms`, a broker
    /// that went away, a refused producer id or sequence) a new producer, with
    /// a new producer id, takes the old one's place. The old one is purged
    /// and dropped, so a message answered `Unavailable` is not sent later on
    /// its own, and the old producer never resumes on the broker with state
    /// the broker may have lost. Renewals are at most one per
    /// `kafka.timeout_ms`; a failure within that is covered by a renewal
    /// scheduled for the end of it. Nothing is lost: the failed appends were
    /// answered `Unavailable`, and a re-sent event is harmless, as the store
    /// applies an entry id once.
    /// `generation` is that of the producer that failed: a failure of one
    /// already replaced (its purged messages, say) changes nothing.
    fn renew_producer(&self, generation: u64, cause: &dyn std::fmt::Display) {
        use std::sync::atomic::Ordering;
        let mut renewed = self.renewed.lock();
        if self.producer.read().0 != generation {
            return;
        }
        let age = renewed.elapsed();
        if age < self.timeout() {
            if !self.renewal_due.swap(true, Ordering::AcqRel) {
                let (log, wait, cause) = (self.clone(), self.timeout() - age, cause.to_string());
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    log.renewal_due.store(false, Ordering::Release);
                    log.renew_producer(generation, &cause);
                });
            }
            return;
        }
        match new_producer(&self.cfg) {
            Ok(p) => {
                tracing::warn!(error = %cause, "kafka delivery failed; starting a new producer");
                let (_, old) = std::mem::replace(&mut *self.producer.write(), (generation + 1, p));
                *renewed = Instant::now();
                old.purge(PurgeConfig::default().queue().inflight());
                // Dropping a producer waits for its threads: not on a runtime worker.
                std::thread::spawn(move || drop(old));
            }
            Err(e) => tracing::error!(error = %e, "could not create a new kafka producer"),
        }
    }

    /// Checks that the events topic exists, with a clear error if `migrate` was not run.
    pub async fn check_topics(&self) -> Result<u32, LogError> {
        let producer = self.producer.read().1.clone();
        let topic = self.events_topic.clone();
        let timeout = self.timeout();
        let partitions = tokio::task::spawn_blocking(move || {
            let md = producer.client().fetch_metadata(Some(&topic), timeout).map_err(unavailable)?;
            let t = md.topics().iter().find(|t| t.name() == topic);
            match t {
                Some(t) if t.error().is_none() && !t.partitions().is_empty() => Ok(t.partitions().len() as u32),
                _ => Err(LogError::Other(format!("topic {topic} does not exist: run `spendstream migrate`"))),
            }
        })
        .await
        .map_err(unavailable)??;
        Ok(partitions)
    }
}

#[async_trait]
impl EventLog for KafkaEventLog {
    async fn append(&self, events: Vec<Event>) -> Result<Vec<Position>, LogError> {
        let (generation, producer) = self.producer.read().clone();
        let mut pending = Vec::with_capacity(events.len());
        for e in &events {
            let payload = serde_json::to_vec(e).map_err(|e| LogError::Other(e.to_string()))?;
            let key = e.user_id().to_string();
            let topic = match e {
                Event::AlertRaised { .. } => &self.alerts_topic,
                _ => &self.events_topic,
            };
            let record = FutureRecord::to(topic).key(&key).payload(&payload);
            // Enqueued in order: with idempotence on, one user's events keep it.
            let delivery = producer.send_result(record).map_err(|(e, _)| unavailable(e))?;
            pending.push(delivery);
        }
        let acked = match tokio::time::timeout(self.timeout(), futures::future::join_all(pending)).await {
            Ok(acked) => acked,
            Err(_) => {
                let e = format!("no ack from {} in {:?}", self.cfg.brokers, self.timeout());
                self.renew_producer(generation, &e);
                return Err(unavailable(e));
            }
        };
        acked
            .into_iter()
            .map(|r| match r {
                Ok(Ok(d)) => Ok(Position { partition: d.partition as u32, offset: d.offset as u64 }),
                Ok(Err((e, _))) => {
                    self.renew_producer(generation, &e);
                    Err(unavailable(e))
                }
                Err(_) => Err(unavailable("producer dropped the message")),
            })
            .collect()
    }

    async fn consumer(&self, group: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        self.consumer_of(&self.events_topic, group)
    }

    async fn alerts_consumer(&self, group: &str) -> Result<Box<dyn LogConsumer>, LogError> {
        self.consumer_of(&self.alerts_topic, group)
    }

    async fn healthcheck(&self) -> Result<(), LogError> {
        self.check_topics().await.map(|_| ())
    }
}

/// Seeks asked for partitions not (yet) assigned to this member: the offsets
/// are put into the assignment itself when the group hands them over, so no
/// record from before the sought offset is ever fetched.
#[derive(Default, Clone)]
struct SeekOnAssign {
    topic: String,
    pending: Arc<Mutex<BTreeMap<i32, i64>>>,
}

impl ClientContext for SeekOnAssign {}

impl ConsumerContext for SeekOnAssign {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        let cooperative = matches!(consumer.rebalance_protocol(), RebalanceProtocol::Cooperative);
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let mut pending = self.pending.lock();
                let assigned: Vec<i32> = tpl.elements_for_topic(&self.topic).iter().map(|e| e.partition()).collect();
                tracing::info!(topic = %self.topic, partitions = ?assigned, "partitions assigned");
                for p in assigned {
                    if let Some(o) = pending.remove(&p)
                        && let Err(e) = tpl.set_partition_offset(&self.topic, p, Offset::Offset(o))
                    {
                        tracing::error!(partition = p, error = %e, "could not seek on assignment");
                    }
                }
                if cooperative { consumer.incremental_assign(tpl) } else { consumer.assign(tpl) }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let revoked: Vec<i32> = tpl.elements_for_topic(&self.topic).iter().map(|e| e.partition()).collect();
                tracing::info!(topic = %self.topic, partitions = ?revoked, "partitions revoked");
                if cooperative { consumer.incremental_unassign(tpl) } else { consumer.unassign() }
            }
            other => {
                tracing::error!(error = ?other, "rebalance failed; dropping the assignment");
                consumer.unassign()
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "applying the rebalance failed");
        }
    }
}

/// A member of a consumer group on the events topic.
pub struct KafkaConsumer {
    consumer: Arc<StreamConsumer<SeekOnAssign>>,
    topic: String,
    seeks: SeekOnAssign,
    timeout: Duration,
}

impl KafkaConsumer {
    fn assigned(&self) -> Vec<i32> {
        self.consumer
            .assignment()
            .map(|tpl| tpl.elements_for_topic(&self.topic).iter().map(|e| e.partition()).collect())
            .unwrap_or_default()
    }

    fn record(&self, m: &rdkafka::message::BorrowedMessage<'_>) -> Option<Record> {
        let position = Position { partition: m.partition() as u32, offset: m.offset() as u64 };
        let event = crate::decode_event(m.payload().unwrap_or_default(), position.partition, position.offset)?;
        Some(Record { position, event })
    }
}

#[async_trait]
impl LogConsumer for KafkaConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Record>, LogError> {
        let consumer = self.consumer.clone();
        let (mut out, mut weight) = (Vec::new(), 0);
        let deadline = tokio::time::Instant::now() + wait;
        while weight < max {
            let next = if out.is_empty() {
                tokio::time::timeout_at(deadline, consumer.recv()).await
            } else {
                // Take what is already fetched, without waiting.
                tokio::time::timeout(Duration::ZERO, consumer.recv()).await
            };
            match next {
                Err(_) => break,
                Ok(Err(e)) => {
                    if out.is_empty() {
                        return Err(unavailable(e));
                    }
                    break;
                }
                Ok(Ok(m)) => {
                    if let Some(r) = self.record(&m) {
                        weight += r.event.weight();
                        out.push(r);
                    }
                }
            }
        }
        Ok(out)
    }

    async fn commit(&mut self, through: &[Position]) -> Result<(), LogError> {
        let mut next: BTreeMap<u32, u64> = BTreeMap::new();
        for p in through {
            let e = next.entry(p.partition).or_default();
            *e = (*e).max(p.offset + 1);
        }
        // Partitions that moved to another member are not ours to commit: the
        // new owner reads them again from the last commit (processing is idempotent).
        let assigned = self.assigned();
        let mut tpl = TopicPartitionList::new();
        for (p, o) in next {
            if assigned.contains(&(p as i32)) {
                tpl.add_partition_offset(&self.topic, p as i32, Offset::Offset(o as i64)).map_err(unavailable)?;
            }
        }
        if tpl.count() == 0 {
            return Ok(());
        }
        let consumer = self.consumer.clone();
        let timeout = self.timeout;
        let committed =
            tokio::time::timeout(timeout, tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync)))
                .await
                .map_err(|_| unavailable("offset commit timed out"))?
                .map_err(unavailable)?;
        match committed {
            Ok(()) => Ok(()),
            Err(KafkaError::ConsumerCommit(
                code @ (RDKafkaErrorCode::RebalanceInProgress
                | RDKafkaErrorCode::IllegalGeneration
                | RDKafkaErrorCode::UnknownMemberId),
            )) => {
                tracing::info!(%code, "offsets not committed: the group is rebalancing; the new owner reprocesses");
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn seek(&mut self, from: Position) -> Result<(), LogError> {
        let (p, o) = (from.partition as i32, from.offset as i64);
        // Hold the lock so a rebalance cannot slip between the check and the insert.
        let mut pending = self.seeks.pending.lock();
        if self.assigned().contains(&p) {
            drop(pending);
            // Purges what was fetched before: the next record of `p` is at `o`.
            self.consumer.seek(&self.topic, p, Offset::Offset(o), self.timeout).map_err(unavailable)
        } else {
            pending.insert(p, o);
            Ok(())
        }
    }
}
