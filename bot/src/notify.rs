//! The notifier: reads the alerts the processors raise (risk alerts and bill
//! reminders) and pushes each to the user's linked chats, once per chat, outside
//! the chat's quiet hours.
//!
//! - What goes where is the engine's call ([`Engine::plan_push`]): pushes off or the
//!   rule muted in a chat, pushed there already, seen already, or older than
//!   `bot.alerts.max_age_hours` skip it; quiet hours hold it until they end.
//! - A push is recorded in the chat ([`Engine::pushed`]) after the provider took it,
//!   so a crash in between may repeat one push, never lose one.
//! - Offsets are committed only up to the oldest alert still held for quiet hours or
//!   a provider retry: a restart reads those again and pushes what is still due.
//! - Any number of notifiers may share `bot.alerts.group`; they split the partitions.

use crate::engine::{Engine, EngineError, Push, Reply};
use crate::telegram::Telegram;
use crate::whatsapp::Whatsapp;
use jiff::{SignedDuration, Timestamp};
use spendstream_core::Event;
use spendstream_core::chats::{Channel, ChatKey, ChatStore};
use spendstream_core::insight::Alert;
use spendstream_core::ports::{EventLog, LogConsumer, Position};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Records read per poll.
const BATCH: usize = 100;
/// Longest wait for new alerts in one poll.
const POLL_WAIT: Duration = Duration::from_millis(500);
/// Commits at most this often.
const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// Tries at pushing one alert to one chat while the provider fails.
const PUSH_ATTEMPTS: u32 = 5;
/// Wait after a provider failure, doubled each time.
const RETRY_AFTER: SignedDuration = SignedDuration::from_secs(15);
/// Longest wait after the log, the chats or the accounts failed.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// An alert waiting for a chat: quiet hours, or a provider to come back.
#[derive(Debug)]
struct Held {
    due: Timestamp,
    position: Position,
    chat: ChatKey,
    alert: Alert,
    failures: u32,
}

/// Pushes alerts to chats through the adapters it is given.
pub struct Notifier {
    engine: Arc<Engine>,
    log: Arc<dyn EventLog>,
    chats: Arc<dyn ChatStore>,
    group: String,
    telegram: Option<Arc<Telegram>>,
    whatsapp: Option<Arc<Whatsapp>>,
}

impl Notifier {
    /// A notifier of consumer group `group` (`bot.alerts.group`) on `log`, pushing
    /// to no channel until [`Notifier::telegram`] / [`Notifier::whatsapp`] add one.
    pub fn new(engine: Arc<Engine>, log: Arc<dyn EventLog>, chats: Arc<dyn ChatStore>, group: &str) -> Self {
        Notifier { engine, log, chats, group: group.to_owned(), telegram: None, whatsapp: None }
    }

    /// Pushes to Telegram chats through `adapter`.
    pub fn telegram(mut self, adapter: Arc<Telegram>) -> Self {
        self.telegram = Some(adapter);
        self
    }

    /// Pushes to WhatsApp chats through `adapter`.
    pub fn whatsapp(mut self, adapter: Arc<Whatsapp>) -> Self {
        self.whatsapp = Some(adapter);
        self
    }

