//! Money amounts as written in SMS, turned into decimal strings with integer math only.

/// Number of minor-unit digits of an ISO 4217 currency (2 unless listed).
pub fn minor_units(currency: &str) -> u8 {
    match currency.as_bytes() {
        b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG" | b"RWF" | b"UGX" | b"UYI"
        | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
        b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
        _ => 2,
    }
}

/// Converts a normalised decimal string ("1234.56") into minor units of `currency` (123456).
///
/// Returns `None` for text that is not a plain non-negative decimal, for more fractional
/// digits than the currency has (unless they are zeros), or when the value overflows `i64`.
pub fn amount_minor(decimal: &str, currency: &str) -> Option<i64> {
    let units = u32::from(minor_units(currency));
    let (int_part, frac_part) = match decimal.split_once('.') {
        Some((i, f)) => (i, f),
        None => (decimal, ""),
    };
    if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > units as usize {
        return None;
    }
    let mut value: i64 = 0;
    for b in int_part.bytes() {
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    let mut frac_value: i64 = 0;
    for i in 0..units as usize {
        let digit = frac_trimmed.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        frac_value = frac_value * 10 + digit;
    }
    value.checked_mul(10_i64.checked_pow(units)?)?.checked_add(frac_value)
}

/// Longest integer part accepted (keeps every amount inside `i64` minor units).
const MAX_INT_DIGITS: usize = 15;

/// Parses a number as written in an SMS ("1,23,456.78", "1.234,56", "12,50", "1 208,44",
/// "120.0") into a decimal string with exactly `units` fractional digits.
///
/// Returns `None` when the text is not a plausible amount.
pub fn normalise_number(text: &str, units: u8) -> Option<String> {
    // The digits go to a stack buffer (a heap one only for very long text).
    let mut stack = [0u8; 64];
    let mut heap;
    let buf: &mut [u8] = if text.len() <= stack.len() {
        &mut stack
    } else {
        heap = vec![0u8; text.len()];
        &mut heap
    };
    let mut ndigits = 0usize;
    let mut seps: [(usize, u8); 8] = [(0, 0); 8];
    let mut nseps = 0usize;
    let mut had_space = false;
    for ch in text.chars() {
        match ch {
            '0'..='9' => {
                buf[ndigits] = ch as u8;
                ndigits += 1;
            }
            ',' | '.' => {
                if nseps == seps.len() || ndigits == 0 {
                    return None;
                }
                seps[nseps] = (ndigits, ch as u8);
                nseps += 1;
            }
            ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\'' | '\u{2019}' => had_space = true,
            _ => return None,
        }
    }
    let digits = &buf[..ndigits];
    if digits.is_empty() {
        return None;
    }
    let seps = &seps[..nseps];
    // Position (in `digits`) where the fraction starts, if any.
    let decimal_at: Option<usize> = match seps {
        [] => None,
        _ => {
            let last = seps[nseps - 1];
            let same_kind = seps.iter().all(|s| s.1 == last.1);
            let frac_len = digits.len() - last.0;
            if !same_kind {
                // Both kinds: the last one is the decimal separator and must appear once.
                if seps[..nseps - 1].iter().any(|s| s.1 == last.1) {
                    return None;
                }
                Some(last.0)
            } else if nseps > 1 {
                None
            } else if had_space && last.1 == b',' {
                Some(last.0)
            } else if frac_len == 3 && !(last.1 == b'.' && units == 3) {
                None
            } else {
                Some(last.0)
            }
        }
    };
    let (int_digits, frac_digits) = match decimal_at {
        Some(at) => digits.split_at(at),
        None => (digits, &[][..]),
    };
    if frac_digits.is_empty() && decimal_at.is_some() {
        return None;
    }
    let first_non_zero = int_digits.iter().position(|&d| d != b'0').unwrap_or(int_digits.len());
    let int_digits = if first_non_zero == int_digits.len() { &b"0"[..] } else { &int_digits[first_non_zero..] };
    if int_digits.len() > MAX_INT_DIGITS {
        return None;
    }
    let units = usize::from(units);
    let trimmed_len = frac_digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
    // More precision than the currency has: keep what was written; else pad to `units`.
    let (frac, pad) =
        if trimmed_len > units { (frac_digits, 0) } else { (&frac_digits[..trimmed_len], units - trimmed_len) };
    let mut out = String::with_capacity(int_digits.len() + 1 + frac.len() + pad);
    // Only ASCII digits were stored.
    out.extend(int_digits.iter().map(|&d| char::from(d)));
    if !frac.is_empty() || pad > 0 {
        out.push('.');
        out.extend(frac.iter().map(|&d| char::from(d)));
        out.extend(std::iter::repeat_n('0', pad));
    }
    Some(out)
}

/// True when a normalised decimal string is zero.
pub fn is_zero(decimal: &str) -> bool {
    decimal.bytes().all(|b| b == b'0' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(normalise_number("1,23,456.78", 2).as_deref(), Some("123456.78"));
        assert_eq!(normalise_number("1.234,56", 2).as_deref(), Some("1234.56"));
        assert_eq!(normalise_number("12,50", 2).as_deref(), Some("12.50"));
        assert_eq!(normalise_number("1 208,44", 2).as_deref(), Some("1208.44"));
        assert_eq!(normalise_number("120.0", 2).as_deref(), Some("120.00"));
        assert_eq!(normalise_number("1,500", 2).as_deref(), Some("1500.00"));
        assert_eq!(normalise_number("1500", 0).as_deref(), Some("1500"));
        assert_eq!(normalise_number("1,500.00", 0).as_deref(), Some("1500"));
        assert_eq!(normalise_number("1.500", 3).as_deref(), Some("1.500"));
        assert_eq!(normalise_number("5,00,000", 2).as_deref(), Some("500000.00"));
        assert_eq!(normalise_number("1.006,22", 2).as_deref(), Some("1006.22"));
        assert_eq!(normalise_number("1,2.3,4", 2), None);
        assert_eq!(normalise_number("9999999999999999", 2), None);
    }

    #[test]
    fn minor() {
        assert_eq!(amount_minor("1234.56", "INR"), Some(123_456));
        assert_eq!(amount_minor("1500", "JPY"), Some(1500));
        assert_eq!(amount_minor("1.5", "KWD"), Some(1500));
        assert_eq!(amount_minor("1.234", "USD"), None);
        assert_eq!(amount_minor("1.230", "USD"), Some(123));
        assert_eq!(amount_minor("x", "USD"), None);
        assert_eq!(amount_minor("99999999999999999999", "USD"), None);
    }
}
