//! Where a member stands in the program: stamps collected per card, the way to the next
//! tier, and how far each reward is. What the card page and the counter show; the engine
//! still decides at redemption (stock and per-member limits are checked there).

use super::definition::{Program, Reward, StampCard, TierLevel};
use super::tiers::{next_level, qualifying_value};
use crate::activity::month_index;
use crate::engine::MemberState;
use crate::ids::Slug;
use crate::points::{Points, Stamps};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq)]
pub struct Progress<'a> {
    pub cards: Vec<CardProgress<'a>>,
    pub points_available: Points,
    pub tier: Option<&'a TierLevel>,
    /// The next tier and how much of the tier metric is missing (cents for spend).
    pub next_tier: Option<(&'a TierLevel, i64)>,
    pub rewards: Vec<RewardProgress<'a>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CardProgress<'a> {
    pub card: &'a StampCard,
    /// Stamps on the current card (a full card turns into a coupon and starts again).
    pub collected: Stamps,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RewardProgress<'a> {
    pub reward: &'a Reward,
    pub distance: Distance,
}

/// How far a member is from a reward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Distance {
    /// The balance covers the cost: redeemable now.
    Ready,
    MissingPoints(Points),
    MissingStamps {
        card: Slug,
        stamps: Stamps,
    },
    /// Not offered to this member now (another tier, outside its dates).
    Unavailable,
}

impl Progress<'_> {
    /// The fewest stamps missing on any of the cards.
    pub fn stamps_left(&self) -> Option<Stamps> {
        self.cards
            .iter()
            .map(|card| (card.card.stamps_required - card.collected).max(Stamps::ZERO))
            .min()
    }

    /// The reward nearest to reach: one redeemable now, else the fewest stamps missing,
    /// else the fewest points missing.
    pub fn next_reward(&self) -> Option<&Reward> {
        self.rewards
            .iter()
            .filter_map(|progress| {
                let rank = match &progress.distance {
                    Distance::Ready => (0, 0),
                    Distance::MissingStamps { stamps, .. } => (1, stamps.get()),
                    Distance::MissingPoints(points) => (2, points.get()),
                    Distance::Unavailable => return None,
                };
                Some((rank, progress.reward))
            })
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, reward)| reward)
    }
}

pub fn progress<'a>(program: &'a Program, state: &MemberState, now: DateTime<Utc>) -> Progress<'a> {
    let cards = program
        .stamp_cards
        .iter()
        .map(|card| CardProgress {
            card,
            collected: Stamps::new(
                state
                    .stamps
                    .get(&card.id)
                    .map_or(0, |balance| balance.available()),
            ),
        })
        .collect();
    let tiers = program.tiers.as_ref();
    let tier = tiers.and_then(|settings| {
        let current = state.tier.as_ref()?;
        settings.levels.iter().find(|level| &level.id == current)
    });
    let next_tier = tiers.and_then(|settings| {
        let month = month_index(now.with_timezone(&program.time_zone()).date_naive());
        let value = qualifying_value(settings, &state.activity, month);
        next_level(settings, state.tier.as_ref(), value)
    });
    let rewards = program
        .rewards
        .iter()
        .map(|reward| RewardProgress {
            reward,
            distance: distance(program, reward, state, now),
        })
        .collect();
    Progress {
        cards,
        points_available: Points::new(state.points.available()),
        tier,
        next_tier,
        rewards,
    }
}

/// How long after an event its milestones still matter: an older event (an import, a
/// back-dated entry) records none.
pub const MILESTONE_DAYS: i64 = 2;

