//! Rule evaluation: a pure function from program, event and member facts to what the member
//! earns, explained line by line.

use super::definition::*;
use crate::event::{Event, EventKind, Item};
use crate::ids::Slug;
use crate::points::{Points, Stamps};
use chrono::{Datelike, NaiveDateTime, Timelike};
use std::collections::BTreeMap;

/// What the rules need to know about the member at the time of the event.
#[derive(Clone, Debug, Default)]
pub struct MemberFacts {
    pub tier: Option<Slug>,
    /// The member's visit count including this event (when it is a visit).
    pub visit_number: i64,
    pub points_today: Points,
    pub stamps_today: BTreeMap<Slug, Stamps>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Earning {
    pub points: Points,
    pub stamps: BTreeMap<Slug, Stamps>,
    pub coupons: Vec<Slug>,
    pub explanation: Vec<String>,
}

/// Evaluates every rule on the event. Points from matching rules add up, multipliers (rule
/// and tier) multiply the sum, then caps apply; stamps respect each card's daily limit.
pub fn evaluate(program: &Program, event: &Event, member: &MemberFacts) -> Earning {
    let local = event
        .occurred_at
        .with_timezone(&program.time_zone())
        .naive_local();
    let mut earning = Earning::default();
    let mut base_points = Points::ZERO;
    let mut multipliers: Vec<(Multiplier, String)> = Vec::new();
    let below_minimum = matches!(event.kind, EventKind::Purchase { .. })
        && program
            .caps
            .min_purchase
            .is_some_and(|min| event.kind.amount() < min);

    for rule in program
        .rules
        .iter()
        .filter(|rule| matches(&rule.when, event, member, local))
    {
        let label = if rule.name.is_empty() {
            rule.id.to_string()
        } else {
            rule.name.clone()
        };
        if !below_minimum {
            base_points += rule_points(rule, event, &label, &mut earning.explanation);
        }
        if let Some(multiplier) = rule.then.multiplier {
            multipliers.push((multiplier, label.clone()));
        }
        if let Some(stamps) = &rule.then.stamps {
            let count = stamp_count(stamps, &rule.when, &event.kind);
            if count.is_positive() {
                *earning.stamps.entry(stamps.card.clone()).or_default() += count;
                earning
                    .explanation
                    .push(format!("+{count} stamps on {}: {label}", stamps.card));
            }
        }
        if let Some(reward) = &rule.then.coupon {
            earning.coupons.push(reward.clone());
            earning
                .explanation
                .push(format!("coupon {reward}: {label}"));
        }
    }
    if below_minimum {
        let min = program
            .caps
            .min_purchase
            .map(|m| m.to_string())
            .unwrap_or_default();
        earning.explanation.push(format!(
            "no points: purchases below {min} {} earn none",
            program.currency
        ));
    }
    if let Some(level) = tier_level(program, member.tier.as_ref())
        && let Some(multiplier) = level.multiplier
    {
        multipliers.push((multiplier, format!("tier {}", level.name)));
    }
    earning.points = apply_multipliers(base_points, &multipliers, &mut earning.explanation);
    earning.points = apply_caps(
        earning.points,
        &program.caps,
        member.points_today,
        &mut earning.explanation,
    );
    apply_daily_stamp_limits(program, member, &mut earning);
    earning
}

fn tier_level<'a>(program: &'a Program, tier: Option<&Slug>) -> Option<&'a TierLevel> {
    let tier = tier?;
    program
        .tiers
        .as_ref()?
        .levels
        .iter()
        .find(|level| &level.id == tier)
}

