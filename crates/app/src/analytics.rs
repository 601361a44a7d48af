//! Analytics: the report an owner decides from — the KPIs of a period against the period
//! before, overall or at one location, the monthly series of the dashboard's charts, the
//! cohort matrix, the segments' sizes and the fitted lifetime models — the worker's
//! refresh of segments and models, and the NPS survey answers that feed the report.
//!
//! A report for the whole business over calendar months, quarters or years (or one of
//! them so far) is read from the running aggregates: a few rows however long the
//! history. Any other period, and any single location, is counted exactly from the
//! history, which takes longer the more there is.

use crate::custom_segments::Population;
use crate::{App, AppError, Caller, Scope, fresh};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use stammgast_core::activity::month_index;
use stammgast_core::analytics::cohort::{self, Cohort, Month};
use stammgast_core::analytics::facts::PeriodFacts;
use stammgast_core::analytics::filter::MemberProfile;
use stammgast_core::analytics::history::{History, Period};
use stammgast_core::analytics::kpi::{self, Kpi};
use stammgast_core::analytics::membership::{Placement, Sizes, moves};
use stammgast_core::analytics::rollup::{Rollups, Span};
use stammgast_core::analytics::segments::{Lifecycle, LifecycleThresholds, RfmSegment};
use stammgast_core::analytics::snapshot::{self, MemberAggregate, Snapshot};
use stammgast_core::clv;
use stammgast_core::ids::{BusinessId, LocationId, MemberId};
use stammgast_store::{NewSurveyAnswer, PlacementChange};

/// Which period (days in the shop's time zone, both included) and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub location: Option<LocationId>,
}

/// The most months the charts go back from the period's end.
const CHART_MONTHS_MAX: i32 = 24;
/// The longest period a report covers.
const PERIOD_DAYS_MAX: i64 = 3_660;
/// The most visits an exact count over the history reads by default: at a million members
/// and 4.5 million purchases it took 99 s and 10 GB on the benchmark machine, so past this
/// only the running aggregates answer (calendar spans, the whole business).
pub(crate) const HISTORY_VISITS_MAX: u64 = 500_000;

/// One month of the charts.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthFacts {
    pub month: Month,
    pub facts: PeriodFacts,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub query: ReportQuery,
    pub period: Period,
    /// The period the trend compares with.
    pub previous: (NaiveDate, NaiveDate),
    /// True when the figures came from the running aggregates.
    pub from_aggregates: bool,
    pub kpis: Vec<Kpi>,
    pub months: Vec<MonthFacts>,
    pub cohorts: Vec<Cohort>,
    pub lifecycle: Sizes<Lifecycle>,
    pub rfm: Sizes<RfmSegment>,
    /// The lifetime models as the worker last fitted them, or why not.
    pub fit: Result<clv::Fit, String>,
}

/// What one refresh of a business's segments and models did.
#[derive(Clone, Debug, PartialEq)]
pub struct Refreshed {
    pub snapshot: Snapshot,
    pub members: usize,
    /// Entries into and exits from segments recorded.
    pub moves: usize,
    /// Every member as the refresh read them: the journeys that run next need the same,
    /// and a million of them are worth reading once.
    pub profiles: Vec<MemberProfile>,
}

/// Days in the shop's time zone and the instants they begin at.
struct Calendar(chrono_tz::Tz);

impl Calendar {
    fn midnight(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = date.and_time(chrono::NaiveTime::MIN);
        self.0
            .from_local_datetime(&local)
            .earliest()
            .map_or_else(|| local.and_utc(), |at| at.with_timezone(&Utc))
    }

    fn period(&self, from: NaiveDate, to: NaiveDate) -> Period {
        Period {
            from: self.midnight(from),
            to: self.midnight(to + Duration::days(1)),
        }
    }

    fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }
}

impl App {
    /// The report for a staff member or API key with `members:read`.
    pub async fn report(&self, caller: &Caller, query: ReportQuery) -> Result<Report, AppError> {
        caller.require(Scope::MembersRead)?;
        self.business_report(caller.business_id, query).await
    }