/// What a member has reached that a message may celebrate: a visit at all
/// (`first-visit`), their tier above the first (`tier:<id>`), each reward their balance
/// covers (`reward-ready:<id>`), and each stamp card one stamp short of full
/// (`stamp-short:<id>`). An event's milestones are what it adds to this set.
pub fn reached(program: &Program, state: &MemberState, now: DateTime<Utc>) -> BTreeSet<String> {
    let first_level = program
        .tiers
        .as_ref()
        .and_then(|settings| settings.levels.first())
        .map(|level| &level.id);
    let tier = state
        .tier
        .iter()
        .filter(|tier| Some(*tier) != first_level)
        .map(|tier| format!("tier:{tier}"));
    let ready = program
        .rewards
        .iter()
        .filter(|reward| distance(program, reward, state, now) == Distance::Ready)
        .map(|reward| format!("reward-ready:{}", reward.id));
    let short = program
        .stamp_cards
        .iter()
        .filter(|card| {
            let collected = state.stamps.get(&card.id).map_or(0, |b| b.available());
            card.stamps_required.get() - collected == 1
        })
        .map(|card| format!("stamp-short:{}", card.id));
    let visited = (state.activity.lifetime.visits > 0).then(|| "first-visit".to_owned());
    visited
        .into_iter()
        .chain(tier)
        .chain(ready)
        .chain(short)
        .collect()
}

