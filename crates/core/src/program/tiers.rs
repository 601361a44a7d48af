//! Tier qualification: upgrade at once when a threshold is reached; downgrade only when the
//! tier is evaluated and the grace period since reaching it is over.

use super::definition::{TierLevel, TierMetric, TierSettings, TierWindow};
use crate::activity::{Activity, MonthIndex, Tally};
use crate::ids::Slug;
use crate::money::Cents;
use chrono::{DateTime, Utc};

/// Parses a level's threshold in the metric's unit (cents for spend, a count otherwise).
pub fn parse_threshold(metric: TierMetric, text: &str) -> Result<i64, String> {
    match metric {
        TierMetric::Spend => Cents::parse(text).map(Cents::get),
        TierMetric::PointsEarned | TierMetric::Visits => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("\"{text}\" is not a whole number of 0 or more")),
    }
}

fn threshold(settings: &TierSettings, level: &TierLevel) -> i64 {
    parse_threshold(settings.metric, &level.threshold).unwrap_or(i64::MAX)
}

/// The member's value of the qualification metric over the configured window ending in
/// `current_month`.
pub fn qualifying_value(
    settings: &TierSettings,
    activity: &Activity,
    current_month: MonthIndex,
) -> i64 {
    let tally: Tally = match settings.window {
        TierWindow::Lifetime => activity.lifetime,
        TierWindow::Rolling12Months => activity.between(current_month - 11, current_month),
        TierWindow::CalendarYear => {
            activity.between(current_month - current_month.rem_euclid(12), current_month)
        }
    };
    match settings.metric {
        TierMetric::Spend => tally.spend_cents,
        TierMetric::PointsEarned => tally.points_earned,
        TierMetric::Visits => tally.visits,
    }
}

/// The highest level whose threshold `value` reaches.
pub fn level_for(settings: &TierSettings, value: i64) -> Option<&TierLevel> {
    settings
        .levels
        .iter()
        .rev()
        .find(|level| value >= threshold(settings, level))
}

fn rank(settings: &TierSettings, id: Option<&Slug>) -> Option<usize> {
    id.and_then(|id| settings.levels.iter().position(|level| &level.id == id))
}

/// The tier after new activity: only ever an upgrade.
pub fn after_activity(settings: &TierSettings, current: Option<&Slug>, value: i64) -> Option<Slug> {
    let earned = level_for(settings, value);
    let earned_rank = earned.and_then(|level| rank(settings, Some(&level.id)));
    if earned_rank > rank(settings, current) {
        earned.map(|level| level.id.clone())
    } else {
        current.cloned()
    }
}

/// The tier at a periodic evaluation: may go down, but not within the grace period after the
/// member reached their current tier.
pub fn at_evaluation(
    settings: &TierSettings,
    current: Option<&Slug>,
    reached_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    value: i64,
) -> Option<Slug> {
    let earned = level_for(settings, value).map(|level| level.id.clone());
    let grace_over = reached_at.is_none_or(|at| {
        now >= at + chrono::Duration::days(i64::from(settings.downgrade_grace_days))
    });
    if rank(settings, earned.as_ref()) >= rank(settings, current) || grace_over {
        earned
    } else {
        current.cloned()
    }
}

/// The next level above the member's current one and how much of the metric is missing.
pub fn next_level<'a>(
    settings: &'a TierSettings,
    current: Option<&Slug>,
    value: i64,
) -> Option<(&'a TierLevel, i64)> {
    let next_rank = rank(settings, current).map_or(0, |r| r + 1);
    settings
        .levels
        .get(next_rank)
        .map(|level| (level, (threshold(settings, level) - value).max(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::parse_program;

    fn settings(window: &str) -> TierSettings {
        let json = format!(
            r#"{{"tiers":{{"metric":"spend","window":"{window}","downgrade_grace_days":30,"levels":[
            {{"id":"bronze","name":"Bronze","threshold":"0"}},
            {{"id":"silver","name":"Silver","threshold":"200.00"}},
            {{"id":"gold","name":"Gold","threshold":"500.00","multiplier":"1.5"}}]}}}}"#
        );
        parse_program(&json)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .tiers
            .unwrap_or_else(|| panic!("fixture"))
    }

    fn slug(text: &str) -> Slug {
        Slug::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn upgrades_happen_at_once_and_never_downgrade_on_activity() {
        let tiers = settings("lifetime");
        assert_eq!(after_activity(&tiers, None, 0), Some(slug("bronze")));
        assert_eq!(
            after_activity(&tiers, Some(&slug("bronze")), 50_000),
            Some(slug("gold"))
        );
        assert_eq!(
            after_activity(&tiers, Some(&slug("gold")), 100),
            Some(slug("gold"))
        );
    }

    #[test]
    fn downgrades_wait_for_the_grace_period() {
        let tiers = settings("rolling_12_months");
        let reached = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let gold = slug("gold");
        let within_grace = reached + chrono::Duration::days(29);
        assert_eq!(
            at_evaluation(&tiers, Some(&gold), Some(reached), within_grace, 25_000),
            Some(gold.clone())
        );
        let after_grace = reached + chrono::Duration::days(31);
        assert_eq!(
            at_evaluation(&tiers, Some(&gold), Some(reached), after_grace, 25_000),
            Some(slug("silver"))
        );
    }

    #[test]
    fn rolling_window_ignores_spend_older_than_twelve_months() {
        let tiers = settings("rolling_12_months");
        let mut activity = Activity::default();
        activity.add(
            100,
            Tally {
                spend_cents: 60_000,
                ..Tally::default()
            },
        );
        activity.add(
            105,
            Tally {
                spend_cents: 10_000,
                ..Tally::default()
            },
        );
        assert_eq!(qualifying_value(&tiers, &activity, 111), 70_000);
        assert_eq!(qualifying_value(&tiers, &activity, 112), 10_000);
    }

    #[test]
    fn calendar_year_window_starts_in_january() {
        let tiers = settings("calendar_year");
        let mut activity = Activity::default();
        activity.add(
            2025 * 12 + 11,
            Tally {
                spend_cents: 5_000,
                ..Tally::default()
            },
        );
        activity.add(
            2026 * 12,
            Tally {
                spend_cents: 7_000,
                ..Tally::default()
            },
        );
        assert_eq!(qualifying_value(&tiers, &activity, 2026 * 12 + 3), 7_000);
    }

    #[test]
    fn progress_names_the_next_level_and_the_gap() {
        let tiers = settings("lifetime");
        let (level, missing) =
            next_level(&tiers, Some(&slug("silver")), 38_000).unwrap_or_else(|| panic!("gold"));
        assert_eq!((level.id.as_str(), missing), ("gold", 12_000));
        assert!(next_level(&tiers, Some(&slug("gold")), 90_000).is_none());
    }
}
