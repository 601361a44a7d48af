//! The engine: applies one command to the member's state in memory and records every
//! resulting transfer, coupon and event change in `Changes`. Callers (the storage backends'
//! batch runner) load the state, call the engine, and persist `Changes` in one transaction.
//!
//! Every operation either succeeds completely or returns an error having changed nothing it
//! was given except through `Changes` it must then discard: callers apply operations to a
//! copy of the state and keep it only on success.

mod correct;
mod earn;
mod outcome;
mod posting;
mod redeem;
mod state;

pub use correct::{adjust, evaluate_tier, expire_lots, refund_event, void_event};
pub use earn::record_event;
pub use outcome::*;
pub use redeem::{RewardUsage, cancel_coupon, gift_reward, redeem_reward, use_coupon};
pub use state::*;

use crate::activity::Tally;
use crate::ids::IdSequence;
use crate::ledger::{LotConsumption, Transfer};
use crate::program::Program;
use chrono::{DateTime, Utc};

/// Everything written by a batch of operations, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub transfers: Vec<Transfer>,
    pub consumptions: Vec<LotConsumption>,
    pub new_coupons: Vec<Coupon>,
    pub updated_coupons: Vec<Coupon>,
    pub new_events: Vec<RecordedEvent>,
    pub updated_events: Vec<RecordedEvent>,
    /// What voids and refunds took back of a member's activity, with the time of the event
    /// it belonged to (analytics' daily figures subtract it there).
    pub reversed_activity: Vec<(DateTime<Utc>, Tally)>,
    /// What events brought members to (`program::progress::reached`), for the journeys.
    pub milestones: Vec<Milestone>,
}

/// A member reaching a tier, a reward or the last stamp of a card, at an event's time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Milestone {
    pub id: uuid::Uuid,
    pub member_id: crate::ids::MemberId,
    pub name: String,
    pub at: DateTime<Utc>,
}

impl Changes {
    pub fn append(&mut self, mut other: Changes) {
        self.transfers.append(&mut other.transfers);
        self.consumptions.append(&mut other.consumptions);
        self.new_coupons.append(&mut other.new_coupons);
        self.updated_coupons.append(&mut other.updated_coupons);
        self.new_events.append(&mut other.new_events);
        self.updated_events.append(&mut other.updated_events);
        self.reversed_activity.append(&mut other.reversed_activity);
        self.milestones.append(&mut other.milestones);
    }
}

/// The context of one operation: the program in force, the time, fresh ids, and where the
/// changes go.
pub struct Ctx<'a> {
    pub program: &'a Program,
    pub now: DateTime<Utc>,
    pub ids: &'a mut IdSequence,
    pub changes: &'a mut Changes,
}
