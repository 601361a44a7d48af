//! A batch of commands applied to a snapshot of the state they touch: the one piece of
//! logic both storage backends run inside their transaction (group commit).
//!
//! The protocol: the backend asks `Snapshot::missing` what to load, loads it (members, their
//! lots, events, coupons, idempotency records, …), repeats until nothing is missing (events
//! and coupons lead to their members, so at most three rounds), calls `apply_batch`, and
//! writes the returned `BatchWrites` in the same transaction.

use crate::analytics::rollup::request_deltas;
use crate::engine::{
    self, Changes, Coupon, Ctx, DomainError, MemberState, RecordedEvent, RewardUsage,
};
use crate::engine::{
    AdjustmentOutcome, CouponOutcome, EventOutcome, MaintenanceOutcome, ReversalOutcome,
};
use crate::event::{Event, EventKind};
use crate::ids::{BusinessId, Code, EventId, IdSequence, MemberId, Slug, TransferId};
use crate::ledger::Unit;
use crate::member::NewMember;
use crate::money::Cents;
use crate::program::Program;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Join {
        member: NewMember,
        signup_event: EventId,
    },
    Record {
        event: Event,
    },
    Void {
        event_id: EventId,
        reason: String,
    },
    Refund {
        event_id: EventId,
        amount: Cents,
        reason: String,
    },
    Redeem {
        member_id: MemberId,
        reward_id: Slug,
    },
    UseCoupon {
        code: Code,
    },
    CancelCoupon {
        code: Code,
    },
    Adjust {
        member_id: MemberId,
        unit: Unit,
        delta: i64,
        reason: String,
    },
    /// A reward's coupon given for nothing: a journey's present.
    Gift {
        member_id: MemberId,
        reward_id: Slug,
    },
    Expire {
        member_id: MemberId,
    },
    EvaluateTier {
        member_id: MemberId,
    },
}

/// A client's idempotency key and the fingerprint of the request it came with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub business_id: BusinessId,
    pub key: Option<IdempotencyKey>,
    /// Who asks (`api_key:…`, `staff:…`, `worker`), for the audit log.
    pub actor: String,
    pub now: DateTime<Utc>,
    /// Fresh randomness from the caller for the transfer ids and coupon codes this request mints.
    pub seed: u128,
    pub command: Command,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    Joined {
        member_id: MemberId,
        code: Code,
        signup: EventOutcome,
    },
    Event(EventOutcome),
    Reversal(ReversalOutcome),
    Coupon(CouponOutcome),
    Adjustment(AdjustmentOutcome),
    Maintenance(MaintenanceOutcome),
}

/// What an earlier request with the same key stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOutcome {
    pub fingerprint: String,
    pub outcome: Outcome,
}

type Keyed<K> = (BusinessId, K);

/// The state a batch reads, as loaded so far. `None` records that something was looked up
/// and does not exist.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub programs: HashMap<BusinessId, Option<Arc<Program>>>,
    pub members: HashMap<Keyed<MemberId>, Option<MemberState>>,
    pub events: HashMap<Keyed<EventId>, Option<RecordedEvent>>,
    pub coupons: HashMap<Keyed<Code>, Option<Coupon>>,
    pub outcomes: HashMap<Keyed<String>, Option<StoredOutcome>>,
    /// Contacts and member codes already in use, as `email:…`, `phone:…`, `code:…`.
    pub identifiers: HashMap<Keyed<String>, bool>,
    pub reward_usage: HashMap<Keyed<Slug>, i64>,
    pub member_reward_usage: HashMap<Keyed<(MemberId, Slug)>, i64>,
}

/// What a batch still needs loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub programs: BTreeSet<BusinessId>,
    pub members: BTreeSet<Keyed<MemberId>>,
    /// Members whose lots must be loaded, with lots to include even when used up.
    pub lots: BTreeMap<Keyed<MemberId>, BTreeSet<TransferId>>,
    pub events: BTreeSet<Keyed<EventId>>,
    pub coupons: BTreeSet<Keyed<Code>>,
    pub outcomes: BTreeSet<Keyed<String>>,
    pub identifiers: BTreeSet<Keyed<String>>,
    pub reward_usage: BTreeSet<Keyed<Slug>>,
    pub member_reward_usage: BTreeSet<Keyed<(MemberId, Slug)>>,
}

impl Needs {
    pub fn is_empty(&self) -> bool {
        self == &Needs::default()
    }
}

/// The identifiers a new member claims, in the form `Snapshot::identifiers` keys them.
pub fn identifiers_of(member: &NewMember) -> Vec<String> {
    let mut identifiers = vec![format!("code:{}", member.code)];
    identifiers.extend(member.contact.email().map(|e| format!("email:{e}")));
    identifiers.extend(member.contact.phone().map(|p| format!("phone:{p}")));
    identifiers
}

