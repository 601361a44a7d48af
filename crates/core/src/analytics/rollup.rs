//! Running aggregates that analytics reads instead of history, kept up to date by every
//! request as it is applied: additive counts per shop-local day, the numbers of distinct
//! members per calendar month, quarter and year (active, buying, buying again, …), and the
//! cohort counts. Each request yields the *changes* to them ([`request_deltas`]), derived
//! from the member states before and after it and from what it wrote; the store adds them
//! up. The counts over any days add up, and the distinct counts of a calendar month,
//! quarter or year are exact, so the dashboard reads a few rows however long the history.

use super::cohort::Month;
use super::facts::PeriodFacts;
use crate::activity::{MONTHS_KEPT, MonthIndex, MonthTally, Tally};
use crate::engine::{Changes, CouponStatus, MemberState};
use crate::ledger::{Account, Transfer, Unit, balances};
use crate::program::Program;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happened on one day, added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCounts {
    pub new_members: i64,
    /// Members whose first visit this was.
    pub first_visits: i64,
    pub purchases: i64,
    /// Purchases and visits.
    pub visits: i64,
    pub revenue_cents: i64,
    pub coupons_used: i64,
    pub reward_cost_cents: i64,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub points_expired: i64,
    /// The net change of what members hold.
    pub points_to_members: i64,
    /// The change of Σ (last visit − joined) over members, in seconds.
    pub lifetime_seconds: i64,
}

/// A count's name (its storage column) and where it is in its struct.
pub type Field<T> = (&'static str, fn(&mut T) -> &mut i64);

/// The fields of [`DayCounts`] in storage order, with a way to read and add each.
pub const DAY_FIELDS: [Field<DayCounts>; 12] = [
    ("new_members", |c| &mut c.new_members),
    ("first_visits", |c| &mut c.first_visits),
    ("purchases", |c| &mut c.purchases),
    ("visits", |c| &mut c.visits),
    ("revenue_cents", |c| &mut c.revenue_cents),
    ("coupons_used", |c| &mut c.coupons_used),
    ("reward_cost_cents", |c| &mut c.reward_cost_cents),
    ("points_issued", |c| &mut c.points_issued),
    ("points_redeemed", |c| &mut c.points_redeemed),
    ("points_expired", |c| &mut c.points_expired),
    ("points_to_members", |c| &mut c.points_to_members),
    ("lifetime_seconds", |c| &mut c.lifetime_seconds),
];

impl DayCounts {
    pub fn add(&mut self, other: &DayCounts) {
        let mut other = *other;
        for (_, field) in DAY_FIELDS {
            *field(self) += *field(&mut other);
        }
    }
}

/// How many distinct members did something in a calendar span.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistinctCounts {
    pub active: i64,
    pub purchasing: i64,
    pub repeat: i64,
    pub single_kind: i64,
    pub multi_kind: i64,
    pub redeeming: i64,
}

pub const DISTINCT_FIELDS: [Field<DistinctCounts>; 6] = [
    ("active", |c| &mut c.active),
    ("purchasing", |c| &mut c.purchasing),
    ("repeating", |c| &mut c.repeat),
    ("single_kind", |c| &mut c.single_kind),
    ("multi_kind", |c| &mut c.multi_kind),
    ("redeeming", |c| &mut c.redeeming),
];

impl DistinctCounts {
    /// Which of the counts one member's tally over a span belongs to (0 or 1 each).
    fn of(tally: &Tally) -> Self {
        let active = tally.visits > 0;
        let buying = tally.purchases > 0;
        Self {
            active: i64::from(active),
            purchasing: i64::from(buying),
            repeat: i64::from(tally.purchases > 1),
            single_kind: i64::from(buying && tally.kinds.count() <= 1),
            multi_kind: i64::from(buying && tally.kinds.count() > 1),
            redeeming: i64::from(active && tally.coupons_used > 0),
        }
    }

    pub fn add(&mut self, other: &DistinctCounts, sign: i64) {
        let mut other = *other;
        for (_, field) in DISTINCT_FIELDS {
            *field(self) += sign * *field(&mut other);
        }
    }
}

/// A calendar span the distinct counts are kept for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Span {
    Month,
    Quarter,
    Year,
}

