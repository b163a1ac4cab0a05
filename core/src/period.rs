//! Cutting time into days, weeks, months and years in a user's time zone.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A report period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Seven days from the user's week start.
    Week,
    /// A calendar month.
    Month,
    /// A calendar year.
    Year,
}

impl Period {
    /// `week`, `month` or `year`.
    pub fn name(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
            Period::Year => "year",
        }
    }
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            "year" => Ok(Period::Year),
            other => Err(format!("unknown period '{other}': expected week, month or year")),
        }
    }
}

/// The first day of a user's week (Monday by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeekStart(pub Weekday);

impl Default for WeekStart {
    fn default() -> Self {
        WeekStart(Weekday::Monday)
    }
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

impl WeekStart {
    /// Parses `monday` ... `sunday`, case-insensitively.
    pub fn parse(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        WEEKDAYS
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|(_, d)| WeekStart(*d))
            .ok_or_else(|| format!("unknown week start '{s}': expected a day name such as monday"))
    }

    /// Lower-case day name.
    pub fn name(&self) -> &'static str {
        WEEKDAYS.iter().find(|(_, d)| *d == self.0).map(|(n, _)| *n).unwrap_or("monday")
    }
}

impl Serialize for WeekStart {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for WeekStart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        WeekStart::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A half-open range of local dates `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    /// First day.
    pub start: Date,
    /// Day after the last day.
    pub end: Date,
}

/// Whole days from `a` to `b` (negative when `b` is earlier).
pub fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map(|s| i64::from(s.get_days())).unwrap_or(0)
}

impl DateRange {
    /// Number of days in the range.
    pub fn days(&self) -> i64 {
        days_between(self.start, self.end).max(0)
    }

    /// Whether `d` falls inside.
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d < self.end
    }

    /// The UTC instants `[start, end)` of this range in `tz`.
    pub fn instants(&self, tz: &TimeZone) -> Result<(Timestamp, Timestamp), jiff::Error> {
        Ok((self.start.to_zoned_datetime(tz.clone())?.timestamp(), self.end.to_zoned_datetime(tz.clone())?.timestamp()))
    }
}

/// The period containing `date`.
pub fn period_range(period: Period, date: Date, week_start: WeekStart) -> DateRange {
    let start = match period {
        Period::Week => {
            let back = (date.weekday().to_monday_zero_offset() - week_start.0.to_monday_zero_offset()).rem_euclid(7);
            date.checked_sub(i64::from(back).days()).unwrap_or(date)
        }
        Period::Month => date.first_of_month(),
        Period::Year => date.first_of_year(),
    };
    let end = match period {
        Period::Week => start.checked_add(7.days()),
        Period::Month => start.checked_add(1.month()),
        Period::Year => start.checked_add(1.year()),
    }
    .unwrap_or(Date::MAX);
    DateRange { start, end }
}

/// The period just before the one that contains `date`.
pub fn previous_range(period: Period, date: Date, week_start: WeekStart) -> DateRange {
    let current = period_range(period, date, week_start);
    let before = current.start.yesterday().unwrap_or(current.start);
    period_range(period, before, week_start)
}

/// The local date of an instant in a time zone.
pub fn local_date(ts: Timestamp, tz: &TimeZone) -> Date {
    ts.to_zoned_datetime(tz.clone()).date()
}

/// Parses an IANA time zone name, with a message fit for a 400.
pub fn parse_time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| format!("unknown time zone '{name}': expected an IANA name such as Asia/Kolkata"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn weeks_follow_the_week_start() {
        // 2026-10-15 is a Thursday.
        let mon = period_range(Period::Week, date(2026, 10, 15), WeekStart::default());
        assert_eq!((mon.start, mon.end), (date(2026, 10, 12), date(2026, 10, 19)));
        let sun = period_range(Period::Week, date(2026, 10, 15), WeekStart(Weekday::Sunday));
        assert_eq!(sun.start, date(2026, 10, 11));
        let on_start = period_range(Period::Week, date(2026, 10, 11), WeekStart(Weekday::Sunday));
        assert_eq!(on_start.start, date(2026, 10, 11));
    }

    #[test]
    fn months_and_years() {
        let m = period_range(Period::Month, date(2024, 2, 29), WeekStart::default());
        assert_eq!((m.start, m.end, m.days()), (date(2024, 2, 1), date(2024, 3, 1), 29));
        let p = previous_range(Period::Month, date(2026, 3, 31), WeekStart::default());
        assert_eq!((p.start, p.end), (date(2026, 2, 1), date(2026, 3, 1)));
        let y = previous_range(Period::Year, date(2026, 1, 1), WeekStart::default());
        assert_eq!((y.start, y.days()), (date(2025, 1, 1), 365));
    }

    #[test]
    fn local_dates_are_cut_in_the_zone() {
        let ts: Timestamp = "2026-10-14T20:00:00Z".parse().unwrap();
        let kolkata = parse_time_zone("Asia/Kolkata").unwrap();
        assert_eq!(local_date(ts, &kolkata), date(2026, 10, 15));
        assert_eq!(local_date(ts, &TimeZone::UTC), date(2026, 10, 14));
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }
}