impl Snapshot {
    pub fn missing(&self, requests: &[Request]) -> Needs {
        let mut needs = Needs::default();
        for request in requests {
            let business = request.business_id;
            if !self.programs.contains_key(&business) {
                needs.programs.insert(business);
            }
            if let Some(key) = &request.key
                && !self.outcomes.contains_key(&(business, key.key.clone()))
            {
                needs.outcomes.insert((business, key.key.clone()));
            }
            self.missing_for(business, &request.command, &mut needs);
        }
        needs
    }

    fn missing_for(&self, business: BusinessId, command: &Command, needs: &mut Needs) {
        let mut member = |id: MemberId, with_lots: bool, extra_lots: &[TransferId]| match self
            .members
            .get(&(business, id))
        {
            None => {
                needs.members.insert((business, id));
            }
            Some(Some(state)) if with_lots && state.lots.is_none() => {
                needs
                    .lots
                    .entry((business, id))
                    .or_default()
                    .extend(extra_lots);
            }
            Some(_) => {}
        };
        match command {
            Command::Join {
                member: new_member, ..
            } => {
                for identifier in identifiers_of(new_member) {
                    if !self
                        .identifiers
                        .contains_key(&(business, identifier.clone()))
                    {
                        needs.identifiers.insert((business, identifier));
                    }
                }
            }
            Command::Record { event } => member(event.member_id, false, &[]),
            Command::Redeem {
                member_id,
                reward_id,
            }
            | Command::Gift {
                member_id,
                reward_id,
            } => {
                member(*member_id, true, &[]);
                if !self
                    .reward_usage
                    .contains_key(&(business, reward_id.clone()))
                {
                    needs.reward_usage.insert((business, reward_id.clone()));
                }
                let pair = (*member_id, reward_id.clone());
                if !self
                    .member_reward_usage
                    .contains_key(&(business, pair.clone()))
                {
                    needs.member_reward_usage.insert((business, pair));
                }
            }
            Command::Adjust { member_id, .. } | Command::Expire { member_id } => {
                member(*member_id, true, &[])
            }
            Command::EvaluateTier { member_id } => member(*member_id, false, &[]),
            Command::Void { event_id, .. } | Command::Refund { event_id, .. } => {
                match self.events.get(&(business, *event_id)) {
                    None => {
                        needs.events.insert((business, *event_id));
                    }
                    Some(Some(record)) => member(record.event.member_id, true, &[]),
                    Some(None) => {}
                }
            }
            Command::UseCoupon { code } | Command::CancelCoupon { code } => {
                match self.coupons.get(&(business, code.clone())) {
                    None => {
                        needs.coupons.insert((business, code.clone()));
                    }
                    Some(Some(coupon)) => {
                        let lots: Vec<TransferId> =
                            coupon.hold_consumptions.iter().map(|c| c.lot_id).collect();
                        member(
                            coupon.member_id,
                            matches!(command, Command::CancelCoupon { .. }),
                            &lots,
                        );
                    }
                    Some(None) => {}
                }
            }
        }
    }
}

/// Everything a batch writes, grouped by business.
#[derive(Clone, Debug, Default)]
pub struct BatchWrites {
    pub changes: BTreeMap<BusinessId, Changes>,
    pub new_members: Vec<(BusinessId, NewMember, DateTime<Utc>)>,
    /// The final state of every member the batch touched (new members included).
    pub members: BTreeMap<Keyed<MemberId>, MemberState>,
    pub outcomes: Vec<(BusinessId, IdempotencyKey, Outcome)>,
    /// Staff actions to record in the audit log (manual adjustments).
    pub audit: Vec<AuditEntry>,
    /// What the batch changes in each business's analytics aggregates.
    pub rollups: BTreeMap<BusinessId, crate::analytics::rollup::Deltas>,
}

/// One line of a business's audit log: who did what to whom, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub business_id: BusinessId,
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: serde_json::Value,
}

fn audit_entry(request: &Request, ids: &mut IdSequence) -> Option<AuditEntry> {
    let Command::Adjust {
        member_id,
        unit,
        delta,
        reason,
    } = &request.command
    else {
        return None;
    };
    Some(AuditEntry {
        business_id: request.business_id,
        id: uuid::Uuid::from_u128(ids.next_u128()),
        at: request.now,
        actor: request.actor.clone(),
        action: "adjust".into(),
        subject: format!("member:{member_id}"),
        detail: serde_json::json!({"unit": unit.to_string(), "delta": delta, "reason": reason}),
    })
}