impl Span {
    pub const ALL: [Span; 3] = [Span::Month, Span::Quarter, Span::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|span| span.as_str() == text)
    }

    pub fn months(self) -> MonthIndex {
        match self {
            Self::Month => 1,
            Self::Quarter => 3,
            Self::Year => 12,
        }
    }

    /// The first month of the span `month` lies in.
    pub fn start_of(self, month: MonthIndex) -> MonthIndex {
        month - month.rem_euclid(self.months())
    }

    /// The span exactly covering the days `from..=to`, if there is one.
    pub fn covering(from: NaiveDate, to: NaiveDate) -> Option<(Span, MonthIndex)> {
        let first = crate::activity::month_index(from);
        let next_day = to.succ_opt()?;
        let after = crate::activity::month_index(next_day);
        let starts_a_month = from == month_start(first)?;
        let ends_a_month = next_day == month_start(after)?;
        if !starts_a_month || !ends_a_month {
            return None;
        }
        Self::ALL
            .into_iter()
            .find(|span| span.start_of(first) == first && after - first == span.months())
            .map(|span| (span, first))
    }
}

/// The changes one request makes to the aggregates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Deltas {
    pub days: BTreeMap<NaiveDate, DayCounts>,
    pub distinct: BTreeMap<(Span, MonthIndex), DistinctCounts>,
    /// Distinct members active per (join month, month).
    pub cohorts: BTreeMap<(MonthIndex, MonthIndex), i64>,
}

