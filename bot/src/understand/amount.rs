//! Amounts as people type them in a chat: `250`, `4.50`, `2.5k`, `1,25,000`, `125,000`,
//! `₹99`, `Rs. 1,250`, `$12.99`, `12 usd`, `1.5 lakh`.
//!
//! Reading rules (integer digit strings only; [`Currency::parse_amount`] does the final
//! check and conversion, so the currency's decimal places and the 10^12 limit hold):
//! - A comma followed by exactly three digits groups thousands (`1,250`, `125,000`);
//!   Indian grouping (`1,25,000`) is accepted too. One comma followed by one or two digits
//!   is a decimal comma (`3,50` is 3.50).
//! - One dot followed by three digits (`1.200`) is ambiguous (1.2 or 1200): it gives a
//!   question, never a guess, unless a multiplier follows (`1.200k`), the whole part is 0
//!   (`0.500`) or the currency has no decimals (JPY: 1200). `4.505` in a currency with
//!   two decimals asks too. Several dots with three-digit groups (`1.200.000`) are
//!   European thousands.
//! - When both a dot and a comma appear, the last one is the decimal separator.
//! - Multipliers: `k` / `thousand` (10^3), `lakh` / `lac` (10^5), `crore` / `cr` (10^7).

use spendstream_core::Currency;
use spendstream_core::money::MoneyError;

/// Currency marks that can be glued to a number, longest first.
const GLUED_MARKS: &[&str] = &[
    "us$", "rs.", "inr", "usd", "eur", "gbp", "jpy", "aed", "sgd", "aud", "cad", "s$", "a$", "c$", "rs", "₹", "$", "€",
    "£", "¥",
];

/// Multipliers that can follow a number, glued or as the next word, as powers of ten.
const MULTIPLIERS: &[(&str, u32)] = &[
    ("k", 3),
    ("thousand", 3),
    ("lakhs", 5),
    ("lakh", 5),
    ("lacs", 5),
    ("lac", 5),
    ("crores", 7),
    ("crore", 7),
    ("cr", 7),
];

/// ISO codes accepted as a separate word next to a number. A short list on purpose:
/// codes such as ALL, TOP, CUP or TRY are also English words.
const CODES: &[&str] = &[
    "inr", "usd", "eur", "gbp", "jpy", "aed", "sgd", "aud", "cad", "chf", "cny", "sar", "qar", "kwd", "bhd", "omr",
    "nzd", "hkd", "myr", "thb", "lkr", "npr", "bdt", "pkr", "zar", "kes", "ngn", "sek", "nok", "dkk", "idr", "php",
    "krw",
];

/// Currencies written with `$` (a `$` means the user's own currency when it is one of these).
const DOLLAR_CURRENCIES: &[&str] = &["USD", "AUD", "CAD", "SGD", "NZD", "HKD"];
/// Currencies written `Rs` (an `Rs` means the user's own currency when it is one of these).
const RUPEE_CURRENCIES: &[&str] = &["INR", "PKR", "LKR", "NPR"];

/// The currency a mark (`₹`, `rs`, `$`, `usd`, `euros`, ...) stands for, given the user's
/// own currency (`$` is the user's currency when that is a dollar, else USD).
pub(crate) fn currency_of(mark: &str, own: Currency) -> Option<Currency> {
    let own_if = |list: &[&str], fallback: &str| {
        if list.contains(&own.code()) { Some(own) } else { Currency::parse(fallback).ok() }
    };
    match mark {
        "₹" | "inr" => Currency::parse("INR").ok(),
        "rs" | "rs." | "rupee" | "rupees" => own_if(RUPEE_CURRENCIES, "INR"),
        "$" | "dollar" | "dollars" | "bucks" => own_if(DOLLAR_CURRENCIES, "USD"),
        "us$" => Currency::parse("USD").ok(),
        "s$" => Currency::parse("SGD").ok(),
        "a$" => Currency::parse("AUD").ok(),
        "c$" => Currency::parse("CAD").ok(),
        "€" | "euro" | "euros" => Currency::parse("EUR").ok(),
        "£" | "pounds" | "quid" => Currency::parse("GBP").ok(),
        "¥" | "yen" => Currency::parse("JPY").ok(),
        "dirham" | "dirhams" => Currency::parse("AED").ok(),
        code if CODES.contains(&code) => Currency::parse(code).ok(),
        _ => None,
    }
}