/// Applies every request in order. A refused request changes nothing; a request whose key
/// was seen before returns the stored outcome (or is refused if its fingerprint differs).
pub fn apply_batch(
    snapshot: &mut Snapshot,
    requests: &[Request],
) -> (Vec<Result<Outcome, DomainError>>, BatchWrites) {
    let mut writes = BatchWrites::default();
    let mut touched = BTreeSet::new();
    let results = requests
        .iter()
        .map(|request| apply_one(snapshot, request, &mut writes, &mut touched))
        .collect();
    // A member's state is copied out once, after the batch's last request changed it.
    writes.members = touched
        .into_iter()
        .filter_map(|key| {
            let state = snapshot.members.get(&key).cloned().flatten()?;
            Some((key, state))
        })
        .collect();
    (results, writes)
}

/// Applies one request to the snapshot, adds its writes, and adds the members whose state
/// it changed to `touched_members`.
fn apply_one(
    snapshot: &mut Snapshot,
    request: &Request,
    writes: &mut BatchWrites,
    touched_members: &mut BTreeSet<Keyed<MemberId>>,
) -> Result<Outcome, DomainError> {
    let business = request.business_id;
    if let Some(key) = &request.key
        && let Some(Some(stored)) = snapshot.outcomes.get(&(business, key.key.clone()))
    {
        return if stored.fingerprint == key.fingerprint {
            Ok(stored.outcome.clone())
        } else {
            Err(DomainError::IdempotencyKeyReused)
        };
    }
    let Some(Some(program)) = snapshot.programs.get(&business).cloned() else {
        return Err(DomainError::BusinessNotFound(business));
    };
    let mut draft = Draft {
        snapshot,
        business,
        changes: Changes::default(),
        touched: BTreeMap::new(),
        new_member: None,
    };
    let millis = u64::try_from(request.now.timestamp_millis()).unwrap_or(0);
    let mut ids = IdSequence::at(request.seed, millis);
    let outcome = run_command(&mut draft, &program, request, &mut ids)?;
    writes.audit.extend(audit_entry(request, &mut ids));
    let Draft {
        changes,
        touched,
        new_member,
        ..
    } = draft;
    let members: Vec<(Option<&MemberState>, &MemberState)> = touched
        .iter()
        .map(|(id, after)| {
            let before = snapshot
                .members
                .get(&(business, *id))
                .and_then(Option::as_ref);
            (before, after)
        })
        .collect();
    let deltas = request_deltas(
        &program,
        &members,
        &changes,
        new_member.is_some(),
        request.now,
    );
    if !deltas.is_empty() {
        writes.rollups.entry(business).or_default().append(deltas);
    }
    writes.changes.entry(business).or_default().append(changes);
    writes
        .new_members
        .extend(new_member.map(|m| (business, m, request.now)));
    for (id, mut state) in touched {
        state.recompute_next_expiry();
        snapshot.members.insert((business, id), Some(state));
        touched_members.insert((business, id));
    }
    if let Some(key) = &request.key {
        let stored = StoredOutcome {
            fingerprint: key.fingerprint.clone(),
            outcome: outcome.clone(),
        };
        snapshot
            .outcomes
            .insert((business, key.key.clone()), Some(stored));
        writes
            .outcomes
            .push((business, key.clone(), outcome.clone()));
    }
    Ok(outcome)
}

/// One request's working copy: nothing reaches the snapshot unless the command succeeds.
struct Draft<'a> {
    snapshot: &'a mut Snapshot,
    business: BusinessId,
    changes: Changes,
    touched: BTreeMap<MemberId, MemberState>,
    new_member: Option<NewMember>,
}

impl Draft<'_> {
    fn member(&self, id: MemberId) -> Result<MemberState, DomainError> {
        self.snapshot
            .members
            .get(&(self.business, id))
            .cloned()
            .flatten()
            .ok_or(DomainError::MemberNotFound(id))
    }
}