    /// The report of a business, for the operator (the `kpi` command).
    pub async fn business_report(
        &self,
        business: BusinessId,
        query: ReportQuery,
    ) -> Result<Report, AppError> {
        if query.to < query.from {
            return Err(AppError::invalid("to", "the period ends before it begins"));
        }
        if (query.to - query.from).num_days() >= PERIOD_DAYS_MAX {
            return Err(AppError::invalid("to", "a report covers ten years at most"));
        }
        let program = self
            .store
            .program(business)
            .await?
            .ok_or(AppError::NotFound)?;
        if let Some(location) = query.location {
            self.check_location(business, location).await?;
        }
        let calendar = Calendar(program.time_zone());
        let today = calendar.today(self.now());
        let snapshot = self.analytics_snapshot(business).await?;
        let rollups = self.store.analytics_rollups(business).await?;
        let previous = previous_period(query.from, query.to, today);
        let from_rollups = query
            .location
            .is_none()
            .then(|| {
                Some((
                    rollups.period(query.from, query.to, today)?,
                    rollups.period(previous.0, previous.1, today)?,
                ))
            })
            .flatten();
        let period = calendar.period(query.from, query.to);
        let previous_period = calendar.period(previous.0, previous.1);
        let value_per_100_points = program.points.value_per_100_points.get();
        let from_aggregates = from_rollups.is_some();
        let (mut current, mut before, months, cohorts) = match from_rollups {
            Some((current, before)) => (
                current.facts(period.days(), value_per_100_points),
                before.facts(previous_period.days(), value_per_100_points),
                months_from_rollups(
                    &rollups,
                    &calendar,
                    Month::of(query.to),
                    today,
                    value_per_100_points,
                ),
                cohort_matrix(rollups.cohort_counts(), query.to),
            ),
            None => {
                let visits: i64 = rollups.days.values().map(|day| day.visits).sum();
                if u64::try_from(visits).unwrap_or(0) > self.history_visits_max {
                    return Err(AppError::invalid(
                        "from",
                        "with this many visits, figures are kept per calendar month, quarter and year: \
                         choose one of those (or one so far) for the whole business",
                    ));
                }
                let history = self.store.analytics_history(business).await?;
                (
                    history.facts(period, query.location, None),
                    history.facts(previous_period, query.location, None),
                    months_from_history(&history, &calendar, Month::of(query.to), query.location),
                    cohort_matrix(history.cohort_counts(query.location), query.to),
                )
            }
        };
        current.nps = self
            .store
            .nps_answers(business, period.from, period.to, query.location)
            .await?;
        before.nps = self
            .store
            .nps_answers(
                business,
                previous_period.from,
                previous_period.to,
                query.location,
            )
            .await?;
        if query.to >= today && query.location.is_none() {
            current.predicted_value_365_days_cents = snapshot
                .fit
                .is_ok()
                .then_some(snapshot.predicted_value_365_days_cents);
        }
        Ok(Report {
            query,
            period,
            previous,
            from_aggregates,
            kpis: kpi::kpis(&current, &before),
            months,
            cohorts,
            lifecycle: snapshot.lifecycle.clone(),
            rfm: snapshot.rfm.clone(),
            fit: snapshot.fit,
        })
    }

    /// The worker's last snapshot of the business, computed now if there is none yet.
    async fn analytics_snapshot(&self, business: BusinessId) -> Result<Snapshot, AppError> {
        let stored = self.store.analytics_snapshot(business).await?;
        match stored.and_then(|json| serde_json::from_str(&json).ok()) {
            Some(snapshot) => Ok(snapshot),
            None => Ok(self.refresh_analytics(business).await?.snapshot),
        }
    }

    /// Today's date in the shop's time zone (the days reports are counted in).
    pub async fn shop_today(&self, business: BusinessId) -> Result<NaiveDate, AppError> {
        Ok(Calendar(self.shop_zone(business).await?).today(self.now()))
    }

    /// The shop's time zone (its program's).
    pub async fn shop_zone(&self, business: BusinessId) -> Result<chrono_tz::Tz, AppError> {
        let program = self
            .store
            .program(business)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(program.time_zone())
    }

    /// The business's thresholds for the lifecycle stages (the defaults until it sets its own).
    pub async fn lifecycle_thresholds(
        &self,
        business: BusinessId,
    ) -> Result<LifecycleThresholds, AppError> {
        let stored = self.store.lifecycle_thresholds(business).await?;
        Ok(stored
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default())
    }

