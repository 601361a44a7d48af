//! A business's history as analytics reads it — members with their join time, their
//! visits and purchases, the points ledger, the coupons used and the survey answers — and
//! what is counted from it: a period's facts (overall or at one location), the cohort
//! counts, the monthly series of the dashboard's charts, and every member's facts for the
//! segments and the lifetime models.

use super::cohort::Month;
use super::facts::{MemberActivity, PeriodFacts};
use super::rollup::points_moved;
use super::segments::MemberFacts;
use crate::clv::{self, CustomerHistory};
use crate::ids::{LocationId, MemberId};
use crate::ledger::Transfer;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// A purchase or a visit that was not voided.
#[derive(Clone, Debug, PartialEq)]
pub struct Visit {
    pub member_id: MemberId,
    pub at: DateTime<Utc>,
    pub location_id: Option<LocationId>,
    pub purchase: bool,
    /// The purchase's amount after refunds (0 for a visit).
    pub revenue_cents: i64,
    /// The distinct item categories of the purchase.
    pub categories: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UsedCoupon {
    pub member_id: MemberId,
    pub at: DateTime<Utc>,
    /// What the coupon gave away, where known.
    pub cost_cents: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SurveyAnswer {
    pub at: DateTime<Utc>,
    pub location_id: Option<LocationId>,
    pub score: u8,
}

/// Everything analytics counts from; visits in the order they happened.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub members: Vec<(MemberId, DateTime<Utc>)>,
    pub visits: Vec<Visit>,
    /// When voided purchases and visits happened: they count for nothing but a member's
    /// last time at the counter (which a void does not move back).
    pub voided_visits: Vec<(MemberId, DateTime<Utc>)>,
    /// The points transfers (other units are left out).
    pub point_transfers: Vec<Transfer>,
    pub coupons_used: Vec<UsedCoupon>,
    pub survey_answers: Vec<SurveyAnswer>,
    pub value_per_100_points_cents: i64,
}

/// A half-open span of time, `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }

    /// The period of the same length that ends where this one begins.
    pub fn previous(&self) -> Period {
        Period {
            from: self.from - (self.to - self.from),
            to: self.from,
        }
    }

    pub fn days(&self) -> f64 {
        (self.to - self.from).num_seconds() as f64 / 86_400.0
    }
}

const DAY_SECONDS: f64 = 86_400.0;

impl History {
    /// When each member joined the scope: the business (their join), or a location (their
    /// first visit there).
    fn starts(&self, location: Option<LocationId>) -> HashMap<MemberId, DateTime<Utc>> {
        match location {
            None => self.members.iter().copied().collect(),
            Some(location) => {
                let mut starts = HashMap::new();
                for visit in self
                    .visits
                    .iter()
                    .filter(|v| v.location_id == Some(location))
                {
                    starts.entry(visit.member_id).or_insert(visit.at);
                }
                starts
            }
        }
    }

    /// The facts of `period` at `location` (or everywhere). `fit` is the lifetime models'
    /// fit as of the period's end, for the predictive CLV.
    pub fn facts(
        &self,
        period: Period,
        location: Option<LocationId>,
        fit: Option<&clv::Fit>,
    ) -> PeriodFacts {
        let starts = self.starts(location);
        let joins: HashMap<MemberId, DateTime<Utc>> = self.members.iter().copied().collect();
        let mut facts = PeriodFacts {
            days: period.days(),
            value_per_100_points_cents: self.value_per_100_points_cents,
            ..PeriodFacts::default()
        };
        for start in starts.values() {
            facts.members_at_start += u64::from(*start < period.from);
            facts.members_at_end += u64::from(*start < period.to);
            facts.new_members += u64::from(period.contains(*start));
        }
        let mut activity: HashMap<MemberId, (MemberActivity, Vec<&str>)> = HashMap::new();
        for visit in self
            .visits
            .iter()
            .filter(|v| period.contains(v.at) && in_scope(v.location_id, location))
        {
            let (member, categories) = activity.entry(visit.member_id).or_default();
            if visit.purchase {
                member.purchases += 1;
                member.revenue_cents += visit.revenue_cents;
            } else {
                member.visits += 1;
            }
            categories.extend(visit.categories.iter().map(String::as_str));
        }
        for coupon in self.coupons_used.iter().filter(|c| period.contains(c.at)) {
            if location.is_none() || activity.contains_key(&coupon.member_id) {
                activity.entry(coupon.member_id).or_default().0.coupons_used += 1;
                facts.reward_cost_cents += coupon.cost_cents;
            }
        }
        for (mut member, mut categories) in activity.into_values() {
            categories.sort_unstable();
            categories.dedup();
            member.kinds = u32::try_from(categories.len()).unwrap_or(u32::MAX);
            facts.add_activity(&member);
        }
        self.count_lifetimes(period.to, &joins, &mut facts);
        self.count_points(period, &mut facts);
        for answer in self
            .survey_answers
            .iter()
            .filter(|a| period.contains(a.at) && in_scope(a.location_id, location))
        {
            facts.nps.add(answer.score);
        }
        facts.predicted_value_365_days_cents =
            fit.map(|fit| self.predicted_value(fit, period.to, &starts));
        facts
    }

