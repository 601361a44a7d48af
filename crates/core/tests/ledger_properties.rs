//! Property tests of the ledger invariants, through the same batch protocol the storage
//! backends run: an in-memory reference store loads what `Snapshot::missing` asks for,
//! `apply_batch` decides, and the store keeps what `BatchWrites` says.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use stammgast_core::batch::*;
use stammgast_core::engine::{Coupon, MemberState, RecordedEvent};
use stammgast_core::event::{Event, EventKind, Item};
use stammgast_core::ids::*;
use stammgast_core::ledger::*;
use stammgast_core::member::*;
use stammgast_core::money::Cents;
use stammgast_core::program::{Program, parse_program};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

const PROGRAM: &str = r#"{
  "points": {"expiry": {"policy": "after_days", "days": 20}},
  "caps": {"points_per_day": 400},
  "stamp_cards": [{"id": "coffee", "name": "Kaffee", "stamps_required": 5, "reward": "free-coffee", "daily_limit": 4}],
  "rewards": [
    {"id": "free-coffee", "name": "Kaffee", "cost": {}, "kind": {"type": "free_product", "product": "Kaffee"}},
    {"id": "cake", "name": "Kuchen", "cost": {"points": 30}, "kind": {"type": "free_product", "product": "Kuchen"}, "stock": 6},
    {"id": "mug", "name": "Becher", "cost": {"stamps": 2, "card": "coffee"}, "kind": {"type": "perk", "description": "Becher"}, "per_member_limit": 2}
  ],
  "tiers": {"metric": "points_earned", "window": "rolling_12_months", "downgrade_grace_days": 10, "levels": [
    {"id": "silver", "name": "Silber", "threshold": "0"}, {"id": "gold", "name": "Gold", "threshold": "200", "multiplier": "1.5"}]},
  "rules": [
    {"id": "welcome", "when": {"event": "signup"}, "then": {"points": 10}},
    {"id": "euro", "when": {"event": "purchase"}, "then": {"points_per_amount": {"points": 1, "per": "1.00"}}},
    {"id": "coffee", "when": {"categories_any": ["coffee"]}, "then": {"stamps": {"card": "coffee", "per": "item"}}}
  ]}"#;

type Key<K> = (BusinessId, K);

/// The reference store: what a backend persists, kept in maps.
#[derive(Default)]
struct Memory {
    programs: HashMap<BusinessId, Arc<Program>>,
    members: HashMap<Key<MemberId>, MemberState>,
    events: HashMap<Key<EventId>, RecordedEvent>,
    coupons: HashMap<Key<Code>, Coupon>,
    outcomes: HashMap<Key<String>, StoredOutcome>,
    identifiers: HashSet<Key<String>>,
    transfers: Vec<(BusinessId, Transfer)>,
    consumptions: Vec<(BusinessId, LotConsumption)>,
}

impl Memory {
    fn lots(
        &self,
        business: BusinessId,
        member: MemberId,
        include: &std::collections::BTreeSet<TransferId>,
    ) -> Vec<Lot> {
        let mut lots: Vec<Lot> = self
            .transfers
            .iter()
            .filter(|(b, t)| {
                *b == business
                    && t.unit == Unit::Points
                    && t.phase == Phase::Posted
                    && t.credit == Account::Member(member)
            })
            .map(|(_, t)| Lot {
                id: t.id,
                earned: t.amount,
                remaining: t.amount,
                earned_at: t.created_at,
                expires_at: t.expires_at,
            })
            .collect();
        for lot in &mut lots {
            lot.remaining -= self
                .consumptions
                .iter()
                .filter(|(b, c)| *b == business && c.lot_id == lot.id)
                .map(|(_, c)| c.amount)
                .sum::<i64>();
        }
        lots.retain(|lot| lot.remaining > 0 || include.contains(&lot.id));
        lots
    }

