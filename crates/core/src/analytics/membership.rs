//! Who is in which segment now, and what changed since the last count: every member has a
//! lifecycle stage and, once they have visited, a named RFM segment. A change is a member
//! leaving one segment and entering another, which automation triggers on.

use super::segments::{Lifecycle, LifecycleThresholds, MemberFacts, RfmSegment, rfm_scores};
use crate::ids::MemberId;
use std::collections::HashMap;

/// A member's segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Placement {
    pub lifecycle: Lifecycle,
    pub rfm: Option<RfmSegment>,
}

impl Placement {
    /// The segments' names as stored: `lifecycle:<stage>` and `rfm:<segment>`.
    pub fn segments(&self) -> Vec<String> {
        let mut names = vec![format!("lifecycle:{}", self.lifecycle.as_str())];
        names.extend(self.rfm.map(|segment| format!("rfm:{}", segment.as_str())));
        names
    }
}

/// Every member's segments, in the order given.
pub fn place(members: &[MemberFacts], thresholds: &LifecycleThresholds) -> Vec<Placement> {
    let scores = rfm_scores(members);
    members
        .iter()
        .zip(scores)
        .map(|(member, score)| Placement {
            lifecycle: thresholds.stage(member),
            rfm: score.map(|s| s.segment()),
        })
        .collect()
}

/// A member entering or leaving a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub member_id: MemberId,
    pub segment: String,
    pub entered: bool,
}

/// What changed for one member: the segments left, then the segments entered.
pub fn moves(member_id: MemberId, before: Option<&Placement>, after: &Placement) -> Vec<Move> {
    let old = before.map(Placement::segments).unwrap_or_default();
    let new = after.segments();
    let left = old.iter().filter(|s| !new.contains(s)).map(|segment| Move {
        member_id,
        segment: segment.clone(),
        entered: false,
    });
    let entered = new.iter().filter(|s| !old.contains(s)).map(|segment| Move {
        member_id,
        segment: segment.clone(),
        entered: true,
    });
    left.chain(entered).collect()
}

/// How many members each segment of one kind has, in the kind's order.
pub type Sizes<S> = Vec<(S, u64)>;

/// How many members each lifecycle stage and each RFM segment has.
pub fn sizes(placements: &[Placement]) -> (Sizes<Lifecycle>, Sizes<RfmSegment>) {
    let mut lifecycle: HashMap<Lifecycle, u64> = HashMap::new();
    let mut rfm: HashMap<RfmSegment, u64> = HashMap::new();
    for placement in placements {
        *lifecycle.entry(placement.lifecycle).or_default() += 1;
        if let Some(segment) = placement.rfm {
            *rfm.entry(segment).or_default() += 1;
        }
    }
    (
        Lifecycle::ALL
            .iter()
            .map(|s| (*s, lifecycle.get(s).copied().unwrap_or(0)))
            .collect(),
        RfmSegment::ALL
            .iter()
            .map(|s| (*s, rfm.get(s).copied().unwrap_or(0)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn member(days_since_last_visit: Option<f64>, visits: u64) -> MemberFacts {
        MemberFacts {
            days_since_joined: 400.0,
            days_since_last_visit,
            visits,
            spend_cents: visits as i64 * 400,
            probability_alive: None,
        }
    }

    #[test]
    fn a_member_who_stops_coming_moves_from_active_to_at_risk() {
        let id = MemberId::from_uuid(Uuid::from_u128(1));
        let thresholds = LifecycleThresholds::default();
        let before = place(&[member(Some(5.0), 4)], &thresholds)[0];
        let after = place(&[member(Some(65.0), 4)], &thresholds)[0];
        assert_eq!(
            (before.lifecycle, after.lifecycle),
            (Lifecycle::Active, Lifecycle::AtRisk)
        );
        let changes = moves(id, Some(&before), &after);
        assert!(changes.contains(&Move {
            member_id: id,
            segment: "lifecycle:active".into(),
            entered: false
        }));
        assert!(changes.contains(&Move {
            member_id: id,
            segment: "lifecycle:at_risk".into(),
            entered: true
        }));
        assert!(
            moves(id, Some(&after), &after).is_empty(),
            "nothing changes twice"
        );
    }

    #[test]
    fn a_member_counted_the_first_time_enters_their_segments() {
        let id = MemberId::from_uuid(Uuid::from_u128(2));
        let placement = place(&[member(None, 0)], &LifecycleThresholds::default())[0];
        assert_eq!(placement.rfm, None, "no visit, no RFM segment");
        let changes = moves(id, None, &placement);
        assert_eq!(
            changes,
            [Move {
                member_id: id,
                segment: "lifecycle:lapsed".into(),
                entered: true
            }]
        );
    }

    #[test]
    fn sizes_count_every_member_once_per_kind_of_segment() {
        let members = [
            member(Some(1.0), 20),
            member(Some(100.0), 1),
            member(None, 0),
        ];
        let placements = place(&members, &LifecycleThresholds::default());
        let (lifecycle, rfm) = sizes(&placements);
        assert_eq!(lifecycle.iter().map(|(_, n)| n).sum::<u64>(), 3);
        assert_eq!(rfm.iter().map(|(_, n)| n).sum::<u64>(), 2);
    }
}