    /// Sets the business's lifecycle thresholds (owners and managers) and places every
    /// member by them at once.
    pub async fn save_lifecycle_thresholds(
        &self,
        caller: &Caller,
        thresholds: LifecycleThresholds,
    ) -> Result<Refreshed, AppError> {
        caller.require(Scope::ProgramWrite)?;
        thresholds
            .check()
            .map_err(|(field, reason)| AppError::invalid(field, reason))?;
        let json = serde_json::to_string(&thresholds)
            .map_err(|e| AppError::Store(stammgast_store::StoreError::Other(e.to_string())))?;
        self.store
            .save_lifecycle_thresholds(caller.business_id, json, self.now())
            .await?;
        self.refresh_analytics(caller.business_id).await
    }

    /// Fits the lifetime models on every member, places every member in their segments,
    /// records who moved, and stores the snapshot (the worker calls this).
    pub async fn refresh_analytics(&self, business: BusinessId) -> Result<Refreshed, AppError> {
        let now = self.now();
        let thresholds = self.lifecycle_thresholds(business).await?;
        let profiles = self.store.member_profiles(business).await?;
        let members: Vec<MemberAggregate> = profiles.iter().map(|p| p.aggregate).collect();
        let snapshot::Computed {
            snapshot,
            facts,
            placements,
        } = snapshot::compute(&members, now, &thresholds);
        let stored = self.store.placements(business).await?;
        let changes: Vec<PlacementChange> = members
            .iter()
            .zip(&placements)
            .filter_map(|(member, placement)| {
                placement_change(member.member_id, stored.get(&member.member_id), placement)
            })
            .collect();
        let population = Population {
            profiles,
            facts,
            placements,
        };
        let moves = self.store.record_placements(business, changes, now).await?
            + self.count_custom_segments(business, &population).await?;
        let json = serde_json::to_string(&snapshot)
            .map_err(|e| AppError::Store(stammgast_store::StoreError::Other(e.to_string())))?;
        self.store
            .save_analytics_snapshot(business, now, json)
            .await?;
        Ok(Refreshed {
            snapshot,
            members: members.len(),
            moves,
            profiles: population.profiles,
        })
    }

    /// Stores a member's answer to the NPS survey (0–10 and an optional comment).
    pub async fn record_survey_answer(
        &self,
        caller: &Caller,
        member_id: MemberId,
        score: u8,
        comment: &str,
        location: Option<LocationId>,
    ) -> Result<(), AppError> {
        caller.require(Scope::EventsWrite)?;
        let comment = checked_answer(score, comment)?;
        self.store
            .member(caller.business_id, member_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if let Some(location) = location {
            self.check_location(caller.business_id, location).await?;
        }
        let answer = NewSurveyAnswer {
            id: fresh::id(),
            member_id,
            score,
            comment,
            location_id: location,
            answered_at: self.now(),
            source: "api".into(),
            publish_consent_at: None,
        };
        Ok(self
            .store
            .record_survey_answer(caller.business_id, answer)
            .await?)
    }
}

/// Refuses a score outside 0–10 and an overlong comment; the comment trimmed.
pub(crate) fn checked_answer(score: u8, comment: &str) -> Result<String, AppError> {
    const COMMENT_CHARS_MAX: usize = 2_000;
    if score > 10 {
        return Err(AppError::invalid(
            "score",
            "the score is a whole number from 0 to 10",
        ));
    }
    if comment.chars().count() > COMMENT_CHARS_MAX {
        return Err(AppError::invalid(
            "comment",
            "a comment has 2000 characters at most",
        ));
    }
    Ok(comment.trim().to_owned())
}

/// The stored form of a placement, and the change from `stored` if there is one.
fn placement_change(
    member_id: MemberId,
    stored: Option<&(String, String)>,
    placement: &Placement,
) -> Option<PlacementChange> {
    let after = (
        placement.lifecycle.as_str().to_owned(),
        placement
            .rfm
            .map_or(String::new(), |s| s.as_str().to_owned()),
    );
    if stored == Some(&after) {
        return None;
    }
    let before = stored.and_then(|(lifecycle, rfm)| {
        let lifecycle = Lifecycle::ALL
            .into_iter()
            .find(|s| s.as_str() == lifecycle)?;
        let rfm = RfmSegment::ALL.into_iter().find(|s| s.as_str() == rfm);
        Some(Placement { lifecycle, rfm })
    });
    let moves = moves(member_id, before.as_ref(), placement)
        .into_iter()
        .map(|m| (fresh::id(), m.segment, m.entered))
        .collect();
    Some(PlacementChange {
        member_id,
        before: stored.cloned(),
        after,
        moves,
    })
}

/// The period a report compares with: the calendar month, quarter or year before one of
/// them (or one of them so far, up to `today`), otherwise the days of the same length
/// just before.
fn previous_period(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start = month_index(from);
    let span = Span::ALL.into_iter().find(|span| {
        let end = first_of(start + span.months()).and_then(|next| next.pred_opt());
        let ends = end.is_some_and(|end| to == end || (to >= today && to <= end));
        span.start_of(start) == start && first_of(start) == Some(from) && ends
    });
    let calendar = span.and_then(|span| {
        let first = first_of(start - span.months())?;
        Some((first, from.pred_opt()?))
    });
    calendar.unwrap_or_else(|| {
        let days = to - from + Duration::days(1);
        (from - days, from - Duration::days(1))
    })
}

fn first_of(month: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        month.div_euclid(12),
        u32::try_from(month.rem_euclid(12)).ok()? + 1,
        1,
    )
}