fn matches(when: &Conditions, event: &Event, member: &MemberFacts, local: NaiveDateTime) -> bool {
    let kind = &event.kind;
    let type_ok = when.event.is_none_or(|wanted| match (wanted, kind) {
        (EventType::Purchase, EventKind::Purchase { .. })
        | (EventType::Visit, EventKind::Visit)
        | (EventType::Signup, EventKind::Signup) => true,
        (EventType::Custom, EventKind::Custom { name }) => {
            when.custom_event.as_ref().is_none_or(|n| n == name)
        }
        _ => false,
    });
    let amount = kind.amount();
    let minutes = local.hour() * 60 + local.minute();
    type_ok
        && when.min_amount.is_none_or(|min| amount >= min)
        && when.max_amount.is_none_or(|max| amount <= max)
        && (when.skus_any.is_empty() && when.categories_any.is_empty()
            || kind.items().iter().any(|i| item_matches(when, i)))
        && (when.tiers_any.is_empty()
            || member
                .tier
                .as_ref()
                .is_some_and(|t| when.tiers_any.contains(t)))
        && (when.locations_any.is_empty()
            || event
                .location_id
                .is_some_and(|l| when.locations_any.contains(&l)))
        && (when.weekdays.is_empty() || when.weekdays.contains(&Weekday::of(local.weekday())))
        && when.time.is_none_or(|window| in_window(window, minutes))
        && when.dates.is_none_or(|range| {
            range.from.is_none_or(|from| local.date() >= from)
                && range.to.is_none_or(|to| local.date() <= to)
        })
        && when.every_nth_visit.is_none_or(|n| {
            kind.is_visit() && member.visit_number > 0 && member.visit_number % i64::from(n) == 0
        })
}

fn in_window(window: TimeWindow, minutes: u32) -> bool {
    let (from, to) = (
        window.from.minutes_since_midnight(),
        window.to.minutes_since_midnight(),
    );
    if from < to {
        (from..to).contains(&minutes)
    } else {
        minutes >= from || minutes < to
    }
}

/// Without sku or category conditions every item qualifies.
fn item_matches(when: &Conditions, item: &Item) -> bool {
    let sku_ok = item
        .sku
        .as_ref()
        .is_some_and(|sku| when.skus_any.contains(sku));
    let category_ok = item
        .category
        .as_ref()
        .is_some_and(|c| when.categories_any.contains(c));
    (when.skus_any.is_empty() && when.categories_any.is_empty()) || sku_ok || category_ok
}

fn rule_points(rule: &Rule, event: &Event, label: &str, explanation: &mut Vec<String>) -> Points {
    let mut points = Points::ZERO;
    if let Some(fixed) = rule.then.points {
        points += fixed;
        explanation.push(format!("+{fixed} points: {label}"));
    }
    if let Some(rate) = rule.then.points_per_amount {
        let amount = event.kind.amount();
        let earned = per_amount(amount.get(), rate);
        points += earned;
        explanation.push(format!(
            "+{earned} points: {label} ({} per {} on {amount})",
            rate.points, rate.per
        ));
    }
    points
}

fn per_amount(amount_cents: i64, rate: PointsPerAmount) -> Points {
    let numerator = i128::from(amount_cents) * i128::from(rate.points.get());
    let per = i128::from(rate.per.get().max(1));
    let points = match rate.rounding {
        Rounding::Down => numerator / per,
        Rounding::Up => (numerator + per - 1) / per,
        Rounding::Nearest => (numerator * 2 + per) / (per * 2),
    };
    Points::new(i64::try_from(points).unwrap_or(i64::MAX))
}

fn stamp_count(effect: &StampEffect, when: &Conditions, kind: &EventKind) -> Stamps {
    let per_visit = effect.count.get();
    Stamps::new(match effect.per {
        StampBasis::Visit => per_visit,
        StampBasis::Item => {
            let items: i64 = kind
                .items()
                .iter()
                .filter(|i| item_matches(when, i))
                .map(|i| i64::from(i.quantity))
                .sum();
            items * per_visit
        }
        StampBasis::Amount => {
            let per = effect.per_amount.map_or(1, |a| a.get().max(1));
            kind.amount().get() / per * per_visit
        }
    })
}

fn apply_multipliers(
    points: Points,
    multipliers: &[(Multiplier, String)],
    explanation: &mut Vec<String>,
) -> Points {
    let mut scaled = i128::from(points.get());
    for (multiplier, label) in multipliers {
        scaled = scaled * i128::from(multiplier.thousandths()) / 1000;
        explanation.push(format!("×{}: {label}", String::from(*multiplier)));
    }
    Points::new(i64::try_from(scaled).unwrap_or(i64::MAX))
}

