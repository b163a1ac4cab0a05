//! Log events in, store changes and alerts out, with each user's state
//! ([`UserInsight`]) loaded from the store the first time the user is seen.
//!
//! Replaying the log gives the same changes and the same alert ids, so a
//! redelivery after a crash is harmless: the store keeps one copy of each.

use crate::insight::{Insights, UserInsight};
use jiff::{SignedDuration, Timestamp};
use spendstream_core::insight::Alert;
use spendstream_core::ports::{AnalyticsStore, ListQuery, Processed, StoreError};
use spendstream_core::{Event, UserId, UserSettings};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What one batch of events turned into.
#[derive(Debug, Default)]
pub struct Batch {
    /// Store changes, in log order.
    pub processed: Vec<Processed>,
    /// New alerts, to publish and store.
    pub alerts: Vec<Alert>,
}

/// The stateful processor one runner owns.
pub struct Processor {
    insights: Arc<Insights>,
    defaults: UserSettings,
    users: HashMap<UserId, UserInsight>,
    max_users: usize,
}

impl Processor {
    /// A processor; users without a settings event get `defaults`. At most
    /// `max_users` users' states are kept between batches.
    pub fn new(insights: Arc<Insights>, defaults: UserSettings, max_users: usize) -> Self {
        Processor { insights, defaults, users: HashMap::new(), max_users: max_users.max(1) }
    }

    /// Users of `events` whose state is not loaded yet.
    pub fn missing(&self, events: &[Event]) -> Vec<UserId> {
        let mut seen = HashSet::new();
        events.iter().map(Event::user_id).filter(|u| !self.users.contains_key(u) && seen.insert(*u)).collect()
    }

    /// Builds `user`'s state from the store (its profile and recent entries).
    pub async fn load(
        &self,
        store: &dyn AnalyticsStore,
        user: UserId,
        now: Timestamp,
    ) -> Result<UserInsight, StoreError> {
        let profile = store.profile(user).await?;
        let window = SignedDuration::from_hours(24 * self.insights.config().window_days);
        let query = ListQuery { from: now.checked_sub(window).ok(), limit: usize::MAX - 1, ..ListQuery::default() };
        let page = store.list(user, &query).await?;
        Ok(UserInsight::build(
            user,
            &profile,
            &self.defaults,
            page.entries.iter().map(|e| e.as_ref()),
            self.insights.config(),
            now,
        ))
    }

    /// Keeps a loaded state; drops the others first when over the limit.
    pub fn insert(&mut self, user: UserId, state: UserInsight, keep: &[UserId]) {
        if self.users.len() >= self.max_users {
            let keep: HashSet<&UserId> = keep.iter().collect();
            self.users.retain(|u, _| keep.contains(u));
        }
        self.users.insert(user, state);
    }

    /// Loads missing users, then processes: for callers without retries.
    pub async fn run(
        &mut self,
        store: &dyn AnalyticsStore,
        events: Vec<Event>,
        now: Timestamp,
    ) -> Result<Batch, StoreError> {
        let missing = self.missing(&events);
        for u in &missing {
            let s = self.load(store, *u, now).await?;
            self.insert(*u, s, &missing);
        }
        Ok(self.process(events, now))
    }

    /// Processes events whose users are all loaded (see [`Processor::missing`]).
    pub fn process(&mut self, events: Vec<Event>, now: Timestamp) -> Batch {
        let mut out = Batch { processed: Vec::with_capacity(events.len()), alerts: Vec::new() };
        for event in events {
            let user = event.user_id();
            let state = self.users.entry(user).or_insert_with(|| {
                // Unreachable when callers load first; an empty state only risks
                // missing an alert, never a wrong entry.
                UserInsight::build(user, &Default::default(), &self.defaults, [], self.insights.config(), now)
            });
            let o = self.insights.process(state, event, now);
            out.processed.extend(o.processed);
            out.alerts.extend(o.alerts);
        }
        out
    }
}
