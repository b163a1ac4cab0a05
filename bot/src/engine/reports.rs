//! Reports: totals of a period, by category, against the period before, as text and
//! (for weeks, months, years and day spans) a chart of the categories and the trend.

use super::{Engine, EngineError, Me, format};
use crate::chart::{Bar, Chart};
use jiff::ToSpan;
use jiff::civil::Date;
use spendstream_core::CategoryId;
use spendstream_core::period::{DateRange, Period, period_range, previous_range};
use spendstream_core::report::DayCell;
use spendstream_core::report::range_totals;
use spendstream_core::{Currency, EntryKind};
use std::collections::BTreeMap;

/// A period named by the understanding (`today`, `week`, `last_week`, `month`,
/// `2026-10`, `year`, `2025`, `2026-10-14`, `last_7_days`): its range, the range before
/// it (for the change), and its title.
pub(crate) struct Span {
    pub(crate) range: DateRange,
    pub(crate) previous: Option<DateRange>,
    pub(crate) title: String,
    pub(crate) kind: &'static str,
}

fn day_range(d: Date) -> DateRange {
    DateRange { start: d, end: d.tomorrow().unwrap_or(d) }
}

/// Reads a period string against `today`; unknown strings read as this month.
pub(crate) fn span(period: &str, today: Date, week_start: spendstream_core::period::WeekStart) -> Span {
    let whole = |p: Period, d: Date, title: String| Span {
        range: period_range(p, d, week_start),
        previous: Some(previous_range(p, d, week_start)),
        title,
        kind: p.name(),
    };
    match period {
        "today" => Span {
            range: day_range(today),
            previous: today.yesterday().ok().map(day_range),
            title: "Today".into(),
            kind: "day",
        },
        "week" => whole(Period::Week, today, "This week".into()),
        "last_week" => {
            let d = today.checked_sub(7.days()).unwrap_or(today);
            whole(Period::Week, d, "Last week".into())
        }
        "month" => whole(Period::Month, today, today.strftime("%B %Y").to_string()),
        "year" => whole(Period::Year, today, today.year().to_string()),
        p => {
            if let Some(n) =
                p.strip_prefix("last_").and_then(|r| r.strip_suffix("_days")).and_then(|n| n.parse::<i64>().ok())
            {
                let n = n.clamp(1, 3660);
                let end = today.tomorrow().unwrap_or(today);
                let start = end.checked_sub(n.days()).unwrap_or(today);
                let before = start.checked_sub(n.days()).unwrap_or(start);
                return Span {
                    range: DateRange { start, end },
                    previous: Some(DateRange { start: before, end: start }),
                    title: format!("Last {n} days"),
                    kind: "days",
                };
            }
            if let Ok(d) = p.parse::<Date>() {
                return Span {
                    range: day_range(d),
                    previous: d.yesterday().ok().map(day_range),
                    title: d.strftime("%a %-d %b %Y").to_string(),
                    kind: "day",
                };
            }
            if let Ok(d) = format!("{p}-01").parse::<Date>() {
                return whole(Period::Month, d, d.strftime("%B %Y").to_string());
            }
            if let Ok(y) = p.parse::<i16>()
                && let Ok(d) = Date::new(y, 1, 1)
            {
                return whole(Period::Year, d, y.to_string());
            }
            whole(Period::Month, today, today.strftime("%B %Y").to_string())
        }
    }
}

/// A report: its text, and what its chart shows (none for one day, one category or
/// nothing spent).
pub(crate) struct Report {
    pub(crate) text: String,
    pub(crate) chart: Option<Chart>,
    /// Names the chart's file: `month-2026-11-01`.
    pub(crate) slug: String,
}

/// Spending per bucket of `range`: per month for years and spans over 62 days, else
/// per day; every bucket present, empty ones as zero.
fn trend(cells: &[DayCell], range: DateRange, currency: Currency, kind: &str) -> (bool, Vec<Bar>) {
    let by_month = kind == "year" || range.days() > 62;
    let bucket = |d: Date| if by_month { d.first_of_month() } else { d };
    let mut sums: BTreeMap<Date, i64> = BTreeMap::new();
    let mut d = bucket(range.start);
    while d < range.end {
        sums.insert(d, 0);
        d = if by_month { d.checked_add(1.month()) } else { d.tomorrow() }.unwrap_or(range.end);
    }
    for c in cells.iter().filter(|c| range.contains(c.date) && c.currency == currency && c.kind == EntryKind::Expense) {
        *sums.entry(bucket(c.date)).or_default() += c.amount_minor;
    }
    let label = |d: Date| match (by_month, kind) {
        (true, _) => d.strftime("%b").to_string(),
        (false, "week") => d.strftime("%a").to_string(),
        _ => d.day().to_string(),
    };
    (by_month, sums.into_iter().map(|(d, v)| Bar { label: label(d), value: v, shown: String::new() }).collect())
}

