//! What the worker computes of a business as a whole from every member's aggregates: the
//! lifetime models fitted on them, the value they predict for the next 365 days, and
//! every member's segments with the segments' sizes. Fitting and placing a million
//! members takes seconds, so it runs in the background and the dashboard reads the result.

use super::membership::{Placement, Sizes, place, sizes};
use super::segments::{Lifecycle, LifecycleThresholds, MemberFacts, RfmSegment};
use crate::clv::{self, Histories};
use crate::ids::MemberId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One member's aggregates, as the store keeps them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemberAggregate {
    pub member_id: MemberId,
    pub joined_at: DateTime<Utc>,
    pub last_visit_at: Option<DateTime<Utc>>,
    pub visits: u64,
    pub spend_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub computed_at: DateTime<Utc>,
    pub members: u64,
    /// The models' fit on every member, or why there is none.
    pub fit: Result<clv::Fit, String>,
    /// Σ over members of the expected value of their next 365 days, in cents.
    pub predicted_value_365_days_cents: f64,
    pub lifecycle: Sizes<Lifecycle>,
    pub rfm: Sizes<RfmSegment>,
}

/// What `compute` gives: the snapshot, and every member's facts and placement (in the
/// order given), which custom segments are evaluated on.
#[derive(Clone, Debug)]
pub struct Computed {
    pub snapshot: Snapshot,
    pub facts: Vec<MemberFacts>,
    pub placements: Vec<Placement>,
}

/// The snapshot at `now`, with every member's facts and placement.
pub fn compute(
    members: &[MemberAggregate],
    now: DateTime<Utc>,
    thresholds: &LifecycleThresholds,
) -> Computed {
    let histories: Vec<clv::CustomerHistory> = members
        .iter()
        .map(|m| clv::member_history(m.joined_at, m.last_visit_at, m.visits, m.spend_cents, now))
        .collect();
    let fit = clv::fit(&Histories::new(histories.iter().copied()));
    let predicted_value_365_days_cents = fit.as_ref().map_or(0.0, |fit| {
        histories
            .iter()
            .filter_map(|h| fit.predict(h))
            .map(|p| p.expected_value_365_days)
            .sum()
    });
    let facts = member_facts(members, now, fit.as_ref().ok());
    let placements = place(&facts, thresholds);
    let (lifecycle, rfm) = sizes(&placements);
    let snapshot = Snapshot {
        computed_at: now,
        members: members.len() as u64,
        fit: fit.map_err(|error| error.to_string()),
        predicted_value_365_days_cents,
        lifecycle,
        rfm,
    };
    Computed {
        snapshot,
        facts,
        placements,
    }
}

/// Every member's facts at `now`, with P(alive) where the models were fitted.
pub fn member_facts(
    members: &[MemberAggregate],
    now: DateTime<Utc>,
    fit: Option<&clv::Fit>,
) -> Vec<MemberFacts> {
    members
        .iter()
        .map(|m| {
            MemberFacts::at(
                now,
                m.joined_at,
                m.last_visit_at,
                m.visits,
                m.spend_cents,
                fit,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::simulate;
    use chrono::{Duration, TimeZone};
    use uuid::Uuid;

    #[test]
    fn members_simulated_from_the_models_get_a_fit_a_value_and_a_segment_each() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let population = simulate::Population {
            bgnbd: clv::bgnbd::Parameters {
                r: 0.8,
                alpha: 4.0,
                a: 0.6,
                b: 3.0,
                log_likelihood: 0.0,
            },
            gamma_gamma: clv::gamma_gamma::Parameters {
                p: 4.0,
                q: 5.0,
                v: 2_000.0,
            },
            age_weeks_min: 4.0,
            age_weeks_max: 70.0,
        };
        let members: Vec<MemberAggregate> = simulate::histories(&population, 3_000, 5)
            .iter()
            .enumerate()
            .map(|(n, h)| {
                let joined_at = now - Duration::seconds((h.age_weeks * 7.0 * 86_400.0) as i64);
                MemberAggregate {
                    member_id: MemberId::from_uuid(Uuid::from_u128(n as u128)),
                    joined_at,
                    last_visit_at: (h.frequency > 0).then(|| {
                        joined_at + Duration::seconds((h.recency_weeks * 7.0 * 86_400.0) as i64)
                    }),
                    visits: u64::from(h.frequency),
                    spend_cents: (h.monetary_value * f64::from(h.frequency)) as i64,
                }
            })
            .collect();
        let Computed {
            snapshot,
            placements,
            ..
        } = compute(&members, now, &LifecycleThresholds::default());
        let fit = snapshot.fit.as_ref().expect("enough repeat customers");
        assert!((fit.bgnbd.r / 0.8 - 1.0).abs() < 0.25, "{fit:?}");
        assert!(snapshot.predicted_value_365_days_cents > 0.0);
        assert_eq!(placements.len(), 3_000);
        assert_eq!(
            snapshot.lifecycle.iter().map(|(_, n)| n).sum::<u64>(),
            3_000
        );
        let json = serde_json::to_string(&snapshot).unwrap();
        let read: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            json,
            "stored and read back"
        );
    }
}
