//! Writing what a batch decided: new rows appended, member states upserted, several rows
//! per statement where the dialect gains from it.

use crate::StoreError;
use crate::codec::{EVENT_COLUMNS, TRANSFER_COLUMNS, transfer_row};
use crate::outbox::queue_confirmation;
use crate::sql::{Connection, Row, Value, insert_rows, text, to_json};
use stammgast_core::batch::{AuditEntry, BatchWrites};
use stammgast_core::engine::{Changes, MemberState, RecordedEvent};
use stammgast_core::ids::BusinessId;
use stammgast_core::outbox::needs_confirmation;

pub(super) fn write(
    connection: &mut dyn Connection,
    writes: &BatchWrites,
) -> Result<(), StoreError> {
    let profiles = writes
        .new_members
        .iter()
        .map(|(business, member, joined_at)| {
            vec![
                text(business),
                text(member.id),
                text(&member.code),
                text(&member.first_name),
                member.contact.email().map(|e| e.as_str()).into(),
                member.contact.phone().map(|p| p.as_str()).into(),
                member.birthday.map(|b| b.to_string()).into(),
                member.language.as_str().into(),
                (*joined_at).into(),
            ]
        })
        .collect();
    insert_rows(connection, "members", &PROFILE_COLUMNS, "", profiles)?;
    let consents = writes
        .new_members
        .iter()
        .flat_map(|(business, member, joined_at)| {
            member.consents.iter().map(move |consent| {
                let (purpose, channel) = consent.purpose.as_parts();
                vec![
                    text(business),
                    text(member.id),
                    purpose.into(),
                    channel.into(),
                    (*joined_at).into(),
                    consent.text_version.as_str().into(),
                    consent.source.as_str().into(),
                    (!needs_confirmation(consent.purpose))
                        .then_some(*joined_at)
                        .into(),
                ]
            })
        })
        .collect();
    insert_rows(connection, "consents", &CONSENT_COLUMNS, "", consents)?;
    for (business, member, joined_at) in &writes.new_members {
        if member
            .consents
            .iter()
            .any(|c| needs_confirmation(c.purpose))
        {
            queue_confirmation(connection, *business, member.id, *joined_at)?;
        }
    }
    // The member states and the events are most of what is encoded as JSON: in a large
    // batch the other core encodes them while this one inserts everything else.
    let (encoded, written) = beside_if(
        writes.members.len()
            + writes
                .changes
                .values()
                .map(|c| c.new_events.len())
                .sum::<usize>()
            >= ENCODE_BESIDE_FROM_ROWS,
        || encode_states_and_events(writes),
        || -> Result<(), StoreError> {
            for (business, changes) in &writes.changes {
                write_changes(connection, *business, changes)?;
            }
            Ok(())
        },
    );
    written?;
    let (states, events) = encoded?;
    insert_rows(
        connection,
        "member_states",
        &STATE_COLUMNS,
        STATE_UPSERT,
        states,
    )?;
    insert_rows(connection, "events", &EVENT_COLUMNS, "", events)?;
    update_events(connection, writes)?;
    let outcomes = writes
        .outcomes
        .iter()
        .map(|(business, key, outcome)| {
            Ok(vec![
                text(business),
                key.key.as_str().into(),
                key.fingerprint.as_str().into(),
                to_json(outcome)?,
                chrono::Utc::now().into(),
            ])
        })
        .collect::<Result<_, StoreError>>()?;
    insert_rows(
        connection,
        "idempotency",
        &["business_id", "key", "fingerprint", "outcome", "created_at"],
        "",
        outcomes,
    )?;
    write_audit(connection, &writes.audit)?;
    crate::analytics::write_rollups(connection, &writes.rollups)
}

const PROFILE_COLUMNS: [&str; 9] = [
    "business_id",
    "id",
    "code",
    "first_name",
    "email",
    "phone",
    "birthday",
    "language",
    "joined_at",
];
const CONSENT_COLUMNS: [&str; 8] = [
    "business_id",
    "member_id",
    "purpose",
    "channel",
    "given_at",
    "text_version",
    "source",
    "confirmed_at",
];
const STATE_COLUMNS: [&str; 12] = [
    "business_id",
    "id",
    "points",
    "points_held",
    "visits",
    "spend_cents",
    "points_earned",
    "last_visit_at",
    "tier",
    "next_expiry_at",
    "categories",
    "state",
];
const STATE_UPSERT: &str = "ON CONFLICT (business_id, id) DO UPDATE SET points = excluded.points, \
    points_held = excluded.points_held, visits = excluded.visits, spend_cents = excluded.spend_cents, \
    points_earned = excluded.points_earned, last_visit_at = excluded.last_visit_at, \
    tier = excluded.tier, next_expiry_at = excluded.next_expiry_at, \
    categories = excluded.categories, state = excluded.state";

/// Rows (member states and events) from which a batch's encoding runs on a thread of its
/// own: below it, starting the thread costs more than the encoding (single purchases come
/// a few dozen to a commit).
const ENCODE_BESIDE_FROM_ROWS: usize = 1_000;

