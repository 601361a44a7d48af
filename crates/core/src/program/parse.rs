//! Parsing and whole-program validation. Every problem carries the path of the offending
//! value (`rules[2].then.stamps.card`) and a sentence an owner can act on.

use super::definition::*;
use crate::ids::Slug;
use crate::money::Cents;
use crate::points::{Points, Stamps};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProgramError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for ProgramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Parses a program from JSON and validates it; all problems are reported at once.
pub fn parse_program(json: &str) -> Result<Program, Vec<ProgramError>> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    let program: Program = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let reason = error.inner().to_string();
        // serde_json appends " at line L column C"; the path already says where.
        let reason = reason
            .split(" at line ")
            .next()
            .unwrap_or(&reason)
            .to_owned();
        vec![ProgramError {
            path: if path == "." {
                "(program)".into()
            } else {
                path
            },
            reason,
        }]
    })?;
    let errors = validate(&program);
    if errors.is_empty() {
        Ok(program)
    } else {
        Err(errors)
    }
}

struct Problems(Vec<ProgramError>);

impl Problems {
    fn check(&mut self, ok: bool, path: impl Into<String>, reason: impl Into<String>) {
        if !ok {
            self.0.push(ProgramError {
                path: path.into(),
                reason: reason.into(),
            });
        }
    }

    fn unique<'a>(&mut self, ids: impl Iterator<Item = &'a Slug>, list: &str) {
        let mut seen = BTreeSet::new();
        for (index, id) in ids.enumerate() {
            self.check(
                seen.insert(id),
                format!("{list}[{index}].id"),
                format!("the id \"{id}\" is used twice"),
            );
        }
    }
}

fn validate(program: &Program) -> Vec<ProgramError> {
    let mut problems = Problems(Vec::new());
    problems.check(
        program.timezone.parse::<chrono_tz::Tz>().is_ok(),
        "timezone",
        format!(
            "\"{}\" is not a time zone like Europe/Berlin",
            program.timezone
        ),
    );
    let cards: BTreeSet<&Slug> = program.stamp_cards.iter().map(|c| &c.id).collect();
    let rewards: BTreeSet<&Slug> = program.rewards.iter().map(|r| &r.id).collect();
    let tiers: BTreeSet<&Slug> = program
        .tiers
        .iter()
        .flat_map(|t| t.levels.iter().map(|l| &l.id))
        .collect();
    let known = Known {
        cards: &cards,
        rewards: &rewards,
        tiers: &tiers,
    };

    problems.unique(program.rules.iter().map(|r| &r.id), "rules");
    problems.unique(program.stamp_cards.iter().map(|c| &c.id), "stamp_cards");
    problems.unique(program.rewards.iter().map(|r| &r.id), "rewards");
    for (index, rule) in program.rules.iter().enumerate() {
        validate_rule(&mut problems, &format!("rules[{index}]"), rule, &known);
    }
    validate_caps(&mut problems, &program.caps);
    validate_expiry(&mut problems, &program.points.expiry);
    for (index, card) in program.stamp_cards.iter().enumerate() {
        let path = format!("stamp_cards[{index}]");
        problems.check(
            card.stamps_required.is_positive(),
            format!("{path}.stamps_required"),
            "a card needs at least 1 stamp",
        );
        problems.check(
            card.daily_limit.is_none_or(Stamps::is_positive),
            format!("{path}.daily_limit"),
            "the daily limit must be at least 1",
        );
        if let Some(reward) = &card.reward {
            problems.check(
                rewards.contains(reward),
                format!("{path}.reward"),
                format!("there is no reward \"{reward}\""),
            );
        }
    }
    if let Some(settings) = &program.tiers {
        problems.unique(settings.levels.iter().map(|l| &l.id), "tiers.levels");
        validate_tiers(&mut problems, settings);
    }
    for (index, reward) in program.rewards.iter().enumerate() {
        validate_reward(&mut problems, &format!("rewards[{index}]"), reward, &known);
    }
    problems.0
}

struct Known<'a> {
    cards: &'a BTreeSet<&'a Slug>,
    rewards: &'a BTreeSet<&'a Slug>,
    tiers: &'a BTreeSet<&'a Slug>,
}