    fn load(&self, needs: Needs, snapshot: &mut Snapshot) {
        for business in needs.programs {
            snapshot
                .programs
                .insert(business, self.programs.get(&business).cloned());
        }
        for key in needs.members {
            let mut state = self.members.get(&key).cloned();
            if let Some(state) = state.as_mut() {
                state.lots = None;
            }
            snapshot.members.insert(key, state);
        }
        for (key, include) in needs.lots {
            let lots = self.lots(key.0, key.1, &include);
            if let Some(Some(state)) = snapshot.members.get_mut(&key) {
                state.lots = Some(lots);
            }
        }
        for key in needs.events {
            snapshot.events.insert(key, self.events.get(&key).cloned());
        }
        for key in needs.coupons {
            let coupon = self.coupons.get(&key).cloned().map(|mut coupon| {
                let hold = coupon.hold.as_ref().map(|h| h.transfer_id);
                coupon.hold_consumptions = self
                    .consumptions
                    .iter()
                    .filter(|(b, c)| *b == key.0 && Some(c.transfer_id) == hold)
                    .map(|(_, c)| *c)
                    .collect();
                coupon
            });
            snapshot.coupons.insert(key.clone(), coupon);
        }
        for key in needs.outcomes {
            snapshot
                .outcomes
                .insert(key.clone(), self.outcomes.get(&key).cloned());
        }
        for key in needs.identifiers {
            snapshot
                .identifiers
                .insert(key.clone(), self.identifiers.contains(&key));
        }
        for (business, reward) in needs.reward_usage {
            let count = self
                .coupons
                .iter()
                .filter(|((b, _), c)| *b == business && c.reward_id == reward)
                .count();
            snapshot
                .reward_usage
                .insert((business, reward), count as i64);
        }
        for (business, (member, reward)) in needs.member_reward_usage {
            let count = self
                .coupons
                .iter()
                .filter(|((b, _), c)| {
                    *b == business && c.reward_id == reward && c.member_id == member
                })
                .count();
            snapshot
                .member_reward_usage
                .insert((business, (member, reward)), count as i64);
        }
    }

    fn apply(
        &mut self,
        requests: &[Request],
    ) -> Vec<Result<Outcome, stammgast_core::engine::DomainError>> {
        let mut snapshot = Snapshot::default();
        for _round in 0..4 {
            let needs = snapshot.missing(requests);
            if needs.is_empty() {
                break;
            }
            self.load(needs, &mut snapshot);
        }
        assert!(
            snapshot.missing(requests).is_empty(),
            "loading converges within four rounds"
        );
        let (results, writes) = apply_batch(&mut snapshot, requests);
        for (business, member, _) in &writes.new_members {
            for identifier in identifiers_of(member) {
                self.identifiers.insert((*business, identifier));
            }
        }
        for (key, mut state) in writes.members {
            state.lots = None;
            self.members.insert(key, state);
        }
        for (business, changes) in writes.changes {
            self.transfers
                .extend(changes.transfers.into_iter().map(|t| (business, t)));
            self.consumptions
                .extend(changes.consumptions.into_iter().map(|c| (business, c)));
            for coupon in changes
                .new_coupons
                .into_iter()
                .chain(changes.updated_coupons)
            {
                self.coupons.insert((business, coupon.code.clone()), coupon);
            }
            for record in changes.new_events.into_iter().chain(changes.updated_events) {
                self.events.insert((business, record.event.id), record);
            }
        }
        for (business, key, outcome) in writes.outcomes {
            self.outcomes.insert(
                (business, key.key),
                StoredOutcome {
                    fingerprint: key.fingerprint,
                    outcome,
                },
            );
        }
        results
    }

    /// Members whose `next_expiry_at` is later than the earliest expiry of a lot that still
    /// holds points (the worker would miss their expiry).
    fn late_expiry_bounds(&self, business: BusinessId) -> Vec<MemberId> {
        self.members
            .iter()
            .filter(|((b, _), _)| *b == business)
            .filter(|((_, id), state)| {
                let truth = self
                    .lots(business, *id, &Default::default())
                    .iter()
                    .filter(|lot| lot.remaining > 0)
                    .filter_map(|lot| lot.expires_at)
                    .min();
                truth.is_some_and(|truth| state.next_expiry_at.is_none_or(|bound| bound > truth))
            })
            .map(|((_, id), _)| *id)
            .collect()
    }

