//! The consume, process, write, commit loop. Offsets are committed only after
//! the store accepted the write; engine errors are retried with backoff, so a
//! broker or store outage delays processing but loses and doubles nothing.

use crate::insight::Insights;
use crate::process::Processor;
use jiff::Timestamp;
use spendstream_core::config::ProcessorsConfig;
use spendstream_core::ports::{AnalyticsStore, EventLog, LogConsumer, Position, Processed};
use spendstream_core::{Event, UserSettings};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Runs the processors over one consumer of the log.
pub struct Runner {
    log: Arc<dyn EventLog>,
    store: Arc<dyn AnalyticsStore>,
    insights: Arc<Insights>,
    defaults: UserSettings,
    config: ProcessorsConfig,
}

/// Exponential backoff between `initial` and `max`.
struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(cfg: &ProcessorsConfig) -> Self {
        let initial = Duration::from_millis(cfg.retry_initial_ms);
        Backoff { initial, max: Duration::from_millis(cfg.retry_max_ms), next: initial }
    }

    /// Retries `op` until it succeeds or shutdown is signalled (then `None`).
    async fn retry<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
        &mut self,
        what: &str,
        shutdown: &mut watch::Receiver<bool>,
        mut op: impl FnMut() -> F,
    ) -> Option<T> {
        loop {
            match op().await {
                Ok(v) => {
                    self.next = self.initial;
                    return Some(v);
                }
                Err(e) => {
                    if !self.wait(what, e.to_string(), shutdown).await {
                        return None;
                    }
                }
            }
        }
    }

    /// Logs `err` and sleeps the current delay; false if shutdown came first.
    async fn wait(&mut self, what: &str, err: String, shutdown: &mut watch::Receiver<bool>) -> bool {
        tracing::warn!(error = %err, retry_in_ms = self.next.as_millis() as u64, "{what} failed");
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = shutdown.wait_for(|s| *s) => false,
        }
    }

    fn reset(&mut self) {
        self.next = self.initial;
    }
}

impl Runner {
    /// The runner `config` describes (categories, `[alerts]`, `[defaults]`, `[processors]`).
    pub fn from_config(
        log: Arc<dyn EventLog>,
        store: Arc<dyn AnalyticsStore>,
        config: &spendstream_core::Config,
    ) -> Result<Self, crate::categorise::CategoriseError> {
        let insights = Arc::new(Insights::from_config(config)?);
        Ok(Runner::new(log, store, insights, crate::insight::default_settings(config), config.processors.clone()))
    }

    /// A runner over `log` writing to `store`; users without settings get `defaults`.
    pub fn new(
        log: Arc<dyn EventLog>,
        store: Arc<dyn AnalyticsStore>,
        insights: Arc<Insights>,
        defaults: UserSettings,
        config: ProcessorsConfig,
    ) -> Self {
        Runner { log, store, insights, defaults, config }
    }

    /// Processes until `shutdown` turns true, then checkpoints the store.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Backoff::new(&self.config);
        let group = self.config.group.clone();
        let Some(mut consumer) = backoff.retry("opening consumer", &mut shutdown, || self.log.consumer(&group)).await
        else {
            return;
        };
        let Some(resume) = backoff.retry("reading resume point", &mut shutdown, || self.store.resume_from()).await
        else {
            return;
        };
        for p in resume {
            if let Err(e) = consumer.seek(p).await {
                tracing::error!(error = %e, "seek failed");
            }
        }
        let mut checkpoints = Checkpoints::default();
        let mut processor = Processor::new(self.insights.clone(), self.defaults.clone(), self.config.cached_users);
        self.consume(consumer.as_mut(), &mut processor, &mut backoff, &mut shutdown, &mut checkpoints).await;
        if let Some(running) = checkpoints.running.take() {
            let _ = running.await;
        }
        if let Err(e) = self.store.checkpoint().await {
            tracing::error!(error = %e, "final checkpoint failed");
        }
    }

    async fn consume(
        &self,
        consumer: &mut dyn LogConsumer,
        processor: &mut Processor,
        backoff: &mut Backoff,
        shutdown: &mut watch::Receiver<bool>,
        checkpoints: &mut Checkpoints,
    ) {
        // Offsets of stored batches not yet committed, the highest per partition. They
        // are committed at most every `commit_interval_ms` and whenever the log is idle:
        // always after the store write, so a crash only replays what the idempotent
        // store already holds.
        let mut uncommitted = Uncommitted::default();
        let mut writing = Writing::default();
        let mut since_checkpoint: u64 = 0;
        let mut last_change = Instant::now();
        let interval = Duration::from_secs(self.config.snapshot_interval_secs);
        let commit_every = Duration::from_millis(self.config.commit_interval_ms);
        // Any stop inside (shutdown, a retry given up) leaves the loop for the last
        // settle and commit below.
        'batches: while !*shutdown.borrow() {
            let started = Instant::now();
            let polled = tokio::select! {
                r = consumer.poll(self.config.batch_size, Duration::from_millis(250)) => r,
                _ = shutdown.wait_for(|s| *s) => break 'batches,
            };
            let records = match polled {
                Ok(r) => r,
                Err(e) => {
                    if !backoff.wait("poll", e.to_string(), shutdown).await {
                        break 'batches;
                    }
                    continue;
                }
            };
            if records.is_empty() {
                // Idle: finish the write in flight and commit it.
                if !writing.settle(&mut uncommitted).await || !uncommitted.commit(consumer, backoff, shutdown).await {
                    break 'batches;
                }
                if since_checkpoint > 0 && last_change.elapsed() >= interval {
                    checkpoints.start(&self.store, &mut since_checkpoint);
                }
                continue;
            }
            let polled_at = Instant::now();
            let positions: Vec<Position> = records.iter().map(|r| r.position).collect();
            let events: Vec<Event> = records.into_iter().map(|r| r.event).collect();
            // Events, an import record counting as its entries.
            let n: u64 = events.iter().map(|e| e.weight() as u64).sum();
            let now = spendstream_core::entry::to_micros(Timestamp::now());
            let store = &self.store;
            let missing = processor.missing(&events);
            // A user read from the store must include the write in flight.
            if !missing.is_empty() && !writing.settle(&mut uncommitted).await {
                break 'batches;
            }
            for user in &missing {
                let load = || processor.load(store.as_ref(), *user, now);
                let Some(state) = backoff.retry("loading user state", shutdown, load).await else { break 'batches };
                processor.insert(*user, state, &missing);
            }
            let loaded_at = Instant::now();
            let out = processor.process(events, now);
            let mut batch = out.processed;
            if !out.alerts.is_empty() {
                // Published before they are stored: a crash in between republishes
                // the same ids, which the store and notifiers keep once.
                let raised: Vec<Event> = out.alerts.iter().map(|a| Event::AlertRaised { alert: a.clone() }).collect();
                let log = &self.log;
                if backoff.retry("publishing alerts", shutdown, || log.append(raised.clone())).await.is_none() {
                    break 'batches;
                }
                batch.extend(out.alerts.into_iter().map(Processed::Alert));
            }
            let processed_at = Instant::now();
            // Writes go one at a time, in order: this batch's starts once the previous
            // one is stored, and runs while the next batch is polled and processed.
            if !writing.settle(&mut uncommitted).await {
                break 'batches;
            }
            let stored_at = Instant::now();
            writing.start(store.clone(), batch, positions, Backoff::new(&self.config), shutdown.clone());
            if uncommitted.since.elapsed() >= commit_every && !uncommitted.commit(consumer, backoff, shutdown).await {
                break 'batches;
            }
            // Where a batch's time goes (RUST_LOG=spendstream_processors=debug).
            tracing::debug!(
                events = n,
                users_loaded = missing.len(),
                poll_ms = ms(polled_at - started),
                load_ms = ms(loaded_at - polled_at),
                process_ms = ms(processed_at - loaded_at),
                store_wait_ms = ms(stored_at - processed_at),
                commit_ms = ms(stored_at.elapsed()),
                "batch done"
            );
            backoff.reset();
            since_checkpoint += n;
            last_change = Instant::now();
            if since_checkpoint >= self.config.snapshot_every_events {
                checkpoints.start(&self.store, &mut since_checkpoint);
            }
        }
        // Stopping: the write in flight, then one last commit of what is stored (a
        // failure only means a replay).
        if writing.settle(&mut uncommitted).await {
            uncommitted.commit(consumer, backoff, shutdown).await;
        }
    }
}