    /// Runs until `stop` turns true: reads alerts, pushes them, commits.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = Backoff::default();
        let mut consumer = loop {
            match self.log.alerts_consumer(&self.group).await {
                Ok(c) => break c,
                Err(e) => {
                    tracing::warn!(error = %e, "notifier: alerts not readable yet");
                    if !backoff.wait(&mut stop).await {
                        return;
                    }
                }
            }
        };
        tracing::info!(group = %self.group, "notifier pushing alerts to chats");
        let mut held: Vec<Held> = Vec::new();
        let mut read: BTreeMap<u32, u64> = BTreeMap::new();
        let mut committed: BTreeMap<u32, u64> = BTreeMap::new();
        let mut last_commit = Instant::now();
        while !*stop.borrow() {
            self.push_due(&mut held).await;
            let wait = held
                .iter()
                .map(|h| h.due.duration_since(Timestamp::now()).unsigned_abs())
                .min()
                .map_or(POLL_WAIT, |d| d.min(POLL_WAIT));
            let records = tokio::select! {
                r = consumer.poll(BATCH, wait) => r,
                _ = stop.changed() => break,
            };
            let records = match records {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "notifier: reading alerts failed");
                    if !backoff.wait(&mut stop).await {
                        break;
                    }
                    continue;
                }
            };
            for r in records {
                if let Event::AlertRaised { alert } = r.event {
                    // Retried until the chats and accounts answer: an alert is not skipped.
                    while let Err(e) = self.route(&alert, r.position, &mut held).await {
                        tracing::warn!(error = %e, alert = %alert.id, "notifier: alert not routed yet");
                        if !backoff.wait(&mut stop).await {
                            return;
                        }
                    }
                    backoff = Backoff::default();
                }
                read.insert(r.position.partition, r.position.offset);
            }
            if last_commit.elapsed() >= COMMIT_EVERY {
                commit(consumer.as_mut(), &read, &held, &mut committed).await;
                last_commit = Instant::now();
            }
        }
        commit(consumer.as_mut(), &read, &held, &mut committed).await;
    }

    /// Plans `alert` for each chat of its user and pushes, holds or skips it.
    async fn route(&self, alert: &Alert, position: Position, held: &mut Vec<Held>) -> Result<(), EngineError> {
        let chats = self.chats.chats_of(alert.user_id).await?;
        for chat in chats {
            let mut h = Held { due: Timestamp::now(), position, chat, alert: alert.clone(), failures: 0 };
            if self.attempt(&mut h).await? == Next::Hold {
                held.push(h);
            }
        }
        Ok(())
    }

    /// Pushes the held alerts whose time came.
    async fn push_due(&self, held: &mut Vec<Held>) {
        let now = Timestamp::now();
        let (due, waiting): (Vec<Held>, Vec<Held>) = std::mem::take(held).into_iter().partition(|h| h.due <= now);
        *held = waiting;
        for mut h in due {
            match self.attempt(&mut h).await {
                Ok(Next::Done) => {}
                Ok(Next::Hold) => held.push(h),
                Err(e) => {
                    // Planning failed (a store is down): try again a little later.
                    tracing::warn!(error = %e, chat = %h.chat, alert = %h.alert.id, "notifier: held alert not planned");
                    h.due = Timestamp::now() + RETRY_AFTER;
                    held.push(h);
                }
            }
        }
    }

    /// One try at one chat; on [`Next::Hold`], `h.due` says when to try again.
    async fn attempt(&self, h: &mut Held) -> Result<Next, EngineError> {
        let now = Timestamp::now();
        let (replies, window_open) = match self.engine.plan_push(&h.chat, &h.alert, now).await? {
            Push::Send { replies, window_open } => (replies, window_open),
            Push::Hold(until) => {
                tracing::debug!(chat = %h.chat, alert = %h.alert.id, %until, "alert held for quiet hours");
                h.due = until;
                return Ok(Next::Hold);
            }
            Push::Skip(why) => {
                tracing::debug!(chat = %h.chat, alert = %h.alert.id, why, "alert not pushed");
                return Ok(Next::Done);
            }
        };
        match self.deliver(&h.chat, &replies, window_open).await {
            Delivery::Sent => {
                self.engine.pushed(&h.chat, h.alert.id, now).await?;
                tracing::info!(chat = %h.chat, alert = %h.alert.id, rule = h.alert.rule.as_str(), "alert pushed");
                Ok(Next::Done)
            }
            Delivery::Never(why) => {
                tracing::info!(chat = %h.chat, alert = %h.alert.id, why, "alert not pushed; /alerts lists it");
                Ok(Next::Done)
            }
            Delivery::Failed(e) => {
                h.failures += 1;
                if h.failures >= PUSH_ATTEMPTS {
                    tracing::error!(chat = %h.chat, alert = %h.alert.id, error = %e, "alert push given up; /alerts lists it");
                    return Ok(Next::Done);
                }
                tracing::warn!(chat = %h.chat, alert = %h.alert.id, error = %e, "alert push failed; retrying later");
                h.due = now + RETRY_AFTER * (1 << (h.failures - 1));
                Ok(Next::Hold)
            }
        }
    }

    async fn deliver(&self, chat: &ChatKey, replies: &[Reply], window_open: bool) -> Delivery {
        let sent = match chat.channel {
            Channel::Telegram => match &self.telegram {
                Some(tg) => tg.push(&chat.chat_id, replies).await,
                None => return Delivery::Never("telegram is not enabled here"),
            },
            Channel::Whatsapp => match &self.whatsapp {
                Some(wa) if window_open || wa.can_write_first() => wa.push(&chat.chat_id, replies, window_open).await,
                Some(_) => {
                    return Delivery::Never("outside WhatsApp's 24-hour window and no bot.whatsapp.alert_template");
                }
                None => return Delivery::Never("whatsapp is not enabled here"),
            },
            Channel::Local => return Delivery::Never("a terminal chat gets no pushes"),
        };
        match sent {
            Ok(()) => Delivery::Sent,
            Err(e) => Delivery::Failed(e),
        }
    }
}