    fn violations(&self, business: BusinessId) -> Vec<Violation> {
        let transfers: Vec<Transfer> = self
            .transfers
            .iter()
            .filter(|(b, _)| *b == business)
            .map(|(_, t)| t.clone())
            .collect();
        let consumptions: Vec<LotConsumption> = self
            .consumptions
            .iter()
            .filter(|(b, _)| *b == business)
            .map(|(_, c)| *c)
            .collect();
        let members: Vec<MemberBalances> = self
            .members
            .iter()
            .filter(|((b, _), _)| *b == business)
            .map(|((_, id), state)| {
                let mut by_unit = std::collections::BTreeMap::new();
                by_unit.insert(Unit::Points, (state.points.posted, state.points.held));
                for (card, balance) in &state.stamps {
                    by_unit.insert(Unit::Stamps(card.clone()), (balance.posted, balance.held));
                }
                MemberBalances {
                    member_id: *id,
                    by_unit,
                }
            })
            .collect();
        let event_members: HashMap<EventId, MemberId> = self
            .events
            .iter()
            .filter(|((b, _), _)| *b == business)
            .map(|((_, id), record)| (*id, record.event.member_id))
            .collect();
        verify(&LedgerFacts {
            transfers: &transfers,
            consumptions: &consumptions,
            members: &members,
            event_members: &event_members,
        })
    }
}

/// One generated step: indices pick among members, events and coupons seen so far.
#[derive(Clone, Debug)]
enum Step {
    Join,
    Purchase {
        member: usize,
        cents: i64,
        coffees: u32,
    },
    Redeem {
        member: usize,
        reward: usize,
    },
    Gift {
        member: usize,
        reward: usize,
    },
    UseCoupon {
        coupon: usize,
    },
    CancelCoupon {
        coupon: usize,
    },
    Adjust {
        member: usize,
        delta: i64,
    },
    Void {
        event: usize,
    },
    Refund {
        event: usize,
        cents: i64,
    },
    Expire {
        member: usize,
    },
    Replay {
        request: usize,
    },
    AdvanceDays(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => Just(Step::Join),
        5 => (0..8usize, 0..8_000i64, 0..4u32).prop_map(|(member, cents, coffees)| Step::Purchase { member, cents, coffees }),
        2 => (0..8usize, 0..2usize).prop_map(|(member, reward)| Step::Redeem { member, reward }),
        1 => (0..8usize, 0..2usize).prop_map(|(member, reward)| Step::Gift { member, reward }),
        2 => (0..20usize).prop_map(|coupon| Step::UseCoupon { coupon }),
        1 => (0..20usize).prop_map(|coupon| Step::CancelCoupon { coupon }),
        1 => (0..8usize, -60..60i64).prop_map(|(member, delta)| Step::Adjust { member, delta }),
        1 => (0..30usize).prop_map(|event| Step::Void { event }),
        1 => (0..30usize, 1..5_000i64).prop_map(|(event, cents)| Step::Refund { event, cents }),
        1 => (0..8usize).prop_map(|member| Step::Expire { member }),
        2 => (0..40usize).prop_map(|request| Step::Replay { request }),
        1 => (1..15i64).prop_map(Step::AdvanceDays),
    ]
}

struct World {
    memory: Memory,
    business: BusinessId,
    now: DateTime<Utc>,
    counter: u128,
    members: Vec<MemberId>,
    events: Vec<EventId>,
    coupons: Vec<Code>,
    sent: Vec<Request>,
}

