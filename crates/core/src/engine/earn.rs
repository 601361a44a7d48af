//! Recording an event: rules → ledger → stamp cards → tiers → aggregates.

use super::posting::{Credit, Debit, credit, debit};
use super::state::{Coupon, CouponStatus, DayTally, MemberState, RecordedEvent};
use super::{BalanceView, Ctx, DomainError, EventOutcome, IssuedCoupon, Milestone};
use crate::activity::{Kinds, Tally, month_index};
use crate::event::Event;
use crate::ids::{EventId, Slug};
use crate::ledger::{Account, Phase, TransferKind, Unit};
use crate::points::Points;
use crate::program::progress::{MILESTONE_DAYS, reached};
use crate::program::rules::{MemberFacts, evaluate};
use crate::program::tiers;
use std::collections::BTreeMap;

pub fn record_event(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    event: Event,
) -> Result<EventOutcome, DomainError> {
    let local_date = event
        .occurred_at
        .with_timezone(&ctx.program.time_zone())
        .date_naive();
    let fresh = ctx.now - event.occurred_at < chrono::Duration::days(MILESTONE_DAYS);
    let reached_before = fresh.then(|| reached(ctx.program, state, ctx.now));
    let counts_today = roll_day(&mut state.today, local_date);
    let facts = MemberFacts {
        tier: state.tier.clone(),
        visit_number: state.activity.lifetime.visits + i64::from(event.kind.is_visit()),
        points_today: if counts_today {
            state.today.points
        } else {
            Points::ZERO
        },
        stamps_today: if counts_today {
            state.today.stamps.clone()
        } else {
            BTreeMap::new()
        },
    };
    let earning = evaluate(ctx.program, &event, &facts);
    let points_transfer = earning.points.is_positive().then(|| {
        let memo = earning.explanation.join("; ");
        credit(
            ctx,
            state,
            Credit {
                unit: Unit::Points,
                amount: earning.points.get(),
                from: Account::Issuance,
                kind: TransferKind::Earn,
                event_id: Some(event.id),
                memo: &memo,
            },
        )
    });
    let mut coupons_issued = Vec::new();
    for (card, count) in &earning.stamps {
        let unit = Unit::Stamps(card.clone());
        credit(
            ctx,
            state,
            Credit {
                unit,
                amount: count.get(),
                from: Account::Issuance,
                kind: TransferKind::Earn,
                event_id: Some(event.id),
                memo: "stamps",
            },
        );
        coupons_issued.extend(complete_cards(ctx, state, card, event.id)?);
    }
    for reward in &earning.coupons {
        coupons_issued.push(issue_free_coupon(ctx, state, reward, Some(event.id))?);
    }
    if counts_today {
        state.today.points += earning.points;
        for (card, count) in &earning.stamps {
            *state.today.stamps.entry(card.clone()).or_default() += *count;
        }
    }
    let tally = Tally {
        visits: i64::from(event.kind.is_visit()),
        spend_cents: event.kind.amount().get(),
        points_earned: earning.points.get(),
        purchases: i64::from(event.kind.type_name() == "purchase"),
        coupons_used: 0,
        kinds: Kinds::of(event.kind.categories()),
    };
    state.activity.add(month_index(local_date), tally);
    state.count_categories(&event.kind, 1);
    if event.kind.is_visit() {
        state.last_visit_at = state.last_visit_at.max(Some(event.occurred_at));
    }
    let tier_changed = upgrade_tier(
        ctx,
        state,
        month_index(ctx.now.with_timezone(&ctx.program.time_zone()).date_naive()),
    );
    if let Some(before) = reached_before {
        for name in reached(ctx.program, state, ctx.now).difference(&before) {
            let milestone = Milestone {
                id: uuid::Uuid::from_u128(ctx.ids.next_u128()),
                member_id: state.id,
                name: name.clone(),
                at: event.occurred_at,
            };
            ctx.changes.milestones.push(milestone);
        }
    }
    ctx.changes.new_events.push(RecordedEvent {
        event: event.clone(),
        points_earned: earning.points,
        points_transfer,
        stamps_earned: earning.stamps.clone(),
        refunded_cents: 0,
        points_reversed: Points::ZERO,
        stamps_reversed: BTreeMap::new(),
        voided_at: None,
        note: None,
    });
    Ok(EventOutcome {
        event_id: event.id,
        member_id: state.id,
        points_earned: earning.points,
        stamps_earned: earning.stamps,
        coupons_issued,
        tier_changed,
        balance: BalanceView::of(state),
        explanation: earning.explanation,
    })
}

/// Moves the day tally to `date` when it is newer; returns whether the event counts toward
/// today's caps (events back-dated to an earlier day do not move the tally).
fn roll_day(today: &mut DayTally, date: chrono::NaiveDate) -> bool {
    if today.date.is_none_or(|current| date > current) {
        *today = DayTally {
            date: Some(date),
            ..DayTally::default()
        };
    }
    today.date == Some(date)
}

/// A full card becomes a coupon and a fresh card; stamps beyond the required count carry over.
fn complete_cards(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    card_id: &Slug,
    event_id: EventId,
) -> Result<Vec<IssuedCoupon>, DomainError> {
    let Some(card) = ctx.program.stamp_card(card_id) else {
        return Err(DomainError::StampCardNotFound(card_id.clone()));
    };
    let (required, reward) = (card.stamps_required.get(), card.reward.clone());
    let unit = Unit::Stamps(card_id.clone());
    let mut issued = Vec::new();
    while let Some(reward) = reward
        .as_ref()
        .filter(|_| state.balance(&unit).available() >= required)
    {
        let memo = format!("card {card_id} full");
        debit(
            ctx,
            state,
            Debit {
                unit: unit.clone(),
                amount: required,
                to: Account::Redemption,
                kind: TransferKind::CardCompletion,
                phase: Phase::Posted,
                event_id: Some(event_id),
                reverses: None,
                memo: &memo,
            },
        )?;
        issued.push(issue_free_coupon(ctx, state, reward, Some(event_id))?);
    }
    Ok(issued)
}

pub(crate) fn issue_free_coupon(
    ctx: &mut Ctx<'_>,
    state: &MemberState,
    reward_id: &Slug,
    event_id: Option<EventId>,
) -> Result<IssuedCoupon, DomainError> {
    let reward = ctx
        .program
        .reward(reward_id)
        .ok_or_else(|| DomainError::RewardNotFound(reward_id.clone()))?;
    let coupon = Coupon {
        code: ctx.ids.coupon_code(),
        member_id: state.id,
        reward_id: reward_id.clone(),
        status: CouponStatus::Issued,
        hold: None,
        event_id,
        issued_at: ctx.now,
        expires_at: ctx.now + chrono::Duration::days(i64::from(reward.coupon_valid_days)),
        used_at: None,
        hold_consumptions: Vec::new(),
    };
    let issued = IssuedCoupon {
        code: coupon.code.clone(),
        reward_id: reward_id.clone(),
        expires_at: coupon.expires_at,
    };
    ctx.changes.new_coupons.push(coupon);
    Ok(issued)
}

fn upgrade_tier(ctx: &Ctx<'_>, state: &mut MemberState, current_month: i32) -> bool {
    let Some(settings) = &ctx.program.tiers else {
        return false;
    };
    let value = tiers::qualifying_value(settings, &state.activity, current_month);
    let tier = tiers::after_activity(settings, state.tier.as_ref(), value);
    let changed = tier != state.tier;
    if changed {
        state.tier = tier;
        state.tier_reached_at = Some(ctx.now);
    }
    changed
}
