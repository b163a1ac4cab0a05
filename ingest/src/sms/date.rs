//! Dates as banks write them: 14/03/25, 31-JAN-25, 2024-11-08:19:42:11, 08 Nov 2024,
//! Nov 8, 2024, 08.11.2024, 11Mar25.

use jiff::civil::Date;
use regex::Regex;

/// Order of day and month in all-numeric dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateOrder {
    /// 14/03/2025 (most of the world).
    DayMonth,
    /// 03/14/2025 (United States).
    MonthDay,
}

const MONTHS: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";

/// Finds and parses dates in text.
#[derive(Debug)]
pub struct DateScanner {
    re: Regex,
}

impl DateScanner {
    /// Compiles the date patterns.
    pub fn new() -> Result<Self, regex::Error> {
        let pattern = format!(
            r"(?i)(?-u:\b)(?:(?P<iy>[0-9]{{4}})[-/:.](?P<im>[0-9]{{1,2}})[-/:.](?P<id>[0-9]{{1,2}})|(?P<na>[0-9]{{1,2}})(?P<ns>[-/.])(?P<nb>[0-9]{{1,2}})[-/.](?P<nc>[0-9]{{4}}|[0-9]{{2}})|(?P<dd>[0-9]{{1,2}})(?:st|nd|rd|th)?[-\s/.]?(?P<dm>{MONTHS})\.?[-\s/.,]*(?P<dy>[0-9]{{4}}|[0-9]{{2}})|(?P<mm>{MONTHS})\.?\s+(?P<md>[0-9]{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>[0-9]{{4}}))(?-u:\b)"
        );
        Ok(Self { re: Regex::new(&pattern)? })
    }

    /// The first valid date with a year in `text`.
    pub fn first(&self, text: &str, order: DateOrder) -> Option<Date> {
        self.find_from(text, 0, order)
    }

    /// The first valid date with a year in `text` starting at byte `start`.
    pub fn find_from(&self, text: &str, start: usize, order: DateOrder) -> Option<Date> {
        let mut pos = start;
        while pos <= text.len() {
            let caps = self.re.captures_at(text, pos)?;
            let whole = caps.get(0)?;
            if let Some(date) = Self::interpret(&caps, order) {
                return Some(date);
            }
            pos = next_char_boundary(text, whole.start() + 1);
        }
        None
    }

    /// The underlying regex (for profiling).
    #[cfg(test)]
    pub fn regex(&self) -> &Regex {
        &self.re
    }

    /// Parses text that should be exactly one date.
    pub fn parse(&self, text: &str, order: DateOrder) -> Option<Date> {
        self.first(text, order)
    }

    fn interpret(caps: &regex::Captures<'_>, order: DateOrder) -> Option<Date> {
        let num = |name: &str| -> Option<i32> { caps.name(name)?.as_str().parse().ok() };
        if let (Some(y), Some(m), Some(d)) = (num("iy"), num("im"), num("id")) {
            return make_date(y, m, d);
        }
        if let (Some(a), Some(b), Some(c)) = (num("na"), num("nb"), num("nc")) {
            // Two-digit "years" that look like a time of day or a fraction are not dates.
            let y = full_year(c, caps.name("nc")?.as_str().len())?;
            let (first, second) = match order {
                DateOrder::DayMonth => ((a, b), (b, a)),
                DateOrder::MonthDay => ((b, a), (a, b)),
            };
            return make_date(y, first.1, first.0).or_else(|| make_date(y, second.1, second.0));
        }
        if let (Some(d), Some(m), Some(y)) = (num("dd"), caps.name("dm"), num("dy")) {
            let y = full_year(y, caps.name("dy")?.as_str().len())?;
            return make_date(y, month_number(m.as_str())?, d);
        }
        if let (Some(m), Some(d), Some(y)) = (caps.name("mm"), num("md"), num("my")) {
            return make_date(y, month_number(m.as_str())?, d);
        }
        None
    }
}

fn next_char_boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at.max(1).min(text.len() + 1)
}

fn full_year(y: i32, len: usize) -> Option<i32> {
    if len == 2 { Some(2000 + y) } else { Some(y) }
}

fn make_date(y: i32, m: i32, d: i32) -> Option<Date> {
    if !(1970..=2099).contains(&y) {
        return None;
    }
    let m = i8::try_from(m).ok()?;
    let d = i8::try_from(d).ok()?;
    let y = i16::try_from(y).ok()?;
    Date::new(y, m, d).ok()
}

fn month_number(name: &str) -> Option<i32> {
    let lower = name.get(..3)?.to_ascii_lowercase();
    let m = match lower.as_str() {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<String> {
        DateScanner::new()
            .ok()?
            .first(s, DateOrder::DayMonth)
            .map(|d| d.to_string())
    }

    #[test]
    fn formats() {
        assert_eq!(d("On 14/03/25").as_deref(), Some("2025-03-14"));
        assert_eq!(d("on 31-JAN-25 for").as_deref(), Some("2025-01-31"));
        assert_eq!(d("On 2024-11-08:19:42:11.Not").as_deref(), Some("2024-11-08"));
        assert_eq!(d("on 08 Nov 2024").as_deref(), Some("2024-11-08"));
        assert_eq!(d("on Nov 8, 2024").as_deref(), Some("2024-11-08"));
        assert_eq!(d("am 08.11.2024.").as_deref(), Some("2024-11-08"));
        assert_eq!(d("date 11Mar25 trf").as_deref(), Some("2025-03-11"));
        assert_eq!(d("on 01Feb2025 towards").as_deref(), Some("2025-02-01"));
        assert_eq!(d("(2025:03:10 18:22:07)").as_deref(), Some("2025-03-10"));
        assert_eq!(d("on 16/3/25 at 1:15 PM").as_deref(), Some("2025-03-16"));
        assert_eq!(d("on 12/31/2024").as_deref(), Some("2024-12-31"));
        assert_eq!(d("on 11 Mar. Balance"), None);
        assert_eq!(d("on 03/05. Available"), None);
        assert_eq!(d("Gehalt 03/2025"), None);
        assert_eq!(d("SALARY JAN 2025-CITIN25012345678"), None);
        assert_eq!(d("on 99/99/99"), None);
    }

    #[test]
    fn month_first() -> Result<(), regex::Error> {
        let s = DateScanner::new()?;
        let got = s.first("on 3/12/25.", DateOrder::MonthDay).map(|d| d.to_string());
        assert_eq!(got.as_deref(), Some("2025-03-12"));
        Ok(())
    }
}