/// After one try: finished with this chat, or try again at `Held::due`.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Done,
    Hold,
}

enum Delivery {
    Sent,
    /// This chat cannot get pushes here; nothing to retry.
    Never(&'static str),
    /// The provider failed; worth another try.
    Failed(String),
}

/// What to commit: per partition, through the last record read, but not past an
/// alert still held (a restart must read it again), and only what moved.
fn commit_points(read: &BTreeMap<u32, u64>, held: &[Position], committed: &BTreeMap<u32, u64>) -> Vec<Position> {
    let mut through = Vec::new();
    for (&partition, &last) in read {
        let oldest_held = held.iter().filter(|p| p.partition == partition).map(|p| p.offset).min();
        let upto = match oldest_held {
            Some(0) => continue,
            Some(o) => last.min(o - 1),
            None => last,
        };
        if committed.get(&partition) != Some(&upto) {
            through.push(Position { partition, offset: upto });
        }
    }
    through
}

async fn commit(
    consumer: &mut dyn LogConsumer,
    read: &BTreeMap<u32, u64>,
    held: &[Held],
    committed: &mut BTreeMap<u32, u64>,
) {
    let positions: Vec<Position> = held.iter().map(|h| h.position).collect();
    let through = commit_points(read, &positions, committed);
    if through.is_empty() {
        return;
    }
    match consumer.commit(&through).await {
        Ok(()) => committed.extend(through.iter().map(|p| (p.partition, p.offset))),
        Err(e) => tracing::warn!(error = %e, "notifier: commit failed; alerts after it may be read again"),
    }
}

/// Doubling waits, cut short by `stop`.
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(Duration::from_millis(200))
    }
}

impl Backoff {
    /// Waits; `false` when told to stop meanwhile.
    async fn wait(&mut self, stop: &mut watch::Receiver<bool>) -> bool {
        let d = self.0;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
        tokio::select! {
            () = tokio::time::sleep(d) => !*stop.borrow(),
            _ = stop.changed() => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(partition: u32, offset: u64) -> Position {
        Position { partition, offset }
    }

    #[test]
    fn commits_stop_before_the_oldest_held_alert() {
        let read = BTreeMap::from([(0, 40), (1, 7), (2, 9)]);
        let held = [at(0, 12), at(0, 30), at(2, 0)];
        let mut committed = BTreeMap::new();
        let through = commit_points(&read, &held, &committed);
        assert_eq!(through, vec![at(0, 11), at(1, 7)], "partition 2 holds its first record: nothing to commit");
        committed.extend(through.iter().map(|p| (p.partition, p.offset)));
        assert!(commit_points(&read, &held, &committed).is_empty(), "nothing moved");
        assert_eq!(commit_points(&read, &[], &committed), vec![at(0, 40), at(2, 9)], "holds gone: all read");
    }
}
