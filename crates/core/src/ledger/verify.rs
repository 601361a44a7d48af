//! Ledger invariants, checked over everything stored for one business. `stammgast check`
//! runs this; the property tests run it after every generated sequence of operations.

use super::{Account, LotConsumption, Phase, Transfer, TransferKind, Unit};
use crate::ids::{EventId, MemberId, TransferId};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The balances a store keeps next to each member for fast reads; they must equal the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberBalances {
    pub member_id: MemberId,
    /// Posted and held amount per unit.
    pub by_unit: BTreeMap<Unit, (i64, i64)>,
}

pub struct LedgerFacts<'a> {
    pub transfers: &'a [Transfer],
    pub consumptions: &'a [LotConsumption],
    pub members: &'a [MemberBalances],
    /// Whose each of the business's events is.
    pub event_members: &'a HashMap<EventId, MemberId>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountBalance {
    pub posted: i64,
    /// Pending debits not yet posted or voided.
    pub held: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    NonPositiveAmount(TransferId),
    SelfTransfer(TransferId),
    DanglingResolution(TransferId),
    ResolvedTwice(TransferId),
    ResolutionMismatch(TransferId),
    NegativeBalance {
        account: Account,
        unit: Unit,
        posted: i64,
        held: i64,
    },
    CachedBalanceDrift {
        member_id: MemberId,
        unit: Unit,
        cached: (i64, i64),
        ledger: (i64, i64),
    },
    LotOverdrawn {
        lot_id: TransferId,
        earned: i64,
        consumed: i64,
    },
    ConsumptionOfUnknownLot {
        transfer_id: TransferId,
        lot_id: TransferId,
    },
    LotsDisagreeWithBalance {
        member_id: MemberId,
        lots: i64,
        available: i64,
    },
    OverReversed {
        transfer_id: TransferId,
        original: i64,
        reversed: i64,
    },
    /// A member's history finds an event's transfers through the event, so they must be
    /// the event's member's.
    EventOfAnotherMember {
        transfer_id: TransferId,
        event_id: EventId,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonPositiveAmount(id) => write!(f, "transfer {id} has an amount of zero or less"),
            Self::SelfTransfer(id) => {
                write!(f, "transfer {id} debits and credits the same account")
            }
            Self::DanglingResolution(id) => write!(
                f,
                "transfer {id} resolves a pending transfer that does not exist"
            ),
            Self::ResolvedTwice(id) => write!(
                f,
                "pending transfer {id} was posted or voided more than once"
            ),
            Self::ResolutionMismatch(id) => write!(
                f,
                "transfer {id} resolves a pending transfer with other accounts or amount"
            ),
            Self::NegativeBalance {
                account,
                unit,
                posted,
                held,
            } => {
                write!(
                    f,
                    "{account} has a negative {unit} balance (posted {posted}, held {held})"
                )
            }
            Self::CachedBalanceDrift {
                member_id,
                unit,
                cached,
                ledger,
            } => write!(
                f,
                "member {member_id}: stored {unit} balance (posted, held) {cached:?} differs from the ledger {ledger:?}"
            ),
            Self::LotOverdrawn {
                lot_id,
                earned,
                consumed,
            } => {
                write!(
                    f,
                    "lot {lot_id} earned {earned} but {consumed} were taken from it"
                )
            }
            Self::ConsumptionOfUnknownLot {
                transfer_id,
                lot_id,
            } => {
                write!(
                    f,
                    "transfer {transfer_id} takes from lot {lot_id}, which is not a points credit of the same member"
                )
            }
            Self::LotsDisagreeWithBalance {
                member_id,
                lots,
                available,
            } => {
                write!(
                    f,
                    "member {member_id}: lots hold {lots} points but {available} are available"
                )
            }
            Self::OverReversed {
                transfer_id,
                original,
                reversed,
            } => {
                write!(
                    f,
                    "transfer {transfer_id} of {original} was reversed by {reversed} in total"
                )
            }
            Self::EventOfAnotherMember {
                transfer_id,
                event_id,
            } => write!(
                f,
                "transfer {transfer_id} belongs to event {event_id}, which is not its member's event"
            ),
        }
    }
}

