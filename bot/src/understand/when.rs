//! Days and periods named in a message, resolved against the user's today.
//!
//! Days: `today`, `yesterday`, `day before yesterday`, `last night`, day names (`friday`,
//! `last friday`, `on mon`: the most recent such day before today, 1 to 7 days back),
//! `3 days ago`, `a week ago`, `12 oct`, `12th of october`, `oct 12`, `12-oct-2025`,
//! `oct 12 2025`, `2026-10-12`, `12/10`, `12/10/2026`, `12.10.2026`, `the 12th`.
//! A day and month without a year that would be after today is last year's; `the 12th`
//! after today is last month's. All-numeric `12/10` is read day first or month first as
//! [`DateOrder`] says (only one reading valid, e.g. `25/10`: that one), or asked.
//!
//! Periods: `this week` / `week` / `weekly`, `last week`, `past week` (last 7 days),
//! `this month` / `month` / `monthly` / `mtd`, `last month`, `october` / `in oct` /
//! `oct 2025` / `2026-10`, `this year` / `year` / `ytd`, `last year`, `last 30 days`.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

use super::DateOrder;
use super::tokens::Tok;

/// A day or period named in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// Today.
    Today,
    /// One day.
    Day(Date),
    /// The current week.
    ThisWeek,
    /// The week before the current one.
    LastWeek,
    /// The current month.
    ThisMonth,
    /// A given month.
    Month(i16, i8),
    /// The current year.
    ThisYear,
    /// A given year.
    Year(i16),
    /// The last `n` days up to today.
    LastDays(i64),
}

impl When {
    /// The period string of [`super::Understanding::period`].
    pub(crate) fn period(self) -> String {
        match self {
            When::Today => "today".to_owned(),
            When::Day(d) => d.to_string(),
            When::ThisWeek => "week".to_owned(),
            When::LastWeek => "last_week".to_owned(),
            When::ThisMonth => "month".to_owned(),
            When::Month(y, m) => format!("{y:04}-{m:02}"),
            When::ThisYear => "year".to_owned(),
            When::Year(y) => format!("{y:04}"),
            When::LastDays(n) => format!("last_{n}_days"),
        }
    }

    /// The day of an entry, when this names one.
    pub(crate) fn day(self, today: Date) -> Option<Date> {
        match self {
            When::Today => Some(today),
            When::Day(d) => Some(d),
            _ => None,
        }
    }
}

/// What the time scan found: the first day or period, or a question about it.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The first day or period named.
    pub when: Option<When>,
    /// A question when a date could not be settled (`12/10` with [`DateOrder::Ask`],
    /// `30 feb`).
    pub question: Option<String>,
}

/// Words that may stand before a day or period and go with it.
const PREPOSITIONS: &[&str] = &["on", "in", "for", "during", "of", "from", "since"];