/// The report for `period` (and only `category`, when given).
pub(crate) async fn report(
    engine: &Engine,
    me: &Me,
    period: &str,
    category: Option<&CategoryId>,
) -> Result<Report, EngineError> {
    let s = &me.user.settings;
    let span = span(period, me.today, s.week_start);
    let store = &engine.ports.store;
    let user = me.user.id;
    let months = matches!(span.kind, "year");
    let previous = async {
        match span.previous {
            Some(p) => store.summarize(user, p.start, p.end, &s.time_zone, 0, months).await.map(Some),
            None => Ok(None),
        }
    };
    let (current, previous) =
        tokio::try_join!(store.summarize(user, span.range.start, span.range.end, &s.time_zone, 3, months), previous)?;
    let defs = &engine.config.categories;
    let cur = range_totals(&current.cells, span.range, s.currency, defs);
    let money = |minor: i64| format::money(minor, s.currency);
    let texts = &engine.texts;
    if let Some(cat) = category {
        let line = cur.categories.iter().find(|l| &l.category == cat);
        let (amount, count) = line.map_or((0, 0), |l| (l.amount.minor, l.count));
        let text = texts.fill(
            "report_category",
            &[
                ("title", &span.title),
                ("amount", &money(amount)),
                ("category", &engine.category_name(cat)),
                ("count", &count.to_string()),
            ],
        );
        return Ok(Report { text, chart: None, slug: String::new() });
    }
    if cur.count == 0 {
        let text = texts.fill("report_empty", &[("title", &span.title)]);
        return Ok(Report { text, chart: None, slug: String::new() });
    }
    let mut lines = vec![texts.fill(
        "report_header",
        &[
            ("title", &span.title),
            ("spent", &money(cur.spent)),
            ("income", &money(cur.income)),
            ("count", &cur.count.to_string()),
        ],
    )];
    for line in &cur.categories {
        lines.push(texts.fill(
            "report_line",
            &[
                ("emoji", if line.emoji.is_empty() { "•" } else { line.emoji.as_str() }),
                ("category", &line.name),
                ("amount", &money(line.amount.minor)),
                ("percent", &format!("{}%", line.share_percent)),
            ],
        ));
    }
    let top: Vec<String> = current
        .merchants
        .iter()
        .filter(|m| m.currency == s.currency)
        .take(3)
        .map(|m| format!("{} {}", m.merchant, money(m.amount_minor)))
        .collect();
    if !top.is_empty() {
        lines.push(texts.fill("report_top", &[("merchants", &top.join(", "))]));
    }
    if let (Some(prev), Some(range)) = (previous, span.previous) {
        let before = range_totals(&prev.cells, range, s.currency, defs);
        if before.spent > 0 {
            let change = cur.spent - before.spent;
            let pct = spendstream_core::report::percent(change.abs(), before.spent);
            let sign = if change >= 0 { "+" } else { "-" };
            lines.push(texts.fill(
                "report_change",
                &[("change", &format!("{sign}{pct}%")), ("period", span.kind), ("previous", &money(before.spent))],
            ));
        }
    }
    let chart = (span.kind != "day" && cur.spent > 0).then(|| {
        let (by_month, trend) = trend(&current.cells, span.range, s.currency, span.kind);
        let mut chart = Chart {
            title: span.title.clone(),
            subtitle: texts.fill(
                "chart_subtitle",
                &[("spent", &money(cur.spent)), ("income", &money(cur.income)), ("count", &cur.count.to_string())],
            ),
            categories_title: texts.get("chart_by_category").to_owned(),
            categories: cur
                .categories
                .iter()
                .map(|l| Bar { label: l.name.clone(), value: l.amount.minor, shown: money(l.amount.minor) })
                .collect(),
            trend_title: texts.get(if by_month { "chart_per_month" } else { "chart_per_day" }).to_owned(),
            trend,
            minor_per_major: 10_i64.pow(s.currency.exponent()),
        };
        chart.fold(texts.get("chart_other"), money);
        chart
    });
    let slug = format!("{}-{}", span.kind, span.range.start);
    Ok(Report { text: lines.join("\n"), chart, slug })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use spendstream_core::period::WeekStart;

    #[test]
    fn periods_name_their_ranges() {
        let today = date(2026, 11, 24);
        let ws = WeekStart::default();
        let m = span("month", today, ws);
        assert_eq!((m.range.start, m.range.end), (date(2026, 11, 1), date(2026, 12, 1)));
        assert_eq!(m.previous.map(|p| p.start), Some(date(2026, 10, 1)));
        assert_eq!(span("2026-10", today, ws).range.start, date(2026, 10, 1));
        assert_eq!(span("2025", today, ws).range.end, date(2026, 1, 1));
        let d = span("last_7_days", today, ws);
        assert_eq!((d.range.start, d.range.end), (date(2026, 11, 18), date(2026, 11, 25)));
        assert_eq!(span("today", today, ws).range.days(), 1);
        assert_eq!(span("2026-10-14", today, ws).range.start, date(2026, 10, 14));
        assert_eq!(span("nonsense", today, ws).range.start, date(2026, 11, 1));
    }
}
