//! What operations report back, and why they refuse. Outcomes are stored with the
//! idempotency key, so a retried request returns the original result unchanged.

use super::state::{CouponStatus, MemberState};
use crate::ids::{Code, EventId, MemberId, Slug};
use crate::points::{Points, Stamps};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceView {
    pub points: Points,
    pub points_held: Points,
    pub stamps: BTreeMap<Slug, Stamps>,
    pub tier: Option<Slug>,
}

impl BalanceView {
    pub fn of(state: &MemberState) -> Self {
        Self {
            points: Points::new(state.points.available()),
            points_held: Points::new(state.points.held),
            stamps: state
                .stamps
                .iter()
                .map(|(card, b)| (card.clone(), Stamps::new(b.available())))
                .collect(),
            tier: state.tier.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCoupon {
    pub code: Code,
    pub reward_id: Slug,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventOutcome {
    pub event_id: EventId,
    pub member_id: MemberId,
    pub points_earned: Points,
    pub stamps_earned: BTreeMap<Slug, Stamps>,
    pub coupons_issued: Vec<IssuedCoupon>,
    pub tier_changed: bool,
    pub balance: BalanceView,
    pub explanation: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReversalOutcome {
    pub event_id: EventId,
    pub member_id: MemberId,
    pub points_reversed: Points,
    /// Points the member had already spent, which the business absorbs.
    pub points_not_recovered: Points,
    pub stamps_reversed: BTreeMap<Slug, Stamps>,
    pub refunded_total: String,
    pub balance: BalanceView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponOutcome {
    pub code: Code,
    pub member_id: MemberId,
    pub reward_id: Slug,
    pub status: CouponStatus,
    pub expires_at: DateTime<Utc>,
    pub balance: BalanceView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentOutcome {
    pub member_id: MemberId,
    pub unit: String,
    pub delta: i64,
    pub balance: BalanceView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceOutcome {
    pub member_id: MemberId,
    pub points_expired: Points,
    pub tier: Option<Slug>,
}

/// Why an operation was refused. Each variant is a case a caller acts on differently.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum DomainError {
    #[error("there is no business {0}")]
    BusinessNotFound(crate::ids::BusinessId),
    #[error("there is no member {0}")]
    MemberNotFound(MemberId),
    #[error("there is no transaction {0}")]
    EventNotFound(EventId),
    #[error("there is no coupon {0}")]
    CouponNotFound(Code),
    #[error("the program has no reward \"{0}\"")]
    RewardNotFound(Slug),
    #[error("not enough points: {available} available, {requested} needed")]
    InsufficientPoints {
        available: Points,
        requested: Points,
    },
    #[error("not enough stamps on {card}: {available} available, {requested} needed")]
    InsufficientStamps {
        card: Slug,
        available: Stamps,
        requested: Stamps,
    },
    #[error("coupon {0} has already been used")]
    CouponAlreadyUsed(Code),
    #[error("coupon {0} has been cancelled")]
    CouponCancelled(Code),
    #[error("coupon {code} expired at {expires_at}")]
    CouponExpired {
        code: Code,
        expires_at: DateTime<Utc>,
    },
    #[error("transaction {0} has already been voided")]
    EventAlreadyVoided(EventId),
    #[error("only purchases can be refunded")]
    NotAPurchase,
    #[error("the refund exceeds what is left to refund ({refundable})")]
    RefundTooLarge { refundable: String },
    #[error("the reward \"{reward}\" cannot be redeemed: {reason}")]
    RewardUnavailable { reward: Slug, reason: String },
    #[error("the program has no stamp card \"{0}\"")]
    StampCardNotFound(Slug),
    #[error("an adjustment must change the balance by a non-zero amount")]
    ZeroAdjustment,
    #[error("a member with this {0} already exists")]
    ContactTaken(String),
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
}
