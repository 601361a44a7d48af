//! Corrections and maintenance: voids, refunds, manual adjustments, expiry, tier evaluation.
//! Corrections are new reversing transfers, never edits of old ones.

use super::posting::{Credit, Debit, credit, debit};
use super::state::{MemberState, RecordedEvent};
use super::{
    AdjustmentOutcome, BalanceView, Ctx, DomainError, MaintenanceOutcome, ReversalOutcome,
};
use crate::activity::{Kinds, Tally, month_index};
use crate::event::EventKind;
use crate::ids::TransferId;
use crate::ledger::{Account, Phase, TransferKind, Unit};
use crate::money::Cents;
use crate::points::{Points, Stamps};
use crate::program::tiers;
use std::collections::BTreeMap;

/// Voids an event: everything it earned is taken back as far as the member still has it.
pub fn void_event(
    ctx: &mut Ctx<'_>,
    record: &mut RecordedEvent,
    state: &mut MemberState,
    reason: &str,
) -> Result<ReversalOutcome, DomainError> {
    if record.voided_at.is_some() {
        return Err(DomainError::EventAlreadyVoided(record.event.id));
    }
    let total = record.event.kind.amount().get();
    let spend_left = total - record.refunded_cents;
    let outcome = take_back(
        ctx,
        record,
        state,
        Share { part: 1, whole: 1 },
        Tally {
            visits: i64::from(record.event.kind.is_visit()),
            spend_cents: spend_left,
            purchases: i64::from(record.event.kind.type_name() == "purchase"),
            kinds: Kinds::of(record.event.kind.categories()),
            ..Tally::default()
        },
    )?;
    state.count_categories(&record.event.kind, -1);
    record.voided_at = Some(ctx.now);
    record.note = Some(reason.to_owned());
    ctx.changes.updated_events.push(record.clone());
    Ok(outcome)
}

/// Refunds part or all of a purchase; the points it earned are taken back in proportion.
pub fn refund_event(
    ctx: &mut Ctx<'_>,
    record: &mut RecordedEvent,
    state: &mut MemberState,
    amount: Cents,
    reason: &str,
) -> Result<ReversalOutcome, DomainError> {
    if record.voided_at.is_some() {
        return Err(DomainError::EventAlreadyVoided(record.event.id));
    }
    let EventKind::Purchase { amount: total, .. } = record.event.kind else {
        return Err(DomainError::NotAPurchase);
    };
    let refundable = total.get() - record.refunded_cents;
    if amount.get() == 0 || amount.get() > refundable {
        let refundable = Cents::new(refundable).unwrap_or(Cents::ZERO).to_string();
        return Err(DomainError::RefundTooLarge { refundable });
    }
    record.refunded_cents += amount.get();
    let share = Share {
        part: record.refunded_cents,
        whole: total.get(),
    };
    let outcome = take_back(
        ctx,
        record,
        state,
        share,
        Tally {
            spend_cents: amount.get(),
            ..Tally::default()
        },
    )?;
    record.note = Some(reason.to_owned());
    ctx.changes.updated_events.push(record.clone());
    Ok(outcome)
}

/// The cumulative share of an event that has been taken back.
#[derive(Clone, Copy)]
struct Share {
    part: i64,
    whole: i64,
}

impl Share {
    fn of(self, amount: i64) -> i64 {
        if self.whole == 0 {
            amount
        } else {
            i64::try_from(i128::from(amount) * i128::from(self.part) / i128::from(self.whole))
                .unwrap_or(amount)
        }
    }
}

