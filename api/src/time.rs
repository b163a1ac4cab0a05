//! Parsing dates and instants from requests, in the user's time zone.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Earliest date accepted for an entry.
const EARLIEST: Date = Date::constant(1970, 1, 1);

/// Parses `YYYY-MM-DD` with a message fit for a 400.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let s = s.trim();
    if s.len() != 10 {
        return Err(format!("'{}' is not a date of the form YYYY-MM-DD", short(s)));
    }
    s.parse::<Date>().map_err(|_| format!("'{}' is not a valid date (YYYY-MM-DD)", short(s)))
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// An entry's `occurred_at`: a date means noon of that day in `tz`; RFC 3339
/// is taken as given. Refuses dates before 1970 or more than a day ahead of `now`.
pub fn parse_occurred_at(s: &str, tz: &TimeZone, now: Timestamp) -> Result<Timestamp, String> {
    let ts = if s.trim().len() == 10 {
        let d = parse_date(s)?;
        d.to_datetime(Time::constant(12, 0, 0, 0)).to_zoned_datetime(tz.clone()).map_err(|e| e.to_string())?.timestamp()
    } else {
        s.trim()
            .parse::<Timestamp>()
            .map_err(|_| format!("'{}' is neither a date (YYYY-MM-DD) nor an RFC 3339 instant", short(s)))?
    };
    if ts.to_zoned_datetime(tz.clone()).date() < EARLIEST {
        return Err("must not be before 1970-01-01".into());
    }
    if ts > now + SignedDuration::from_hours(24) {
        return Err("must not be in the future".into());
    }
    Ok(ts)
}

/// A list bound: a date is the start of that day (`from`) or of the next day
/// (`to`, so the date is included); RFC 3339 is taken as given.
pub fn parse_bound(s: &str, tz: &TimeZone, is_end: bool) -> Result<Timestamp, String> {
    if s.trim().len() == 10 {
        let d = parse_date(s)?;
        let d = if is_end { d.tomorrow().map_err(|e| e.to_string())? } else { d };
        return d.to_zoned_datetime(tz.clone()).map(|z| z.timestamp()).map_err(|e| e.to_string());
    }
    s.trim()
        .parse::<Timestamp>()
        .map_err(|_| format!("'{}' is neither a date (YYYY-MM-DD) nor an RFC 3339 instant", short(s)))
}

/// Today in `tz`.
pub fn today(tz: &TimeZone) -> Date {
    Timestamp::now().to_zoned_datetime(tz.clone()).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants() {
        let tz = TimeZone::get("Asia/Kolkata").unwrap();
        let now: Timestamp = "2026-10-20T00:00:00Z".parse().unwrap();
        let noon = parse_occurred_at("2026-10-15", &tz, now).unwrap();
        assert_eq!(noon.to_string(), "2026-10-15T06:30:00Z");
        assert!(parse_occurred_at("2026-02-30", &tz, now).unwrap_err().contains("not a valid date"));
        assert!(parse_occurred_at("2026-13-01", &tz, now).is_err());
        assert!(parse_occurred_at("2027-01-01", &tz, now).unwrap_err().contains("future"));
        assert!(parse_occurred_at("1969-12-31", &tz, now).is_err());
        assert!(parse_occurred_at("yesterday", &tz, now).is_err());
        let exact = parse_occurred_at("2026-10-15T10:00:00+05:30", &tz, now).unwrap();
        assert_eq!(exact.to_string(), "2026-10-15T04:30:00Z");
        let to = parse_bound("2026-10-15", &tz, true).unwrap();
        assert_eq!(to.to_string(), "2026-10-15T18:30:00Z");
    }
}