/// The months the charts show, ending with `last`.
fn chart_months(first: Month, last: Month) -> impl Iterator<Item = Month> {
    let mut month = first;
    if last.months_since(month) >= CHART_MONTHS_MAX {
        month = (0..CHART_MONTHS_MAX - 1).fold(last, |m, _| m.previous());
    }
    std::iter::successors(Some(month), move |m| (m.next() <= last).then(|| m.next()))
}

fn months_from_rollups(
    rollups: &Rollups,
    calendar: &Calendar,
    last: Month,
    today: NaiveDate,
    value_per_100_points: i64,
) -> Vec<MonthFacts> {
    let Some(first) = rollups.days.keys().next().map(|day| Month::of(*day)) else {
        return Vec::new();
    };
    chart_months(first, last)
        .filter_map(|month| {
            let (from, to) = (month.first_day()?, month.next().first_day()?.pred_opt()?);
            let facts = rollups
                .period(from, to, today)?
                .facts(calendar.period(from, to).days(), value_per_100_points);
            Some(MonthFacts { month, facts })
        })
        .collect()
}

fn months_from_history(
    history: &History,
    calendar: &Calendar,
    last: Month,
    location: Option<LocationId>,
) -> Vec<MonthFacts> {
    let Some((_, first_join)) = history.members.first() else {
        return Vec::new();
    };
    chart_months(Month::of(first_join.date_naive()), last)
        .filter_map(|month| {
            let period = calendar.period(month.first_day()?, month.next().first_day()?.pred_opt()?);
            Some(MonthFacts {
                month,
                facts: history.facts(period, location, None),
            })
        })
        .collect()
}

fn cohort_matrix(
    (sizes, active): (
        std::collections::BTreeMap<Month, u64>,
        std::collections::BTreeMap<(Month, Month), u64>,
    ),
    to: NaiveDate,
) -> Vec<Cohort> {
    cohort::matrix(&sizes, &active, Month::of(to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_calendar_span_compares_with_the_span_before_and_other_periods_with_the_days_before() {
        let today = date(2026, 3, 12);
        let previous = |from, to| previous_period(from, to, today);
        assert_eq!(
            previous(date(2026, 2, 1), date(2026, 2, 28)),
            (date(2026, 1, 1), date(2026, 1, 31))
        );
        assert_eq!(
            previous(date(2026, 3, 1), date(2026, 3, 12)),
            (date(2026, 2, 1), date(2026, 2, 28)),
            "month so far"
        );
        assert_eq!(
            previous(date(2025, 10, 1), date(2025, 12, 31)),
            (date(2025, 7, 1), date(2025, 9, 30))
        );
        assert_eq!(
            previous(date(2025, 1, 1), date(2025, 12, 31)),
            (date(2024, 1, 1), date(2024, 12, 31))
        );
        assert_eq!(
            previous(date(2026, 3, 5), date(2026, 3, 11)),
            (date(2026, 2, 26), date(2026, 3, 4))
        );
        assert_eq!(
            previous(date(2026, 2, 1), date(2026, 2, 20)),
            (date(2026, 1, 12), date(2026, 1, 31)),
            "part of a past month"
        );
    }
}
