//! Budgets in chat: `/budget` shows them, `/budget 20000 food` or "set budget 5000 a
//! week" sets one (a budget for the same category and period is changed, not doubled).

use super::{Engine, EngineError, Me, Reply, Turn, format};
use jiff::Timestamp;
use spendstream_core::insight::{Budget, BudgetPeriod, budget_status};
use spendstream_core::{CategoryId, Event, Money};

/// As many budgets as the API allows a user.
const MAX_BUDGETS: usize = 100;

impl Engine {
    /// Lists the user's budgets with what is spent and left in the current period.
    pub(super) async fn show_budgets(&self, turn: &mut Turn, me: &Me) -> Result<(), EngineError> {
        let profile = self.ports.store.profile(me.user.id).await?;
        if profile.budgets.is_empty() {
            turn.replies.push(Reply::text(self.texts.get("budgets_none")));
            return Ok(());
        }
        let mut lines = vec![self.texts.get("budgets_header").to_owned()];
        let mut budgets = profile.budgets;
        budgets.sort_by(|a, b| (a.period.name(), a.category.as_ref()).cmp(&(b.period.name(), b.category.as_ref())));
        for b in &budgets {
            lines.push(self.budget_line(me, b, "budget_line").await?);
        }
        turn.replies.push(Reply::text(lines.join("\n")));
        Ok(())
    }

    /// Sets a budget of `amount` (a decimal string) on `category` (all spending when
    /// `None`) for `period` (`week`, `month` or `year`; anything else reads as month).
    pub(super) async fn set_budget(
        &self,
        turn: &mut Turn,
        me: &Me,
        amount: &str,
        category: Option<CategoryId>,
        period: Option<&str>,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let currency = me.user.settings.currency;
        let minor = match currency.parse_amount(amount) {
            Ok(m) => m,
            Err(e) => {
                turn.replies.push(Reply::text(self.texts.fill("bad_amount", &[("reason", &e.to_string())])));
                return Ok(());
            }
        };
        let period = match period {
            Some("week" | "last_week") => BudgetPeriod::Week,
            Some("year") => BudgetPeriod::Year,
            _ => BudgetPeriod::Month,
        };
        let existing = self.ports.store.profile(me.user.id).await?.budgets;
        let same = existing.iter().find(|b| b.category == category && b.period == period);
        if same.is_none() && existing.len() >= MAX_BUDGETS {
            let max = MAX_BUDGETS.to_string();
            turn.replies.push(Reply::text(self.texts.fill("too_many_budgets", &[("max", &max)])));
            return Ok(());
        }
        let budget = Budget {
            // Changing a budget keeps its id; a new one gets an id from what it limits, so
            // a turn that runs twice sets one budget, not two.
            id: same.map(|b| b.id).unwrap_or_else(|| {
                let name = format!("budget/{}/{:?}/{}", me.user.id, category, period.name());
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes())
            }),
            user_id: me.user.id,
            category,
            period,
            start_day: same.map_or(1, |b| b.start_day),
            limit: Money { minor, currency },
            updated_at: at,
        };
        self.append_and_wait(vec![Event::BudgetSet { budget: budget.clone() }]).await?;
        let line = self.budget_line(me, &budget, "budget_set").await?;
        turn.replies.push(Reply::text(line));
        Ok(())
    }

    async fn budget_line(&self, me: &Me, b: &Budget, text: &str) -> Result<String, EngineError> {
        let range = b.range(me.today, me.user.settings.week_start);
        let summary = self
            .ports
            .store
            .summarize(me.user.id, range.start, range.end, &me.user.settings.time_zone, 0, false)
            .await?;
        let name = match &b.category {
            Some(c) => self.category_name(c),
            None => self.texts.get("all_spending").to_owned(),
        };
        let s = budget_status(b, name, range, b.spent_in(&summary), me.today);
        let money = |minor: i64| format::money(minor, b.limit.currency);
        let warning = if s.over {
            self.texts.get("budget_over").to_owned()
        } else if s.projected_over {
            self.texts.fill("budget_projected_over", &[("projected", &money(s.projected.minor))])
        } else {
            String::new()
        };
        Ok(self.texts.fill(
            text,
            &[
                ("name", &s.name),
                ("period", b.period.name()),
                ("limit", &money(s.limit.minor)),
                ("spent", &money(s.spent.minor)),
                ("left", &money(s.left.minor)),
                ("percent", &s.share_used),
                ("warning", &warning),
            ],
        ))
    }
}
