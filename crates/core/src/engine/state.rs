//! The state the engine reads and updates: a member's balances and aggregates, coupons and
//! recorded events.

use crate::activity::{Activity, category_key};
use crate::event::{Event, EventKind};
use crate::ids::{Code, EventId, MemberId, Slug, TransferId};
use crate::ledger::{Lot, LotConsumption, Unit};
use crate::points::{Points, Stamps};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A member account's balance in one unit: posted, and the part of it held by pending
/// redemptions. What the member can spend is `posted - held`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub posted: i64,
    pub held: i64,
}

impl Balance {
    pub fn available(self) -> i64 {
        self.posted - self.held
    }
}

/// What the member earned on one local day, for daily caps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTally {
    pub date: Option<NaiveDate>,
    pub points: Points,
    pub stamps: BTreeMap<Slug, Stamps>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberState {
    pub id: MemberId,
    pub points: Balance,
    pub stamps: BTreeMap<Slug, Balance>,
    pub activity: Activity,
    pub last_visit_at: Option<DateTime<Utc>>,
    /// When the member joined (kept here so analytics knows a member's cohort from the
    /// state alone; `None` in states written before it was).
    #[serde(default)]
    pub joined_at: Option<DateTime<Utc>>,
    pub tier: Option<Slug>,
    /// Each category bought (by `category_key`) with the number of purchases, not voided,
    /// that had it: what custom segments ask with `bought`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories_bought: BTreeMap<String, i64>,
    pub tier_reached_at: Option<DateTime<Utc>>,
    pub today: DayTally,
    /// When the member's points may next expire: exact after any operation that loaded the
    /// lots, otherwise never later than the truth (earning only moves it earlier). The
    /// worker looks members up by it, so no index over every lot is needed.
    #[serde(default)]
    pub next_expiry_at: Option<DateTime<Utc>>,
    /// The member's points lots with something left; loaded only for operations that debit
    /// points (`None` otherwise, and then no debit of points may happen).
    #[serde(skip)]
    pub lots: Option<Vec<Lot>>,
}

impl MemberState {
    pub fn new(id: MemberId) -> Self {
        Self {
            id,
            points: Balance::default(),
            stamps: BTreeMap::new(),
            activity: Activity::default(),
            last_visit_at: None,
            joined_at: None,
            tier: None,
            categories_bought: BTreeMap::new(),
            tier_reached_at: None,
            today: DayTally::default(),
            next_expiry_at: None,
            lots: Some(Vec::new()),
        }
    }

    pub fn balance_mut(&mut self, unit: &Unit) -> &mut Balance {
        match unit {
            Unit::Points => &mut self.points,
            Unit::Stamps(card) => self.stamps.entry(card.clone()).or_default(),
        }
    }

    /// Counts a purchase's categories (`sign` 1), or takes a voided one's back (`sign` -1).
    pub fn count_categories(&mut self, event: &EventKind, sign: i64) {
        let mut keys: Vec<String> = event.categories().map(category_key).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let count = self.categories_bought.entry(key.clone()).or_default();
            *count += sign;
            if *count <= 0 {
                self.categories_bought.remove(&key);
            }
        }
    }

    /// Notes a new lot's expiry (keeps `next_expiry_at` a lower bound).
    pub fn note_expiry(&mut self, expires_at: Option<DateTime<Utc>>) {
        if let Some(expires_at) = expires_at {
            self.next_expiry_at = Some(
                self.next_expiry_at
                    .map_or(expires_at, |t| t.min(expires_at)),
            );
        }
    }

    /// Sets `next_expiry_at` exactly from the loaded lots (no change when they are not loaded).
    pub fn recompute_next_expiry(&mut self) {
        if let Some(lots) = &self.lots {
            self.next_expiry_at = lots
                .iter()
                .filter(|lot| lot.remaining > 0)
                .filter_map(|lot| lot.expires_at)
                .min();
        }
    }

    pub fn balance(&self, unit: &Unit) -> Balance {
        match unit {
            Unit::Points => self.points,
            Unit::Stamps(card) => self.stamps.get(card).copied().unwrap_or_default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponStatus {
    Issued,
    Redeemed,
    Cancelled,
}

impl CouponStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Redeemed => "redeemed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Issued, Self::Redeemed, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The pending transfer that reserves a coupon's cost until it is used or cancelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub transfer_id: TransferId,
    pub unit: Unit,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    pub code: Code,
    pub member_id: MemberId,
    pub reward_id: Slug,
    pub status: CouponStatus,
    pub hold: Option<Hold>,
    pub event_id: Option<EventId>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// What the hold took from the member's lots (loaded with the coupon, never stored on it).
    #[serde(skip)]
    pub hold_consumptions: Vec<LotConsumption>,
}

/// An event as recorded, with what it earned and what has been taken back since.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub event: Event,
    pub points_earned: Points,
    pub points_transfer: Option<TransferId>,
    pub stamps_earned: BTreeMap<Slug, Stamps>,
    pub refunded_cents: i64,
    pub points_reversed: Points,
    pub stamps_reversed: BTreeMap<Slug, Stamps>,
    pub voided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupon_statuses_read_back_from_their_stored_names() {
        for status in [
            CouponStatus::Issued,
            CouponStatus::Redeemed,
            CouponStatus::Cancelled,
        ] {
            assert_eq!(CouponStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CouponStatus::parse("expired"), None);
    }
}