    /// The days from joining to the last visit before `to` (a voided one included), over the
    /// members who visited.
    fn count_lifetimes(
        &self,
        to: DateTime<Utc>,
        joins: &HashMap<MemberId, DateTime<Utc>>,
        facts: &mut PeriodFacts,
    ) {
        let mut last: HashMap<MemberId, DateTime<Utc>> = HashMap::new();
        let visits = self.visits.iter().map(|v| (v.member_id, v.at));
        for (member_id, at) in visits
            .chain(self.voided_visits.iter().copied())
            .filter(|(_, at)| *at < to)
        {
            let seen = last.entry(member_id).or_insert(at);
            *seen = (*seen).max(at);
        }
        let mut seconds = 0_i64;
        for (member_id, at) in last {
            if let Some(joined) = joins.get(&member_id) {
                seconds += (at - *joined).num_seconds().max(0);
                facts.lifetime_members += 1;
            }
        }
        // Whole seconds summed first, as the running aggregates do, so both agree exactly.
        facts.lifetime_days = seconds as f64 / DAY_SECONDS;
    }

    /// Points issued, redeemed and expired in the period (from the system accounts'
    /// balances over its transfers), and what members hold at its end.
    fn count_points(&self, period: Period, facts: &mut PeriodFacts) {
        let within: Vec<Transfer> = self
            .point_transfers
            .iter()
            .filter(|t| period.contains(t.created_at))
            .cloned()
            .collect();
        let moved = points_moved(&within);
        facts.points_issued = moved.points_issued;
        facts.points_redeemed = moved.points_redeemed;
        facts.points_expired = moved.points_expired;
        let until: Vec<Transfer> = self
            .point_transfers
            .iter()
            .filter(|t| t.created_at < period.to)
            .cloned()
            .collect();
        facts.points_outstanding = points_moved(&until).points_to_members;
    }

    /// The expected value of the next 365 days, summed over the members in scope by `at`.
    fn predicted_value(
        &self,
        fit: &clv::Fit,
        at: DateTime<Utc>,
        starts: &HashMap<MemberId, DateTime<Utc>>,
    ) -> f64 {
        self.customer_histories(at)
            .iter()
            .filter(|(member_id, _)| starts.get(member_id).is_some_and(|start| *start < at))
            .filter_map(|(_, history)| fit.predict(history))
            .map(|prediction| prediction.expected_value_365_days)
            .sum()
    }

    /// Every member's history for the lifetime models at `at`, in cents
    /// ([`clv::member_history`]), for the members who had joined by then.
    pub fn customer_histories(&self, at: DateTime<Utc>) -> Vec<(MemberId, CustomerHistory)> {
        let seen = self.seen_before(at);
        self.members
            .iter()
            .filter(|(_, joined)| *joined < at)
            .map(|(member_id, joined)| {
                let (last, visits, spend) = seen
                    .get(member_id)
                    .map_or((None, 0, 0), |(last, visits, spend)| {
                        (Some(*last), *visits, *spend)
                    });
                (
                    *member_id,
                    clv::member_history(*joined, last, visits, spend, at),
                )
            })
            .collect()
    }

