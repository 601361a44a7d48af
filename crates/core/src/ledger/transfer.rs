//! Accounts, units and transfers.

use crate::ids::{EventId, MemberId, Slug, TransferId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a transfer counts: points, or stamps on one stamp card.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Unit {
    Points,
    Stamps(Slug),
}

impl TryFrom<String> for Unit {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match text.split_once(':') {
            None if text == "points" => Ok(Self::Points),
            Some(("stamps", card)) => Slug::parse(card).map(Self::Stamps),
            _ => Err(format!("\"{text}\" is not a unit")),
        }
    }
}

impl From<Unit> for String {
    fn from(unit: Unit) -> String {
        unit.to_string()
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Points => f.write_str("points"),
            Self::Stamps(card) => write!(f, "stamps:{card}"),
        }
    }
}

/// The accounts of one business's ledger. A member account holds what the business owes the
/// member; the system accounts are where value comes from and goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Account {
    Member(MemberId),
    /// Source of everything earned.
    Issuance,
    /// Sink of everything redeemed (rewards, full stamp cards).
    Redemption,
    /// Sink of expired points.
    Expiry,
    /// Source and sink of manual corrections by staff.
    Adjustment,
}

impl Account {
    pub fn member(self) -> Option<MemberId> {
        match self {
            Self::Member(id) => Some(id),
            _ => None,
        }
    }
}

impl TryFrom<String> for Account {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "issuance" => Ok(Self::Issuance),
            "redemption" => Ok(Self::Redemption),
            "expiry" => Ok(Self::Expiry),
            "adjustment" => Ok(Self::Adjustment),
            other => other
                .strip_prefix("member:")
                .and_then(MemberId::parse)
                .map(Self::Member)
                .ok_or_else(|| format!("\"{other}\" is not an account")),
        }
    }
}

impl From<Account> for String {
    fn from(account: Account) -> String {
        account.to_string()
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Member(id) => write!(f, "member:{id}"),
            Self::Issuance => f.write_str("issuance"),
            Self::Redemption => f.write_str("redemption"),
            Self::Expiry => f.write_str("expiry"),
            Self::Adjustment => f.write_str("adjustment"),
        }
    }
}

/// Why a transfer happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    Earn,
    Redeem,
    CardCompletion,
    Expire,
    Adjust,
    /// Takes back what a voided or refunded event earned.
    Reverse,
}

impl TransferKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earn => "earn",
            Self::Redeem => "redeem",
            Self::CardCompletion => "card_completion",
            Self::Expire => "expire",
            Self::Adjust => "adjust",
            Self::Reverse => "reverse",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Earn,
            Self::Redeem,
            Self::CardCompletion,
            Self::Expire,
            Self::Adjust,
            Self::Reverse,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// Two-phase transfers: a pending transfer reserves the amount; a later transfer posts or
/// voids it, exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "phase", content = "pending_id", rename_all = "snake_case")]
pub enum Phase {
    Posted,
    Pending,
    PostPending(TransferId),
    VoidPending(TransferId),
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Self::Posted => "posted",
            Self::Pending => "pending",
            Self::PostPending(_) => "post_pending",
            Self::VoidPending(_) => "void_pending",
        }
    }

    pub fn pending_id(self) -> Option<TransferId> {
        match self {
            Self::PostPending(id) | Self::VoidPending(id) => Some(id),
            Self::Posted | Self::Pending => None,
        }
    }

    pub fn from_parts(name: &str, pending_id: Option<TransferId>) -> Option<Self> {
        match (name, pending_id) {
            ("posted", None) => Some(Self::Posted),
            ("pending", None) => Some(Self::Pending),
            ("post_pending", Some(id)) => Some(Self::PostPending(id)),
            ("void_pending", Some(id)) => Some(Self::VoidPending(id)),
            _ => None,
        }
    }

    /// Whether the transfer moves posted balances.
    pub fn is_posting(self) -> bool {
        matches!(self, Self::Posted | Self::PostPending(_))
    }
}

/// One immutable movement of `amount` from the `debit` account to the `credit` account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: TransferId,
    pub unit: Unit,
    pub debit: Account,
    pub credit: Account,
    pub amount: i64,
    pub kind: TransferKind,
    pub phase: Phase,
    pub event_id: Option<EventId>,
    /// For a reversal, the transfer it takes back.
    pub reverses: Option<TransferId>,
    /// For points credited to a member: when this lot expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub memo: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn stored_text_forms_read_back_unchanged() {
        let member = MemberId::from_uuid(Uuid::from_u128(7));
        for account in [
            Account::Member(member),
            Account::Issuance,
            Account::Redemption,
            Account::Expiry,
            Account::Adjustment,
        ] {
            assert_eq!(Account::try_from(account.to_string()), Ok(account));
        }
        for unit in [
            Unit::Points,
            Unit::Stamps(Slug::parse("coffee").unwrap_or_else(|e| panic!("{e}"))),
        ] {
            assert_eq!(Unit::try_from(unit.to_string()), Ok(unit.clone()));
        }
        let kinds = [
            TransferKind::Earn,
            TransferKind::Redeem,
            TransferKind::CardCompletion,
            TransferKind::Expire,
            TransferKind::Adjust,
            TransferKind::Reverse,
        ];
        for kind in kinds {
            assert_eq!(TransferKind::parse(kind.as_str()), Some(kind));
        }
        let pending = TransferId::from_uuid(Uuid::from_u128(9));
        for phase in [
            Phase::Posted,
            Phase::Pending,
            Phase::PostPending(pending),
            Phase::VoidPending(pending),
        ] {
            assert_eq!(
                Phase::from_parts(phase.name(), phase.pending_id()),
                Some(phase)
            );
        }
    }

    #[test]
    fn malformed_stored_text_is_rejected() {
        assert!(Account::try_from("member:not-a-uuid".to_owned()).is_err());
        assert!(Unit::try_from("stamps:".to_owned()).is_err());
        assert_eq!(Phase::from_parts("post_pending", None), None);
        assert_eq!(TransferKind::parse("gift"), None);
    }
}
