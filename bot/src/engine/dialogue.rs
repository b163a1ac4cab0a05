//! What the bot remembers of a chat between messages (stored as JSON in the chats store).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use spendstream_core::EntryId;
use spendstream_core::chats::QuietHours;
use spendstream_core::insight::AlertRule;
use spendstream_core::ports::Cursor;
use std::collections::VecDeque;
use uuid::Uuid;

/// Message ids remembered, to drop redeliveries.
const SEEN_KEPT: usize = 64;
/// Entries `/undo` can walk back through.
const ADDED_KEPT: usize = 20;
/// Wrong link codes a chat may send within [`LINK_WINDOW_MICROS`].
const LINK_TRIES: usize = 5;
/// One hour.
const LINK_WINDOW_MICROS: i64 = 3_600_000_000;
/// Alerts pushed remembered, to push each one once.
const PUSHED_KEPT: usize = 64;

/// How alerts are pushed to one chat (`/alerts on|off|quiet|mute|unmute`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct PushSettings {
    /// Turned off with `/alerts off`.
    #[serde(default)]
    pub(crate) off: bool,
    /// Quiet hours chosen in the chat; `None`: `bot.alerts.quiet_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) quiet: Option<Quiet>,
    /// Rules not pushed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) muted: Vec<AlertRule>,
}

/// Quiet hours a chat chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Quiet {
    /// None: alerts come at any hour.
    Off,
    /// This window, in the user's time zone.
    Hours(QuietHours),
}

/// Where a chat is in the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    /// Never spoken to.
    #[default]
    New,
    /// Asked for the currency.
    Currency,
    /// Asked for the time zone; the currency chosen.
    TimeZone {
        /// ISO code.
        currency: String,
    },
    /// Has an account.
    Ready,
}

/// A list position, stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredCursor {
    micros: i64,
    id: EntryId,
}

impl StoredCursor {
    pub(crate) fn cursor(&self) -> Option<Cursor> {
        Some(Cursor { occurred_at: Timestamp::from_microsecond(self.micros).ok()?, id: self.id })
    }
}

impl From<&Cursor> for StoredCursor {
    fn from(c: &Cursor) -> Self {
        StoredCursor { micros: c.occurred_at.as_microsecond(), id: c.id }
    }
}

/// The dialogue state of one chat. Unknown or missing fields read as defaults, so
/// state saved by an older or newer bot still loads.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Dialogue {
    #[serde(default)]
    pub(crate) step: Step,
    /// How many times the chat unlinked (the chat's own account id depends on it).
    #[serde(default)]
    pub(crate) generation: u32,
    /// The first message, kept during sign-up and handled after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) held: Option<String>,
    /// Recent message ids, oldest first.
    #[serde(default)]
    seen: VecDeque<String>,
    /// Entries added from this chat, newest last.
    #[serde(default)]
    added: Vec<EntryId>,
    /// The entries of the last `/list` page, numbered from 1 for `/delete N`.
    #[serde(default)]
    pub(crate) listed: Vec<EntryId>,
    /// Where the next `/list` page starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) list_cursor: Option<StoredCursor>,
    /// When recent wrong link codes came (microseconds since the epoch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    link_failures: Vec<i64>,
    /// How alerts are pushed here.
    #[serde(default)]
    pub(crate) pushes: PushSettings,
    /// Alerts already pushed here, oldest first.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pushed: VecDeque<Uuid>,
    /// When the chat last sent a message (microseconds since the epoch), for
    /// WhatsApp's 24-hour window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_in: Option<i64>,
}

