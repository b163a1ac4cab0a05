//! Amounts and days as a chat shows them.

use jiff::civil::Date;
use spendstream_core::Currency;

/// `₹1,23,456.50`, `$4.50`, `CHF 12.00`: the currency's mark, digit groups (Indian
/// grouping for INR) and its minor digits.
pub fn money(minor: i64, currency: Currency) -> String {
    let plain = currency.format(minor.abs());
    let (int, frac) = plain.split_once('.').map_or((plain.as_str(), None), |(i, f)| (i, Some(f)));
    let grouped = group(int, currency.code() == "INR");
    let number = match frac {
        Some(f) => format!("{grouped}.{f}"),
        None => grouped,
    };
    let sign = if minor < 0 { "-" } else { "" };
    match mark(currency.code()) {
        Some(m) => format!("{sign}{m}{number}"),
        None => format!("{sign}{} {number}", currency.code()),
    }
}

fn mark(code: &str) -> Option<&'static str> {
    Some(match code {
        "INR" => "₹",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        _ => return None,
    })
}

/// Groups of three from the right; with `indian`, the first group of three and then
/// groups of two (`1,23,45,678`).
fn group(int: &str, indian: bool) -> String {
    let digits: Vec<char> = int.chars().collect();
    let mut out = Vec::with_capacity(digits.len() + digits.len() / 2);
    let mut size = 3;
    let mut run = 0;
    for (i, c) in digits.iter().rev().enumerate() {
        if i > 0 && run == size {
            out.push(',');
            run = 0;
            if indian {
                size = 2;
            }
        }
        out.push(*c);
        run += 1;
    }
    out.iter().rev().collect()
}

/// `today`, `yesterday` or `Mon 12 Oct` (with the year when not this year's).
pub fn day(d: Date, today: Date, today_word: &str, yesterday_word: &str) -> String {
    if d == today {
        return today_word.to_owned();
    }
    if today.yesterday().ok() == Some(d) {
        return yesterday_word.to_owned();
    }
    if d.year() == today.year() { d.strftime("%a %-d %b").to_string() } else { d.strftime("%-d %b %Y").to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cur(c: &str) -> Currency {
        Currency::parse(c).expect("currency")
    }

    #[test]
    fn amounts_are_grouped_as_their_currency_is_written() {
        assert_eq!(money(12345678, cur("INR")), "₹1,23,456.78");
        assert_eq!(money(25000, cur("INR")), "₹250.00");
        assert_eq!(money(123456789, cur("USD")), "$1,234,567.89");
        assert_eq!(money(450, cur("EUR")), "€4.50");
        assert_eq!(money(1500, cur("JPY")), "¥1,500");
        assert_eq!(money(-1200, cur("CHF")), "-CHF 12.00");
    }

    #[test]
    fn days_read_relative_to_today() {
        let today = date(2026, 11, 24);
        assert_eq!(day(today, today, "today", "yesterday"), "today");
        assert_eq!(day(date(2026, 11, 23), today, "today", "yesterday"), "yesterday");
        assert_eq!(day(date(2026, 10, 12), today, "today", "yesterday"), "Mon 12 Oct");
        assert_eq!(day(date(2025, 10, 12), today, "today", "yesterday"), "12 Oct 2025");
    }
}
