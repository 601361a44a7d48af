//! The rules of the outbox (SPEC §5): which consents wait for a confirmation by mail
//! (double opt-in), and when a message that could not be delivered is tried again.

use crate::member::{Channel, ConsentPurpose};
use chrono::{DateTime, Duration, Utc};

/// What a message in the outbox is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// The double opt-in mail: a link that confirms a marketing consent by email.
    ConfirmEmail,
    /// A journey's message (marketing: only with consent, with an unsubscribe link).
    Journey,
    /// A journey's points for a member, booked through the ledger once.
    GrantPoints,
}

impl MessageKind {
    pub const ALL: [MessageKind; 3] = [
        MessageKind::ConfirmEmail,
        MessageKind::Journey,
        MessageKind::GrantPoints,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfirmEmail => "confirm_email",
            Self::Journey => "journey",
            Self::GrantPoints => "grant_points",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Marketing by email counts only once the member confirmed it from the mail sent to the
/// address (double opt-in); every other consent counts from when it was given.
pub fn needs_confirmation(purpose: ConsentPurpose) -> bool {
    purpose == ConsentPurpose::Marketing(Channel::Email)
}

/// How often a message is tried before it is given up.
pub const ATTEMPTS_MAX: u32 = 8;

/// When to try again after `attempts` failed tries: a minute, then twice as long each time
/// (a minute, 2, 4, … about two hours), or `None` once `ATTEMPTS_MAX` tries failed.
pub fn retry_at(attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (attempts < ATTEMPTS_MAX)
        .then(|| now + Duration::minutes(1 << attempts.saturating_sub(1).min(10)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_failed_message_waits_twice_as_long_each_time_and_is_given_up_after_eight_tries() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let waits: Vec<i64> = (1..ATTEMPTS_MAX)
            .map(|attempts| (retry_at(attempts, now).unwrap() - now).num_minutes())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(retry_at(ATTEMPTS_MAX, now), None);
    }

    #[test]
    fn only_marketing_by_email_waits_for_a_confirmation() {
        assert!(needs_confirmation(ConsentPurpose::Marketing(
            Channel::Email
        )));
        assert!(!needs_confirmation(ConsentPurpose::Marketing(Channel::Sms)));
        assert!(!needs_confirmation(ConsentPurpose::Terms));
        assert_eq!(
            MessageKind::parse("confirm_email"),
            Some(MessageKind::ConfirmEmail)
        );
    }
}
