//! Alerts in chat: `/alerts` lists the ones not yet seen, newest first, each with a
//! button that marks it seen (as `POST /v1/alerts/{id}/ack` does).

use super::{Button, Engine, EngineError, Me, Reply, Turn};
use jiff::Timestamp;
use spendstream_core::Event;
use spendstream_core::insight::Severity;
use spendstream_core::period::local_date;

/// Alerts shown at once.
const SHOWN: usize = 5;

impl Engine {
    /// The user's unacknowledged alerts, newest first, one message each.
    pub(super) async fn show_alerts(&self, turn: &mut Turn, me: &Me) -> Result<(), EngineError> {
        let profile = self.ports.store.profile(me.user.id).await?;
        let open: Vec<_> = profile.alerts.iter().filter(|a| a.acknowledged_at.is_none()).collect();
        if open.is_empty() {
            turn.replies.push(Reply::text(self.texts.get("alerts_none")));
            return Ok(());
        }
        let shown = open.len().min(SHOWN);
        let (n, total) = (shown.to_string(), open.len().to_string());
        turn.replies.push(Reply::text(self.texts.fill("alerts_header", &[("shown", &n), ("total", &total)])));
        for a in open.into_iter().take(SHOWN) {
            let mark = match a.severity {
                Severity::Info => "ℹ️",
                Severity::Warning => "⚠️",
                Severity::Critical => "🚨",
            };
            let day = self.day(local_date(a.occurred_at, &me.tz), me.today);
            turn.replies.push(Reply::new(
                self.texts.fill("alert_line", &[("mark", mark), ("message", &a.message), ("day", &day)]),
                vec![Button { label: self.texts.get("button_seen").to_owned(), data: format!("a:{}", a.id) }],
            ));
        }
        Ok(())
    }

    /// Marks one of the user's alerts seen; another user's id is answered as unknown.
    pub(super) async fn acknowledge(
        &self,
        turn: &mut Turn,
        me: &Me,
        raw: &str,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let id = uuid::Uuid::parse_str(raw).ok();
        let profile = self.ports.store.profile(me.user.id).await?;
        let Some(alert) = id.and_then(|id| profile.alerts.iter().find(|a| a.id == id)) else {
            turn.replies.push(Reply::text(self.texts.get("alert_unknown")));
            return Ok(());
        };
        if alert.acknowledged_at.is_none() {
            let event = Event::AlertAcknowledged { user_id: me.user.id, alert_id: alert.id, at };
            self.append_and_wait(vec![event]).await?;
        }
        turn.replies.push(Reply::text(self.texts.get("alert_seen")));
        Ok(())
    }
}