impl Deltas {
    pub fn append(&mut self, other: Deltas) {
        for (day, counts) in other.days {
            self.days.entry(day).or_default().add(&counts);
        }
        for (key, counts) in other.distinct {
            self.distinct.entry(key).or_default().add(&counts, 1);
        }
        for (key, count) in other.cohorts {
            *self.cohorts.entry(key).or_default() += count;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty() && self.distinct.is_empty() && self.cohorts.is_empty()
    }
}

/// The changes a request made: `members` are the states it touched, before (`None` for a
/// member it created) and after; `changes` what it wrote; `joined` whether it created a
/// member, at `now`.
pub fn request_deltas(
    program: &Program,
    members: &[(Option<&MemberState>, &MemberState)],
    changes: &Changes,
    joined: bool,
    now: DateTime<Utc>,
) -> Deltas {
    let day = |at: DateTime<Utc>| at.with_timezone(&program.time_zone()).date_naive();
    let mut deltas = Deltas::default();
    let mut days: BTreeMap<NaiveDate, DayCounts> = BTreeMap::new();
    let mut on =
        |at: DateTime<Utc>, change: DayCounts| days.entry(day(at)).or_default().add(&change);
    if joined {
        on(
            now,
            DayCounts {
                new_members: 1,
                ..DayCounts::default()
            },
        );
    }
    for record in changes
        .new_events
        .iter()
        .filter(|r| r.event.kind.is_visit())
    {
        let purchase = record.event.kind.type_name() == "purchase";
        on(
            record.event.occurred_at,
            DayCounts {
                purchases: i64::from(purchase),
                visits: 1,
                revenue_cents: record.event.kind.amount().get(),
                ..DayCounts::default()
            },
        );
    }
    for (at, undone) in &changes.reversed_activity {
        on(
            *at,
            DayCounts {
                purchases: -undone.purchases,
                visits: -undone.visits,
                revenue_cents: -undone.spend_cents,
                ..DayCounts::default()
            },
        );
    }
    for coupon in changes
        .updated_coupons
        .iter()
        .filter(|c| c.status == CouponStatus::Redeemed)
    {
        on(
            coupon.used_at.unwrap_or(now),
            DayCounts {
                coupons_used: 1,
                reward_cost_cents: program.reward_cost_cents(&coupon.reward_id),
                ..DayCounts::default()
            },
        );
    }
    for (at, change) in point_flows(&changes.transfers, day) {
        on(at, change);
    }
    for (before, after) in members {
        if let Some((at, change)) = lifetime_change(*before, after) {
            on(at, change);
        }
        member_spans(*before, after, &mut deltas);
    }
    deltas.days = days;
    deltas
        .days
        .retain(|_, counts| *counts != DayCounts::default());
    deltas
        .distinct
        .retain(|_, counts| *counts != DistinctCounts::default());
    deltas.cohorts.retain(|_, count| *count != 0);
    deltas
}

/// Points issued, redeemed, expired and held by members, per day of the transfers (a
/// request's transfers are usually all of one day).
fn point_flows(
    transfers: &[Transfer],
    day: impl Fn(DateTime<Utc>) -> NaiveDate,
) -> Vec<(DateTime<Utc>, DayCounts)> {
    transfers
        .chunk_by(|a, b| day(a.created_at) == day(b.created_at))
        .map(|run| (run[0].created_at, points_moved(run)))
        .filter(|(_, change)| *change != DayCounts::default())
        .collect()
}

/// What `transfers` did to points: issued (adjustments in members' favour included),
/// redeemed, expired, and the net change of what members hold.
pub fn points_moved(transfers: &[Transfer]) -> DayCounts {
    let moved = balances(transfers);
    let posted = |account: Account| moved.get(&(account, Unit::Points)).map_or(0, |b| b.posted);
    DayCounts {
        points_issued: -posted(Account::Issuance) - posted(Account::Adjustment).min(0),
        points_redeemed: posted(Account::Redemption),
        points_expired: posted(Account::Expiry),
        points_to_members: moved
            .iter()
            .filter(|((account, unit), _)| account.member().is_some() && *unit == Unit::Points)
            .map(|(_, balance)| balance.posted)
            .sum(),
        ..DayCounts::default()
    }
}

/// How a member's span from joining to the last visit changed, on the day of the visit.
fn lifetime_change(
    before: Option<&MemberState>,
    after: &MemberState,
) -> Option<(DateTime<Utc>, DayCounts)> {
    let joined = after.joined_at?;
    let last = after.last_visit_at?;
    let previous = before.and_then(|b| b.last_visit_at);
    if previous == Some(last) {
        return None;
    }
    let seconds = |at: Option<DateTime<Utc>>| at.map_or(0, |at| (at - joined).num_seconds().max(0));
    Some((
        last,
        DayCounts {
            first_visits: i64::from(previous.is_none()),
            lifetime_seconds: seconds(Some(last)) - seconds(previous),
            ..DayCounts::default()
        },
    ))
}

/// The changes of the distinct counts and cohorts from one member's months. Only spans
/// still wholly inside the member's kept months are compared (older ones have aged out of
/// the state, not out of the history).
fn member_spans(before: Option<&MemberState>, after: &MemberState, deltas: &mut Deltas) {
    // A member keeps at most two years of months, ascending: scans beat maps here, and
    // this runs for every member of every request.
    let old: &[MonthTally] = before.map_or(&[], |state| &state.activity.months);
    let new: &[MonthTally] = &after.activity.months;
    let Some(newest) = new.last().map(|m| m.month) else {
        return;
    };
    let oldest_kept = newest - MONTHS_KEPT + 1;
    let tally = |months: &[MonthTally], month: MonthIndex| {
        months.iter().find(|m| m.month == month).map(|m| m.tally)
    };
    let mut changed: Vec<MonthIndex> = new
        .iter()
        .filter(|m| tally(old, m.month) != Some(m.tally))
        .chain(old.iter().filter(|m| tally(new, m.month).is_none()))
        .map(|m| m.month)
        .filter(|month| *month >= oldest_kept)
        .collect();
    changed.sort_unstable();
    changed.dedup();
    let mut spans: Vec<(Span, MonthIndex)> = changed
        .iter()
        .flat_map(|month| Span::ALL.map(|span| (span, span.start_of(*month))))
        .filter(|(_, start)| *start >= oldest_kept)
        .collect();
    spans.sort_unstable();
    spans.dedup();
    let over = |months: &[MonthTally], (span, start): (Span, MonthIndex)| {
        months
            .iter()
            .filter(|m| (start..start + span.months()).contains(&m.month))
            .fold(Tally::default(), |mut total, m| {
                total.add(m.tally);
                total
            })
    };
    for key in spans {
        let entry = deltas.distinct.entry(key).or_default();
        entry.add(&DistinctCounts::of(&over(new, key)), 1);
        entry.add(&DistinctCounts::of(&over(old, key)), -1);
    }
    if let Some(joined) = after.joined_at {
        let join_month = crate::activity::month_index(joined.date_naive());
        for month in changed {
            let active = |months: &[MonthTally]| {
                i64::from(tally(months, month).is_some_and(|t| t.visits > 0))
            };
            *deltas.cohorts.entry((join_month, month)).or_default() += active(new) - active(old);
        }
    }
}

/// A business's aggregates as read back: the counts of every day, the distinct counts of
/// every calendar span, and the cohort counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rollups {
    pub days: BTreeMap<NaiveDate, DayCounts>,
    pub distinct: BTreeMap<(Span, MonthIndex), DistinctCounts>,
    pub cohorts: BTreeMap<(MonthIndex, MonthIndex), i64>,
}

