//! Redeeming rewards: the cost is held (pending transfer) when the coupon is issued, posted
//! when the coupon is used, and released when it is cancelled.

use super::earn::issue_free_coupon;
use super::posting::{Debit, debit};
use super::state::{Coupon, CouponStatus, Hold, MemberState};
use super::{BalanceView, CouponOutcome, Ctx, DomainError, IssuedCoupon};
use crate::activity::{Tally, month_index};
use crate::ids::Slug;
use crate::ledger::{Account, LotConsumption, Phase, Transfer, TransferKind, Unit};
use crate::program::Reward;

/// How many coupons of a reward exist, overall and for this member (for stock and limits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewardUsage {
    pub issued_total: i64,
    pub issued_to_member: i64,
}

pub fn redeem_reward(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    reward_id: &Slug,
    usage: RewardUsage,
) -> Result<CouponOutcome, DomainError> {
    let reward = ctx
        .program
        .reward(reward_id)
        .ok_or_else(|| DomainError::RewardNotFound(reward_id.clone()))?
        .clone();
    check_available(ctx, state, &reward, usage)?;
    let (unit, amount) = match (&reward.cost.card, reward.cost.points, reward.cost.stamps) {
        (Some(card), _, stamps) if stamps.is_positive() => {
            (Unit::Stamps(card.clone()), stamps.get())
        }
        (_, points, _) => (Unit::Points, points.get()),
    };
    let issued = issue_free_coupon(ctx, state, reward_id, None)?;
    if amount > 0 {
        let memo = format!("reward {reward_id}, coupon {}", issued.code);
        let pending = Debit {
            unit: unit.clone(),
            amount,
            to: Account::Redemption,
            kind: TransferKind::Redeem,
            phase: Phase::Pending,
            event_id: None,
            reverses: None,
            memo: &memo,
        };
        let transfer_id = debit(ctx, state, pending)?;
        let taken: Vec<LotConsumption> = ctx
            .changes
            .consumptions
            .iter()
            .filter(|c| c.transfer_id == transfer_id)
            .copied()
            .collect();
        if let Some(coupon) = ctx.changes.new_coupons.last_mut() {
            coupon.hold = Some(Hold {
                transfer_id,
                unit,
                amount,
            });
            coupon.hold_consumptions = taken;
        }
    }
    Ok(issued_outcome(issued, state))
}

/// Gives a member a reward's coupon for nothing (a journey's present): the reward's dates
/// and stock apply; its cost, tiers and per-member limit do not.
pub fn gift_reward(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    reward_id: &Slug,
    issued_total: i64,
) -> Result<CouponOutcome, DomainError> {
    let reward = ctx
        .program
        .reward(reward_id)
        .ok_or_else(|| DomainError::RewardNotFound(reward_id.clone()))?;
    check_offered(ctx, reward, issued_total)?;
    let issued = issue_free_coupon(ctx, state, reward_id, None)?;
    Ok(issued_outcome(issued, state))
}

fn issued_outcome(issued: IssuedCoupon, state: &MemberState) -> CouponOutcome {
    CouponOutcome {
        code: issued.code,
        member_id: state.id,
        reward_id: issued.reward_id,
        status: CouponStatus::Issued,
        expires_at: issued.expires_at,
        balance: BalanceView::of(state),
    }
}

fn check_available(
    ctx: &Ctx<'_>,
    state: &MemberState,
    reward: &Reward,
    usage: RewardUsage,
) -> Result<(), DomainError> {
    check_offered(ctx, reward, usage.issued_total)?;
    if !reward.tiers_any.is_empty()
        && !state
            .tier
            .as_ref()
            .is_some_and(|t| reward.tiers_any.contains(t))
    {
        return refuse(reward, "it is reserved for higher tiers");
    }
    if reward
        .per_member_limit
        .is_some_and(|limit| usage.issued_to_member >= limit)
    {
        return refuse(reward, "the member has reached the limit for this reward");
    }
    Ok(())
}

/// Whether the reward is on offer today and in stock.
fn check_offered(ctx: &Ctx<'_>, reward: &Reward, issued_total: i64) -> Result<(), DomainError> {
    let today = ctx.now.with_timezone(&ctx.program.time_zone()).date_naive();
    if reward.available_from.is_some_and(|from| today < from) {
        return refuse(reward, "it is not available yet");
    }
    if reward.available_until.is_some_and(|until| today > until) {
        return refuse(reward, "it is no longer available");
    }
    if reward.stock.is_some_and(|stock| issued_total >= stock) {
        return refuse(reward, "it is out of stock");
    }
    Ok(())
}

