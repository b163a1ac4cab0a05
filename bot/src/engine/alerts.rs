//! Alerts in chat: `/alerts` lists the ones not yet seen, newest first, each with a
//! button that marks it seen (as `POST /v1/alerts/{id}/ack` does), and says how
//! alerts are pushed here; `/alerts on|off|quiet|mute|unmute` changes that.

use super::dialogue::Quiet;
use super::{Button, Engine, EngineError, Me, Reply, Turn};
use jiff::Timestamp;
use spendstream_core::Event;
use spendstream_core::chats::QuietHours;
use spendstream_core::insight::{AlertRule, Severity};
use spendstream_core::period::local_date;

/// Alerts shown at once.
const SHOWN: usize = 5;

/// The sign shown before an alert of `severity`.
pub(super) fn mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "ℹ️",
        Severity::Warning => "⚠️",
        Severity::Critical => "🚨",
    }
}

impl Engine {
    /// `/alerts` and its settings.
    pub(super) async fn alerts_command(&self, turn: &mut Turn, me: &Me, rest: &str) -> Result<(), EngineError> {
        let rest = rest.trim().to_lowercase();
        let (verb, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest.as_str(), ""));
        let arg = arg.trim();
        let pushes = &mut turn.dialogue.pushes;
        let reply = match verb {
            "" => return self.show_alerts(turn, me).await,
            "on" => {
                pushes.off = false;
                self.texts.get("alerts_on").to_owned()
            }
            "off" | "stop" => {
                pushes.off = true;
                self.texts.get("alerts_off").to_owned()
            }
            "quiet" if matches!(arg, "off" | "none" | "no") => {
                pushes.quiet = Some(Quiet::Off);
                self.texts.get("alerts_quiet_off").to_owned()
            }
            "quiet" => match QuietHours::parse(arg) {
                Some(q) => {
                    pushes.quiet = Some(Quiet::Hours(q));
                    let tz = me.user.settings.time_zone.as_str();
                    self.texts.fill("alerts_quiet_set", &[("quiet", &q.to_string()), ("time_zone", tz)])
                }
                None => self.texts.get("alerts_quiet_bad").to_owned(),
            },
            "mute" | "unmute" => {
                let wanted = arg.replace([' ', '-'], "_");
                match AlertRule::ALL.iter().find(|r| r.as_str() == wanted) {
                    Some(rule) if verb == "mute" => {
                        if !pushes.muted.contains(rule) {
                            pushes.muted.push(*rule);
                        }
                        self.texts.fill("alerts_muted", &[("rule", rule.as_str())])
                    }
                    Some(rule) => {
                        pushes.muted.retain(|r| r != rule);
                        self.texts.fill("alerts_unmuted", &[("rule", rule.as_str())])
                    }
                    None => {
                        let input: String = arg.chars().take(40).collect();
                        self.texts.fill("alerts_rule_bad", &[("input", &input), ("rules", &rule_names())])
                    }
                }
            }
            _ => self.settings_line(turn),
        };
        turn.replies.push(Reply::text(reply));
        Ok(())
    }

    /// How alerts are pushed to this chat, in one line.
    fn settings_line(&self, turn: &Turn) -> String {
        let pushes = &turn.dialogue.pushes;
        let state = self.texts.get(if pushes.off { "alerts_state_off" } else { "alerts_state_on" });
        let quiet = self
            .quiet_hours(&turn.dialogue)
            .map_or_else(|| self.texts.get("alerts_quiet_none").to_owned(), |q| q.to_string());
        let muted = if pushes.muted.is_empty() {
            String::new()
        } else {
            let rules: Vec<&str> = pushes.muted.iter().map(|r| r.as_str()).collect();
            self.texts.fill("alerts_muted_list", &[("rules", &rules.join(", "))])
        };
        self.texts.fill("alerts_settings", &[("state", state), ("quiet", &quiet), ("muted", &muted)])
    }

    /// The user's unacknowledged alerts, newest first, one message each.
    pub(super) async fn show_alerts(&self, turn: &mut Turn, me: &Me) -> Result<(), EngineError> {
        let profile = self.ports.store.profile(me.user.id).await?;
        let open: Vec<_> = profile.alerts.iter().filter(|a| a.acknowledged_at.is_none()).collect();
        if open.is_empty() {
            let text = format!("{}\n{}", self.texts.get("alerts_none"), self.settings_line(turn));
            turn.replies.push(Reply::text(text));
            return Ok(());
        }
        let shown = open.len().min(SHOWN);
        let (n, total) = (shown.to_string(), open.len().to_string());
        let header = self.texts.fill("alerts_header", &[("shown", &n), ("total", &total)]);
        turn.replies.push(Reply::text(format!("{header}\n{}", self.settings_line(turn))));
        for a in open.into_iter().take(SHOWN) {
            let day = self.day(local_date(a.occurred_at, &me.tz), me.today);
            turn.replies.push(Reply::new(
                self.texts.fill("alert_line", &[("mark", mark(a.severity)), ("message", &a.message), ("day", &day)]),
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

fn rule_names() -> String {
    AlertRule::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}