const MONTHS: &[(&str, i8)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

const MONTH_NAMES: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: &[(&str, Weekday, bool)] = &[
    ("monday", Weekday::Monday, true),
    ("tuesday", Weekday::Tuesday, true),
    ("wednesday", Weekday::Wednesday, true),
    ("thursday", Weekday::Thursday, true),
    ("friday", Weekday::Friday, true),
    ("saturday", Weekday::Saturday, true),
    ("sunday", Weekday::Sunday, true),
    ("mon", Weekday::Monday, false),
    ("tue", Weekday::Tuesday, false),
    ("tues", Weekday::Tuesday, false),
    ("wed", Weekday::Wednesday, false),
    ("thu", Weekday::Thursday, false),
    ("thur", Weekday::Thursday, false),
    ("thurs", Weekday::Thursday, false),
    ("fri", Weekday::Friday, false),
    ("sat", Weekday::Saturday, false),
];

/// A month name; `bare` says whether it may stand without a day, year or preposition
/// (`may` and `march` are also ordinary words; `mar`, `jan` too short to trust).
fn month(word: &str) -> Option<(i8, bool)> {
    let m = MONTHS.iter().find(|(n, _)| *n == word.trim_end_matches('.'))?.1;
    let bare = !matches!(word, "may" | "march" | "mar" | "jan");
    Some((m, bare))
}

/// A day name; `bare` says whether it may stand without `on` / `last` (`sat`, `wed` and
/// `mon` are also ordinary words).
fn weekday(word: &str) -> Option<(Weekday, bool)> {
    if word == "sun" {
        return Some((Weekday::Sunday, false));
    }
    WEEKDAYS.iter().find(|(n, _, _)| *n == word).map(|(_, d, bare)| (*d, *bare))
}

/// A day of the month, `12` or `12th`; the flag says whether it had an ordinal suffix.
fn day_number(word: &str) -> Option<(i8, bool)> {
    let (digits, ordinal) = match ["st", "nd", "rd", "th"].iter().find_map(|s| word.strip_suffix(s)) {
        Some(d) => (d, true),
        None => (word, false),
    };
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d: i8 = digits.parse().ok()?;
    (1..=31).contains(&d).then_some((d, ordinal))
}

/// A four-digit year from 1970 to 2099.
fn year_number(word: &str) -> Option<i16> {
    let word = word.strip_prefix('\'').unwrap_or(word);
    if word.len() != 4 || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i16 = word.parse().ok()?;
    (1970..=2099).contains(&y).then_some(y)
}

/// A small count (`3` in `3 days ago`), 1 to 366.
fn count(word: &str) -> Option<i64> {
    match word {
        "a" | "one" => return Some(1),
        "two" => return Some(2),
        "three" => return Some(3),
        _ => {}
    }
    if word.is_empty() || word.len() > 3 || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = word.parse().ok()?;
    (1..=366).contains(&n).then_some(n)
}

fn days_before(today: Date, n: i64) -> Option<Date> {
    today.checked_sub(n.days()).ok()
}

/// The most recent `day` before `today` (1 to 7 days back).
fn last_weekday(today: Date, day: Weekday) -> Option<Date> {
    let back = i64::from(day.until(today.weekday()));
    days_before(today, if back == 0 { 7 } else { back })
}

fn previous_month(today: Date) -> (i16, i8) {
    if today.month() == 1 { (today.year() - 1, 12) } else { (today.year(), today.month() - 1) }
}

/// A month without a year: this year's unless that is after the current month.
fn recent_month(today: Date, m: i8, strictly_before: bool) -> When {
    let later = if strictly_before { m >= today.month() } else { m > today.month() };
    if later { When::Month(today.year() - 1, m) } else { When::Month(today.year(), m) }
}

/// A day and month, with a year or the latest one not after today.
fn resolve(today: Date, year: Option<i16>, m: i8, d: i8) -> Result<When, String> {
    let invalid = || {
        let name = MONTH_NAMES.get(usize::try_from(m - 1).unwrap_or(0)).copied().unwrap_or("that month");
        format!("There is no {d} {name}. Which day was it?")
    };
    match year {
        Some(y) => Date::new(y, m, d).map(When::Day).map_err(|_| invalid()),
        None => {
            let this = Date::new(today.year(), m, d);
            match this {
                Ok(date) if date <= today => Ok(When::Day(date)),
                _ => Date::new(today.year() - 1, m, d).map(When::Day).map_err(|_| invalid()),
            }
        }
    }
}

/// `the 12th`: this month's, or last month's when after today.
fn day_of_month(today: Date, d: i8) -> Result<When, String> {
    if let Ok(date) = Date::new(today.year(), today.month(), d)
        && date <= today
    {
        return Ok(When::Day(date));
    }
    let (y, m) = previous_month(today);
    Date::new(y, m, d).map(When::Day).map_err(|_| format!("Last month had no {d}th. Which day was it?"))
}

/// `12/10`, `12-10-2026`, `12.10.2026` (a dotted date needs its year: `12.10` is an amount).
fn numeric_date(word: &str) -> Option<(i8, i8, Option<i16>)> {
    let sep = word.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let parts: Vec<&str> = word.split(sep).collect();
    let (a, b, y) = match parts.as_slice() {
        [a, b] if sep != '.' => (num(a, 2)?, num(b, 2)?, None),
        [a, b, y] if y.len() == 2 || y.len() == 4 => {
            let y = num(y, 4)?;
            (num(a, 2)?, num(b, 2)?, Some(if y < 100 { 2000 + y } else { y }))
        }
        _ => return None,
    };
    let a = i8::try_from(a).ok()?;
    let b = i8::try_from(b).ok()?;
    let y = match y {
        Some(y) => Some(i16::try_from(y).ok().filter(|y| (1970..=2099).contains(y))?),
        None => None,
    };
    Some((a, b, y))
}

/// Up to `max` ASCII digits as a number.
fn num(s: &str, max: usize) -> Option<i32> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `2026-10-12` or `2026-10`.
fn iso(word: &str) -> Option<When> {
    let parts: Vec<&str> = word.split('-').collect();
    let y = year_number(parts.first()?)?;
    let small = |s: &str| num(s, 2).and_then(|n| i8::try_from(n).ok());
    match parts.as_slice() {
        [_, m] => {
            let m = small(m)?;
            (1..=12).contains(&m).then_some(When::Month(y, m))
        }
        [_, m, d] => Date::new(y, small(m)?, small(d)?).ok().map(When::Day),
        _ => None,
    }
}

/// `12oct`, `12-oct`, `12th-oct-2025`, `oct-12`: a day and a month glued in one word.
fn glued_day_month(word: &str) -> Option<(i8, i8, Option<i16>)> {
    let parts: Vec<&str> = word
        .split(['-', '/'])
        .flat_map(|p| {
            // Split "12oct" into "12" and "oct" (but keep "12th" whole).
            let at = p.find(|c: char| c.is_ascii_alphabetic()).filter(|&i| i > 0);
            match at {
                Some(i) if p[..i].bytes().all(|b| b.is_ascii_digit()) && month(&p[i..]).is_some() => {
                    vec![&p[..i], &p[i..]]
                }
                _ => vec![p],
            }
        })
        .collect();
    if parts.len() < 2 {
        return None;
    }
    let year = match parts.get(2) {
        Some(y) if y.len() == 2 && y.bytes().all(|b| b.is_ascii_digit()) => Some(2000 + y.parse::<i16>().ok()?),
        Some(y) => Some(year_number(y)?),
        None => None,
    };
    if parts.len() > 3 {
        return None;
    }
    if let (Some((d, _)), Some((m, _))) = (day_number(parts[0]), month(parts[1])) {
        return Some((d, m, year));
    }
    if let (Some((m, _)), Some((d, _))) = (month(parts[0]), day_number(parts[1])) {
        return Some((d, m, year));
    }
    None
}

/// Finds days and periods, marks their words used, and returns the first one.
pub(crate) fn scan(toks: &[Tok<'_>], used: &mut [bool], today: Date, order: DateOrder) -> Found {
    let mut found = Found::default();
    let mut i = 0;
    while i < toks.len() {
        if used[i] {
            i += 1;
            continue;
        }
        let w = |k: usize| match toks.get(i + k) {
            Some(t) if !used[i + k] => t.low.as_str(),
            _ => "",
        };
        // A preposition goes with the expression after it.
        let prep = usize::from(PREPOSITIONS.contains(&w(0)));
        let hit = match_at(&|k| w(prep + k), prep == 1, today, order);
        match hit {
            Some((result, len)) => {
                for u in used.iter_mut().skip(i).take(prep + len) {
                    *u = true;
                }
                match result {
                    Ok(when) if found.when.is_none() && found.question.is_none() => found.when = Some(when),
                    Err(q) if found.when.is_none() && found.question.is_none() => found.question = Some(q),
                    _ => {}
                }
                i += prep + len;
            }
            None => i += 1,
        }
    }
    found
}

/// The expression starting at word `w(0)`, with the number of words it takes.
fn match_at<'t>(
    w: &dyn Fn(usize) -> &'t str,
    after_prep: bool,
    today: Date,
    order: DateOrder,
) -> Option<(Result<When, String>, usize)> {
    let day = |n: i64| days_before(today, n).map(When::Day).ok_or_else(|| "Which day was it?".to_owned());
    let w0 = w(0);
    match w0 {
        "today" | "tonight" | "tdy" => return Some((Ok(When::Today), 1)),
        "yesterday" | "yday" | "yest" | "ystd" => return Some((day(1), 1)),
        "day" if w(1) == "before" && w(2) == "yesterday" => return Some((day(2), 3)),
        "this" if matches!(w(1), "morning" | "afternoon" | "evening") => return Some((Ok(When::Today), 2)),
        "last" if w(1) == "night" => return Some((day(1), 2)),
        "weekly" => return Some((Ok(When::ThisWeek), 1)),
        "monthly" | "mtd" => return Some((Ok(When::ThisMonth), 1)),
        "yearly" | "annually" | "annual" | "ytd" => return Some((Ok(When::ThisYear), 1)),
        _ => {}
    }
    // "3 days ago", "a week ago", "2 weeks back".
    if let Some(n) = count(w0)
        && matches!(w(2), "ago" | "back" | "before")
    {
        match w(1) {
            "day" | "days" => return Some((day(n), 3)),
            "week" | "weeks" => return Some((day(n.saturating_mul(7)), 3)),
            _ => {}
        }
    }
    // "last friday", "last week", "this month", "past 30 days", "per month", "last october".
    let modifier = match w0 {
        "last" | "previous" | "prev" => Some("last"),
        "past" => Some("past"),
        "this" | "current" | "per" | "every" | "each" | "a" => Some("this"),
        _ => None,
    };
    let k = usize::from(modifier.is_some());
    let w1 = w(k);
    if let Some((wd, bare)) = weekday(w1)
        && (bare || after_prep || matches!(modifier, Some("last" | "past" | "this")))
        && !matches!(w0, "per" | "every" | "each" | "a")
    {
        return Some((last_weekday(today, wd).map(When::Day).ok_or_else(|| "Which day was it?".to_owned()), k + 1));
    }
    match (modifier, w1) {
        (Some("last" | "past"), n) if count(n).is_some() && matches!(w(k + 1), "days" | "day") => {
            return Some((Ok(When::LastDays(count(n).unwrap_or(1))), k + 2));
        }
        (Some("last"), "week") => return Some((Ok(When::LastWeek), 2)),
        (Some("past"), "week") => return Some((Ok(When::LastDays(7)), 2)),
        (Some("last" | "past"), "month") => {
            let (y, m) = previous_month(today);
            return Some((Ok(When::Month(y, m)), 2));
        }
        (Some("last" | "past"), "year") => return Some((Ok(When::Year(today.year() - 1)), 2)),
        (Some("this") | None, "week") => return Some((Ok(When::ThisWeek), k + 1)),
        (Some("this") | None, "month") => return Some((Ok(When::ThisMonth), k + 1)),
        (Some("this") | None, "year") => return Some((Ok(When::ThisYear), k + 1)),
        (Some("last"), m) if month(m).is_some() => {
            let m = month(m).map_or(1, |x| x.0);
            return Some((Ok(recent_month(today, m, true)), 2));
        }
        _ => {}
    }
    if modifier.is_some() {
        return None;
    }
    if let Some(when) = iso(w0) {
        return Some((Ok(when), 1));
    }
    if let Some((a, b, y)) = numeric_date(w0) {
        return Some((numeric(today, a, b, y, order, w0), 1));
    }
    if let Some((d, m, y)) = glued_day_month(w0) {
        return Some((resolve(today, y, m, d), 1));
    }
    // "12 oct", "12th of october 2025".
    if let Some((d, _)) = day_number(w0) {
        let of = usize::from(w(1) == "of");
        if let Some((m, _)) = month(w(1 + of)) {
            let y = year_number(w(2 + of));
            return Some((resolve(today, y, m, d), 2 + of + usize::from(y.is_some())));
        }
    }
    // "oct 12", "october 12th, 2025", "oct 2025", "october".
    if let Some((m, bare)) = month(w0) {
        if let Some((d, _)) = day_number(w(1)) {
            let y = year_number(w(2));
            return Some((resolve(today, y, m, d), 2 + usize::from(y.is_some())));
        }
        if let Some(y) = year_number(w(1)) {
            return Some((Ok(When::Month(y, m)), 2));
        }
        if bare || after_prep {
            return Some((Ok(recent_month(today, m, false)), 1));
        }
        return None;
    }
    // "the 12th", "on 12th".
    let the = usize::from(w0 == "the");
    if let Some((d, true)) = day_number(w(the))
        && (the == 1 || after_prep)
    {
        return Some((day_of_month(today, d), the + 1));
    }
    None
}

fn numeric(today: Date, a: i8, b: i8, year: Option<i16>, order: DateOrder, written: &str) -> Result<When, String> {
    let valid = |d: i8, m: i8| (1..=12).contains(&m) && (1..=31).contains(&d);
    let (day_first, month_first) = (valid(a, b), valid(b, a));
    let pick_day_first = match (day_first, month_first) {
        (true, false) => true,
        (false, true) => false,
        (false, false) => return Err(format!("I can't read \"{written}\" as a date. Which day was it?")),
        (true, true) if a == b => true,
        (true, true) => match order {
            DateOrder::DayMonth => true,
            DateOrder::MonthDay => false,
            DateOrder::Ask => {
                let name = |m: i8| MONTH_NAMES.get(usize::try_from(m - 1).unwrap_or(0)).copied().unwrap_or("?");
                return Err(format!("Is \"{written}\" {a} {} or {b} {}?", name(b), name(a)));
            }
        },
    };
    if pick_day_first { resolve(today, year, b, a) } else { resolve(today, year, a, b) }
}