/// Every account's balance per unit, derived from the transfers alone.
pub fn balances(transfers: &[Transfer]) -> BTreeMap<(Account, Unit), AccountBalance> {
    let mut balances: BTreeMap<(Account, Unit), AccountBalance> = BTreeMap::new();
    for transfer in transfers {
        let unit = &transfer.unit;
        let mut change = |account: Account, posted: i64, held: i64| {
            let balance = balances.entry((account, unit.clone())).or_default();
            balance.posted += posted;
            balance.held += held;
        };
        let amount = transfer.amount;
        match transfer.phase {
            Phase::Posted => {
                change(transfer.debit, -amount, 0);
                change(transfer.credit, amount, 0);
            }
            Phase::Pending => change(transfer.debit, 0, amount),
            Phase::PostPending(_) => {
                change(transfer.debit, -amount, -amount);
                change(transfer.credit, amount, 0);
            }
            Phase::VoidPending(_) => change(transfer.debit, 0, -amount),
        }
    }
    balances
}

pub fn verify(facts: &LedgerFacts<'_>) -> Vec<Violation> {
    let mut violations = Vec::new();
    check_transfers(facts.transfers, &mut violations);
    let derived = balances(facts.transfers);
    for ((account, unit), balance) in &derived {
        if account.member().is_some()
            && (balance.posted < 0 || balance.posted - balance.held < 0 || balance.held < 0)
        {
            violations.push(Violation::NegativeBalance {
                account: *account,
                unit: unit.clone(),
                posted: balance.posted,
                held: balance.held,
            });
        }
    }
    check_cached_balances(facts.members, &derived, &mut violations);
    check_lots(facts, &derived, &mut violations);
    check_event_members(facts, &mut violations);
    violations
}

fn check_event_members(facts: &LedgerFacts<'_>, violations: &mut Vec<Violation>) {
    for transfer in facts.transfers {
        let Some(event_id) = transfer.event_id else {
            continue;
        };
        let member = transfer.credit.member().or(transfer.debit.member());
        if member.is_none() || facts.event_members.get(&event_id) != member.as_ref() {
            violations.push(Violation::EventOfAnotherMember {
                transfer_id: transfer.id,
                event_id,
            });
        }
    }
}

fn check_transfers(transfers: &[Transfer], violations: &mut Vec<Violation>) {
    let by_id: HashMap<TransferId, &Transfer> = transfers.iter().map(|t| (t.id, t)).collect();
    let mut resolutions: HashMap<TransferId, usize> = HashMap::new();
    let mut reversed: HashMap<TransferId, i64> = HashMap::new();
    for transfer in transfers {
        if transfer.amount <= 0 {
            violations.push(Violation::NonPositiveAmount(transfer.id));
        }
        if transfer.debit == transfer.credit {
            violations.push(Violation::SelfTransfer(transfer.id));
        }
        if let Some(pending_id) = transfer.phase.pending_id() {
            *resolutions.entry(pending_id).or_default() += 1;
            match by_id.get(&pending_id) {
                None => violations.push(Violation::DanglingResolution(transfer.id)),
                Some(pending) => {
                    let same = pending.phase == Phase::Pending
                        && pending.debit == transfer.debit
                        && pending.credit == transfer.credit
                        && pending.unit == transfer.unit
                        && pending.amount == transfer.amount;
                    if !same {
                        violations.push(Violation::ResolutionMismatch(transfer.id));
                    }
                }
            }
        }
        if let (TransferKind::Reverse, Some(original)) = (transfer.kind, transfer.reverses) {
            *reversed.entry(original).or_default() += transfer.amount;
        }
    }
    violations.extend(
        resolutions
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(id, _)| Violation::ResolvedTwice(id)),
    );
    for (original, total) in reversed {
        let amount = by_id.get(&original).map_or(0, |t| t.amount);
        if total > amount {
            violations.push(Violation::OverReversed {
                transfer_id: original,
                original: amount,
                reversed: total,
            });
        }
    }
}

fn check_cached_balances(
    members: &[MemberBalances],
    derived: &BTreeMap<(Account, Unit), AccountBalance>,
    violations: &mut Vec<Violation>,
) {
    for member in members {
        let account = Account::Member(member.member_id);
        let mut units: Vec<&Unit> = member.by_unit.keys().collect();
        units.extend(
            derived
                .keys()
                .filter(|(a, _)| *a == account)
                .map(|(_, unit)| unit),
        );
        units.sort();
        units.dedup();
        for unit in units {
            let cached = member.by_unit.get(unit).copied().unwrap_or((0, 0));
            let ledger = derived
                .get(&(account, unit.clone()))
                .map_or((0, 0), |b| (b.posted, b.held));
            if cached != ledger {
                violations.push(Violation::CachedBalanceDrift {
                    member_id: member.member_id,
                    unit: unit.clone(),
                    cached,
                    ledger,
                });
            }
        }
    }
}

