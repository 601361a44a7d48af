//! Response shapes, built from the app's outcomes and records.

use crate::problem::Problem;
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use stammgast_app::{MemberRecord, Page};
use stammgast_core::batch::AuditEntry;
use stammgast_core::engine::{
    AdjustmentOutcome, BalanceView, CouponOutcome, EventOutcome, IssuedCoupon, RecordedEvent,
    ReversalOutcome,
};
use stammgast_core::ledger::Transfer;
use stammgast_core::member::member_qr_payload;
use stammgast_core::money::Cents;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Serialize, JsonSchema)]
pub struct Balance {
    /// Points available to spend (held points excluded).
    pub points: i64,
    /// Points reserved by redeemed coupons not yet used.
    pub points_held: i64,
    /// Stamps per stamp card.
    pub stamps: BTreeMap<String, i64>,
    pub tier: Option<String>,
}

impl From<&BalanceView> for Balance {
    fn from(view: &BalanceView) -> Self {
        Self {
            points: view.points.get(),
            points_held: view.points_held.get(),
            stamps: view
                .stamps
                .iter()
                .map(|(k, v)| (k.to_string(), v.get()))
                .collect(),
            tier: view.tier.as_ref().map(ToString::to_string),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Member {
    pub id: Uuid,
    /// The short code on the member's card.
    pub code: String,
    /// What the member's QR code encodes.
    pub qr_payload: String,
    pub first_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub language: String,
    pub joined_at: DateTime<Utc>,
    pub points: i64,
    pub points_held: i64,
    pub stamps: BTreeMap<String, i64>,
    pub tier: Option<String>,
    pub visits: i64,
    /// Lifetime spend, e.g. `"123.40"`.
    pub spend: String,
    pub last_visit_at: Option<DateTime<Utc>>,
}

impl From<MemberRecord> for Member {
    fn from(record: MemberRecord) -> Self {
        let balance = Balance::from(&BalanceView::of(&record.state));
        let lifetime = &record.state.activity.lifetime;
        Self {
            id: record.id.as_uuid(),
            qr_payload: member_qr_payload(&record.code),
            code: record.code.to_string(),
            first_name: record.first_name,
            email: record.email,
            phone: record.phone,
            birthday: record.birthday,
            language: record.language,
            joined_at: record.joined_at,
            points: balance.points,
            points_held: balance.points_held,
            stamps: balance.stamps,
            tier: balance.tier,
            visits: lifetime.visits,
            spend: Cents::new(lifetime.spend_cents)
                .map(|c| c.to_string())
                .unwrap_or_default(),
            last_visit_at: record.state.last_visit_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CouponIssued {
    pub code: String,
    pub reward_id: String,
    pub expires_at: DateTime<Utc>,
}

impl From<&IssuedCoupon> for CouponIssued {
    fn from(coupon: &IssuedCoupon) -> Self {
        Self {
            code: coupon.code.to_string(),
            reward_id: coupon.reward_id.to_string(),
            expires_at: coupon.expires_at,
        }
    }
}

/// What one recorded event earned, with a line of explanation per rule that applied.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventResult {
    pub event_id: Uuid,
    pub member_id: Uuid,
    pub points_earned: i64,
    pub stamps_earned: BTreeMap<String, i64>,
    pub coupons_issued: Vec<CouponIssued>,
    pub tier_changed: bool,
    pub balance: Balance,
    pub explanation: Vec<String>,
}

impl From<&EventOutcome> for EventResult {
    fn from(outcome: &EventOutcome) -> Self {
        Self {
            event_id: outcome.event_id.as_uuid(),
            member_id: outcome.member_id.as_uuid(),
            points_earned: outcome.points_earned.get(),
            stamps_earned: outcome
                .stamps_earned
                .iter()
                .map(|(k, v)| (k.to_string(), v.get()))
                .collect(),
            coupons_issued: outcome
                .coupons_issued
                .iter()
                .map(CouponIssued::from)
                .collect(),
            tier_changed: outcome.tier_changed,
            balance: Balance::from(&outcome.balance),
            explanation: outcome.explanation.clone(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Joined {
    pub id: Uuid,
    pub code: String,
    pub qr_payload: String,
    pub signup: EventResult,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReversalResult {
    pub event_id: Uuid,
    pub member_id: Uuid,
    pub points_reversed: i64,
    /// Points the member had already spent; the business absorbs them.
    pub points_not_recovered: i64,
    pub stamps_reversed: BTreeMap<String, i64>,
    pub refunded_total: String,
    pub balance: Balance,
}

impl From<&ReversalOutcome> for ReversalResult {
    fn from(outcome: &ReversalOutcome) -> Self {
        Self {
            event_id: outcome.event_id.as_uuid(),
            member_id: outcome.member_id.as_uuid(),
            points_reversed: outcome.points_reversed.get(),
            points_not_recovered: outcome.points_not_recovered.get(),
            stamps_reversed: outcome
                .stamps_reversed
                .iter()
                .map(|(k, v)| (k.to_string(), v.get()))
                .collect(),
            refunded_total: outcome.refunded_total.clone(),
            balance: Balance::from(&outcome.balance),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CouponResult {
    pub code: String,
    pub member_id: Uuid,
    pub reward_id: String,
    /// `issued`, `redeemed` or `cancelled`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub balance: Balance,
}

impl From<&CouponOutcome> for CouponResult {
    fn from(outcome: &CouponOutcome) -> Self {
        Self {
            code: outcome.code.to_string(),
            member_id: outcome.member_id.as_uuid(),
            reward_id: outcome.reward_id.to_string(),
            status: outcome.status.as_str().into(),
            expires_at: outcome.expires_at,
            balance: Balance::from(&outcome.balance),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AdjustmentResult {
    pub member_id: Uuid,
    pub unit: String,
    pub delta: i64,
    pub balance: Balance,
}

impl From<&AdjustmentOutcome> for AdjustmentResult {
    fn from(outcome: &AdjustmentOutcome) -> Self {
        Self {
            member_id: outcome.member_id.as_uuid(),
            unit: outcome.unit.clone(),
            delta: outcome.delta,
            balance: Balance::from(&outcome.balance),
        }
    }
}

/// One event of a bulk request: recorded, or refused with the reason.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BatchItemResult {
    pub index: usize,
    /// `recorded` or `refused`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<EventResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BatchResult {
    pub recorded: usize,
    pub refused: usize,
    pub results: Vec<BatchItemResult>,
}

/// An event in a member's history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryEvent {
    pub event_id: Uuid,
    /// `purchase`, `visit`, `signup` or `custom`.
    #[serde(rename = "type")]
    pub kind: String,
    pub amount: String,
    pub occurred_at: DateTime<Utc>,
    pub location_id: Option<Uuid>,
    pub points_earned: i64,
    pub stamps_earned: BTreeMap<String, i64>,
    pub refunded: String,
    pub voided_at: Option<DateTime<Utc>>,
}

impl From<RecordedEvent> for HistoryEvent {
    fn from(record: RecordedEvent) -> Self {
        let event = &record.event;
        Self {
            event_id: event.id.as_uuid(),
            kind: event.kind.type_name().into(),
            amount: event.kind.amount().to_string(),
            occurred_at: event.occurred_at,
            location_id: event.location_id.map(|l| l.as_uuid()),
            points_earned: record.points_earned.get(),
            stamps_earned: record
                .stamps_earned
                .iter()
                .map(|(k, v)| (k.to_string(), v.get()))
                .collect(),
            refunded: Cents::new(record.refunded_cents)
                .map(|c| c.to_string())
                .unwrap_or_default(),
            voided_at: record.voided_at,
        }
    }
}

/// One ledger transfer touching the member.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub unit: String,
    pub debit: String,
    pub credit: String,
    pub amount: i64,
    /// `earn`, `redeem`, `card_completion`, `expire`, `adjust` or `reverse`.
    pub kind: String,
    /// `posted`, `pending`, `post_pending` or `void_pending`.
    pub phase: String,
    pub event_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub memo: String,
}

impl From<Transfer> for LedgerEntry {
    fn from(t: Transfer) -> Self {
        Self {
            id: t.id.as_uuid(),
            unit: t.unit.to_string(),
            debit: t.debit.to_string(),
            credit: t.credit.to_string(),
            amount: t.amount,
            kind: t.kind.as_str().into(),
            phase: t.phase.name().into(),
            event_id: t.event_id.map(|e| e.as_uuid()),
            expires_at: t.expires_at,
            created_at: t.created_at,
            memo: t.memo,
        }
    }
}

/// One line of the audit log: who did what to whom, and why.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditLine {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// `api_key:…`, `staff:…` or `card:…` (a member acting on their own account).
    pub actor: String,
    /// `adjust`, `erase`, …
    pub action: String,
    /// What it was done to, e.g. `member:…`.
    pub subject: String,
    /// The details (for an adjustment: unit, delta, reason).
    pub detail: serde_json::Value,
}

impl From<AuditEntry> for AuditLine {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            subject: entry.subject,
            detail: entry.detail,
        }
    }
}

/// A page of a list; pass `next_cursor` as `cursor` to fetch the next one.
#[derive(Debug, Serialize, JsonSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn of<S>(page: Page<S>) -> Self
    where
        T: From<S>,
    {
        Self {
            items: page.items.into_iter().map(T::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}
