//! Numbers, money and dates as each language writes them: de-DE `1.234,50 €` and
//! `23.11.2026`, English `€1,234.50` and `23 Nov 2026`.

use chrono::NaiveDate;
use stammgast_core::member::Language;

/// A whole number with thousands grouped.
pub fn number(value: i64, language: Language) -> String {
    let separator = match language {
        Language::De => '.',
        Language::En => ',',
    };
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        grouped.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(separator);
        }
        grouped.push(digit);
    }
    grouped
}

/// An amount of euro cents.
pub fn euros(cents: i64, language: Language) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let whole = number((cents / 100).abs(), language);
    let fraction = (cents % 100).abs();
    match language {
        Language::De => format!("{sign}{whole},{fraction:02}\u{a0}€"),
        Language::En => format!("{sign}€{whole}.{fraction:02}"),
    }
}

/// A decimal number with `places` decimals and grouped thousands: de `1.234,57`, en
/// `1,234.57`.
pub fn decimal(value: f64, places: usize, language: Language) -> String {
    let text = format!("{:.*}", places, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if value < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        "-"
    } else {
        ""
    };
    let whole = number(whole.parse().unwrap_or(0), language);
    let point = match language {
        Language::De => ',',
        Language::En => '.',
    };
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}{point}{fraction}")
    }
}

/// A percentage with one decimal: de `12,5 %`, en `12.5%`.
pub fn percent(value: f64, language: Language) -> String {
    match language {
        Language::De => format!("{}\u{a0}%", decimal(value, 1, language)),
        Language::En => format!("{}%", decimal(value, 1, language)),
    }
}

pub fn date(date: NaiveDate, language: Language) -> String {
    match language {
        Language::De => date.format("%d.%m.%Y").to_string(),
        Language::En => date.format("%-d %b %Y").to_string(),
    }
}

/// Reads an amount as a person types it at the counter: `4,50`, `4.50`, `4`, `1.234,50`.
pub fn parse_euros(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('€').trim();
    // The last separator followed by one or two digits is the decimal point.
    let decimal = text
        .rfind([',', '.'])
        .filter(|&at| (1..=2).contains(&(text.len() - at - 1)));
    let (whole, fraction) = match decimal {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let whole: String = whole
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' '))
        .collect();
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    whole
        .checked_mul(100)?
        .checked_add(fraction)
        .filter(|c| *c >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_percentages_are_written_per_language() {
        assert_eq!(decimal(1234.5678, 2, Language::De), "1.234,57");
        assert_eq!(decimal(1234.5678, 2, Language::En), "1,234.57");
        assert_eq!(
            decimal(-0.001, 1, Language::En),
            "0.0",
            "no minus on a rounded zero"
        );
        assert_eq!(decimal(-3.26, 1, Language::De), "-3,3");
        assert_eq!(percent(12.46, Language::De), "12,5\u{a0}%");
        assert_eq!(percent(100.0, Language::En), "100.0%");
    }

    #[test]
    fn german_money_uses_dots_for_thousands_and_a_comma_for_cents() {
        assert_eq!(euros(123_450, Language::De), "1.234,50\u{a0}€");
        assert_eq!(euros(5, Language::De), "0,05\u{a0}€");
        assert_eq!(euros(123_450, Language::En), "€1,234.50");
        assert_eq!(number(1_234_567, Language::De), "1.234.567");
        assert_eq!(number(-1_000, Language::En), "-1,000");
    }

    #[test]
    fn dates_follow_the_language() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
        assert_eq!(date(day, Language::De), "07.03.2026");
        assert_eq!(date(day, Language::En), "7 Mar 2026");
    }

    #[test]
    fn typed_amounts_are_read_in_either_convention() {
        for (text, cents) in [
            ("4,50", 450),
            ("4.50", 450),
            ("4", 400),
            ("4,5", 450),
            ("1.234,50", 123_450),
            ("1,234.50", 123_450),
            ("12 €", 1200),
            ("0,99", 99),
        ] {
            assert_eq!(parse_euros(text), Some(cents), "{text}");
        }
        for text in ["", "abc", "-3", "4,5,0x"] {
            assert_eq!(parse_euros(text), None, "{text}");
        }
    }
}
