//! Money as an integer count of minor units plus an ISO 4217 currency.
//!
//! No floats anywhere: amounts are parsed from and printed to decimal strings
//! with the currency's own exponent (JPY 0, INR 2, KWD 3).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Largest amount accepted anywhere, in major units (10^12).
pub const MAX_MAJOR_UNITS: i64 = 1_000_000_000_000;

/// An ISO 4217 currency with a known number of decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses a three-letter code, case-insensitively. Funds and metals without
    /// a minor unit (XAU, XXX, ...) are refused.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        let c =
            iso_currency::Currency::from_code(&upper).ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))?;
        if c.exponent().is_none() {
            return Err(MoneyError::UnknownCurrency(code.to_owned()));
        }
        Ok(Currency(c))
    }

    /// The three-letter code, e.g. `INR`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of the minor unit (2 for INR, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(2))
    }

    /// 10^exponent: minor units per major unit.
    pub fn scale(&self) -> i64 {
        10_i64.pow(self.exponent())
    }

    /// Parses a positive decimal amount such as `"249.50"` into minor units.
    ///
    /// Refuses signs, zero, more decimals than the currency has, exponents,
    /// grouping characters and amounts of 10^12 major units or more.
    pub fn parse_amount(&self, text: &str) -> Result<i64, MoneyError> {
        parse_amount(text, *self)
    }

    /// Formats minor units as a plain decimal string (`-12.50`, `1500`).
    pub fn format(&self, minor: i64) -> String {
        format_minor(minor, self.exponent())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount of money: integer minor units plus currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Count of minor units (paise, cents); may be negative in derived figures.
    pub minor: i64,
    /// The currency of `minor`.
    pub currency: Currency,
}

impl Money {
    /// Plain decimal string of the amount, e.g. `249.50`.
    pub fn to_decimal(&self) -> String {
        self.currency.format(self.minor)
    }
}

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not an ISO 4217 code with a minor unit.
    #[error("unknown currency '{0}': expected an ISO 4217 code such as INR, USD or EUR")]
    UnknownCurrency(String),
    /// Not a plain decimal number.
    #[error("amount '{0}' is not a decimal number such as 249.50")]
    NotADecimal(String),
    /// Zero or negative.
    #[error("amount must be greater than zero")]
    NotPositive,
    /// More decimals than the currency allows.
    #[error("{currency} allows at most {max} decimal places, got {got}")]
    TooManyDecimals {
        /// Currency code.
        currency: &'static str,
        /// Allowed places.
        max: u32,
        /// Places given.
        got: usize,
    },
    /// 10^12 major units or more.
    #[error("amount is too large: the limit is 10^12 units")]
    TooLarge,
}

fn parse_amount(text: &str, currency: Currency) -> Result<i64, MoneyError> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(MoneyError::NotPositive);
    }
    let bad = || MoneyError::NotADecimal(truncate(text, 40));
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
        return Err(bad());
    }
    if t.ends_with('.') {
        return Err(bad());
    }
    let exp = currency.exponent();
    let frac = frac.trim_end_matches('0');
    if frac.len() > exp as usize {
        return Err(MoneyError::TooManyDecimals { currency: currency.code(), max: exp, got: frac.len() });
    }
    let int = int.trim_start_matches('0');
    if int.len() > 13 {
        return Err(MoneyError::TooLarge);
    }
    let major: i64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| bad())? };
    if major >= MAX_MAJOR_UNITS {
        return Err(MoneyError::TooLarge);
    }
    let mut frac_minor: i64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        frac_minor += i64::from(b - b'0') * 10_i64.pow(exp - 1 - i as u32);
    }
    let minor = major * currency.scale() + frac_minor;
    if minor == 0 {
        return Err(MoneyError::NotPositive);
    }
    Ok(minor)
}

/// Formats `minor` with `exp` decimal places, without grouping.
pub fn format_minor(minor: i64, exp: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exp == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10_u64.pow(exp);
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exp as usize)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inr() -> Currency {
        Currency::parse("inr").unwrap()
    }

    #[test]
    fn parses_with_the_currency_exponent() {
        assert_eq!(inr().parse_amount("249.50").unwrap(), 24950);
        assert_eq!(inr().parse_amount("249.5").unwrap(), 24950);
        assert_eq!(inr().parse_amount("249").unwrap(), 24900);
        assert_eq!(inr().parse_amount(".5").unwrap(), 50);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.parse_amount("1500").unwrap(), 1500);
        assert!(matches!(jpy.parse_amount("1500.5"), Err(MoneyError::TooManyDecimals { max: 0, .. })));
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(kwd.parse_amount("1.234").unwrap(), 1234);
        assert_eq!(kwd.format(1234), "1.234");
    }

    #[test]
    fn refuses_bad_amounts() {
        for bad in ["", "abc", "1,000", "1e5", "-5", "0", "0.00", "1.2.3", "+5", "5."] {
            assert!(inr().parse_amount(bad).is_err(), "{bad}");
        }
        assert_eq!(inr().parse_amount("1.234"), Err(MoneyError::TooManyDecimals { currency: "INR", max: 2, got: 3 }));
        assert_eq!(inr().parse_amount("1000000000000"), Err(MoneyError::TooLarge));
        assert_eq!(inr().parse_amount("99999999999999999999999"), Err(MoneyError::TooLarge));
        assert_eq!(inr().parse_amount("999999999999.99").unwrap(), 99_999_999_999_999);
    }

    #[test]
    fn currencies() {
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("XAU").is_err());
        assert_eq!(Currency::parse("usd").unwrap().code(), "USD");
        assert_eq!(format_minor(-1250, 2), "-12.50");
        assert_eq!(format_minor(5, 2), "0.05");
    }
}