fn validate_rule(problems: &mut Problems, path: &str, rule: &Rule, known: &Known<'_>) {
    let when = &rule.when;
    let then = &rule.then;
    let has_effect = then.points.is_some()
        || then.points_per_amount.is_some()
        || then.multiplier.is_some()
        || then.stamps.is_some()
        || then.coupon.is_some();
    problems.check(
        has_effect,
        format!("{path}.then"),
        "the rule has no effect: give points, points_per_amount, multiplier, stamps or coupon",
    );
    problems.check(
        when.custom_event.is_none() || when.event == Some(EventType::Custom),
        format!("{path}.when.custom_event"),
        "custom_event needs \"event\": \"custom\"",
    );
    if let (Some(min), Some(max)) = (when.min_amount, when.max_amount) {
        problems.check(
            min <= max,
            format!("{path}.when.max_amount"),
            format!("max_amount {max} is below min_amount {min}"),
        );
    }
    if let Some(DateRange {
        from: Some(from),
        to: Some(to),
    }) = when.dates
    {
        problems.check(
            from <= to,
            format!("{path}.when.dates.to"),
            format!("the range ends ({to}) before it starts ({from})"),
        );
    }
    if let Some(window) = when.time {
        problems.check(
            window.from != window.to,
            format!("{path}.when.time"),
            "the time window is empty (from equals to)",
        );
    }
    problems.check(
        when.every_nth_visit != Some(0),
        format!("{path}.when.every_nth_visit"),
        "must be 1 or more",
    );
    for (index, tier) in when.tiers_any.iter().enumerate() {
        problems.check(
            known.tiers.contains(tier),
            format!("{path}.when.tiers_any[{index}]"),
            format!("there is no tier \"{tier}\""),
        );
    }
    if let Some(points) = then.points {
        problems.check(
            points.is_positive(),
            format!("{path}.then.points"),
            "points must be more than 0",
        );
    }
    if let Some(rate) = then.points_per_amount {
        problems.check(
            rate.points.is_positive(),
            format!("{path}.then.points_per_amount.points"),
            "points must be more than 0",
        );
        problems.check(
            rate.per > Cents::ZERO,
            format!("{path}.then.points_per_amount.per"),
            "the amount must be more than 0",
        );
    }
    if let Some(stamps) = &then.stamps {
        let at = format!("{path}.then.stamps");
        problems.check(
            known.cards.contains(&stamps.card),
            format!("{at}.card"),
            format!("there is no stamp card \"{}\"", stamps.card),
        );
        problems.check(
            stamps.count.is_positive(),
            format!("{at}.count"),
            "count must be 1 or more",
        );
        let amount_basis_ok = (stamps.per == StampBasis::Amount)
            == stamps.per_amount.is_some_and(|a| a > Cents::ZERO);
        problems.check(
            amount_basis_ok,
            format!("{at}.per_amount"),
            "give a per_amount above 0 exactly when per is \"amount\"",
        );
    }
    if let Some(reward) = &then.coupon {
        problems.check(
            known.rewards.contains(reward),
            format!("{path}.then.coupon"),
            format!("there is no reward \"{reward}\""),
        );
    }
}

fn validate_caps(problems: &mut Problems, caps: &Caps) {
    problems.check(
        caps.points_per_transaction.is_none_or(Points::is_positive),
        "caps.points_per_transaction",
        "must be 1 or more",
    );
    problems.check(
        caps.points_per_day.is_none_or(Points::is_positive),
        "caps.points_per_day",
        "must be 1 or more",
    );
}

fn validate_expiry(problems: &mut Problems, expiry: &Expiry) {
    match expiry {
        Expiry::AfterDays { days, .. } => {
            problems.check(*days >= 1, "points.expiry.days", "must be 1 or more")
        }
        Expiry::AfterMonths { months, .. } => problems.check(
            (1..=120).contains(months),
            "points.expiry.months",
            "must be between 1 and 120",
        ),
        Expiry::Never | Expiry::EndOfFollowingYear | Expiry::FixedDate { .. } => {}
    }
}

fn validate_tiers(problems: &mut Problems, settings: &TierSettings) {
    problems.check(
        !settings.levels.is_empty(),
        "tiers.levels",
        "give at least one level",
    );
    let mut previous: Option<i64> = None;
    for (index, level) in settings.levels.iter().enumerate() {
        let path = format!("tiers.levels[{index}].threshold");
        match super::tiers::parse_threshold(settings.metric, &level.threshold) {
            Ok(value) => {
                if let Some(before) = previous {
                    problems.check(
                        value > before,
                        &path,
                        "thresholds must rise from one level to the next",
                    );
                }
                previous = Some(value);
            }
            Err(reason) => problems.check(false, &path, reason),
        }
    }
}

