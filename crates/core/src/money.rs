//! Money as integer minor units with a currency, and the decimal text form used on the wire.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency the program can count in. Only currencies with two decimals are
/// supported, which covers the DACH market (EUR, CHF) and its neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");
    const SUPPORTED: [&'static str; 7] = ["EUR", "CHF", "USD", "GBP", "PLN", "CZK", "DKK"];

    pub fn parse(text: &str) -> Result<Self, String> {
        let upper = text.to_ascii_uppercase();
        match Self::SUPPORTED.iter().find(|c| **c == upper) {
            Some(code) => {
                let bytes = code.as_bytes();
                Ok(Self([bytes[0], bytes[1], bytes[2]]))
            }
            None => Err(format!(
                "\"{text}\" is not a supported currency (use one of {})",
                Self::SUPPORTED.join(", ")
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from SUPPORTED, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or("EUR")
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-negative amount in cents (minor units). Negative amounts are not money a customer
/// spends; refunds are their own operation.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Cents(i64);

/// The largest amount accepted in one event: ten million in major units.
const CENTS_MAX: i64 = 1_000_000_000;

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub fn new(cents: i64) -> Result<Self, String> {
        if (0..=CENTS_MAX).contains(&cents) {
            Ok(Self(cents))
        } else {
            Err(format!("{cents} cents is outside 0 to {CENTS_MAX}"))
        }
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// Parses `"12.40"`, `"12.4"`, `"12"` or `"12,40"`; at most two decimals, never negative.
    pub fn parse(text: &str) -> Result<Self, String> {
        let problem = || {
            format!(
                "\"{text}\" is not an amount: write it like 12.40, not negative, at most two decimals"
            )
        };
        let normalized = text.trim().replace(',', ".");
        let (whole, fraction) = normalized.split_once('.').unwrap_or((&normalized, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole)
            || (normalized.contains('.') && !digits(fraction))
            || fraction.len() > 2
            || whole.len() > 12
        {
            return Err(problem());
        }
        let whole: i64 = whole.parse().map_err(|_| problem())?;
        let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| problem())?;
        whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(fraction))
            .ok_or_else(problem)
            .and_then(|c| Self::new(c).map_err(|_| problem()))
    }
}

impl TryFrom<String> for Cents {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl From<Cents> for String {
    fn from(cents: Cents) -> String {
        cents.to_string()
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// An amount with its currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Cents,
    pub currency: Currency,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_from_the_forms_people_write() {
        for (text, cents) in [
            ("12.40", 1240),
            ("12.4", 1240),
            ("12", 1200),
            ("0,99", 99),
            ("0", 0),
        ] {
            assert_eq!(Cents::parse(text), Ok(Cents(cents)), "{text}");
        }
    }

    #[test]
    fn bad_amounts_are_rejected_with_the_reason() {
        for text in [
            "-1",
            "1.234",
            "abc",
            "",
            "1e3",
            "12.",
            ".5",
            "99999999999999",
        ] {
            let error = Cents::parse(text).err().unwrap_or_default();
            assert!(error.contains("is not an amount"), "{text}: {error}");
        }
    }

    #[test]
    fn amounts_print_with_two_decimals() {
        assert_eq!(Cents(1240).to_string(), "12.40");
        assert_eq!(Cents(5).to_string(), "0.05");
    }

    #[test]
    fn currencies_are_checked() {
        assert_eq!(Currency::parse("eur"), Ok(Currency::EUR));
        assert!(Currency::parse("XXX").is_err());
    }
}