/// Runs `beside` on another thread while `here` runs on this one, when `parallel` says so;
/// one after the other otherwise.
fn beside_if<A: Send, B>(
    parallel: bool,
    beside: impl FnOnce() -> A + Send,
    here: impl FnOnce() -> B,
) -> (A, B) {
    if !parallel {
        return (beside(), here());
    }
    std::thread::scope(|scope| {
        let beside = scope.spawn(beside);
        let here = here();
        match beside.join() {
            Ok(beside) => (beside, here),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

type EncodedRows = Result<(Vec<Row>, Vec<Row>), StoreError>;

/// The batch's member state rows and new event rows.
fn encode_states_and_events(writes: &BatchWrites) -> EncodedRows {
    let states = writes
        .members
        .iter()
        .map(|((business, _), state)| member_state_row(*business, state))
        .collect::<Result<_, _>>()?;
    let events = writes
        .changes
        .iter()
        .flat_map(|(business, changes)| changes.new_events.iter().map(|r| (*business, r)))
        .map(|(business, record)| event_row(business, record))
        .collect::<Result<_, _>>()?;
    Ok((states, events))
}

fn event_row(business: BusinessId, record: &RecordedEvent) -> Result<Row, StoreError> {
    let event = &record.event;
    Ok(vec![
        text(business),
        text(event.id),
        text(event.member_id),
        event.kind.type_name().into(),
        event.kind.amount().get().into(),
        event.location_id.map(text).unwrap_or(Value::Null),
        event.occurred_at.into(),
        record.voided_at.into(),
        to_json(record)?,
    ])
}

fn member_state_row(business: BusinessId, state: &MemberState) -> Result<Row, StoreError> {
    let lifetime = &state.activity.lifetime;
    Ok(vec![
        text(business),
        text(state.id),
        state.points.posted.into(),
        state.points.held.into(),
        lifetime.visits.into(),
        lifetime.spend_cents.into(),
        lifetime.points_earned.into(),
        state.last_visit_at.into(),
        state.tier.as_ref().map(|t| t.to_string()).into(),
        state.next_expiry_at.into(),
        to_json(&state.categories_bought.keys().collect::<Vec<_>>())?,
        to_json(state)?,
    ])
}

fn write_changes(
    connection: &mut dyn Connection,
    business: BusinessId,
    changes: &Changes,
) -> Result<(), StoreError> {
    let transfers = changes
        .transfers
        .iter()
        .map(|t| transfer_row(business, t))
        .collect();
    insert_rows(connection, "transfers", &TRANSFER_COLUMNS, "", transfers)?;
    let milestones = changes
        .milestones
        .iter()
        .map(|m| (m.id, m.member_id, m.name.as_str(), true, m.at));
    crate::segments::write_transitions(connection, business, milestones)?;
    let consumptions = changes
        .consumptions
        .iter()
        .map(|c| {
            vec![
                text(business),
                text(c.transfer_id),
                text(c.lot_id),
                c.amount.into(),
            ]
        })
        .collect();
    insert_rows(
        connection,
        "lot_consumptions",
        &["business_id", "transfer_id", "lot_id", "amount"],
        "",
        consumptions,
    )?;
    let coupons = changes
        .new_coupons
        .iter()
        .map(|coupon| {
            Ok(vec![
                text(business),
                text(&coupon.code),
                text(coupon.member_id),
                text(&coupon.reward_id),
                coupon.status.as_str().into(),
                coupon.expires_at.into(),
                to_json(coupon)?,
            ])
        })
        .collect::<Result<_, StoreError>>()?;
    insert_rows(
        connection,
        "coupons",
        &[
            "business_id",
            "code",
            "member_id",
            "reward_id",
            "status",
            "expires_at",
            "record",
        ],
        "",
        coupons,
    )?;
    for coupon in &changes.updated_coupons {
        connection.execute(
            "UPDATE coupons SET status = $3, record = $4 WHERE business_id = $1 AND code = $2",
            &[
                text(business),
                text(&coupon.code),
                coupon.status.as_str().into(),
                to_json(coupon)?,
            ],
        )?;
    }
    Ok(())
}

/// Events voided or refunded; after the new events, since one may be both.
fn update_events(connection: &mut dyn Connection, writes: &BatchWrites) -> Result<(), StoreError> {
    for (business, changes) in &writes.changes {
        for record in &changes.updated_events {
            connection.execute(
                "UPDATE events SET voided_at = $3, record = $4 WHERE business_id = $1 AND id = $2",
                &[
                    text(business),
                    text(record.event.id),
                    record.voided_at.into(),
                    to_json(record)?,
                ],
            )?;
        }
    }
    Ok(())
}

pub(crate) fn write_audit(
    connection: &mut dyn Connection,
    audit: &[AuditEntry],
) -> Result<(), StoreError> {
    let entries = audit
        .iter()
        .map(|entry| {
            Ok(vec![
                text(entry.business_id),
                text(entry.id),
                entry.at.into(),
                entry.actor.as_str().into(),
                entry.action.as_str().into(),
                entry.subject.as_str().into(),
                to_json(&entry.detail)?,
            ])
        })
        .collect::<Result<_, StoreError>>()?;
    insert_rows(
        connection,
        "audit_log",
        &[
            "business_id",
            "id",
            "at",
            "actor",
            "action",
            "subject",
            "detail",
        ],
        "",
        entries,
    )
}