/// Currency marks other than ISO codes, as whole words.
const WORD_MARKS: &[&str] = &[
    "₹", "rs", "rs.", "rupee", "rupees", "$", "dollar", "dollars", "bucks", "us$", "s$", "a$", "c$", "€", "euro",
    "euros", "£", "pounds", "quid", "¥", "yen", "dirham", "dirhams",
];

/// Whether a whole word is a currency mark (`₹`, `rs`, `usd`, `rupees`, ...).
pub(crate) fn is_currency_word(word: &str) -> bool {
    WORD_MARKS.contains(&word) || CODES.contains(&word)
}

/// The power of ten a multiplier word stands for.
pub(crate) fn multiplier_word(word: &str) -> Option<u32> {
    MULTIPLIERS.iter().find(|(w, _)| *w == word).map(|(_, p)| *p)
}

/// A number word split into its parts: `₹1,250` → (`₹`, `1,250`, 0); `2.5k` → (none,
/// `2.5`, 3); `99usd` → (`usd`, `99`, 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AmountWord<'a> {
    /// The currency mark written with the number.
    pub mark: Option<&'a str>,
    /// Digits with `.`, `,` or `'` between them.
    pub number: &'a str,
    /// Power of ten of a glued multiplier (0 for none).
    pub power: u32,
}

/// Splits a lower-cased word into mark, number and multiplier; `None` when it is not an
/// amount (`12th`, `10kg`, `7pm`, `10:30`, `abc`).
pub(crate) fn split_word(word: &str) -> Option<AmountWord<'_>> {
    let (mark, rest) = match GLUED_MARKS.iter().find(|m| word.starts_with(**m)) {
        Some(m) => (Some(*m), &word[m.len()..]),
        None => (None, word),
    };
    let end = rest.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '\''))).unwrap_or(rest.len());
    let number = &rest[..end];
    if !number.starts_with(|c: char| c.is_ascii_digit()) || !number.ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut tail = &rest[end..];
    let mut power = 0;
    if let Some((w, p)) = MULTIPLIERS.iter().find(|(w, _)| tail.starts_with(*w)) {
        power = *p;
        tail = &tail[w.len()..];
    }
    let mark = match (mark, tail) {
        (m, "") => m,
        (None, t) if is_currency_word(t) => Some(t),
        _ => return None,
    };
    Some(AmountWord { mark, number, power })
}

/// Why an amount could not be read; each becomes a question to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AmountProblem {
    /// `1.200`: 1.2 or 1200?
    Ambiguous {
        /// As written.
        written: String,
        /// The small reading, formatted (`1.20`).
        small: String,
        /// The large reading (`1200`).
        large: String,
    },
    /// More decimals than the currency has.
    TooPrecise {
        /// As written.
        written: String,
        /// The currency.
        currency: Currency,
    },
    /// 10^12 or more.
    TooLarge,
    /// Zero.
    Zero,
    /// Not a readable number (`1,2345`, `1.2.3`).
    Unreadable {
        /// As written.
        written: String,
    },
}

impl AmountProblem {
    /// The question asked back.
    pub(crate) fn question(&self) -> String {
        match self {
            AmountProblem::Ambiguous { written, small, large } => {
                format!("Did you mean {small} or {large}? I can read \"{written}\" both ways.")
            }
            AmountProblem::TooPrecise { written, currency } => format!(
                "{currency} has {} decimal places, so I can't read \"{written}\". What was the amount?",
                currency.exponent()
            ),
            AmountProblem::TooLarge => "That amount is too large for me. What was the amount?".to_owned(),
            AmountProblem::Zero => "The amount must be more than zero. How much was it?".to_owned(),
            AmountProblem::Unreadable { written } => {
                format!("I can't read \"{written}\" as an amount. How much was it?")
            }
        }
    }
}

