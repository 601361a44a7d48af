//! Members and their contact details. One identifier (email or phone) is enough; everything
//! else is optional (data minimisation, DSGVO Art. 5).

use crate::ids::{Code, MemberId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! text_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A first name as the member wants to be greeted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstName(String);
text_newtype!(FirstName);

impl FirstName {
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("the first name is empty".into());
        }
        if trimmed.chars().count() > 80 {
            return Err("the first name is longer than 80 characters".into());
        }
        if trimmed.chars().any(char::is_control) {
            return Err("the first name contains control characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }
}

/// An email address, normalised to lower case. Checked for shape only; the magic link proves it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);
text_newtype!(Email);

impl Email {
    pub fn parse(text: &str) -> Result<Self, String> {
        let normalized = text.trim().to_lowercase();
        let problem = || format!("\"{text}\" is not an email address");
        let (local, domain) = normalized.split_once('@').ok_or_else(problem)?;
        let shape_ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && normalized.len() <= 254
            && !normalized
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if shape_ok {
            Ok(Self(normalized))
        } else {
            Err(problem())
        }
    }
}

/// A phone number in international form (`+4915112345678`); spaces, dashes and brackets are
/// dropped, a leading `00` becomes `+`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phone(String);
text_newtype!(Phone);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '/'))
            .collect();
        let international = match compact.strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None => compact,
        };
        let digits = international.strip_prefix('+').unwrap_or("");
        if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(international))
        } else {
            Err(format!(
                "\"{text}\" is not a phone number in international form, e.g. +49 151 12345678"
            ))
        }
    }
}

/// The languages every screen and message exists in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    De,
    En,
}

impl Language {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().get(..2) {
            Some("de") => Ok(Self::De),
            Some("en") => Ok(Self::En),
            _ => Err(format!("\"{text}\" is not a supported language (de, en)")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::De => "de",
            Self::En => "en",
        }
    }
}

/// How a member can be reached: at least one of email and phone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    email: Option<Email>,
    phone: Option<Phone>,
}

impl Contact {
    pub fn new(email: Option<Email>, phone: Option<Phone>) -> Result<Self, String> {
        if email.is_none() && phone.is_none() {
            return Err("give an email address or a phone number".into());
        }
        Ok(Self { email, phone })
    }

    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }
}

/// A channel a business can reach a member on.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Channel {
    #[default]
    Email,
    Sms,
    Push,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Push];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|channel| channel.as_str() == text)
            .ok_or_else(|| format!("\"{text}\" is not a channel (email, sms, push)"))
    }
}

/// What a member agreed to: the program's terms, or marketing on one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    Terms,
    Marketing(Channel),
}

impl ConsentPurpose {
    /// The purpose and channel as stored (`("terms", "")`, `("marketing", "email")`).
    pub fn as_parts(self) -> (&'static str, &'static str) {
        match self {
            Self::Terms => ("terms", ""),
            Self::Marketing(channel) => ("marketing", channel.as_str()),
        }
    }
}

/// Proof of a consent (DSGVO Art. 7): what was agreed to, which version of the text was
/// shown, and where. The time is the moment the member joined or changed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub purpose: ConsentPurpose,
    pub text_version: String,
    /// Where it was given: "card" (the join page), "counter", "api".
    pub source: String,
}

/// Everything needed to enrol a member; ids and codes come from the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMember {
    pub id: MemberId,
    pub code: Code,
    pub first_name: FirstName,
    pub contact: Contact,
    pub birthday: Option<NaiveDate>,
    pub language: Language,
    #[serde(default)]
    pub consents: Vec<Consent>,
}

/// The text encoded in a member's QR code. Issue-level detail: a later rotating signed token
/// replaces this for counter scans; the printed code stays valid for look-up.
pub fn member_qr_payload(code: &Code) -> String {
    format!("SG1:{code}")
}

/// Staff roles, from most to least trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    Owner,
    Manager,
    Cashier,
}

impl StaffRole {
    /// Whether this role may change program settings, adjust balances and manage staff.
    pub fn may_manage(self) -> bool {
        matches!(self, Self::Owner | Self::Manager)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_needs_one_way_to_be_reached() {
        assert!(Contact::new(None, None).is_err());
        let email = Email::parse("Anna@Example.org").ok();
        assert_eq!(email.as_ref().map(Email::as_str), Some("anna@example.org"));
        assert!(Contact::new(email, None).is_ok());
    }

    #[test]
    fn phone_numbers_are_normalised_to_international_form() {
        assert_eq!(
            Phone::parse("0049 151 / 123-456 78").map(|p| p.0),
            Ok("+4915112345678".into())
        );
        assert!(Phone::parse("0151 12345678").is_err());
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for text in [
            "anna",
            "anna@",
            "@example.org",
            "anna@example",
            "an na@example.org",
            "a@b@c.de",
        ] {
            assert!(Email::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn languages_accept_browser_tags() {
        assert_eq!(Language::parse("de-AT"), Ok(Language::De));
        assert_eq!(Language::parse("EN"), Ok(Language::En));
        assert!(Language::parse("fr").is_err());
    }

    #[test]
    fn cashiers_cannot_manage_the_program() {
        assert!(!StaffRole::Cashier.may_manage());
        assert!(StaffRole::Manager.may_manage());
    }
}