impl World {
    fn new() -> Self {
        let business = BusinessId::from_uuid(Uuid::from_u128(1));
        let mut memory = Memory::default();
        let program = parse_program(PROGRAM).unwrap_or_else(|e| panic!("{e:?}"));
        memory.programs.insert(business, Arc::new(program));
        let now = "2026-01-05T10:00:00Z".parse().unwrap_or_default();
        Self {
            memory,
            business,
            now,
            counter: 100,
            members: vec![],
            events: vec![],
            coupons: vec![],
            sent: vec![],
        }
    }

    fn fresh(&mut self) -> u128 {
        self.counter += 1;
        self.counter
    }

    fn pick<T: Clone>(items: &[T], index: usize) -> Option<T> {
        (!items.is_empty()).then(|| items[index % items.len()].clone())
    }

    fn command(&mut self, step: &Step) -> Option<Command> {
        Some(match step {
            Step::Join => {
                let n = self.fresh();
                let member = NewMember {
                    id: MemberId::from_uuid(Uuid::from_u128(n)),
                    code: Code::from_entropy(n * 7919, 8),
                    first_name: FirstName::parse("Anna").ok()?,
                    contact: Contact::new(Email::parse(&format!("m{n}@example.org")).ok(), None)
                        .ok()?,
                    birthday: None,
                    language: Language::De,
                    consents: Vec::new(),
                };
                self.members.push(member.id);
                Command::Join {
                    member,
                    signup_event: EventId::from_uuid(Uuid::from_u128(self.fresh())),
                }
            }
            Step::Purchase {
                member,
                cents,
                coffees,
            } => {
                let id = EventId::from_uuid(Uuid::from_u128(self.fresh()));
                self.events.push(id);
                let items = (0..*coffees)
                    .map(|_| Item {
                        sku: None,
                        category: Some("coffee".into()),
                        quantity: 1,
                        amount: None,
                    })
                    .collect();
                let event = Event {
                    id,
                    member_id: Self::pick(&self.members, *member)?,
                    kind: EventKind::Purchase {
                        amount: Cents::new(*cents).ok()?,
                        items,
                    },
                    location_id: None,
                    occurred_at: self.now,
                };
                Command::Record { event }
            }
            Step::Redeem { member, reward } => Command::Redeem {
                member_id: Self::pick(&self.members, *member)?,
                reward_id: Slug::parse(["cake", "mug"][*reward]).ok()?,
            },
            Step::Gift { member, reward } => Command::Gift {
                member_id: Self::pick(&self.members, *member)?,
                reward_id: Slug::parse(["cake", "mug"][*reward]).ok()?,
            },
            Step::UseCoupon { coupon } => Command::UseCoupon {
                code: Self::pick(&self.coupons, *coupon)?,
            },
            Step::CancelCoupon { coupon } => Command::CancelCoupon {
                code: Self::pick(&self.coupons, *coupon)?,
            },
            Step::Adjust { member, delta } => Command::Adjust {
                member_id: Self::pick(&self.members, *member)?,
                unit: Unit::Points,
                delta: *delta,
                reason: "correction".into(),
            },
            Step::Void { event } => Command::Void {
                event_id: Self::pick(&self.events, *event)?,
                reason: "mistake".into(),
            },
            Step::Refund { event, cents } => Command::Refund {
                event_id: Self::pick(&self.events, *event)?,
                amount: Cents::new(*cents).ok()?,
                reason: "returned".into(),
            },
            Step::Expire { member } => Command::Expire {
                member_id: Self::pick(&self.members, *member)?,
            },
            Step::Replay { .. } | Step::AdvanceDays(_) => return None,
        })
    }