impl Dialogue {
    /// Reads stored state; unreadable state starts over (logged), it never blocks the chat.
    pub(crate) fn decode(raw: &str) -> Dialogue {
        serde_json::from_str(raw).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "unreadable dialogue state; starting the dialogue over");
            Dialogue::default()
        })
    }

    pub(crate) fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    pub(crate) fn seen(&self, message_id: &str) -> bool {
        self.seen.iter().any(|s| s == message_id)
    }

    pub(crate) fn was_pushed(&self, alert: Uuid) -> bool {
        self.pushed.contains(&alert)
    }

    pub(crate) fn mark_pushed(&mut self, alert: Uuid) {
        if self.was_pushed(alert) {
            return;
        }
        if self.pushed.len() >= PUSHED_KEPT {
            self.pushed.pop_front();
        }
        self.pushed.push_back(alert);
    }

    pub(crate) fn remember(&mut self, message_id: &str) {
        if self.seen.len() >= SEEN_KEPT {
            self.seen.pop_front();
        }
        self.seen.push_back(message_id.to_owned());
    }

    /// Whether another link code may be tried at `at`: fewer than five wrong ones in
    /// the hour before.
    pub(crate) fn may_try_link(&mut self, at: Timestamp) -> bool {
        let now = at.as_microsecond();
        self.link_failures.retain(|t| now - t < LINK_WINDOW_MICROS);
        self.link_failures.len() < LINK_TRIES
    }

    pub(crate) fn link_failed(&mut self, at: Timestamp) {
        self.link_failures.push(at.as_microsecond());
    }

    pub(crate) fn link_worked(&mut self) {
        self.link_failures.clear();
    }

    pub(crate) fn push_entry(&mut self, id: EntryId) {
        self.drop_entry(id);
        if self.added.len() >= ADDED_KEPT {
            self.added.remove(0);
        }
        self.added.push(id);
    }

    pub(crate) fn pop_entry(&mut self) -> Option<EntryId> {
        self.added.pop()
    }

    pub(crate) fn drop_entry(&mut self, id: EntryId) {
        self.added.retain(|e| *e != id);
    }

    /// After `/unlink`: a new sign-up (and a new account) on the next message; the
    /// message ids stay, so a redelivered message is still dropped.
    pub(crate) fn unlink(&mut self) {
        self.step = Step::New;
        self.generation += 1;
        self.held = None;
        self.forget_entries();
    }

    pub(crate) fn forget_entries(&mut self) {
        self.added.clear();
        self.listed.clear();
        self.list_cursor = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_bad_state_starts_over() {
        let mut d = Dialogue { step: Step::TimeZone { currency: "INR".into() }, ..Dialogue::default() };
        d.remember("m1");
        d.push_entry(EntryId::random());
        let back = Dialogue::decode(&d.encode().expect("encode"));
        assert_eq!(back, d);
        assert!(back.seen("m1") && !back.seen("m2"));
        assert_eq!(Dialogue::decode("not json"), Dialogue::default());
        assert_eq!(Dialogue::decode(r#"{"step":"ready","future_field":1}"#).step, Step::Ready);
        let mut d = Dialogue { step: Step::Ready, ..Dialogue::default() };
        d.remember("m9");
        d.unlink();
        assert_eq!((d.step.clone(), d.generation, d.seen("m9")), (Step::New, 1, true));
    }

    #[test]
    fn wrong_link_codes_lock_the_chat_for_an_hour() {
        let t0 = Timestamp::from_second(1_800_000_000).expect("ts");
        let mins = |m: i64| t0 + jiff::SignedDuration::from_mins(m);
        let mut d = Dialogue::default();
        for i in 0..5 {
            assert!(d.may_try_link(mins(i)));
            d.link_failed(mins(i));
        }
        assert!(!d.may_try_link(mins(30)), "five wrong in the hour");
        let mut back = Dialogue::decode(&d.encode().expect("encode"));
        assert!(!back.may_try_link(mins(45)), "kept across a restart");
        assert!(d.may_try_link(mins(61)), "the first wrong one is over an hour old");
        let mut d = back;
        d.link_worked();
        assert!(d.may_try_link(mins(30)));
    }

    #[test]
    fn only_recent_ids_and_entries_are_kept() {
        let mut d = Dialogue::default();
        for i in 0..100 {
            d.remember(&i.to_string());
            d.push_entry(EntryId::random());
        }
        assert!(d.seen("99") && !d.seen("0"));
        assert_eq!(d.added.len(), ADDED_KEPT);
    }

    #[test]
    fn push_settings_and_pushed_alerts_survive_a_restart() {
        let mut d = Dialogue::default();
        d.pushes.quiet = QuietHours::parse("23-6").map(Quiet::Hours);
        d.pushes.muted.push(AlertRule::Velocity);
        let first = Uuid::new_v4();
        d.mark_pushed(first);
        d.mark_pushed(first);
        let back = Dialogue::decode(&d.encode().expect("encode"));
        assert_eq!(back, d);
        assert!(back.was_pushed(first) && back.pushed.len() == 1);
        for _ in 0..PUSHED_KEPT {
            d.mark_pushed(Uuid::new_v4());
        }
        assert!(!d.was_pushed(first) && d.pushed.len() == PUSHED_KEPT);
    }
}