/// Digits of the whole part and of the fraction, separators removed.
fn split_decimal(number: &str, power: u32) -> Result<(String, String), Split> {
    let dots = number.matches('.').count();
    let commas = number.matches(',').count();
    let last_sep = number.rfind(['.', ',']);
    let digits_after = |at: usize| number[at + 1..].chars().filter(char::is_ascii_digit).count();
    let whole = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let grouped = |s: &str, sep: char| valid_grouping(s, sep);
    match (dots, commas, last_sep) {
        (0, 0, _) | (_, _, None) => Ok((whole(number), String::new())),
        (d, c, Some(at)) if d > 0 && c > 0 => {
            let dec = if number[at..].starts_with('.') { '.' } else { ',' };
            let group = if dec == '.' { ',' } else { '.' };
            if number.matches(dec).count() != 1 || !grouped(&number[..at], group) {
                return Err(Split::Unreadable);
            }
            Ok((whole(&number[..at]), whole(&number[at + 1..])))
        }
        (0, 1, Some(at)) if digits_after(at) <= 2 => Ok((whole(&number[..at]), whole(&number[at + 1..]))),
        (0, _, _) => {
            if grouped(number, ',') {
                Ok((whole(number), String::new()))
            } else {
                Err(Split::Unreadable)
            }
        }
        (1, 0, Some(at)) => {
            let int = whole(&number[..at]);
            let frac = whole(&number[at + 1..]);
            if frac.len() == 3 && power == 0 && int.bytes().any(|b| b != b'0') {
                Err(Split::Ambiguous(int, frac))
            } else {
                Ok((int, frac))
            }
        }
        _ => {
            if grouped(number, '.') {
                Ok((whole(number), String::new()))
            } else {
                Err(Split::Unreadable)
            }
        }
    }
}

enum Split {
    Ambiguous(String, String),
    Unreadable,
}

/// Thousands grouping with `sep`: `125,000` / `1,234,567` (groups of three) or Indian
/// `1,25,000` / `12,34,567` (groups of two, then a last group of three). Apostrophes
/// (`1'250`) are read like the separator.
fn valid_grouping(s: &str, sep: char) -> bool {
    let groups: Vec<&str> = s.split([sep, '\'']).collect();
    let Some((first, rest)) = groups.split_first() else {
        return false;
    };
    if first.is_empty() || first.len() > 3 || rest.is_empty() {
        return false;
    }
    let western = rest.iter().all(|g| g.len() == 3);
    let indian = first.len() <= 2
        && rest.split_last().is_some_and(|(last, mid)| last.len() == 3 && mid.iter().all(|g| g.len() == 2));
    western || indian
}

/// Reads `number` (with a multiplier power) as an amount in `currency` and returns it as
/// a plain decimal string: whole amounts without decimals (`2500`), others with the
/// currency's places (`4.50`).
pub(crate) fn read(number: &str, power: u32, currency: Currency) -> Result<String, AmountProblem> {
    let (int, frac) = match split_decimal(number, power) {
        Ok(parts) => parts,
        Err(Split::Unreadable) => return Err(AmountProblem::Unreadable { written: number.to_owned() }),
        Err(Split::Ambiguous(int, frac)) => {
            let large = canonical(&format!("{int}{frac}"), currency);
            let small = canonical(&format!("{int}.{frac}"), currency);
            return match (small, large) {
                (Ok(small), Ok(large)) => {
                    Err(AmountProblem::Ambiguous { written: number.to_owned(), small: pad(&small, currency), large })
                }
                // A currency without decimals (JPY): only the large reading is money.
                (Err(_), Ok(large)) if currency.exponent() == 0 => Ok(large),
                (Err(e), _) | (_, Err(e)) => Err(problem(e, number, currency)),
            };
        }
    };
    let (int, frac) = shift(&int, &frac, power);
    let text = if frac.is_empty() { int } else { format!("{int}.{frac}") };
    canonical(&text, currency).map_err(|e| problem(e, number, currency))
}