fn run_command(
    draft: &mut Draft<'_>,
    program: &Program,
    request: &Request,
    ids: &mut IdSequence,
) -> Result<Outcome, DomainError> {
    let business = draft.business;
    let mut changes = Changes::default();
    let mut ctx = Ctx {
        program,
        now: request.now,
        ids,
        changes: &mut changes,
    };
    let (outcome, state) = match &request.command {
        Command::Join {
            member,
            signup_event,
        } => {
            for identifier in identifiers_of(member) {
                if draft
                    .snapshot
                    .identifiers
                    .get(&(business, identifier.clone()))
                    .copied()
                    .unwrap_or(false)
                {
                    let field = identifier.split(':').next().unwrap_or("identifier");
                    return Err(DomainError::ContactTaken(if field == "code" {
                        "member code".into()
                    } else {
                        field.into()
                    }));
                }
            }
            let mut state = MemberState::new(member.id);
            state.joined_at = Some(request.now);
            let signup = Event {
                id: *signup_event,
                member_id: member.id,
                kind: EventKind::Signup,
                location_id: None,
                occurred_at: request.now,
            };
            let signup = engine::record_event(&mut ctx, &mut state, signup)?;
            for identifier in identifiers_of(member) {
                draft
                    .snapshot
                    .identifiers
                    .insert((business, identifier), true);
            }
            draft.new_member = Some(member.clone());
            (
                Outcome::Joined {
                    member_id: member.id,
                    code: member.code.clone(),
                    signup,
                },
                state,
            )
        }
        Command::Record { event } => {
            let mut state = draft.member(event.member_id)?;
            (
                Outcome::Event(engine::record_event(&mut ctx, &mut state, event.clone())?),
                state,
            )
        }
        Command::Void { event_id, reason }
        | Command::Refund {
            event_id, reason, ..
        } => {
            let mut record = draft
                .snapshot
                .events
                .get(&(business, *event_id))
                .cloned()
                .flatten()
                .ok_or(DomainError::EventNotFound(*event_id))?;
            let mut state = draft.member(record.event.member_id)?;
            let outcome = match &request.command {
                Command::Refund { amount, .. } => {
                    engine::refund_event(&mut ctx, &mut record, &mut state, *amount, reason)?
                }
                _ => engine::void_event(&mut ctx, &mut record, &mut state, reason)?,
            };
            draft
                .snapshot
                .events
                .insert((business, *event_id), Some(record));
            (Outcome::Reversal(outcome), state)
        }
        Command::Redeem {
            member_id,
            reward_id,
        } => {
            let mut state = draft.member(*member_id)?;
            let usage = RewardUsage {
                issued_total: draft
                    .snapshot
                    .reward_usage
                    .get(&(business, reward_id.clone()))
                    .copied()
                    .unwrap_or(0),
                issued_to_member: draft
                    .snapshot
                    .member_reward_usage
                    .get(&(business, (*member_id, reward_id.clone())))
                    .copied()
                    .unwrap_or(0),
            };
            let outcome = engine::redeem_reward(&mut ctx, &mut state, reward_id, usage)?;
            *draft
                .snapshot
                .reward_usage
                .entry((business, reward_id.clone()))
                .or_default() += 1;
            *draft
                .snapshot
                .member_reward_usage
                .entry((business, (*member_id, reward_id.clone())))
                .or_default() += 1;
            (Outcome::Coupon(outcome), state)
        }
        Command::Gift {
            member_id,
            reward_id,
        } => {
            let mut state = draft.member(*member_id)?;
            let stock_used = draft
                .snapshot
                .reward_usage
                .entry((business, reward_id.clone()))
                .or_default();
            let outcome = engine::gift_reward(&mut ctx, &mut state, reward_id, *stock_used)?;
            *stock_used += 1;
            (Outcome::Coupon(outcome), state)
        }
        Command::UseCoupon { code } | Command::CancelCoupon { code } => {
            let mut coupon = draft
                .snapshot
                .coupons
                .get(&(business, code.clone()))
                .cloned()
                .flatten()
                .ok_or_else(|| DomainError::CouponNotFound(code.clone()))?;
            let mut state = draft.member(coupon.member_id)?;
            let outcome = match &request.command {
                Command::UseCoupon { .. } => engine::use_coupon(&mut ctx, &mut coupon, &mut state)?,
                _ => engine::cancel_coupon(&mut ctx, &mut coupon, &mut state)?,
            };
            draft
                .snapshot
                .coupons
                .insert((business, code.clone()), Some(coupon));
            (Outcome::Coupon(outcome), state)
        }
        Command::Adjust {
            member_id,
            unit,
            delta,
            reason,
        } => {
            let mut state = draft.member(*member_id)?;
            (
                Outcome::Adjustment(engine::adjust(
                    &mut ctx,
                    &mut state,
                    unit.clone(),
                    *delta,
                    reason,
                )?),
                state,
            )
        }
        Command::Expire { member_id } => {
            let mut state = draft.member(*member_id)?;
            (
                Outcome::Maintenance(engine::expire_lots(&mut ctx, &mut state)),
                state,
            )
        }
        Command::EvaluateTier { member_id } => {
            let mut state = draft.member(*member_id)?;
            (
                Outcome::Maintenance(engine::evaluate_tier(&mut ctx, &mut state)),
                state,
            )
        }
    };
    // Coupons created by this command become visible to later commands in the batch.
    for coupon in &changes.new_coupons {
        draft
            .snapshot
            .coupons
            .insert((business, coupon.code.clone()), Some(coupon.clone()));
    }
    for record in &changes.new_events {
        draft
            .snapshot
            .events
            .insert((business, record.event.id), Some(record.clone()));
    }
    draft.changes.append(changes);
    draft.touched.insert(state.id, state);
    Ok(outcome)
}
