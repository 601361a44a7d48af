//! How a ledger transfer is stored as a row and read back. The member's own account is
//! stored as `member` (its id is in `member_id` already): every transfer moves value to or
//! from exactly one member, and the row is written for every earning.

use crate::StoreError;
use crate::sql::{Columns, Row, Value, text};
use stammgast_core::ids::{BusinessId, EventId, MemberId, TransferId};
use stammgast_core::ledger::{Account, Phase, Transfer, TransferKind, Unit};

/// The columns `transfer_row` fills, in order.
pub const TRANSFER_COLUMNS: [&str; 15] = [
    "business_id",
    "id",
    "member_id",
    "unit",
    "debit",
    "credit",
    "amount",
    "kind",
    "phase",
    "pending_id",
    "event_id",
    "reverses",
    "expires_at",
    "created_at",
    "memo",
];

/// The columns of an event row, in the order the writer fills them.
pub const EVENT_COLUMNS: [&str; 9] = [
    "business_id",
    "id",
    "member_id",
    "type",
    "amount_cents",
    "location_id",
    "occurred_at",
    "voided_at",
    "record",
];

/// The columns `transfer` reads, in order.
pub const TRANSFER_SELECT: &str = "id, unit, debit, credit, amount, kind, phase, pending_id, \
                                   event_id, reverses, expires_at, created_at, memo, member_id";

/// A member's transfers (`$1` the business, `$2` the member), a table to select from under an
/// alias: those tied to no event by the member index, the others through the member's events.
/// A purchase's transfers are not indexed by member (migration 0008 says why); they are always
/// the purchase's member's, which `stammgast check` verifies.
pub const MEMBER_TRANSFERS: &str = "(SELECT * FROM transfers \
        WHERE business_id = $1 AND member_id = $2 AND event_id IS NULL \
    UNION ALL SELECT t.* FROM events e \
        JOIN transfers t ON t.business_id = e.business_id AND t.event_id = e.id \
        WHERE e.business_id = $1 AND e.member_id = $2 AND t.member_id = $2)";

/// How the member's own account appears in `debit` and `credit`.
pub const OWN_ACCOUNT: &str = "member";

pub fn transfer_row(business: BusinessId, transfer: &Transfer) -> Row {
    let member = transfer.credit.member().or(transfer.debit.member());
    let account = |account: Account| match account.member() {
        Some(id) if Some(id) == member => Value::from(OWN_ACCOUNT),
        _ => text(account),
    };
    vec![
        text(business),
        text(transfer.id),
        member.map(text).unwrap_or(Value::Null),
        text(&transfer.unit),
        account(transfer.debit),
        account(transfer.credit),
        transfer.amount.into(),
        transfer.kind.as_str().into(),
        transfer.phase.name().into(),
        transfer.phase.pending_id().map(text).unwrap_or(Value::Null),
        transfer.event_id.map(text).unwrap_or(Value::Null),
        transfer.reverses.map(text).unwrap_or(Value::Null),
        transfer.expires_at.into(),
        transfer.created_at.into(),
        transfer.memo.as_str().into(),
    ]
}

pub fn transfer(row: &Row) -> Result<Transfer, StoreError> {
    let columns = Columns::of(row);
    let member = columns.opt_parsed(13, MemberId::parse)?;
    let account = |index: usize| {
        columns.parsed(index, |raw| match (raw, member) {
            (OWN_ACCOUNT, Some(member)) => Some(Account::Member(member)),
            _ => Account::try_from(raw.to_owned()).ok(),
        })
    };
    let pending = columns.opt_parsed(7, TransferId::parse)?;
    Ok(Transfer {
        id: columns.parsed(0, TransferId::parse)?,
        unit: columns.parsed(1, |raw| Unit::try_from(raw.to_owned()).ok())?,
        debit: account(2)?,
        credit: account(3)?,
        amount: columns.int(4)?,
        kind: columns.parsed(5, TransferKind::parse)?,
        phase: columns.parsed(6, |raw| Phase::from_parts(raw, pending))?,
        event_id: columns.opt_parsed(8, EventId::parse)?,
        reverses: columns.opt_parsed(9, TransferId::parse)?,
        expires_at: columns.opt_time(10)?,
        created_at: columns.time(11)?,
        memo: columns.text(12)?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    #[test]
    fn a_transfer_reads_back_from_its_row_with_the_members_account_restored() {
        let member = MemberId::from_uuid(Uuid::from_u128(3));
        let transfer = Transfer {
            id: TransferId::from_uuid(Uuid::from_u128(1)),
            unit: Unit::Points,
            debit: Account::Issuance,
            credit: Account::Member(member),
            amount: 12,
            kind: TransferKind::Earn,
            phase: Phase::Posted,
            event_id: Some(EventId::from_uuid(Uuid::from_u128(2))),
            reverses: None,
            expires_at: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            memo: "1 point per euro".into(),
        };
        let row = transfer_row(BusinessId::from_uuid(Uuid::from_u128(9)), &transfer);
        assert_eq!(row[5], Value::from(OWN_ACCOUNT));
        // The select order: the insert's columns without business_id, member_id moved last.
        let mut selected: Row = row[1..].to_vec();
        let member_id = selected.remove(1);
        selected.push(member_id);
        assert_eq!(self::transfer(&selected).unwrap(), transfer);
    }
}
