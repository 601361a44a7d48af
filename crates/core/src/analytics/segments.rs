//! Segments (SPEC §3): every member's lifecycle stage by configurable thresholds, and their
//! RFM scores (1–5 by quintiles of recency, frequency and monetary value across the
//! business's buying members) with the named RFM segments.

use crate::clv;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the segments see of one member at a moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemberFacts {
    pub days_since_joined: f64,
    /// `None` for a member who never came.
    pub days_since_last_visit: Option<f64>,
    /// Purchases and visits, all time.
    pub visits: u64,
    pub spend_cents: i64,
    /// The predictive model's probability that the member still comes, where fitted.
    pub probability_alive: Option<f64>,
}

impl MemberFacts {
    /// A member's facts at `now` from their aggregates, with P(alive) where `fit` is given.
    pub fn at(
        now: DateTime<Utc>,
        joined_at: DateTime<Utc>,
        last_visit_at: Option<DateTime<Utc>>,
        visits: u64,
        spend_cents: i64,
        fit: Option<&clv::Fit>,
    ) -> Self {
        let days = |from: DateTime<Utc>| (now - from).num_milliseconds() as f64 / 86_400_000.0;
        let history = clv::member_history(joined_at, last_visit_at, visits, spend_cents, now);
        Self {
            days_since_joined: days(joined_at),
            days_since_last_visit: last_visit_at.map(days),
            visits,
            spend_cents,
            probability_alive: fit.map(|fit| clv::bgnbd::probability_alive(&fit.bgnbd, &history)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    New,
    Active,
    Loyal,
    AtRisk,
    Lapsed,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 5] = [
        Self::New,
        Self::Active,
        Self::Loyal,
        Self::AtRisk,
        Self::Lapsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Active => "active",
            Self::Loyal => "loyal",
            Self::AtRisk => "at_risk",
            Self::Lapsed => "lapsed",
        }
    }
}

/// The business's thresholds for the lifecycle stages.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleThresholds {
    /// Joined within this many days: new.
    pub new_within_days: u32,
    /// No visit for this many days: at risk …
    pub at_risk_after_days: u32,
    /// … and for this many: lapsed.
    pub lapsed_after_days: u32,
    /// At risk too when the model's churn probability (1 − P(alive)) is above this.
    pub churn_probability_above: Option<f64>,
    /// Loyal (VIP) from this many visits, when neither new nor at risk.
    pub loyal_from_visits: u64,
}

impl Default for LifecycleThresholds {
    fn default() -> Self {
        Self {
            new_within_days: 30,
            at_risk_after_days: 60,
            lapsed_after_days: 90,
            churn_probability_above: Some(0.7),
            loyal_from_visits: 10,
        }
    }
}

impl LifecycleThresholds {
    /// Refuses thresholds that contradict each other: the field to fix and why.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        if self.at_risk_after_days == 0 {
            return Err(("at_risk_after_days", "must be at least one day"));
        }
        if self.lapsed_after_days <= self.at_risk_after_days {
            return Err(("lapsed_after_days", "must be later than at risk"));
        }
        if self.new_within_days > 365 || self.lapsed_after_days > 3_650 {
            return Err((
                "new_within_days",
                "a year at most for new, ten years for lapsed",
            ));
        }
        if self
            .churn_probability_above
            .is_some_and(|p| !(0.0..1.0).contains(&p) || p <= 0.0)
        {
            return Err(("churn_probability_above", "must be between 0 and 100 %"));
        }
        if self.loyal_from_visits == 0 {
            return Err(("loyal_from_visits", "must be at least one visit"));
        }
        Ok(())
    }

    /// The stage of a member, checked from the most urgent: lapsed, at risk, new, loyal,
    /// active. A new member who has not come back yet is new, not lapsed.
    pub fn stage(&self, member: &MemberFacts) -> Lifecycle {
        let quiet_days = member
            .days_since_last_visit
            .unwrap_or(member.days_since_joined);
        if member.days_since_joined <= f64::from(self.new_within_days) {
            return Lifecycle::New;
        }
        if quiet_days >= f64::from(self.lapsed_after_days) {
            return Lifecycle::Lapsed;
        }
        let likely_gone = match (self.churn_probability_above, member.probability_alive) {
            (Some(threshold), Some(alive)) => 1.0 - alive > threshold,
            _ => false,
        };
        if quiet_days >= f64::from(self.at_risk_after_days) || likely_gone {
            return Lifecycle::AtRisk;
        }
        if member.visits >= self.loyal_from_visits {
            Lifecycle::Loyal
        } else {
            Lifecycle::Active
        }
    }
}

