//! Earning lots: every points credit to a member is a lot with its own expiry. Debits take
//! from the lots nearest to expiry first and record what they took.

use crate::ids::TransferId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    /// The transfer that credited the points.
    pub id: TransferId,
    pub earned: i64,
    pub remaining: i64,
    pub earned_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// How much one debit (or, negative, one released hold) took from one lot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotConsumption {
    pub transfer_id: TransferId,
    pub lot_id: TransferId,
    pub amount: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shortfall {
    pub available: i64,
    pub requested: i64,
}

/// Takes `amount` from the lots: the `preferred` lot first (a reversal takes back its own
/// earning), then the lot expiring soonest, never-expiring lots last. Leaves the lots
/// untouched and reports the shortfall when they hold less than `amount`.
pub fn consume(
    lots: &mut [Lot],
    amount: i64,
    preferred: Option<TransferId>,
    transfer_id: TransferId,
) -> Result<Vec<LotConsumption>, Shortfall> {
    let available: i64 = lots.iter().map(|lot| lot.remaining).sum();
    if amount > available || amount < 0 {
        return Err(Shortfall {
            available,
            requested: amount,
        });
    }
    lots.sort_by_key(|lot| {
        (
            Some(lot.id) != preferred,
            lot.expires_at.is_none(),
            lot.expires_at,
            lot.earned_at,
            lot.id,
        )
    });
    let mut missing = amount;
    let mut taken = Vec::new();
    for lot in lots.iter_mut().filter(|lot| lot.remaining > 0) {
        if missing == 0 {
            break;
        }
        let take = missing.min(lot.remaining);
        lot.remaining -= take;
        missing -= take;
        taken.push(LotConsumption {
            transfer_id,
            lot_id: lot.id,
            amount: take,
        });
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn id(n: u128) -> TransferId {
        TransferId::from_uuid(Uuid::from_u128(n))
    }

    fn lot(n: u128, remaining: i64, expires_day: Option<i64>) -> Lot {
        let day = |d: i64| DateTime::<Utc>::from_timestamp(d * 86_400, 0).unwrap_or_default();
        Lot {
            id: id(n),
            earned: remaining,
            remaining,
            earned_at: day(0),
            expires_at: expires_day.map(day),
        }
    }

    #[test]
    fn debits_take_the_lot_expiring_soonest_first() {
        let mut lots = vec![lot(1, 10, None), lot(2, 10, Some(30)), lot(3, 10, Some(10))];
        let taken = consume(&mut lots, 15, None, id(9)).unwrap_or_default();
        let by_lot: Vec<(TransferId, i64)> = taken.iter().map(|t| (t.lot_id, t.amount)).collect();
        assert_eq!(by_lot, vec![(id(3), 10), (id(2), 5)]);
    }

    #[test]
    fn a_reversal_takes_from_its_own_lot_first() {
        let mut lots = vec![lot(1, 10, Some(5)), lot(2, 10, None)];
        let taken = consume(&mut lots, 4, Some(id(2)), id(9)).unwrap_or_default();
        assert_eq!(taken[0].lot_id, id(2));
    }

    #[test]
    fn too_large_a_debit_changes_nothing() {
        let mut lots = vec![lot(1, 10, None)];
        assert_eq!(
            consume(&mut lots, 11, None, id(9)),
            Err(Shortfall {
                available: 10,
                requested: 11
            })
        );
        assert_eq!(lots[0].remaining, 10);
    }
}
