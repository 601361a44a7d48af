//! The KPIs of SPEC §4, each a pure function of a period's [`PeriodFacts`], with its exact
//! formula. A KPI whose formula divides by zero (no purchases, no members at the start)
//! has no value rather than a made-up one.

use super::facts::PeriodFacts;
use serde::Serialize;

/// How a KPI's value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Percent,
    /// An amount in cents of the program's currency.
    Cents,
    Points,
    /// A plain number (visits per member, a ratio, a score).
    Number,
}

/// One KPI of one period, next to the same KPI of the period before.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Kpi {
    pub key: &'static str,
    pub unit: Unit,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    /// value − previous, where both exist.
    pub change: Option<f64>,
    pub formula: &'static str,
}

type Measure = fn(&PeriodFacts) -> Option<f64>;

/// Every KPI: its key, unit, formula and how it is computed.
const KPIS: [(&str, Unit, &str, Measure); 21] = [
    (
        "members",
        Unit::Count,
        "E = members who had joined by the end of the period",
        |f| Some(f.members_at_end as f64),
    ),
    (
        "new_members",
        Unit::Count,
        "N = members who joined in the period",
        |f| Some(f.new_members as f64),
    ),
    (
        "active_members",
        Unit::Count,
        "members with a purchase or a visit in the period",
        |f| Some(f.active_members as f64),
    ),
    (
        "retention_rate",
        Unit::Percent,
        "CRR = (E − N) / S × 100, S = members at the start of the period",
        retention_rate,
    ),
    (
        "repeat_purchase_rate",
        Unit::Percent,
        "members with more than one purchase / members with a purchase × 100",
        |f| percent(f.repeat_members as f64, f.purchasing_members as f64),
    ),
    (
        "purchase_frequency",
        Unit::Number,
        "purchases / members with a purchase",
        |f| ratio(f.purchases as f64, f.purchasing_members as f64),
    ),
    (
        "average_order_value",
        Unit::Cents,
        "AOV = member revenue / purchases",
        average_order_value,
    ),
    (
        "historic_clv",
        Unit::Cents,
        "AOV × purchases per member and year × average lifetime in years (joining to the last visit by the period's end, over the members who have visited)",
        historic_clv,
    ),
    (
        "predictive_clv",
        Unit::Cents,
        "expected value over the next 365 days per member, by BG/NBD (visits) × Gamma-Gamma (spend per visit), fitted on the business's history",
        |f| ratio(f.predicted_value_365_days_cents?, f.members_at_end as f64),
    ),
    (
        "member_revenue",
        Unit::Cents,
        "what members' purchases came to, after refunds",
        |f| Some(f.revenue_cents as f64),
    ),
    (
        "visits",
        Unit::Count,
        "purchases and visits of members",
        |f| Some(f.visits as f64),
    ),
    (
        "nps",
        Unit::Number,
        "NPS = % promoters (9–10) − % detractors (0–6) of the survey answers",
        nps,
    ),
    (
        "upsell_ratio",
        Unit::Number,
        "members who bought more than one kind of product / members who bought one kind",
        |f| ratio(f.multi_kind_members as f64, f.single_kind_members as f64),
    ),
    (
        "loyalty_index",
        Unit::Percent,
        "the mean of (NPS + 100) / 2, the repeat purchase rate and the share of purchasing members who bought several kinds; each from 0 to 100, those without a value left out",
        loyalty_index,
    ),
    (
        "engagement_score",
        Unit::Percent,
        "100 × (0.5 × active / E + 0.3 × repeat purchasers / active + 0.2 × coupon users / active): recency, frequency and actions",
        engagement_score,
    ),
    (
        "redemption_rate",
        Unit::Percent,
        "points redeemed / points issued in the period × 100",
        |f| percent(f.points_redeemed as f64, f.points_issued as f64),
    ),
    (
        "breakage",
        Unit::Percent,
        "points expired / points issued in the period × 100",
        |f| percent(f.points_expired as f64, f.points_issued as f64),
    ),
    (
        "points_outstanding",
        Unit::Points,
        "points members hold at the end of the period",
        |f| Some(f.points_outstanding as f64),
    ),
    (
        "points_liability",
        Unit::Cents,
        "outstanding points × the value of a point (the program's value per 100 points / 100)",
        |f| Some(f.points_outstanding as f64 * f.value_per_100_points_cents as f64 / 100.0),
    ),
    (
        "reward_cost",
        Unit::Cents,
        "the value of the coupons used in the period: fixed discounts at their amount, rewards paid in points at the points' value",
        |f| Some(f.reward_cost_cents as f64),
    ),
    (
        "coupons_used",
        Unit::Count,
        "coupons used in the period",
        |f| Some(f.coupons_used as f64),
    ),
];