fn validate_reward(problems: &mut Problems, path: &str, reward: &Reward, known: &Known<'_>) {
    let cost = &reward.cost;
    problems.check(
        cost.points >= Points::ZERO && cost.stamps >= Stamps::ZERO,
        format!("{path}.cost"),
        "costs cannot be negative",
    );
    problems.check(
        cost.points == Points::ZERO || cost.stamps == Stamps::ZERO,
        format!("{path}.cost"),
        "a reward costs points or stamps, not both",
    );
    match &cost.card {
        Some(card) => problems.check(
            known.cards.contains(card),
            format!("{path}.cost.card"),
            format!("there is no stamp card \"{card}\""),
        ),
        None => problems.check(
            cost.stamps == Stamps::ZERO,
            format!("{path}.cost.card"),
            "say which stamp card the stamps come from",
        ),
    }
    if let RewardKind::PercentDiscount { percent } = reward.kind {
        problems.check(
            (1..=100).contains(&percent),
            format!("{path}.kind.percent"),
            "must be between 1 and 100",
        );
    }
    problems.check(
        reward.stock.is_none_or(|s| s >= 0),
        format!("{path}.stock"),
        "cannot be negative",
    );
    problems.check(
        reward.per_member_limit.is_none_or(|l| l >= 1),
        format!("{path}.per_member_limit"),
        "must be 1 or more",
    );
    problems.check(
        reward.coupon_valid_days >= 1,
        format!("{path}.coupon_valid_days"),
        "must be 1 or more",
    );
    if let (Some(from), Some(until)) = (reward.available_from, reward.available_until) {
        problems.check(
            from <= until,
            format!("{path}.available_until"),
            "ends before it starts",
        );
    }
    for (index, tier) in reward.tiers_any.iter().enumerate() {
        problems.check(
            known.tiers.contains(tier),
            format!("{path}.tiers_any[{index}]"),
            format!("there is no tier \"{tier}\""),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(json: &str) -> Vec<String> {
        parse_program(json)
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn an_empty_program_is_valid() {
        assert!(parse_program("{}").is_ok());
    }

    #[test]
    fn type_errors_name_the_path() {
        let errors = errors_of(
            r#"{"rules":[{"id":"a","then":{"points":5}},{"id":"b","when":{"weekdays":["mox"]},"then":{"points":1}}]}"#,
        );
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("rules[1].when.weekdays[0]: unknown variant `mox`"),
            "{errors:?}"
        );
    }

    #[test]
    fn unknown_fields_are_errors_not_ignored() {
        let errors = errors_of(r#"{"rules":[{"id":"a","then":{"mutliplier":"2"}}]}"#);
        assert!(
            errors[0].starts_with("rules[0].then.mutliplier: unknown field `mutliplier`"),
            "{errors:?}"
        );
    }

    #[test]
    fn bad_amounts_name_the_path() {
        let errors =
            errors_of(r#"{"rules":[{"id":"a","when":{"min_amount":"-5"},"then":{"points":1}}]}"#);
        assert!(
            errors[0].starts_with("rules[0].when.min_amount: \"-5\" is not an amount"),
            "{errors:?}"
        );
    }

    #[test]
    fn references_to_missing_parts_are_all_reported() {
        let errors = errors_of(
            r#"{"rules":[{"id":"a","then":{"stamps":{"card":"coffee"}}},{"id":"a","then":{"coupon":"cake"}}],
                "tiers":{"metric":"spend","window":"lifetime","levels":[{"id":"silver","name":"S","threshold":"200"},{"id":"gold","name":"G","threshold":"100"}]}}"#,
        );
        assert_eq!(
            errors,
            vec![
                "rules[1].id: the id \"a\" is used twice",
                "rules[0].then.stamps.card: there is no stamp card \"coffee\"",
                "rules[1].then.coupon: there is no reward \"cake\"",
                "tiers.levels[1].threshold: thresholds must rise from one level to the next",
            ]
        );
    }

    #[test]
    fn a_rule_without_effect_is_rejected() {
        assert_eq!(errors_of(r#"{"rules":[{"id":"a","then":{}}]}"#).len(), 1);
    }

    #[test]
    fn an_unknown_time_zone_is_rejected() {
        assert_eq!(
            errors_of(r#"{"timezone":"Europe/Atlantis"}"#),
            vec!["timezone: \"Europe/Atlantis\" is not a time zone like Europe/Berlin"]
        );
    }

    #[test]
    fn the_time_zone_is_the_named_one_and_equal_programs_stay_equal_once_it_is_read() {
        let program = parse_program(r#"{"timezone":"America/New_York"}"#).unwrap();
        let unread = program.clone();
        assert_eq!(program.time_zone(), chrono_tz::America::New_York);
        assert_eq!(program.time_zone(), chrono_tz::America::New_York);
        assert_eq!(program, unread);
        assert_eq!(
            parse_program("{}").unwrap().time_zone(),
            chrono_tz::Europe::Berlin
        );
    }

    #[test]
    fn multipliers_are_exact_decimals() {
        let program = parse_program(r#"{"rules":[{"id":"a","then":{"multiplier":"1.25"}}]}"#);
        let multiplier = program.ok().and_then(|p| p.rules[0].then.multiplier);
        assert_eq!(multiplier.map(Multiplier::thousandths), Some(1250));
        assert!(!errors_of(r#"{"rules":[{"id":"a","then":{"multiplier":"0"}}]}"#).is_empty());
    }
}
