//! Alerts pushed to chats: whether, when and how one alert goes to one chat. The
//! notifier asks [`Engine::plan_push`], delivers, then records it with
//! [`Engine::pushed`], so each alert reaches each chat once.

use super::dialogue::{Dialogue, Quiet};
use super::{Button, Engine, EngineError, Reply, SAVE_ATTEMPTS, alerts::mark};
use jiff::{SignedDuration, Timestamp, ToSpan, ZonedDateTime};
use spendstream_core::chats::{ChatKey, ChatsError, QuietHours};
use spendstream_core::insight::{Alert, Severity};
use spendstream_core::period::parse_time_zone;

/// How long after the chat's last message WhatsApp lets a business write freely.
const SERVICE_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// What to do with one alert for one chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// Send these replies now. `window_open`: the chat wrote in the last 24 hours
    /// (outside that window WhatsApp takes only an approved template).
    Send {
        /// The alert as chat messages (with a "Seen" button).
        replies: Vec<Reply>,
        /// Whether the chat wrote within the last 24 hours.
        window_open: bool,
    },
    /// Quiet hours in the chat: ask again at this instant.
    Hold(Timestamp),
    /// Not for this chat; why, for the log.
    Skip(&'static str),
}

impl Engine {
    /// Decides what to do with `alert` for `chat` at `now`: skip it (not this user's
    /// chat, pushes off or the rule muted there, pushed already, seen already, too old),
    /// hold it until the chat's quiet hours end (critical alerts are not held), or send it.
    pub async fn plan_push(&self, chat: &ChatKey, alert: &Alert, now: Timestamp) -> Result<Push, EngineError> {
        let max_age = SignedDuration::from_hours(i64::try_from(self.config.bot.alerts.max_age_hours).unwrap_or(24));
        if now.duration_since(alert.raised_at) > max_age {
            return Ok(Push::Skip("older than bot.alerts.max_age_hours"));
        }
        let Some(record) = self.ports.chats.chat(chat).await? else { return Ok(Push::Skip("unknown chat")) };
        if record.user_id != Some(alert.user_id) {
            return Ok(Push::Skip("the chat is not linked to the alert's user"));
        }
        let d = Dialogue::decode(&record.state);
        if d.was_pushed(alert.id) {
            return Ok(Push::Skip("pushed already"));
        }
        if d.pushes.off {
            return Ok(Push::Skip("pushes are off in this chat"));
        }
        if d.pushes.muted.contains(&alert.rule) {
            return Ok(Push::Skip("the rule is muted in this chat"));
        }
        let Some(user) = self.ports.accounts.user(alert.user_id).await? else {
            return Ok(Push::Skip("no such user"));
        };
        let profile = self.ports.store.profile(alert.user_id).await?;
        if profile.alerts.iter().any(|a| a.id == alert.id && a.acknowledged_at.is_some()) {
            return Ok(Push::Skip("seen already"));
        }
        if alert.severity != Severity::Critical
            && let Some(quiet) = self.quiet_hours(&d)
        {
            let tz = parse_time_zone(&user.settings.time_zone).map_err(EngineError::Internal)?;
            let local = now.to_zoned_datetime(tz);
            let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
            if quiet.contains(minute) {
                return Ok(Push::Hold(quiet_end(&local, quiet)?));
            }
        }
        let window_open = d
            .last_in
            .and_then(|t| Timestamp::from_microsecond(t).ok())
            .is_some_and(|last| now.duration_since(last) < SERVICE_WINDOW);
        let text = self.texts.fill("alert_push", &[("mark", mark(alert.severity)), ("message", &alert.message)]);
        let seen = Button { label: self.texts.get("button_seen").to_owned(), data: format!("a:{}", alert.id) };
        Ok(Push::Send { replies: vec![Reply::new(text, vec![seen])], window_open })
    }

    /// Records that `alert` reached `chat`: it is not pushed there again.
    pub async fn pushed(&self, chat: &ChatKey, alert: uuid::Uuid, now: Timestamp) -> Result<(), EngineError> {
        let _one_at_a_time = self.lane(chat).lock().await;
        for _ in 0..SAVE_ATTEMPTS {
            let Some(record) = self.ports.chats.chat(chat).await? else { return Ok(()) };
            let mut d = Dialogue::decode(&record.state);
            if d.was_pushed(alert) {
                return Ok(());
            }
            d.mark_pushed(alert);
            let state = d.encode().map_err(|e| EngineError::Internal(format!("dialogue: {e}")))?;
            match self.ports.chats.save(chat, record.user_id, &state, record.version, now).await {
                Ok(_) => return Ok(()),
                Err(ChatsError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Unavailable("the chat kept changing while a push was recorded".into()))
    }

    /// The chat's quiet hours: its own, else the configured default.
    pub(super) fn quiet_hours(&self, d: &Dialogue) -> Option<QuietHours> {
        match d.pushes.quiet {
            Some(Quiet::Off) => None,
            Some(Quiet::Hours(q)) => Some(q),
            None => QuietHours::parse(&self.config.bot.alerts.quiet_hours),
        }
    }
}

/// The instant the quiet window that `local` is in ends (today or tomorrow, local time;
/// jiff resolves a daylight-saving gap).
fn quiet_end(local: &ZonedDateTime, quiet: QuietHours) -> Result<Timestamp, EngineError> {
    let bad = |e: jiff::Error| EngineError::Internal(format!("quiet hours: {e}"));
    let end = local
        .with()
        .hour(i8::try_from(quiet.end / 60).unwrap_or(0))
        .minute(i8::try_from(quiet.end % 60).unwrap_or(0))
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .map_err(bad)?;
    let end = if end.timestamp() <= local.timestamp() { end.checked_add(1.day()).map_err(bad)? } else { end };
    Ok(end.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_windows_end_later_today_or_tomorrow_in_the_users_zone() {
        let tz = parse_time_zone("Asia/Kolkata").expect("tz");
        let q = QuietHours::parse("22:00-07:00").expect("q");
        // 23:30 in Kolkata: ends 07:00 tomorrow (01:30 UTC).
        let late: Timestamp = "2026-11-24T18:00:00Z".parse().expect("ts");
        assert_eq!(quiet_end(&late.to_zoned_datetime(tz.clone()), q).expect("end").to_string(), "2026-11-25T01:30:00Z");
        // 03:00 in Kolkata: ends 07:00 the same day.
        let early: Timestamp = "2026-11-24T21:30:00Z".parse().expect("ts");
        assert_eq!(quiet_end(&early.to_zoned_datetime(tz), q).expect("end").to_string(), "2026-11-25T01:30:00Z");
    }
}