/// The KPIs of `current`, each with its value in `previous` (the period before).
pub fn kpis(current: &PeriodFacts, previous: &PeriodFacts) -> Vec<Kpi> {
    KPIS.iter()
        .map(|(key, unit, formula, measure)| {
            let value = measure(current);
            let previous = measure(previous);
            Kpi {
                key,
                unit: *unit,
                value,
                previous,
                change: value.zip(previous).map(|(now, before)| now - before),
                formula,
            }
        })
        .collect()
}

/// The keys of every KPI, in the order [`kpis`] returns them.
pub fn keys() -> impl Iterator<Item = &'static str> {
    KPIS.iter().map(|(key, ..)| *key)
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

fn percent(numerator: f64, denominator: f64) -> Option<f64> {
    ratio(numerator, denominator).map(|share| share * 100.0)
}

fn retention_rate(f: &PeriodFacts) -> Option<f64> {
    percent(
        f.members_at_end as f64 - f.new_members as f64,
        f.members_at_start as f64,
    )
}

fn average_order_value(f: &PeriodFacts) -> Option<f64> {
    ratio(f.revenue_cents as f64, f.purchases as f64)
}

fn historic_clv(f: &PeriodFacts) -> Option<f64> {
    const DAYS_PER_YEAR: f64 = 365.25;
    let purchases_per_year =
        ratio(f.purchases as f64, f.purchasing_members as f64)? * ratio(DAYS_PER_YEAR, f.days)?;
    let lifetime_years = ratio(f.lifetime_days, f.lifetime_members as f64)? / DAYS_PER_YEAR;
    Some(average_order_value(f)? * purchases_per_year * lifetime_years)
}

fn nps(f: &PeriodFacts) -> Option<f64> {
    let total = f.nps.total() as f64;
    Some(percent(f.nps.promoters as f64, total)? - percent(f.nps.detractors as f64, total)?)
}

fn loyalty_index(f: &PeriodFacts) -> Option<f64> {
    let parts = [
        nps(f).map(|score| (score + 100.0) / 2.0),
        percent(f.repeat_members as f64, f.purchasing_members as f64),
        percent(f.multi_kind_members as f64, f.purchasing_members as f64),
    ];
    let known: Vec<f64> = parts.into_iter().flatten().collect();
    ratio(known.iter().sum(), known.len() as f64)
}

fn engagement_score(f: &PeriodFacts) -> Option<f64> {
    let active = f.active_members as f64;
    let recency = ratio(active, f.members_at_end as f64)?;
    let frequency = ratio(f.repeat_members as f64, active).unwrap_or(0.0);
    let actions = ratio(f.redeeming_members as f64, active).unwrap_or(0.0);
    Some(100.0 * (0.5 * recency + 0.3 * frequency + 0.2 * actions))
}

#[cfg(test)]
mod tests {
    use super::super::facts::NpsAnswers;
    use super::*;

    fn value(facts: &PeriodFacts, key: &str) -> Option<f64> {
        kpis(facts, &PeriodFacts::default())
            .into_iter()
            .find(|kpi| kpi.key == key)
            .and_then(|kpi| kpi.value)
    }

    /// A small café month, counted by hand: 100 members at the start, 120 at the end of
    /// which 30 joined (so 10 left the count: erased), 50 active, 40 of them buying, 10 of
    /// those more than once, 60 purchases for 300 € in total.
    fn month() -> PeriodFacts {
        PeriodFacts {
            days: 30.0,
            members_at_start: 100,
            members_at_end: 120,
            new_members: 30,
            active_members: 50,
            purchasing_members: 40,
            repeat_members: 10,
            single_kind_members: 30,
            multi_kind_members: 10,
            redeeming_members: 5,
            purchases: 60,
            visits: 70,
            revenue_cents: 30_000,
            coupons_used: 6,
            points_issued: 1_000,
            points_redeemed: 250,
            points_expired: 50,
            points_outstanding: 4_000,
            value_per_100_points_cents: 50,
            reward_cost_cents: 1_200,
            lifetime_days: 80.0 * 365.25,
            lifetime_members: 80,
            nps: NpsAnswers {
                promoters: 6,
                passives: 2,
                detractors: 2,
            },
            predicted_value_365_days_cents: Some(120.0 * 2_500.0),
        }
    }