    fn run(&mut self, steps: &[Step]) -> Result<(), TestCaseError> {
        for step in steps {
            match step {
                Step::AdvanceDays(days) => self.now += Duration::days(*days),
                Step::Replay { request } => self.replay(*request)?,
                _ => {
                    let Some(command) = self.command(step) else {
                        continue;
                    };
                    let key = format!("k{}", self.fresh());
                    let request = Request {
                        business_id: self.business,
                        key: Some(IdempotencyKey {
                            key,
                            fingerprint: format!("{command:?}"),
                        }),
                        actor: "test".into(),
                        now: self.now,
                        seed: self.fresh() * 0x9E37_79B9,
                        command,
                    };
                    let results = self.memory.apply(std::slice::from_ref(&request));
                    if let Some(Ok(outcome)) = results.first() {
                        self.note_coupons(outcome);
                    }
                    self.sent.push(request);
                }
            }
            let late = self.memory.late_expiry_bounds(self.business);
            prop_assert!(
                late.is_empty(),
                "after {step:?}: next_expiry_at too late for {late:?}"
            );
            let violations = self.memory.violations(self.business);
            prop_assert!(
                violations.is_empty(),
                "after {step:?}: {}",
                violations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        Ok(())
    }

    fn note_coupons(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Coupon(coupon) => self.coupons.push(coupon.code.clone()),
            Outcome::Event(event) => self
                .coupons
                .extend(event.coupons_issued.iter().map(|c| c.code.clone())),
            _ => {}
        }
    }

    /// Sending an earlier request again, even much later, returns the stored outcome (or the
    /// same refusal) and writes nothing.
    fn replay(&mut self, index: usize) -> Result<(), TestCaseError> {
        let Some(original) = Self::pick(&self.sent, index) else {
            return Ok(());
        };
        let stored = original.key.as_ref().and_then(|k| {
            self.memory
                .outcomes
                .get(&(self.business, k.key.clone()))
                .cloned()
        });
        let transfers_before = self.memory.transfers.len();
        let mut again = original.clone();
        again.now = self.now;
        again.seed ^= 0xDEAD_BEEF;
        let result = self.memory.apply(std::slice::from_ref(&again)).pop();
        if let Some(stored) = stored {
            prop_assert_eq!(result, Some(Ok(stored.outcome)));
            prop_assert_eq!(self.memory.transfers.len(), transfers_before);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_sequence_of_operations_keeps_the_ledger_consistent(steps in prop::collection::vec(step(), 1..60)) {
        let mut world = World::new();
        world.run(&[Step::Join, Step::Join])?;
        world.run(&steps)?;
    }

    #[test]
    fn the_categories_bought_are_those_of_the_purchases_not_voided(steps in prop::collection::vec(step(), 1..60)) {
        let mut world = World::new();
        world.run(&[Step::Join, Step::Join])?;
        world.run(&steps)?;
        for ((business, member), state) in &world.memory.members {
            let coffee_purchases = world
                .memory
                .events
                .iter()
                .filter(|((b, _), record)| {
                    b == business
                        && record.event.member_id == *member
                        && record.voided_at.is_none()
                        && record.event.kind.categories().next().is_some()
                })
                .count() as i64;
            prop_assert_eq!(state.categories_bought.get("coffee").copied().unwrap_or(0), coffee_purchases);
        }
    }

    #[test]
    fn expiry_never_takes_more_than_was_earned(steps in prop::collection::vec(step(), 1..60)) {
        let mut world = World::new();
        world.run(&[Step::Join, Step::Join])?;
        world.run(&steps)?;
        world.now += Duration::days(400);
        let members = world.members.clone();
        let expiries: Vec<Step> = (0..members.len()).map(|member| Step::Expire { member }).collect();
        world.run(&expiries)?;
        for member in members {
            let account = Account::Member(member);
            let credited: i64 = world.memory.transfers.iter().filter(|(_, t)| t.unit == Unit::Points && t.credit == account && t.phase.is_posting()).map(|(_, t)| t.amount).sum();
            let expired: i64 = world.memory.transfers.iter().filter(|(_, t)| t.kind == TransferKind::Expire && t.debit == account).map(|(_, t)| t.amount).sum();
            prop_assert!(expired <= credited);
            let state = &world.memory.members[&(world.business, member)];
            // Everything not held by an open coupon has expired after 400 days.
            prop_assert_eq!(state.points.available(), 0);
        }
    }

    #[test]
    fn a_batch_gives_the_same_results_as_its_requests_one_by_one(steps in prop::collection::vec(step(), 1..40)) {
        let mut one_by_one = World::new();
        one_by_one.run(&[Step::Join, Step::Join])?;
        let mut batched = World::new();
        batched.run(&[Step::Join, Step::Join])?;
        let mut requests = Vec::new();
        for step in steps.iter().filter(|s| matches!(s, Step::Purchase { .. } | Step::Adjust { .. } | Step::Redeem { .. })) {
            if let Some(command) = batched.command(step) {
                one_by_one.command(step);
                let seed = batched.fresh();
                one_by_one.fresh();
                requests.push(Request { business_id: batched.business, key: None, actor: "test".into(), now: batched.now, seed, command });
            }
        }
        let singles: Vec<_> = requests.iter().flat_map(|r| one_by_one.memory.apply(std::slice::from_ref(r))).collect();
        let together = batched.memory.apply(&requests);
        prop_assert_eq!(singles, together);
        prop_assert_eq!(one_by_one.memory.transfers.len(), batched.memory.transfers.len());
        prop_assert!(batched.memory.violations(batched.business).is_empty());
    }
}

#[test]
fn a_key_reused_for_a_different_request_is_refused_and_changes_nothing() {
    let mut world = World::new();
    let _ = world.run(&[Step::Join]);
    let member_id = world.members[0];
    let request = |delta: i64| Request {
        business_id: world.business,
        key: Some(IdempotencyKey {
            key: "same".into(),
            fingerprint: format!("adjust {delta}"),
        }),
        actor: "test".into(),
        now: world.now,
        seed: 5,
        command: Command::Adjust {
            member_id,
            unit: Unit::Points,
            delta,
            reason: "x".into(),
        },
    };
    let first = request(5);
    let second = request(7);
    assert!(world.memory.apply(&[first]).remove(0).is_ok());
    let transfers = world.memory.transfers.len();
    assert_eq!(
        world.memory.apply(&[second]).remove(0),
        Err(stammgast_core::engine::DomainError::IdempotencyKeyReused)
    );
    assert_eq!(world.memory.transfers.len(), transfers);
}

/// A request from `business` to adjust the points of the world's first member.
fn adjust_first_member_as(world: &World, business: BusinessId) -> Request {
    Request {
        business_id: business,
        key: None,
        actor: "test".into(),
        now: world.now,
        seed: 9,
        command: Command::Adjust {
            member_id: world.members[0],
            unit: Unit::Points,
            delta: 5,
            reason: "x".into(),
        },
    }
}

#[test]
fn a_request_for_an_unknown_business_is_refused_and_changes_nothing() {
    let mut world = World::new();
    let _ = world.run(&[Step::Join]);
    let stranger = BusinessId::from_uuid(Uuid::from_u128(2));
    let request = adjust_first_member_as(&world, stranger);
    let transfers = world.memory.transfers.len();
    assert_eq!(
        world.memory.apply(&[request]).remove(0),
        Err(stammgast_core::engine::DomainError::BusinessNotFound(
            stranger
        ))
    );
    assert_eq!(world.memory.transfers.len(), transfers);
}

#[test]
fn one_business_cannot_touch_another_business_member() {
    let mut world = World::new();
    let _ = world.run(&[Step::Join]);
    let other = BusinessId::from_uuid(Uuid::from_u128(3));
    let program = parse_program("{}").unwrap_or_else(|e| panic!("{e:?}"));
    world.memory.programs.insert(other, Arc::new(program));
    let request = adjust_first_member_as(&world, other);
    let transfers = world.memory.transfers.len();
    assert_eq!(
        world.memory.apply(&[request]).remove(0),
        Err(stammgast_core::engine::DomainError::MemberNotFound(
            world.members[0]
        ))
    );
    assert_eq!(world.memory.transfers.len(), transfers);
}