fn refuse(reward: &Reward, reason: &str) -> Result<(), DomainError> {
    Err(DomainError::RewardUnavailable {
        reward: reward.id.clone(),
        reason: reason.to_owned(),
    })
}

/// Uses a coupon once: posts its hold. Every later attempt is refused.
pub fn use_coupon(
    ctx: &mut Ctx<'_>,
    coupon: &mut Coupon,
    state: &mut MemberState,
) -> Result<CouponOutcome, DomainError> {
    ensure_usable(ctx, coupon)?;
    if let Some(hold) = coupon.hold.clone() {
        resolve_hold(ctx, state, &hold, Phase::PostPending(hold.transfer_id));
        state.balance_mut(&hold.unit).posted -= hold.amount;
    }
    let local_date = ctx.now.with_timezone(&ctx.program.time_zone()).date_naive();
    let used = Tally {
        coupons_used: 1,
        ..Tally::default()
    };
    state.activity.add(month_index(local_date), used);
    finish(ctx, coupon, state, CouponStatus::Redeemed)
}

/// Cancels an unused coupon and gives its cost back to the member.
pub fn cancel_coupon(
    ctx: &mut Ctx<'_>,
    coupon: &mut Coupon,
    state: &mut MemberState,
) -> Result<CouponOutcome, DomainError> {
    match coupon.status {
        CouponStatus::Redeemed => return Err(DomainError::CouponAlreadyUsed(coupon.code.clone())),
        CouponStatus::Cancelled => return Err(DomainError::CouponCancelled(coupon.code.clone())),
        CouponStatus::Issued => {}
    }
    if let Some(hold) = coupon.hold.clone() {
        let void_id = resolve_hold(ctx, state, &hold, Phase::VoidPending(hold.transfer_id));
        release_lots(ctx, state, &coupon.hold_consumptions, void_id);
    }
    finish(ctx, coupon, state, CouponStatus::Cancelled)
}

fn ensure_usable(ctx: &Ctx<'_>, coupon: &Coupon) -> Result<(), DomainError> {
    match coupon.status {
        CouponStatus::Redeemed => Err(DomainError::CouponAlreadyUsed(coupon.code.clone())),
        CouponStatus::Cancelled => Err(DomainError::CouponCancelled(coupon.code.clone())),
        CouponStatus::Issued if ctx.now >= coupon.expires_at => Err(DomainError::CouponExpired {
            code: coupon.code.clone(),
            expires_at: coupon.expires_at,
        }),
        CouponStatus::Issued => Ok(()),
    }
}

fn resolve_hold(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    hold: &Hold,
    phase: Phase,
) -> crate::ids::TransferId {
    let id = ctx.ids.transfer_id();
    state.balance_mut(&hold.unit).held -= hold.amount;
    ctx.changes.transfers.push(Transfer {
        id,
        unit: hold.unit.clone(),
        debit: Account::Member(state.id),
        credit: Account::Redemption,
        amount: hold.amount,
        kind: TransferKind::Redeem,
        phase,
        event_id: None,
        reverses: None,
        expires_at: None,
        created_at: ctx.now,
        memo: String::new(),
    });
    id
}

/// Gives the held points back to the lots they came from; points whose lot has expired in
/// the meantime expire at once, so a late cancellation cannot revive them.
fn release_lots(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    taken: &[LotConsumption],
    void_id: crate::ids::TransferId,
) {
    let lots = state.lots.get_or_insert_with(Vec::new);
    let mut expired_now = Vec::new();
    for consumption in taken {
        ctx.changes.consumptions.push(LotConsumption {
            transfer_id: void_id,
            lot_id: consumption.lot_id,
            amount: -consumption.amount,
        });
        if let Some(lot) = lots.iter_mut().find(|lot| lot.id == consumption.lot_id) {
            lot.remaining += consumption.amount;
            if lot.expires_at.is_some_and(|at| at <= ctx.now) {
                expired_now.push(lot.id);
            }
        }
    }
    super::correct::expire_listed_lots(ctx, state, &expired_now);
}

fn finish(
    ctx: &mut Ctx<'_>,
    coupon: &mut Coupon,
    state: &MemberState,
    status: CouponStatus,
) -> Result<CouponOutcome, DomainError> {
    coupon.status = status;
    coupon.used_at = Some(ctx.now);
    ctx.changes.updated_coupons.push(coupon.clone());
    Ok(CouponOutcome {
        code: coupon.code.clone(),
        member_id: state.id,
        reward_id: coupon.reward_id.clone(),
        status,
        expires_at: coupon.expires_at,
        balance: BalanceView::of(state),
    })
}
