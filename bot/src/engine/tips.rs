//! Tips in chat: `/tips` (this month; `/tips week`, `/tips year`, `/tips 2026-10`), the
//! same tips as `GET /v1/tips`, best first.

use super::reports::span;
use super::{Engine, EngineError, Me, Reply, Turn};
use spendstream_core::period::Period;
use spendstream_processors::history::period_tips;

/// Tips shown at once.
const SHOWN: usize = 5;

impl Engine {
    /// The top tips for the period `arg` names (empty: this month).
    pub(super) async fn show_tips(&self, turn: &mut Turn, me: &Me, arg: &str) -> Result<(), EngineError> {
        let arg = arg.trim();
        let period = if arg.is_empty() { "month" } else { arg };
        let s = span(period, me.today, me.user.settings.week_start);
        let kind = match s.kind {
            "week" => Period::Week,
            "year" => Period::Year,
            _ => Period::Month,
        };
        let categories = &self.config.categories;
        let (_, tips) =
            period_tips(self.ports.store.as_ref(), &me.user, kind, s.range.start, me.today, categories, &self.tips)
                .await?;
        if tips.is_empty() {
            turn.replies.push(Reply::text(self.texts.fill("tips_none", &[("title", &s.title)])));
            return Ok(());
        }
        let mut lines = vec![self.texts.fill("tips_header", &[("title", &s.title)])];
        for t in tips.iter().take(SHOWN) {
            lines.push(self.texts.fill("tip_line", &[("message", &t.message)]));
        }
        turn.replies.push(Reply::text(lines.join("\n")));
        Ok(())
    }
}
