//! The two ways a member balance changes: a credit (which opens a lot for points) and a
//! debit (which checks the available balance and takes from lots). Every operation goes
//! through these, so the ledger rules live in one place.

use super::state::MemberState;
use super::{Ctx, DomainError};
use crate::ids::{EventId, TransferId};
use crate::ledger::{Account, Lot, Phase, Transfer, TransferKind, Unit, consume, expires_at};
use crate::points::{Points, Stamps};

pub(crate) struct Credit<'a> {
    pub unit: Unit,
    pub amount: i64,
    pub from: Account,
    pub kind: TransferKind,
    pub event_id: Option<EventId>,
    pub memo: &'a str,
}

pub(crate) fn credit(ctx: &mut Ctx<'_>, state: &mut MemberState, credit: Credit<'_>) -> TransferId {
    let id = ctx.ids.transfer_id();
    let expires = match credit.unit {
        Unit::Points => expires_at(&ctx.program.points.expiry, ctx.now, ctx.program.time_zone()),
        Unit::Stamps(_) => None,
    };
    if credit.unit == Unit::Points
        && let Some(lots) = state.lots.as_mut()
    {
        lots.push(Lot {
            id,
            earned: credit.amount,
            remaining: credit.amount,
            earned_at: ctx.now,
            expires_at: expires,
        });
    }
    state.note_expiry(expires);
    state.balance_mut(&credit.unit).posted += credit.amount;
    ctx.changes.transfers.push(Transfer {
        id,
        unit: credit.unit,
        debit: credit.from,
        credit: Account::Member(state.id),
        amount: credit.amount,
        kind: credit.kind,
        phase: Phase::Posted,
        event_id: credit.event_id,
        reverses: None,
        expires_at: expires,
        created_at: ctx.now,
        memo: credit.memo.to_owned(),
    });
    id
}

pub(crate) struct Debit<'a> {
    pub unit: Unit,
    pub amount: i64,
    pub to: Account,
    pub kind: TransferKind,
    /// `Posted` or `Pending` (a hold).
    pub phase: Phase,
    pub event_id: Option<EventId>,
    pub reverses: Option<TransferId>,
    pub memo: &'a str,
}

/// Debits the member, refusing to go below the available balance.
pub(crate) fn debit(
    ctx: &mut Ctx<'_>,
    state: &mut MemberState,
    debit: Debit<'_>,
) -> Result<TransferId, DomainError> {
    let available = state.balance(&debit.unit).available();
    if debit.amount > available {
        return Err(match &debit.unit {
            Unit::Points => DomainError::InsufficientPoints {
                available: Points::new(available),
                requested: Points::new(debit.amount),
            },
            Unit::Stamps(card) => DomainError::InsufficientStamps {
                card: card.clone(),
                available: Stamps::new(available),
                requested: Stamps::new(debit.amount),
            },
        });
    }
    let id = ctx.ids.transfer_id();
    if debit.unit == Unit::Points {
        let lots = state.lots.get_or_insert_with(Vec::new);
        let taken = consume(lots, debit.amount, debit.reverses, id).map_err(|s| {
            DomainError::InsufficientPoints {
                available: Points::new(s.available),
                requested: Points::new(s.requested),
            }
        })?;
        ctx.changes.consumptions.extend(taken);
    }
    let balance = state.balance_mut(&debit.unit);
    match debit.phase {
        Phase::Pending => balance.held += debit.amount,
        _ => balance.posted -= debit.amount,
    }
    ctx.changes.transfers.push(Transfer {
        id,
        unit: debit.unit,
        debit: Account::Member(state.id),
        credit: debit.to,
        amount: debit.amount,
        kind: debit.kind,
        phase: debit.phase,
        event_id: debit.event_id,
        reverses: debit.reverses,
        expires_at: None,
        created_at: ctx.now,
        memo: debit.memo.to_owned(),
    });
    Ok(id)
}