fn apply_caps(
    points: Points,
    caps: &Caps,
    points_today: Points,
    explanation: &mut Vec<String>,
) -> Points {
    let mut capped = points;
    if let Some(cap) = caps.points_per_transaction.filter(|cap| capped > *cap) {
        capped = cap;
        explanation.push(format!("capped at {cap} points per transaction"));
    }
    if let Some(cap) = caps.points_per_day {
        let room = (cap - points_today).max(Points::ZERO);
        if capped > room {
            capped = room;
            explanation.push(format!("capped at {cap} points per day"));
        }
    }
    capped
}

fn apply_daily_stamp_limits(program: &Program, member: &MemberFacts, earning: &mut Earning) {
    for (card_id, count) in earning.stamps.iter_mut() {
        let Some(limit) = program
            .stamp_card(card_id)
            .and_then(|card| card.daily_limit)
        else {
            continue;
        };
        let room = (limit
            - member
                .stamps_today
                .get(card_id)
                .copied()
                .unwrap_or_default())
        .max(Stamps::ZERO);
        if *count > room {
            *count = room;
            earning
                .explanation
                .push(format!("stamps on {card_id} limited to {limit} per day"));
        }
    }
    earning.stamps.retain(|_, count| count.is_positive());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, MemberId};
    use crate::money::Cents;
    use crate::program::parse_program;
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    const PROGRAM: &str = r#"{
      "timezone": "Europe/Berlin",
      "caps": {"points_per_transaction": 100, "min_purchase": "1.00"},
      "stamp_cards": [{"id": "coffee", "name": "Kaffeekarte", "stamps_required": 10, "reward": "free-coffee", "daily_limit": 3}],
      "rewards": [{"id": "free-coffee", "name": "Gratis Kaffee", "cost": {}, "kind": {"type": "free_product", "product": "Kaffee"}}],
      "tiers": {"metric": "spend", "window": "lifetime", "levels": [
         {"id": "bronze", "name": "Bronze", "threshold": "0"},
         {"id": "gold", "name": "Gold", "threshold": "500", "multiplier": "1.5"}]},
      "rules": [
        {"id": "base", "name": "1 point per euro", "when": {"event": "purchase"}, "then": {"points_per_amount": {"points": 1, "per": "1.00"}}},
        {"id": "happy-hour", "when": {"event": "purchase", "weekdays": ["mon"], "time": {"from": "14:00", "to": "17:00"}}, "then": {"multiplier": "2"}},
        {"id": "coffee", "when": {"event": "purchase", "categories_any": ["coffee"]}, "then": {"stamps": {"card": "coffee", "per": "item"}}},
        {"id": "tenth", "when": {"every_nth_visit": 10}, "then": {"points": 50}},
        {"id": "welcome", "when": {"event": "signup"}, "then": {"points": 25}}
      ]}"#;

    fn program() -> Program {
        parse_program(PROGRAM).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// 2026-11-23 is a Monday; Berlin is UTC+1 then.
    fn purchase(amount: &str, utc: &str, items: Vec<Item>) -> Event {
        Event {
            id: EventId::from_uuid(Uuid::nil()),
            member_id: MemberId::from_uuid(Uuid::nil()),
            kind: EventKind::Purchase {
                amount: Cents::parse(amount).unwrap_or_default(),
                items,
            },
            location_id: None,
            occurred_at: utc.parse::<DateTime<Utc>>().unwrap_or_default(),
        }
    }

    fn coffee(quantity: u32) -> Item {
        Item {
            sku: None,
            category: Some("coffee".into()),
            quantity,
            amount: None,
        }
    }

    #[test]
    fn points_per_euro_round_down_and_are_explained() {
        let earning = evaluate(
            &program(),
            &purchase("12.40", "2026-11-24T09:00:00Z", vec![]),
            &MemberFacts::default(),
        );
        assert_eq!(earning.points, Points::new(12));
        assert_eq!(
            earning.explanation,
            vec!["+12 points: 1 point per euro (1 per 1.00 on 12.40)"]
        );
    }

    #[test]
    fn happy_hour_is_judged_in_local_time() {
        // 13:30 UTC is 14:30 in Berlin: inside the window.
        let inside = evaluate(
            &program(),
            &purchase("10.00", "2026-11-23T13:30:00Z", vec![]),
            &MemberFacts::default(),
        );
        assert_eq!(inside.points, Points::new(20));
        let before = evaluate(
            &program(),
            &purchase("10.00", "2026-11-23T12:30:00Z", vec![]),
            &MemberFacts::default(),
        );
        assert_eq!(before.points, Points::new(10));
    }

    #[test]
    fn tier_multiplier_and_transaction_cap_apply_after_the_sum() {
        let gold = MemberFacts {
            tier: Slug::parse("gold").ok(),
            ..MemberFacts::default()
        };
        let earning = evaluate(
            &program(),
            &purchase("50.00", "2026-11-24T09:00:00Z", vec![]),
            &gold,
        );
        assert_eq!(earning.points, Points::new(75));
        let capped = evaluate(
            &program(),
            &purchase("80.00", "2026-11-24T09:00:00Z", vec![]),
            &gold,
        );
        assert_eq!(capped.points, Points::new(100));
        assert!(
            capped
                .explanation
                .iter()
                .any(|line| line == "capped at 100 points per transaction")
        );
    }

    #[test]
    fn purchases_below_the_minimum_earn_no_points_but_still_stamps() {
        let earning = evaluate(
            &program(),
            &purchase("0.90", "2026-11-24T09:00:00Z", vec![coffee(1)]),
            &MemberFacts::default(),
        );
        assert_eq!(earning.points, Points::new(0));
        assert_eq!(earning.stamps.values().sum::<Stamps>(), Stamps::new(1));
    }

    #[test]
    fn stamps_per_item_respect_the_daily_limit() {
        let facts = MemberFacts {
            stamps_today: [(
                Slug::parse("coffee").unwrap_or_else(|e| panic!("{e}")),
                Stamps::new(2),
            )]
            .into_iter()
            .collect(),
            ..MemberFacts::default()
        };
        let earning = evaluate(
            &program(),
            &purchase("9.00", "2026-11-24T09:00:00Z", vec![coffee(3)]),
            &facts,
        );
        assert_eq!(earning.stamps.values().sum::<Stamps>(), Stamps::new(1));
    }

    #[test]
    fn every_tenth_visit_earns_a_bonus() {
        let tenth = MemberFacts {
            visit_number: 10,
            ..MemberFacts::default()
        };
        assert_eq!(
            evaluate(
                &program(),
                &purchase("2.00", "2026-11-24T09:00:00Z", vec![]),
                &tenth
            )
            .points,
            Points::new(52)
        );
        let ninth = MemberFacts {
            visit_number: 9,
            ..MemberFacts::default()
        };
        assert_eq!(
            evaluate(
                &program(),
                &purchase("2.00", "2026-11-24T09:00:00Z", vec![]),
                &ninth
            )
            .points,
            Points::new(2)
        );
    }

    #[test]
    fn rounding_modes_differ_only_on_fractions() {
        let rate = |rounding| PointsPerAmount {
            points: Points::new(1),
            per: Cents::parse("2.00").unwrap_or_default(),
            rounding,
        };
        assert_eq!(per_amount(300, rate(Rounding::Down)), Points::new(1));
        assert_eq!(per_amount(300, rate(Rounding::Nearest)), Points::new(2));
        assert_eq!(per_amount(250, rate(Rounding::Nearest)), Points::new(1));
        assert_eq!(per_amount(201, rate(Rounding::Up)), Points::new(2));
        assert_eq!(per_amount(400, rate(Rounding::Up)), Points::new(2));
    }

    #[test]
    fn windows_may_wrap_midnight() {
        let window = TimeWindow {
            from: ClockTime::try_from("22:00".to_owned()).unwrap_or_else(|e| panic!("{e}")),
            to: ClockTime::try_from("02:00".to_owned()).unwrap_or_else(|e| panic!("{e}")),
        };
        assert!(in_window(window, 23 * 60));
        assert!(in_window(window, 60));
        assert!(!in_window(window, 12 * 60));
    }
}