fn distance(
    program: &Program,
    reward: &Reward,
    state: &MemberState,
    now: DateTime<Utc>,
) -> Distance {
    let today = now.with_timezone(&program.time_zone()).date_naive();
    let outside_dates = reward.available_from.is_some_and(|from| today < from)
        || reward.available_until.is_some_and(|until| today > until);
    let other_tier = !reward.tiers_any.is_empty()
        && !state
            .tier
            .as_ref()
            .is_some_and(|tier| reward.tiers_any.contains(tier));
    if outside_dates || other_tier {
        return Distance::Unavailable;
    }
    let cost = &reward.cost;
    // A reward that costs nothing is what a full stamp card gives: its distance is the
    // stamps still missing on that card.
    let card = cost.card.as_ref().or_else(|| {
        program
            .stamp_cards
            .iter()
            .find(|card| card.reward.as_ref() == Some(&reward.id))
            .map(|card| &card.id)
    });
    let missing = |have: i64, need: i64| (need - have).max(0);
    match card {
        Some(card) if cost.stamps.is_positive() || cost.points == Points::ZERO => {
            let need = if cost.stamps.is_positive() {
                cost.stamps
            } else {
                program
                    .stamp_card(card)
                    .map_or(Stamps::ZERO, |c| c.stamps_required)
            };
            let have = state.stamps.get(card).map_or(0, |b| b.available());
            match missing(have, need.get()) {
                0 => Distance::Ready,
                stamps => Distance::MissingStamps {
                    card: card.clone(),
                    stamps: Stamps::new(stamps),
                },
            }
        }
        _ => match missing(state.points.available(), cost.points.get()) {
            0 => Distance::Ready,
            points => Distance::MissingPoints(Points::new(points)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::Tally;
    use crate::engine::Balance;
    use crate::ids::MemberId;
    use crate::program::parse_program;
    use chrono::TimeZone;
    use uuid::Uuid;

    const PROGRAM: &str = r#"{
      "timezone": "Europe/Berlin", "currency": "EUR",
      "stamp_cards": [{"id": "coffee", "name": "Kaffeekarte", "stamps_required": 10, "reward": "free-coffee"}],
      "tiers": {"metric": "spend", "window": "rolling_12_months", "downgrade_grace_days": 30,
        "levels": [{"id": "bronze", "name": "Bronze", "threshold": "0"},
                   {"id": "gold", "name": "Gold", "threshold": "400.00"}]},
      "rewards": [
        {"id": "free-coffee", "name": "Kaffee", "cost": {}, "kind": {"type": "free_product", "product": "Kaffee"}},
        {"id": "cake", "name": "Kuchen", "cost": {"points": 150}, "kind": {"type": "free_product", "product": "Kuchen"}},
        {"id": "vip", "name": "VIP", "cost": {"points": 10}, "kind": {"type": "perk", "description": "Frühzugang"}, "tiers_any": ["gold"]}
      ],
      "rules": []
    }"#;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 15, 10, 0, 0).unwrap()
    }

    fn member(points: i64, stamps: i64, spend_cents: i64) -> MemberState {
        let mut state = MemberState::new(MemberId::from_uuid(Uuid::nil()));
        state.points = Balance {
            posted: points,
            held: 0,
        };
        state.stamps.insert(
            Slug::parse("coffee").unwrap(),
            Balance {
                posted: stamps,
                held: 0,
            },
        );
        state.tier = Some(Slug::parse("bronze").unwrap());
        let month = month_index(now().date_naive());
        state.activity.add(
            month,
            Tally {
                visits: 1,
                spend_cents,
                ..Tally::default()
            },
        );
        state
    }

    #[test]
    fn stamps_missing_on_the_card_are_the_distance_to_its_free_reward() {
        let program = parse_program(PROGRAM).unwrap();
        let progress = progress(&program, &member(0, 7, 0), now());
        assert_eq!(progress.cards[0].collected, Stamps::new(7));
        assert_eq!(
            progress.rewards[0].distance,
            Distance::MissingStamps {
                card: Slug::parse("coffee").unwrap(),
                stamps: Stamps::new(3)
            }
        );
    }

    #[test]
    fn a_points_reward_is_ready_once_the_available_points_cover_it() {
        let program = parse_program(PROGRAM).unwrap();
        let short = progress(&program, &member(149, 0, 0), now());
        assert_eq!(
            short.rewards[1].distance,
            Distance::MissingPoints(Points::new(1))
        );
        let mut held = member(200, 0, 0);
        held.points.held = 60;
        assert_eq!(
            progress(&program, &held, now()).rewards[1].distance,
            Distance::MissingPoints(Points::new(10))
        );
        let enough = progress(&program, &member(150, 0, 0), now());
        assert_eq!(enough.rewards[1].distance, Distance::Ready);
    }

    #[test]
    fn a_reward_for_another_tier_is_unavailable_and_the_next_tier_says_what_is_missing() {
        let program = parse_program(PROGRAM).unwrap();
        let progress = progress(&program, &member(500, 0, 12_000), now());
        assert_eq!(progress.rewards[2].distance, Distance::Unavailable);
        assert_eq!(progress.tier.map(|t| t.name.as_str()), Some("Bronze"));
        let (next, missing_cents) = progress.next_tier.unwrap();
        assert_eq!((next.name.as_str(), missing_cents), ("Gold", 28_000));
    }

    #[test]
    fn reached_names_the_tier_the_rewards_covered_and_the_cards_one_stamp_short() {
        let program = parse_program(PROGRAM).unwrap();
        let names = |state: &MemberState| -> Vec<String> {
            reached(&program, state, now()).into_iter().collect()
        };
        let mut new = member(149, 8, 0);
        new.activity = Default::default();
        assert!(names(&new).is_empty(), "the first tier is no milestone");
        assert_eq!(
            names(&member(150, 9, 0)),
            ["first-visit", "reward-ready:cake", "stamp-short:coffee"]
        );
        let mut gold = member(10, 0, 0);
        gold.tier = Some(Slug::parse("gold").unwrap());
        assert_eq!(
            names(&gold),
            ["first-visit", "reward-ready:vip", "tier:gold"],
            "a tier's reward"
        );
    }

    #[test]
    fn the_next_reward_is_the_one_nearest_to_reach_and_stamps_left_the_fewest_missing() {
        let program = parse_program(PROGRAM).unwrap();
        let of = |state: &MemberState| {
            let progress = progress(&program, state, now());
            (
                progress.next_reward().map(|r| r.id.to_string()),
                progress.stamps_left(),
            )
        };
        assert_eq!(
            of(&member(150, 2, 0)),
            (Some("cake".into()), Some(Stamps::new(8))),
            "ready first"
        );
        assert_eq!(
            of(&member(10, 9, 0)),
            (Some("free-coffee".into()), Some(Stamps::new(1)))
        );
    }
}