    #[test]
    fn every_kpi_of_a_month_matches_its_hand_computed_value() {
        let month = month();
        let expected = [
            ("members", 120.0),
            ("new_members", 30.0),
            ("active_members", 50.0),
            ("retention_rate", 90.0),       // (120 − 30) / 100
            ("repeat_purchase_rate", 25.0), // 10 / 40
            ("purchase_frequency", 1.5),    // 60 / 40
            ("average_order_value", 500.0), // 30 000 / 60
            ("historic_clv", 500.0 * 1.5 * 365.25 / 30.0), // AOV × (1.5 × 365.25 / 30) × 1 year
            ("predictive_clv", 2_500.0),
            ("member_revenue", 30_000.0),
            ("visits", 70.0),
            ("nps", 40.0), // 60 % − 20 %
            ("upsell_ratio", 10.0 / 30.0),
            ("loyalty_index", (70.0 + 25.0 + 25.0) / 3.0),
            (
                "engagement_score",
                100.0 * (0.5 * 50.0 / 120.0 + 0.3 * 10.0 / 50.0 + 0.2 * 5.0 / 50.0),
            ),
            ("redemption_rate", 25.0),
            ("breakage", 5.0),
            ("points_outstanding", 4_000.0),
            ("points_liability", 2_000.0), // 4 000 × 0,50 € / 100
            ("reward_cost", 1_200.0),
            ("coupons_used", 6.0),
        ];
        assert_eq!(expected.len(), keys().count(), "every KPI is checked");
        for (key, expected) in expected {
            let actual = value(&month, key).unwrap_or(f64::NAN);
            assert!(
                (actual - expected).abs() < 1e-9 * expected.abs().max(1.0),
                "{key}: {actual} ≠ {expected}"
            );
        }
    }

    #[test]
    fn an_empty_period_has_counts_of_zero_and_no_ratios() {
        let empty = PeriodFacts {
            days: 30.0,
            ..PeriodFacts::default()
        };
        for kpi in kpis(&empty, &empty) {
            match kpi.unit {
                Unit::Count | Unit::Points => assert_eq!(kpi.value, Some(0.0), "{}", kpi.key),
                Unit::Cents
                    if ["member_revenue", "points_liability", "reward_cost"].contains(&kpi.key) =>
                {
                    assert_eq!(kpi.value, Some(0.0), "{}", kpi.key)
                }
                _ => assert_eq!(kpi.value, None, "{} has no value without members", kpi.key),
            }
        }
    }

    #[test]
    fn a_single_customer_who_bought_once_retains_nothing_and_repeats_nothing() {
        let single = PeriodFacts {
            days: 7.0,
            members_at_end: 1,
            new_members: 1,
            active_members: 1,
            purchasing_members: 1,
            single_kind_members: 1,
            purchases: 1,
            visits: 1,
            revenue_cents: 450,
            lifetime_members: 1,
            ..PeriodFacts::default()
        };
        assert_eq!(
            value(&single, "retention_rate"),
            None,
            "no members at the start"
        );
        assert_eq!(value(&single, "repeat_purchase_rate"), Some(0.0));
        assert_eq!(value(&single, "average_order_value"), Some(450.0));
        assert_eq!(value(&single, "upsell_ratio"), Some(0.0));
        assert_eq!(value(&single, "nps"), None, "no answers");
        assert_eq!(
            value(&single, "historic_clv"),
            Some(0.0),
            "a lifetime of zero days"
        );
    }

    #[test]
    fn the_trend_is_the_change_against_the_previous_period() {
        let before = PeriodFacts {
            members_at_end: 100,
            ..month()
        };
        let members = kpis(&month(), &before)
            .into_iter()
            .find(|k| k.key == "members")
            .unwrap();
        assert_eq!(
            (members.value, members.previous, members.change),
            (Some(120.0), Some(100.0), Some(20.0))
        );
    }
}