fn take_back(
    ctx: &mut Ctx<'_>,
    record: &mut RecordedEvent,
    state: &mut MemberState,
    share: Share,
    mut undo: Tally,
) -> Result<ReversalOutcome, DomainError> {
    let event_id = record.event.id;
    let memo = format!("reversal of {event_id}");
    let points_due = share.of(record.points_earned.get()) - record.points_reversed.get();
    let points_taken = points_due.min(state.points.available()).max(0);
    if points_taken > 0 {
        let reversal = Debit {
            unit: Unit::Points,
            amount: points_taken,
            to: Account::Issuance,
            kind: TransferKind::Reverse,
            phase: Phase::Posted,
            event_id: Some(event_id),
            reverses: record.points_transfer,
            memo: &memo,
        };
        debit(ctx, state, reversal)?;
    }
    record.points_reversed += Points::new(points_due.max(0));
    let mut stamps_reversed = BTreeMap::new();
    for (card, earned) in record.stamps_earned.clone() {
        let already = record
            .stamps_reversed
            .get(&card)
            .copied()
            .unwrap_or_default()
            .get();
        let due = share.of(earned.get()) - already;
        let unit = Unit::Stamps(card.clone());
        let taken = due.min(state.balance(&unit).available()).max(0);
        if taken > 0 {
            debit(
                ctx,
                state,
                Debit {
                    unit,
                    amount: taken,
                    to: Account::Issuance,
                    kind: TransferKind::Reverse,
                    phase: Phase::Posted,
                    event_id: Some(event_id),
                    reverses: None,
                    memo: &memo,
                },
            )?;
        }
        record
            .stamps_reversed
            .insert(card.clone(), Stamps::new(already + due.max(0)));
        stamps_reversed.insert(card, Stamps::new(taken));
    }
    undo.points_earned = points_taken;
    let local_date = record
        .event
        .occurred_at
        .with_timezone(&ctx.program.time_zone())
        .date_naive();
    state.activity.subtract(month_index(local_date), undo);
    ctx.changes
        .reversed_activity
        .push((record.event.occurred_at, undo));
    Ok(ReversalOutcome {
        event_id,
        member_id: state.id,
        points_reversed: Points::new(points_taken),
        points_not_recovered: Points::new(points_due.max(0) - points_taken),
        stamps_reversed,
        refunded_total: Cents::new(record.refunded_cents)
            .unwrap_or(Cents::ZERO)
            .to_string(),
        balance: BalanceView::of(state),
    })
}

/// A manual correction by staff, with its reason. Debits never exceed what is available.
pub fn adjust(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    unit: Unit,
    delta: i64,
    reason: &str,
) -> Result<AdjustmentOutcome, DomainError> {
    if let Unit::Stamps(card) = &unit {
        ctx.program
            .stamp_card(card)
            .ok_or_else(|| DomainError::StampCardNotFound(card.clone()))?;
    }
    if delta > 0 {
        credit(
            ctx,
            state,
            Credit {
                unit: unit.clone(),
                amount: delta,
                from: Account::Adjustment,
                kind: TransferKind::Adjust,
                event_id: None,
                memo: reason,
            },
        );
    } else if delta < 0 {
        let correction = Debit {
            unit: unit.clone(),
            amount: -delta,
            to: Account::Adjustment,
            kind: TransferKind::Adjust,
            phase: Phase::Posted,
            event_id: None,
            reverses: None,
            memo: reason,
        };
        debit(ctx, state, correction)?;
    } else {
        return Err(DomainError::ZeroAdjustment);
    }
    Ok(AdjustmentOutcome {
        member_id: state.id,
        unit: unit.to_string(),
        delta,
        balance: BalanceView::of(state),
    })
}

/// Expires what is left of every lot whose expiry has passed.
pub fn expire_lots(ctx: &mut Ctx<'_>, state: &mut MemberState) -> MaintenanceOutcome {
    let due: Vec<TransferId> = state
        .lots
        .iter()
        .flatten()
        .filter(|lot| lot.remaining > 0 && lot.expires_at.is_some_and(|at| at <= ctx.now))
        .map(|lot| lot.id)
        .collect();
    let points_expired = Points::new(expire_listed_lots(ctx, state, &due));
    MaintenanceOutcome {
        member_id: state.id,
        points_expired,
        tier: state.tier.clone(),
    }
}

pub(crate) fn expire_listed_lots(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    lot_ids: &[TransferId],
) -> i64 {
    let mut expired = 0;
    for lot_id in lot_ids {
        let remaining = state
            .lots
            .iter()
            .flatten()
            .find(|lot| lot.id == *lot_id)
            .map_or(0, |lot| lot.remaining);
        let amount = remaining.min(state.points.available());
        if amount <= 0 {
            continue;
        }
        let expiry = Debit {
            unit: Unit::Points,
            amount,
            to: Account::Expiry,
            kind: TransferKind::Expire,
            phase: Phase::Posted,
            event_id: None,
            reverses: Some(*lot_id),
            memo: "expired",
        };
        if debit(ctx, state, expiry).is_ok() {
            expired += amount;
        }
    }
    expired
}

/// The periodic tier evaluation, where downgrades (after the grace period) happen.
pub fn evaluate_tier(ctx: &mut Ctx<'_>, state: &mut MemberState) -> MaintenanceOutcome {
    if let Some(settings) = &ctx.program.tiers {
        let month = month_index(ctx.now.with_timezone(&ctx.program.time_zone()).date_naive());
        let value = tiers::qualifying_value(settings, &state.activity, month);
        let tier = tiers::at_evaluation(
            settings,
            state.tier.as_ref(),
            state.tier_reached_at,
            ctx.now,
            value,
        );
        if tier != state.tier {
            state.tier = tier;
            state.tier_reached_at = Some(ctx.now);
        }
    }
    MaintenanceOutcome {
        member_id: state.id,
        points_expired: Points::ZERO,
        tier: state.tier.clone(),
    }
}