/// One member's RFM scores, each 1 (lowest fifth) to 5 (highest fifth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RfmScore {
    pub recency: u8,
    pub frequency: u8,
    pub monetary: u8,
}

impl RfmScore {
    /// The named segment of the recency and frequency scores, by the usual R×F grid.
    pub fn segment(&self) -> RfmSegment {
        match (self.recency, self.frequency) {
            (1, 1) => RfmSegment::Lost,
            (1 | 2, 1 | 2) => RfmSegment::Hibernating,
            (1 | 2, 3 | 4) => RfmSegment::AtRisk,
            (1 | 2, _) => RfmSegment::CannotLoseThem,
            (3, 1 | 2) => RfmSegment::AboutToSleep,
            (3, 3) => RfmSegment::NeedAttention,
            (3 | 4, _) if self.frequency >= 4 => RfmSegment::Loyal,
            (4, 1) => RfmSegment::Promising,
            (5, 1) => RfmSegment::NewCustomers,
            (_, 2 | 3) => RfmSegment::PotentialLoyalists,
            _ => RfmSegment::Champions,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RfmSegment {
    Champions,
    Loyal,
    PotentialLoyalists,
    NewCustomers,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CannotLoseThem,
    Hibernating,
    Lost,
}

impl RfmSegment {
    pub const ALL: [RfmSegment; 11] = [
        Self::Champions,
        Self::Loyal,
        Self::PotentialLoyalists,
        Self::NewCustomers,
        Self::Promising,
        Self::NeedAttention,
        Self::AboutToSleep,
        Self::AtRisk,
        Self::CannotLoseThem,
        Self::Hibernating,
        Self::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Champions => "champions",
            Self::Loyal => "loyal",
            Self::PotentialLoyalists => "potential_loyalists",
            Self::NewCustomers => "new_customers",
            Self::Promising => "promising",
            Self::NeedAttention => "need_attention",
            Self::AboutToSleep => "about_to_sleep",
            Self::AtRisk => "at_risk",
            Self::CannotLoseThem => "cannot_lose_them",
            Self::Hibernating => "hibernating",
            Self::Lost => "lost",
        }
    }
}

/// RFM scores for every member who has visited (`None` for those who never came), in the
/// order given. A member's score is the fifth their rank falls in; equal values share the
/// mean rank of their group, so members who look alike score alike, and a business where
/// everyone looks alike scores everyone 3, not 1.
pub fn rfm_scores(members: &[MemberFacts]) -> Vec<Option<RfmScore>> {
    let recency = quintiles(members, |m| m.days_since_last_visit.map(|days| -days));
    let frequency = quintiles(members, |m| {
        m.days_since_last_visit.map(|_| m.visits as f64)
    });
    let monetary = quintiles(members, |m| {
        m.days_since_last_visit.map(|_| m.spend_cents as f64)
    });
    (0..members.len())
        .map(|i| {
            Some(RfmScore {
                recency: recency[i]?,
                frequency: frequency[i]?,
                monetary: monetary[i]?,
            })
        })
        .collect()
}

/// Scores 1–5 by the rank of `value` among the members that have one (higher is better).
fn quintiles(
    members: &[MemberFacts],
    value: impl Fn(&MemberFacts) -> Option<f64>,
) -> Vec<Option<u8>> {
    let mut ranked: Vec<(f64, usize)> = members
        .iter()
        .enumerate()
        .filter_map(|(i, m)| value(m).map(|v| (v, i)))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut scores = vec![None; members.len()];
    let count = ranked.len() as f64;
    let mut start = 0;
    for group in ranked.chunk_by(|a, b| a.0 == b.0) {
        let mean_rank = start as f64 + (group.len() - 1) as f64 / 2.0;
        let score = 1 + (5.0 * (mean_rank + 0.5) / count).floor().min(4.0) as u8;
        for (_, member) in group {
            scores[*member] = Some(score);
        }
        start += group.len();
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(
        days_since_joined: f64,
        days_since_last_visit: Option<f64>,
        visits: u64,
    ) -> MemberFacts {
        MemberFacts {
            days_since_joined,
            days_since_last_visit,
            visits,
            spend_cents: visits as i64 * 500,
            probability_alive: None,
        }
    }

    #[test]
    fn lifecycle_stages_follow_the_thresholds() {
        let thresholds = LifecycleThresholds::default();
        let cases = [
            (member(10.0, None, 0), Lifecycle::New),
            (member(10.0, Some(2.0), 1), Lifecycle::New),
            (member(200.0, Some(5.0), 3), Lifecycle::Active),
            (member(200.0, Some(5.0), 12), Lifecycle::Loyal),
            (member(200.0, Some(60.0), 12), Lifecycle::AtRisk),
            (member(200.0, Some(89.9), 2), Lifecycle::AtRisk),
            (member(200.0, Some(90.0), 40), Lifecycle::Lapsed),
            (member(120.0, None, 0), Lifecycle::Lapsed),
        ];
        for (facts, expected) in cases {
            assert_eq!(thresholds.stage(&facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn contradicting_thresholds_are_refused_with_the_field_to_fix() {
        assert_eq!(LifecycleThresholds::default().check(), Ok(()));
        let lapsed_first = LifecycleThresholds {
            lapsed_after_days: 50,
            ..LifecycleThresholds::default()
        };
        assert_eq!(lapsed_first.check().unwrap_err().0, "lapsed_after_days");
        let certain = LifecycleThresholds {
            churn_probability_above: Some(1.0),
            ..LifecycleThresholds::default()
        };
        assert_eq!(certain.check().unwrap_err().0, "churn_probability_above");
        let never = LifecycleThresholds {
            loyal_from_visits: 0,
            ..LifecycleThresholds::default()
        };
        assert_eq!(never.check().unwrap_err().0, "loyal_from_visits");
    }

    #[test]
    fn a_high_churn_probability_puts_a_recent_regular_at_risk() {
        let thresholds = LifecycleThresholds::default();
        let regular = MemberFacts {
            probability_alive: Some(0.2),
            ..member(300.0, Some(20.0), 30)
        };
        assert_eq!(thresholds.stage(&regular), Lifecycle::AtRisk);
        let sure = MemberFacts {
            probability_alive: Some(0.9),
            ..regular
        };
        assert_eq!(thresholds.stage(&sure), Lifecycle::Loyal);
        let without_model = LifecycleThresholds {
            churn_probability_above: None,
            ..thresholds
        };
        assert_eq!(without_model.stage(&regular), Lifecycle::Loyal);
    }

    #[test]
    fn rfm_scores_are_quintiles_and_ties_score_alike() {
        // Ten buying members with 1..=10 visits, last seen 10..=1 days ago, and one who
        // never came.
        let mut members: Vec<MemberFacts> = (1..=10)
            .map(|n| member(400.0, Some(11.0 - n as f64), n))
            .collect();
        members.push(member(400.0, None, 0));
        let scores = rfm_scores(&members);
        let frequency: Vec<u8> = scores[..10].iter().map(|s| s.unwrap().frequency).collect();
        assert_eq!(frequency, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(scores[9].unwrap().recency, 5, "the most recent");
        assert_eq!(scores[10], None, "never came");
        let alike = rfm_scores(&[member(400.0, Some(3.0), 4), member(400.0, Some(3.0), 4)]);
        assert_eq!(alike[0], alike[1]);
        let only = rfm_scores(&[member(400.0, Some(0.0), 1)])[0].unwrap();
        assert_eq!(
            (only.recency, only.frequency, only.monetary),
            (3, 3, 3),
            "one member is in the middle"
        );
    }

    #[test]
    fn the_rfm_grid_names_every_combination() {
        let name = |recency, frequency| {
            RfmScore {
                recency,
                frequency,
                monetary: 3,
            }
            .segment()
        };
        assert_eq!(name(5, 5), RfmSegment::Champions);
        assert_eq!(name(4, 4), RfmSegment::Loyal);
        assert_eq!(name(5, 2), RfmSegment::PotentialLoyalists);
        assert_eq!(name(5, 1), RfmSegment::NewCustomers);
        assert_eq!(name(4, 1), RfmSegment::Promising);
        assert_eq!(name(3, 3), RfmSegment::NeedAttention);
        assert_eq!(name(3, 1), RfmSegment::AboutToSleep);
        assert_eq!(name(2, 4), RfmSegment::AtRisk);
        assert_eq!(name(1, 5), RfmSegment::CannotLoseThem);
        assert_eq!(name(2, 2), RfmSegment::Hibernating);
        assert_eq!(name(1, 1), RfmSegment::Lost);
        let named: std::collections::BTreeSet<RfmSegment> = (1..=5)
            .flat_map(|r| (1..=5).map(move |f| name(r, f)))
            .collect();
        assert_eq!(
            named.len(),
            RfmSegment::ALL.len(),
            "every segment is reachable"
        );
    }
}