/// The store write in flight, if any, and the positions it covers.
#[derive(Default)]
struct Writing(Option<(tokio::task::JoinHandle<bool>, Vec<Position>)>);

impl Writing {
    /// Starts writing `batch` (retried with backoff until stored or shut down).
    fn start(
        &mut self,
        store: Arc<dyn AnalyticsStore>,
        batch: Vec<Processed>,
        positions: Vec<Position>,
        mut backoff: Backoff,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let through = positions.clone();
        let task = tokio::spawn(async move {
            let write = || store.apply(batch.clone(), &through);
            backoff.retry("store write", &mut shutdown, write).await.is_some()
        });
        self.0 = Some((task, positions));
    }

    /// Waits for the write in flight; its positions become committable. False if it
    /// gave up (shutdown) or failed: nothing after it may be written or committed.
    async fn settle(&mut self, uncommitted: &mut Uncommitted) -> bool {
        let Some((task, positions)) = self.0.take() else { return true };
        match task.await {
            Ok(true) => {
                uncommitted.add(&positions);
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::error!(error = %e, "store write task failed");
                false
            }
        }
    }
}

/// Stored but uncommitted offsets: the highest position per partition, and since when
/// the oldest of them waits.
struct Uncommitted {
    highest: std::collections::BTreeMap<u32, Position>,
    since: Instant,
}

impl Default for Uncommitted {
    fn default() -> Self {
        Uncommitted { highest: Default::default(), since: Instant::now() }
    }
}

impl Uncommitted {
    fn add(&mut self, positions: &[Position]) {
        if self.highest.is_empty() {
            self.since = Instant::now();
        }
        for p in positions {
            let e = self.highest.entry(p.partition).or_insert(*p);
            if p.offset > e.offset {
                *e = *p;
            }
        }
    }

    /// Commits what is pending (retrying with backoff); false if told to stop first.
    async fn commit(
        &mut self,
        consumer: &mut dyn LogConsumer,
        backoff: &mut Backoff,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        if self.highest.is_empty() {
            return true;
        }
        let through: Vec<Position> = self.highest.values().copied().collect();
        while let Err(e) = consumer.commit(&through).await {
            if !backoff.wait("offset commit", e.to_string(), shutdown).await {
                return false;
            }
        }
        self.highest.clear();
        self.since = Instant::now();
        true
    }
}

/// Whole milliseconds, for logs.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// At most one checkpoint at a time, in the background, so that processing
/// (and the writes waiting for it) never stalls on a snapshot.
#[derive(Default)]
struct Checkpoints {
    running: Option<tokio::task::JoinHandle<()>>,
}

impl Checkpoints {
    fn start(&mut self, store: &Arc<dyn AnalyticsStore>, since: &mut u64) {
        if self.running.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let store = store.clone();
        *since = 0;
        self.running = Some(tokio::spawn(async move {
            if let Err(e) = store.checkpoint().await {
                tracing::error!(error = %e, "checkpoint failed; the next one retries");
            }
        }));
    }
}