impl Rollups {
    /// The aggregates of the days `from..=to`, with the distinct counts where the days are
    /// one calendar span, or the start of one up to `today` (nothing later has happened,
    /// so the span's counts are the period's); `None` for other periods, whose distinct
    /// counts the aggregates cannot give.
    pub fn period(&self, from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Option<PeriodRollup> {
        let month = crate::activity::month_index(from);
        let span = Span::covering(from, to).or_else(|| {
            if to < today {
                return None;
            }
            Span::ALL.into_iter().find_map(|span| {
                let start = span.start_of(month);
                let end = month_start(start + span.months())?.pred_opt()?;
                (month_start(start)? == from && to <= end).then_some((span, start))
            })
        })?;
        let sum = |range: std::ops::Range<NaiveDate>| {
            self.days
                .range(range)
                .fold(DayCounts::default(), |mut total, (_, counts)| {
                    total.add(counts);
                    total
                })
        };
        Some(PeriodRollup {
            before: sum(NaiveDate::MIN..from),
            within: sum(from..to.succ_opt()?),
            distinct: self.distinct.get(&span).copied().unwrap_or_default(),
        })
    }

    /// Cohort sizes by join month (from the days' new members) and the distinct active
    /// members per (join month, month).
    pub fn cohort_counts(&self) -> (BTreeMap<Month, u64>, BTreeMap<(Month, Month), u64>) {
        let mut sizes = BTreeMap::new();
        for (day, counts) in &self.days {
            *sizes.entry(Month::of(*day)).or_insert(0) +=
                u64::try_from(counts.new_members).unwrap_or(0);
        }
        sizes.retain(|_, size| *size > 0);
        let active = self
            .cohorts
            .iter()
            .filter_map(|((join, month), count)| {
                let count = u64::try_from(*count).ok().filter(|c| *c > 0)?;
                Some(((month_of_index(*join)?, month_of_index(*month)?), count))
            })
            .collect();
        (sizes, active)
    }
}

fn month_start(index: MonthIndex) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        index.div_euclid(12),
        u32::try_from(index.rem_euclid(12)).ok()? + 1,
        1,
    )
}

fn month_of_index(index: MonthIndex) -> Option<Month> {
    month_start(index).map(Month::of)
}

/// The aggregates as read back for a period: the days' counts added up before it, within
/// it and up to its end, and the distinct counts of the calendar span it covers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeriodRollup {
    pub before: DayCounts,
    pub within: DayCounts,
    pub distinct: DistinctCounts,
}