    /// Each member's last visit, number of visits and spend before `at`.
    fn seen_before(&self, at: DateTime<Utc>) -> HashMap<MemberId, (DateTime<Utc>, u64, i64)> {
        let mut seen: HashMap<MemberId, (DateTime<Utc>, u64, i64)> = HashMap::new();
        for visit in self.visits.iter().filter(|v| v.at < at) {
            let entry = seen.entry(visit.member_id).or_insert((visit.at, 0, 0));
            entry.0 = entry.0.max(visit.at);
            entry.1 += 1;
            entry.2 += visit.revenue_cents;
        }
        seen
    }

    /// What the segments see of each member at `now`, with P(alive) where `fit` is given.
    pub fn member_facts(
        &self,
        now: DateTime<Utc>,
        fit: Option<&clv::Fit>,
    ) -> Vec<(MemberId, MemberFacts)> {
        let seen = self.seen_before(now);
        self.members
            .iter()
            .map(|(member_id, joined)| {
                let (last, visits, spend) = seen
                    .get(member_id)
                    .map_or((None, 0, 0), |(last, visits, spend)| {
                        (Some(*last), *visits, *spend)
                    });
                (
                    *member_id,
                    MemberFacts::at(now, *joined, last, visits, spend, fit),
                )
            })
            .collect()
    }

    /// Cohort sizes by join month and distinct active members per (join month, month).
    pub fn cohort_counts(
        &self,
        location: Option<LocationId>,
    ) -> (BTreeMap<Month, u64>, BTreeMap<(Month, Month), u64>) {
        let starts = self.starts(location);
        let mut sizes = BTreeMap::new();
        for start in starts.values() {
            *sizes.entry(Month::of(start.date_naive())).or_insert(0) += 1;
        }
        let mut seen = std::collections::HashSet::new();
        let mut active = BTreeMap::new();
        for visit in self
            .visits
            .iter()
            .filter(|v| in_scope(v.location_id, location))
        {
            let Some(start) = starts.get(&visit.member_id) else {
                continue;
            };
            let month = Month::of(visit.at.date_naive());
            if seen.insert((visit.member_id, month)) {
                *active
                    .entry((Month::of(start.date_naive()), month))
                    .or_insert(0) += 1;
            }
        }
        (sizes, active)
    }
}

