//! `serve`, `sql` and `config check`: wiring the ports, the processors and the API.

use crate::cli::Format;
use anyhow::Context;
use spendstream_api::{AppState, router};
use spendstream_backends::embedded::{EmbeddedEventLog, EmbeddedStore};
use spendstream_backends::sql::SqlEngine;
use spendstream_backends::wiring::{self, Ports};
use spendstream_bot::notify::Notifier;
use spendstream_bot::telegram::Telegram;
use spendstream_bot::whatsapp::Whatsapp;
use spendstream_bot::{Engine, EnginePorts};
use spendstream_core::Config;
use spendstream_core::config::TelegramMode;
use spendstream_core::ports::{EventLog, Position};
use spendstream_ingest::pipeline::load_rules;
use spendstream_processors::insight::{Insights, default_settings};
use spendstream_processors::process::Processor;
use spendstream_processors::runner::Runner;
use spendstream_processors::tips::TipRules;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What one process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// API and processors (`serve`).
    All,
    /// The HTTP API only (`api`).
    Api,
    /// The processors only (`process`).
    Process,
    /// Telegram long polling and alert pushes (`bot`).
    Bot,
}

/// Runs the API and/or the processors until SIGINT or SIGTERM.
pub async fn serve(config: Config, role: Role) -> anyhow::Result<()> {
    let started = Instant::now();
    let config = Arc::new(config);
    let ports = wiring::open(&config).await.context("opening backends")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    if role == Role::Bot {
        return run_bot(config, ports).await;
    }
    // One process runs the processors on an embedded data dir; held until we exit.
    let _processing = if role == Role::Api { None } else { wiring::lock_processing(&config)? };
    let processors = if role == Role::Api {
        None
    } else {
        let runner =
            Runner::from_config(ports.log.clone(), ports.store.clone(), &config).context("compiling category rules")?;
        Some(tokio::spawn(runner.run(stop_rx)))
    };
    if role == Role::Process {
        tracing::info!(group = %config.processors.group, ready_ms = started.elapsed().as_millis() as u64, "processing");
        println!("spendstream processing (group {})", config.processors.group);
        shutdown_signal().await;
        if let Some(p) = processors {
            stop_processors(&stop_tx, p).await;
        }
        return Ok(());
    }
    let secret = wiring::jwt_secret(&config)?;
    let sms_rules = load_rules(&config.ingest).map_err(anyhow::Error::msg)?;
    catch_up(&ports).await;
    let bot = &config.bot;
    let engine =
        if bot.whatsapp.enabled || bot.telegram.enabled { Some(Arc::new(bot_engine(&config, &ports)?)) } else { None };
    let whatsapp = match &engine {
        Some(engine) if bot.whatsapp.enabled => {
            let adapter = Whatsapp::new(engine.clone(), bot.whatsapp.clone()).context("bot.whatsapp")?;
            tracing::info!("whatsapp webhook at /webhooks/whatsapp");
            Some(Arc::new(adapter))
        }
        _ => None,
    };
    let telegram = match &engine {
        Some(engine) if bot.telegram.enabled => {
            Some(Arc::new(Telegram::new(engine.clone(), bot.telegram.clone()).context("bot.telegram")?))
        }
        _ => None,
    };
    // Alert pushes to chats: in `serve`; scale-out runs them in `spendstream bot`.
    let notifier = match &engine {
        Some(engine) if role == Role::All && bot.alerts.push => {
            let n = notifier(engine, &ports, &config, telegram.clone(), whatsapp.clone());
            Some(tokio::spawn(n.run(stop_tx.subscribe())))
        }
        _ => None,
    };
    let mut telegram_polling = None;
    if let Some(tg) = &telegram {
        match bot.telegram.mode {
            TelegramMode::Webhook => {
                if let Err(e) = tg.register_webhook().await {
                    tracing::warn!(error = %e, "telegram webhook not registered; updates wait at Telegram until it is");
                }
                tracing::info!("telegram webhook at /webhooks/telegram");
            }
            TelegramMode::Polling if role == Role::All => {
                tracing::info!("telegram long polling");
                telegram_polling = Some(tokio::spawn(tg.clone().poll(stop_tx.subscribe())));
            }
            TelegramMode::Polling => tracing::info!("telegram polling runs in `spendstream bot`, not in `api`"),
        }
    }
    let state = AppState::new(
        config.clone(),
        ports.log,
        ports.store,
        ports.accounts,
        ports.shared,
        ports.inbox,
        ports.chats,
        sms_rules,
        TipRules::from_config(&config.tips.rules).context("tips.rules")?,
        &secret,
    );
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("binding server.listen {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, ready_ms = started.elapsed().as_millis() as u64, "ready");
    println!("spendstream listening on http://{addr}");
    let mut app = router(state);
    if let Some(wa) = whatsapp {
        app = app.merge(wa.router());
    }
    if let Some(tg) = telegram.filter(|_| bot.telegram.mode == TelegramMode::Webhook) {
        app = app.merge(tg.router());
    }
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    for task in [telegram_polling, notifier].into_iter().flatten() {
        let _ = stop_tx.send(true);
        let _ = task.await;
    }
    if let Some(p) = processors {
        stop_processors(&stop_tx, p).await;
    }
    Ok(())
}

/// `spendstream bot`: the Telegram adapter's long polling (when enabled in polling
/// mode) and the alert notifier (when `bot.alerts.push`), until SIGINT or SIGTERM.
async fn run_bot(config: Arc<Config>, ports: Ports) -> anyhow::Result<()> {
    let bot = &config.bot;
    let polling = bot.telegram.enabled && bot.telegram.mode == TelegramMode::Polling;
    let pushing = bot.alerts.push && (bot.telegram.enabled || bot.whatsapp.enabled);
    if !polling && !pushing {
        anyhow::bail!(
            "`spendstream bot` runs Telegram long polling and alert pushes: enable bot.telegram (mode \"polling\") \
             or bot.whatsapp, with bot.alerts.push = true for pushes (in webhook mode `api` answers the chats)"
        );
    }
    let engine = Arc::new(bot_engine(&config, &ports)?);
    let telegram = match bot.telegram.enabled {
        true => Some(Arc::new(Telegram::new(engine.clone(), bot.telegram.clone()).context("bot.telegram")?)),
        false => None,
    };
    let whatsapp = match bot.whatsapp.enabled {
        true => Some(Arc::new(Whatsapp::new(engine.clone(), bot.whatsapp.clone()).context("bot.whatsapp")?)),
        false => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    if let Some(tg) = telegram.clone().filter(|_| polling) {
        tasks.push(tokio::spawn(tg.poll(stop_rx.clone())));
        println!("spendstream bot polling Telegram");
    }
    if pushing {
        tasks.push(tokio::spawn(notifier(&engine, &ports, &config, telegram, whatsapp).run(stop_rx)));
        println!("spendstream bot pushing alerts (group {})", bot.alerts.group);
    }
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

/// The alert notifier over `ports`, pushing through the adapters given.
fn notifier(
    engine: &Arc<Engine>,
    ports: &Ports,
    config: &Config,
    telegram: Option<Arc<Telegram>>,
    whatsapp: Option<Arc<Whatsapp>>,
) -> Notifier {
    let mut n = Notifier::new(engine.clone(), ports.log.clone(), ports.chats.clone(), &config.bot.alerts.group);
    if let Some(tg) = telegram {
        n = n.telegram(tg);
    }
    if let Some(wa) = whatsapp {
        n = n.whatsapp(wa);
    }
    n
}

/// The chat bot's conversation engine over `ports`, with the config's categories,
/// SMS rules and texts.
pub(crate) fn bot_engine(config: &Arc<Config>, ports: &Ports) -> anyhow::Result<Engine> {
    let engine_ports = EnginePorts {
        log: ports.log.clone(),
        store: ports.store.clone(),
        accounts: ports.accounts.clone(),
        chats: ports.chats.clone(),
    };
    Ok(Engine::from_config(config.clone(), engine_ports)?)
}

/// How long the processors get to finish their batch after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Tells the processors to stop and waits for them, at most `STOP_GRACE`: an
/// engine that does not answer must not keep the process from exiting.
async fn stop_processors(stop_tx: &watch::Sender<bool>, processors: tokio::task::JoinHandle<()>) {
    tracing::info!("stopping processors");
    let _ = stop_tx.send(true);
    if tokio::time::timeout(STOP_GRACE, processors).await.is_err() {
        tracing::error!(
            grace_ms = STOP_GRACE.as_millis() as u64,
            "processors did not stop in time; exiting anyway (uncommitted records are processed again on restart)"
        );
        std::process::exit(1);
    }
}

/// Creates the topics, tables and views the configured engines need.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    use spendstream_core::config::{EventLogKind, StoreKind};
    if config.backends.event_log == EventLogKind::Kafka {
        let created = spendstream_backends::kafka::migrate(&config.kafka).await.context("kafka")?;
        println!("kafka: {} topic(s) created {:?}", created.len(), created);
    }
    if config.backends.store == StoreKind::Clickhouse {
        let applied = spendstream_backends::clickhouse::migrate(&config.clickhouse).await.context("clickhouse")?;
        println!("clickhouse: {} migration(s) applied {:?}", applied.len(), applied);
    }
    // Opening the ports runs the account migrations and checks every engine.
    let ports = wiring::open(config).await.context("opening backends")?;
    ports.log.healthcheck().await.context("backends.event_log")?;
    ports.store.healthcheck().await.context("backends.store")?;
    ports.accounts.healthcheck().await.context("backends.accounts")?;
    println!("migrations done; every engine answers");
    Ok(())
}

/// Waits until the processors have applied everything the log held at start.
pub(crate) async fn catch_up(ports: &Ports) {
    let Some(head) = ports.log_head.filter(|h| *h > 0) else { return };
    tracing::info!(events = head, "replaying the log tail");
    let last = Position { partition: 0, offset: head - 1 };
    while !ports.store.wait_applied(last, Duration::from_secs(5)).await {
        tracing::info!("still replaying");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Validates config and checks every backend.
pub async fn check(config: &Config) -> anyhow::Result<()> {
    Insights::from_config(config).context("categories")?;
    let ports = wiring::open(config).await?;
    ports.log.healthcheck().await.context("backends.event_log")?;
    ports.store.healthcheck().await.context("backends.store")?;
    ports.accounts.healthcheck().await.context("backends.accounts")?;
    ports.shared.healthcheck().await.context("backends.shared")?;
    Ok(())
}

/// Runs one read-only statement over a private copy of the data: the snapshot
/// plus the log tail, processed with the same rules as the server.
pub async fn sql(config: Config, query: &str, format: Format) -> anyhow::Result<()> {
    let dir = &config.storage.data_dir;
    let store = Arc::new(if dir.join("store").exists() {
        EmbeddedStore::open(&dir.join("store")).await?
    } else {
        EmbeddedStore::in_memory()
    });
    let log_path = dir.join("events.db");
    if log_path.exists() {
        let log: Arc<dyn EventLog> = Arc::new(EmbeddedEventLog::open(&log_path).await?);
        replay(&config, log, store.clone()).await?;
    }
    let engine = SqlEngine::new(&store).await?;
    let batches = engine.query(query).await?;
    print_batches(&batches, format)
}

async fn replay(config: &Config, log: Arc<dyn EventLog>, store: Arc<EmbeddedStore>) -> anyhow::Result<()> {
    use spendstream_core::ports::{AnalyticsStore, LogConsumer};
    let mut processor = Processor::new(Arc::new(Insights::from_config(config)?), default_settings(config), usize::MAX);
    let mut consumer: Box<dyn LogConsumer> = log.consumer("sql-scratch").await?;
    for p in store.resume_from().await? {
        consumer.seek(p).await?;
    }
    loop {
        let records = consumer.poll(10_000, Duration::ZERO).await?;
        if records.is_empty() {
            return Ok(());
        }
        let positions: Vec<Position> = records.iter().map(|r| r.position).collect();
        let events = records.into_iter().map(|r| r.event).collect();
        let out = processor.run(store.as_ref(), events, jiff::Timestamp::now()).await?;
        let mut batch = out.processed;
        batch.extend(out.alerts.into_iter().map(spendstream_core::ports::Processed::Alert));
        store.apply(batch, &positions).await?;
    }
}

fn print_batches(batches: &[arrow::array::RecordBatch], format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Table => {
            use std::io::Write;
            writeln!(out, "{}", arrow::util::pretty::pretty_format_batches(batches)?)?;
        }
        Format::Csv => {
            let mut w = arrow::csv::Writer::new(out);
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::LineDelimitedWriter::new(out);
            w.write_batches(&batches.iter().collect::<Vec<_>>())?;
            w.finish()?;
        }
    }
    Ok(())
}