impl PeriodRollup {
    /// The period's facts as far as the aggregates know them (survey answers and the
    /// predictive value come from elsewhere).
    pub fn facts(&self, days: f64, value_per_100_points_cents: i64) -> PeriodFacts {
        let (before, within, distinct) = (&self.before, &self.within, &self.distinct);
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let mut until = *before;
        until.add(within);
        PeriodFacts {
            days,
            members_at_start: count(before.new_members),
            members_at_end: count(until.new_members),
            new_members: count(within.new_members),
            active_members: count(distinct.active),
            purchasing_members: count(distinct.purchasing),
            repeat_members: count(distinct.repeat),
            single_kind_members: count(distinct.single_kind),
            multi_kind_members: count(distinct.multi_kind),
            redeeming_members: count(distinct.redeeming),
            purchases: count(within.purchases),
            visits: count(within.visits),
            revenue_cents: within.revenue_cents,
            coupons_used: count(within.coupons_used),
            points_issued: within.points_issued,
            points_redeemed: within.points_redeemed,
            points_expired: within.points_expired,
            points_outstanding: until.points_to_members,
            value_per_100_points_cents,
            reward_cost_cents: within.reward_cost_cents,
            lifetime_days: until.lifetime_seconds as f64 / 86_400.0,
            lifetime_members: count(until.first_visits),
            ..PeriodFacts::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::{Kinds, month_index};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn only_whole_calendar_months_quarters_and_years_are_spans() {
        let march = month_index(date(2026, 3, 1));
        assert_eq!(
            Span::covering(date(2026, 3, 1), date(2026, 3, 31)),
            Some((Span::Month, march))
        );
        assert_eq!(
            Span::covering(date(2026, 1, 1), date(2026, 3, 31)),
            Some((Span::Quarter, march - 2))
        );
        assert_eq!(
            Span::covering(date(2026, 1, 1), date(2026, 12, 31)),
            Some((Span::Year, march - 2))
        );
        assert_eq!(
            Span::covering(date(2026, 2, 1), date(2026, 4, 30)),
            None,
            "three months, but not a quarter"
        );
        assert_eq!(Span::covering(date(2026, 3, 2), date(2026, 3, 31)), None);
        assert_eq!(Span::covering(date(2026, 3, 1), date(2026, 3, 30)), None);
    }

    #[test]
    fn a_span_so_far_reads_its_distinct_counts_up_to_today() {
        let mut rollups = Rollups::default();
        let march = month_index(date(2026, 3, 1));
        rollups.distinct.insert(
            (Span::Month, march),
            DistinctCounts {
                active: 4,
                ..DistinctCounts::default()
            },
        );
        rollups.days.insert(
            date(2026, 2, 27),
            DayCounts {
                new_members: 3,
                ..DayCounts::default()
            },
        );
        rollups.days.insert(
            date(2026, 3, 2),
            DayCounts {
                new_members: 1,
                visits: 6,
                ..DayCounts::default()
            },
        );
        let today = date(2026, 3, 12);
        let so_far = rollups.period(date(2026, 3, 1), today, today).unwrap();
        assert_eq!(so_far.distinct.active, 4);
        assert_eq!(
            (
                so_far.before.new_members,
                so_far.within.new_members,
                so_far.within.visits
            ),
            (3, 1, 6)
        );
        assert!(
            rollups
                .period(date(2026, 3, 1), date(2026, 3, 10), today)
                .is_none(),
            "ends before today"
        );
        let facts = so_far.facts(12.0, 100);
        assert_eq!(
            (
                facts.members_at_start,
                facts.members_at_end,
                facts.active_members
            ),
            (3, 4, 4)
        );
    }

    fn member_with(months: &[(MonthIndex, Tally)]) -> MemberState {
        let mut state = MemberState::new(crate::ids::MemberId::from_uuid(uuid::Uuid::from_u128(1)));
        for (month, tally) in months {
            state.activity.add(*month, *tally);
        }
        state
    }

    #[test]
    fn a_second_purchase_in_a_month_makes_a_repeat_buyer_of_the_month_quarter_and_year() {
        let march = month_index(date(2026, 3, 1));
        let coffee = Tally {
            visits: 1,
            purchases: 1,
            kinds: Kinds::of(["coffee"]),
            ..Tally::default()
        };
        let cake = Tally {
            visits: 1,
            purchases: 1,
            kinds: Kinds::of(["cake"]),
            ..Tally::default()
        };
        let before = member_with(&[(march, coffee)]);
        let after = member_with(&[(march, coffee), (march, cake)]);
        let mut deltas = Deltas::default();
        member_spans(Some(&before), &after, &mut deltas);
        for span in Span::ALL {
            let change = deltas.distinct[&(span, span.start_of(march))];
            assert_eq!(
                change,
                DistinctCounts {
                    repeat: 1,
                    single_kind: -1,
                    multi_kind: 1,
                    ..DistinctCounts::default()
                },
                "{span:?}"
            );
        }
    }

    #[test]
    fn a_members_first_visit_counts_them_active_once_and_in_their_cohort() {
        let march = month_index(date(2026, 3, 1));
        let mut after = member_with(&[(
            march,
            Tally {
                visits: 1,
                ..Tally::default()
            },
        )]);
        after.joined_at = Some(date(2026, 1, 20).and_hms_opt(10, 0, 0).unwrap().and_utc());
        let mut deltas = Deltas::default();
        member_spans(None, &after, &mut deltas);
        assert_eq!(deltas.distinct[&(Span::Month, march)].active, 1);
        assert_eq!(
            deltas.cohorts[&(march - 2, march)],
            1,
            "a January member active in March"
        );
        let mut again = Deltas::default();
        member_spans(Some(&after), &after, &mut again);
        assert!(again.is_empty(), "nothing changed, nothing counted");
    }
}