/// Moves the decimal point `power` places to the right.
fn shift(int: &str, frac: &str, power: u32) -> (String, String) {
    let power = power as usize;
    if frac.len() <= power {
        (format!("{int}{frac}{}", "0".repeat(power - frac.len())), String::new())
    } else {
        (format!("{int}{}", &frac[..power]), frac[power..].to_owned())
    }
}

/// A plain decimal (`2500.00`, `4.5`) as the canonical string (`2500`, `4.50`).
fn canonical(text: &str, currency: Currency) -> Result<String, MoneyError> {
    let minor = currency.parse_amount(text)?;
    let scale = currency.scale();
    Ok(if minor % scale == 0 { (minor / scale).to_string() } else { currency.format(minor) })
}

/// `1` → `1.00` (shown in questions so both readings look different).
fn pad(text: &str, currency: Currency) -> String {
    match currency.parse_amount(text) {
        Ok(minor) => currency.format(minor),
        Err(_) => text.to_owned(),
    }
}

fn problem(e: MoneyError, written: &str, currency: Currency) -> AmountProblem {
    match e {
        MoneyError::TooManyDecimals { .. } => AmountProblem::TooPrecise { written: written.to_owned(), currency },
        MoneyError::TooLarge => AmountProblem::TooLarge,
        MoneyError::NotPositive => AmountProblem::Zero,
        MoneyError::NotADecimal(_) | MoneyError::UnknownCurrency(_) => {
            AmountProblem::Unreadable { written: written.to_owned() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inr() -> Currency {
        Currency::parse("INR").unwrap()
    }

    #[test]
    fn readings() {
        let r = |s: &str, p: u32| read(s, p, inr());
        assert_eq!(r("250", 0).unwrap(), "250");
        assert_eq!(r("4.50", 0).unwrap(), "4.50");
        assert_eq!(r("4.5", 0).unwrap(), "4.50");
        assert_eq!(r("2.5", 3).unwrap(), "2500");
        assert_eq!(r("1,25,000", 0).unwrap(), "125000");
        assert_eq!(r("125,000", 0).unwrap(), "125000");
        assert_eq!(r("1,234.56", 0).unwrap(), "1234.56");
        assert_eq!(r("1.234,56", 0).unwrap(), "1234.56");
        assert_eq!(r("3,50", 0).unwrap(), "3.50");
        assert_eq!(r("1.200.000", 0).unwrap(), "1200000");
        assert_eq!(r("1.200", 3).unwrap(), "1200");
        assert_eq!(r("0.500", 0).unwrap(), "0.50");
        assert_eq!(r("1.2345", 3).unwrap(), "1234.50");
        assert!(matches!(r("1.200", 0), Err(AmountProblem::Ambiguous { .. })));
        assert!(matches!(r("1,2345", 0), Err(AmountProblem::Unreadable { .. })));
        assert!(matches!(r("1.2.3", 0), Err(AmountProblem::Unreadable { .. })));
        assert!(matches!(r("4.5055", 0), Err(AmountProblem::TooPrecise { .. })));
        assert!(matches!(r("0", 0), Err(AmountProblem::Zero)));
        assert!(matches!(r("5", 7 * 3), Err(AmountProblem::TooLarge)));
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(read("1.200", 0, jpy).unwrap(), "1200");
    }

    #[test]
    fn words() {
        fn w(s: &str) -> Option<(Option<&str>, &str, u32)> {
            split_word(s).map(|a| (a.mark, a.number, a.power))
        }
        assert_eq!(w("₹99"), Some((Some("₹"), "99", 0)));
        assert_eq!(w("rs.1,250"), Some((Some("rs."), "1,250", 0)));
        assert_eq!(w("2.5k"), Some((None, "2.5", 3)));
        assert_eq!(w("99usd"), Some((Some("usd"), "99", 0)));
        assert_eq!(w("12th"), None);
        assert_eq!(w("10kg"), None);
        assert_eq!(w("10:30"), None);
        assert_eq!(w("500."), None);
    }
}
