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
            let found = self.re.find_at(text, pos)?;
            if let Some(date) = interpret(found.as_str(), order) {
                return Some(date);
            }
            pos = next_char_boundary(text, found.start() + 1);
        }
        None
    }

    /// Parses text that should be exactly one date.
    pub fn parse(&self, text: &str, order: DateOrder) -> Option<Date> {
        self.first(text, order)
    }
}

/// Reads a matched date ("14/03/25", "31-JAN-25", "2024-11-08", "Nov 8, 2024") from its
/// digit runs and month name, without capture groups.
fn interpret(found: &str, order: DateOrder) -> Option<Date> {
    let mut nums: [(i32, usize); 3] = [(0, 0); 3];
    let mut n = 0usize;
    let mut month: Option<(i32, usize)> = None;
    let bytes = found.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() {
            let start = i;
            let mut v: i32 = 0;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                v = v.saturating_mul(10).saturating_add(i32::from(bytes[i] - b'0'));
                i += 1;
            }
            if n == 3 {
                return None;
            }
            nums[n] = (v, i - start);
            n += 1;
        } else if b.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            if month.is_none()
                && let Some(m) = month_number(&found[start..i])
            {
                month = Some((m, n));
            }
        } else {
            i += 1;
        }
    }
    match month {
        // "08 Nov 2024" / "11Mar25": day, month, year.
        Some((m, 1)) if n == 2 => make_date(full_year(nums[1].0, nums[1].1)?, m, nums[0].0),
        // "Nov 8, 2024": month, day, year.
        Some((m, 0)) if n == 2 => make_date(full_year(nums[1].0, nums[1].1)?, m, nums[0].0),
        Some(_) => None,
        None if n == 3 && nums[0].1 == 4 => make_date(nums[0].0, nums[1].0, nums[2].0),
        None if n == 3 => {
            let y = full_year(nums[2].0, nums[2].1)?;
            let (a, b) = (nums[0].0, nums[1].0);
            let (first, second) = match order {
                DateOrder::DayMonth => ((a, b), (b, a)),
                DateOrder::MonthDay => ((b, a), (a, b)),
            };
            make_date(y, first.1, first.0).or_else(|| make_date(y, second.1, second.0))
        }
        None => None,
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
    // A name of three or more bytes is never an ordinal suffix ("st", "nd", "rd", "th").
    if name.len() < 3 {
        return None;
    }
    let three = name.get(..3)?.as_bytes();
    let lower = [three[0].to_ascii_lowercase(), three[1].to_ascii_lowercase(), three[2].to_ascii_lowercase()];
    let m = match &lower {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    };
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<String> {
        DateScanner::new().ok()?.first(s, DateOrder::DayMonth).map(|d| d.to_string())
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