fn in_scope(at: Option<LocationId>, scope: Option<LocationId>) -> bool {
    scope.is_none() || at == scope
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TransferId;
    use crate::ledger::{Account, Phase, TransferKind, Unit};
    use chrono::TimeZone;
    use uuid::Uuid;

    /// Noon on the given day of March 2026 (day 0 is 1 March).
    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + chrono::Duration::days(n)
    }

    fn member(n: u128) -> MemberId {
        MemberId::from_uuid(Uuid::from_u128(n))
    }

    fn visit(
        who: u128,
        on: i64,
        location: Option<LocationId>,
        revenue_cents: i64,
        categories: &[&str],
    ) -> Visit {
        Visit {
            member_id: member(who),
            at: day(on),
            location_id: location,
            purchase: revenue_cents > 0,
            revenue_cents,
            categories: categories.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn points(debit: Account, credit: Account, amount: i64, on: i64, n: u128) -> Transfer {
        Transfer {
            id: TransferId::from_uuid(Uuid::from_u128(n)),
            unit: Unit::Points,
            debit,
            credit,
            amount,
            kind: TransferKind::Earn,
            phase: Phase::Posted,
            event_id: None,
            reverses: None,
            expires_at: None,
            created_at: day(on),
            memo: String::new(),
        }
    }

    /// Three members: 1 joined in February and buys coffee and cake in March at the
    /// counter in town; 2 joined on 10 March and came once (a stamp) at the station; 3
    /// joined in April.
    fn history() -> History {
        let (town, station) = (
            Some(LocationId::from_uuid(Uuid::from_u128(100))),
            Some(LocationId::from_uuid(Uuid::from_u128(200))),
        );
        History {
            members: vec![
                (member(1), day(-20)),
                (member(2), day(9)),
                (member(3), day(35)),
            ],
            visits: vec![
                visit(1, -10, town, 300, &["coffee"]),
                visit(1, 2, town, 450, &["coffee", "cake"]),
                visit(1, 20, town, 250, &["coffee"]),
                visit(2, 9, station, 0, &[]),
                visit(3, 36, town, 500, &["cake"]),
            ],
            point_transfers: vec![
                points(Account::Issuance, Account::Member(member(1)), 300, -10, 1),
                points(Account::Issuance, Account::Member(member(1)), 700, 2, 2),
                points(Account::Member(member(1)), Account::Redemption, 500, 20, 3),
                points(Account::Member(member(1)), Account::Expiry, 100, 25, 4),
            ],
            coupons_used: vec![UsedCoupon {
                member_id: member(1),
                at: day(20),
                cost_cents: 350,
            }],
            voided_visits: Vec::new(),
            survey_answers: vec![
                SurveyAnswer {
                    at: day(3),
                    location_id: town,
                    score: 10,
                },
                SurveyAnswer {
                    at: day(4),
                    location_id: station,
                    score: 3,
                },
            ],
            value_per_100_points_cents: 50,
        }
    }

    fn march() -> Period {
        Period {
            from: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            to: Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn the_facts_of_a_month_count_its_members_visits_points_and_answers() {
        let facts = history().facts(march(), None, None);
        assert_eq!(
            (
                facts.members_at_start,
                facts.members_at_end,
                facts.new_members
            ),
            (1, 2, 1)
        );
        assert_eq!(
            (
                facts.active_members,
                facts.purchasing_members,
                facts.repeat_members
            ),
            (2, 1, 1)
        );
        assert_eq!(
            (facts.purchases, facts.visits, facts.revenue_cents),
            (2, 3, 700)
        );
        assert_eq!(
            (facts.single_kind_members, facts.multi_kind_members),
            (0, 1)
        );
        assert_eq!(
            (
                facts.coupons_used,
                facts.reward_cost_cents,
                facts.redeeming_members
            ),
            (1, 350, 1)
        );
        assert_eq!(
            (
                facts.points_issued,
                facts.points_redeemed,
                facts.points_expired
            ),
            (700, 500, 100)
        );
        assert_eq!(facts.points_outstanding, 400, "300 + 700 − 500 − 100");
        assert_eq!((facts.nps.promoters, facts.nps.detractors), (1, 1));
        // Member 1: joined on day −20, last seen on day 20; member 2: joined and came on day 9.
        assert_eq!((facts.lifetime_days, facts.lifetime_members), (40.0, 2));
        assert_eq!(facts.days, 31.0);
    }

    #[test]
    fn at_a_location_members_count_from_their_first_visit_there() {
        let town = Some(LocationId::from_uuid(Uuid::from_u128(100)));
        let facts = history().facts(march(), town, None);
        assert_eq!(
            (
                facts.members_at_start,
                facts.members_at_end,
                facts.new_members
            ),
            (1, 1, 0)
        );
        assert_eq!((facts.active_members, facts.visits), (1, 2));
        assert_eq!(facts.nps.total(), 1);
    }

    #[test]
    fn cohorts_count_each_member_once_per_month() {
        let (sizes, active) = history().cohort_counts(None);
        let month = |y, m| Month::of(chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap());
        assert_eq!(
            sizes,
            BTreeMap::from([
                (month(2026, 2), 1),
                (month(2026, 3), 1),
                (month(2026, 4), 1)
            ])
        );
        assert_eq!(
            active[&(month(2026, 2), month(2026, 3))],
            1,
            "two visits, one member"
        );
        assert_eq!(active[&(month(2026, 2), month(2026, 2))], 1);
        assert_eq!(active[&(month(2026, 4), month(2026, 4))], 1);
    }

    #[test]
    fn member_facts_know_the_last_visit_and_the_lifetime_histories_the_repeat_days() {
        let facts = history().member_facts(day(30), None);
        let one = facts.iter().find(|(id, _)| *id == member(1)).unwrap().1;
        assert_eq!(
            (one.days_since_last_visit, one.visits, one.spend_cents),
            (Some(10.0), 3, 1_000)
        );
        let three = facts.iter().find(|(id, _)| *id == member(3)).unwrap().1;
        assert_eq!(three.days_since_last_visit, None);
        let histories = history().customer_histories(day(30) + chrono::Duration::seconds(1));
        assert_eq!(histories.len(), 2, "member 3 joined later");
        let one = histories.iter().find(|(id, _)| *id == member(1)).unwrap().1;
        assert_eq!((one.frequency, one.monetary_value), (3, 1_000.0 / 3.0));
        assert_eq!(one.recency_weeks, 40.0 / 7.0);
    }
}