fn check_lots(
    facts: &LedgerFacts<'_>,
    derived: &BTreeMap<(Account, Unit), AccountBalance>,
    violations: &mut Vec<Violation>,
) {
    let is_lot = |t: &Transfer| {
        t.unit == Unit::Points && t.phase == Phase::Posted && t.credit.member().is_some()
    };
    let lots: HashMap<TransferId, &Transfer> = facts
        .transfers
        .iter()
        .filter(|t| is_lot(t))
        .map(|t| (t.id, t))
        .collect();
    let debtor: HashMap<TransferId, Option<MemberId>> = facts
        .transfers
        .iter()
        .map(|t| (t.id, t.debit.member()))
        .collect();
    let mut consumed: HashMap<TransferId, i64> = HashMap::new();
    for consumption in facts.consumptions {
        let lot_owner = lots
            .get(&consumption.lot_id)
            .and_then(|lot| lot.credit.member());
        if lot_owner.is_none()
            || debtor.get(&consumption.transfer_id).copied().flatten() != lot_owner
        {
            violations.push(Violation::ConsumptionOfUnknownLot {
                transfer_id: consumption.transfer_id,
                lot_id: consumption.lot_id,
            });
        }
        *consumed.entry(consumption.lot_id).or_default() += consumption.amount;
    }
    let mut remaining_by_member: BTreeMap<MemberId, i64> = BTreeMap::new();
    for (lot_id, lot) in &lots {
        let taken = consumed.get(lot_id).copied().unwrap_or(0);
        if taken < 0 || taken > lot.amount {
            violations.push(Violation::LotOverdrawn {
                lot_id: *lot_id,
                earned: lot.amount,
                consumed: taken,
            });
        }
        if let Some(member) = lot.credit.member() {
            *remaining_by_member.entry(member).or_default() += lot.amount - taken;
        }
    }
    for ((account, unit), balance) in derived {
        let (Some(member_id), Unit::Points) = (account.member(), unit) else {
            continue;
        };
        let lots_total = remaining_by_member.get(&member_id).copied().unwrap_or(0);
        if lots_total != balance.posted - balance.held {
            violations.push(Violation::LotsDisagreeWithBalance {
                member_id,
                lots: lots_total,
                available: balance.posted - balance.held,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    fn earn(member: MemberId, event: EventId) -> Transfer {
        Transfer {
            id: TransferId::from_uuid(Uuid::from_u128(1)),
            unit: Unit::Stamps(crate::ids::Slug::parse("coffee").unwrap()),
            debit: Account::Issuance,
            credit: Account::Member(member),
            amount: 1,
            kind: TransferKind::Earn,
            phase: Phase::Posted,
            event_id: Some(event),
            reverses: None,
            expires_at: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            memo: "stamps".into(),
        }
    }

    fn violations(
        transfer: &Transfer,
        event_members: &HashMap<EventId, MemberId>,
    ) -> Vec<Violation> {
        let member = transfer.credit.member().unwrap();
        let balances = MemberBalances {
            member_id: member,
            by_unit: BTreeMap::from([(transfer.unit.clone(), (transfer.amount, 0))]),
        };
        verify(&LedgerFacts {
            transfers: std::slice::from_ref(transfer),
            consumptions: &[],
            members: &[balances],
            event_members,
        })
    }

    #[test]
    fn an_events_transfer_must_be_its_members() {
        let anna = MemberId::from_uuid(Uuid::from_u128(10));
        let ben = MemberId::from_uuid(Uuid::from_u128(11));
        let event = EventId::from_uuid(Uuid::from_u128(20));
        let transfer = earn(anna, event);
        assert_eq!(
            violations(&transfer, &HashMap::from([(event, anna)])),
            vec![]
        );
        let expected = vec![Violation::EventOfAnotherMember {
            transfer_id: transfer.id,
            event_id: event,
        }];
        assert_eq!(
            violations(&transfer, &HashMap::from([(event, ben)])),
            expected
        );
        assert_eq!(
            violations(&transfer, &HashMap::new()),
            expected,
            "an unknown event"
        );
    }
}
