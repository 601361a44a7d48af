//! Analytics: the report an owner decides from — the KPIs of a period against the period
//! before, overall or at one location, the monthly series of the dashboard's charts, the
//! cohort matrix, the segments' sizes and the fitted lifetime models — and the NPS survey
//! answers that feed it.

use crate::{App, AppError, Caller, Scope, fresh};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use stammgast_core::analytics::cohort::{self, Cohort, Month};
use stammgast_core::analytics::facts::PeriodFacts;
use stammgast_core::analytics::history::{History, Period};
use stammgast_core::analytics::kpi::{self, Kpi};
use stammgast_core::analytics::segments::{Lifecycle, LifecycleThresholds, RfmSegment, rfm_scores};
use stammgast_core::clv::{self, Histories};
use stammgast_core::ids::{BusinessId, LocationId, MemberId};
use stammgast_store::NewSurveyAnswer;

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
    pub kpis: Vec<Kpi>,
    pub months: Vec<MonthFacts>,
    pub cohorts: Vec<Cohort>,
    pub lifecycle: SegmentSizes<Lifecycle>,
    pub rfm: SegmentSizes<RfmSegment>,
    /// The lifetime models fitted on the history up to the period's end, or why not.
    pub fit: Result<clv::Fit, clv::FitError>,
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
        let zone = program.time_zone();
        let midnight = |date: NaiveDate| {
            zone.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .map_or_else(
                    || date.and_time(chrono::NaiveTime::MIN).and_utc(),
                    |at| at.with_timezone(&Utc),
                )
        };
        let period = Period {
            from: midnight(query.from),
            to: midnight(query.to + Duration::days(1)),
        };
        let history = self.store.analytics_history(business).await?;
        Ok(build_report(&history, query, period, self.now(), midnight))
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
        if score > 10 {
            return Err(AppError::invalid(
                "score",
                "the score is a whole number from 0 to 10",
            ));
        }
        const COMMENT_CHARS_MAX: usize = 2_000;
        if comment.chars().count() > COMMENT_CHARS_MAX {
            return Err(AppError::invalid(
                "comment",
                "a comment has 2000 characters at most",
            ));
        }
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
            comment: comment.trim().to_owned(),
            location_id: location,
            answered_at: self.now(),
        };
        Ok(self
            .store
            .record_survey_answer(caller.business_id, answer)
            .await?)
    }
}

fn build_report(
    history: &History,
    query: ReportQuery,
    period: Period,
    now: DateTime<Utc>,
    midnight: impl Fn(NaiveDate) -> DateTime<Utc>,
) -> Report {
    let fit = clv::fit(&Histories::new(
        history
            .customer_histories(period.to)
            .into_iter()
            .map(|(_, h)| h),
    ));
    let current = history.facts(period, query.location, fit.as_ref().ok());
    let previous_period = period.previous();
    let previous_fit = clv::fit(&Histories::new(
        history
            .customer_histories(previous_period.to)
            .into_iter()
            .map(|(_, h)| h),
    ));
    let previous = history.facts(previous_period, query.location, previous_fit.as_ref().ok());
    let last_month = Month::of(query.to);
    let months = chart_months(history, last_month, query.location, &midnight);
    let (sizes, active) = history.cohort_counts(query.location);
    let cohorts = cohort::matrix(&sizes, &active, last_month);
    let (lifecycle, rfm) = segment_sizes(history, now.min(period.to), fit.as_ref().ok());
    Report {
        query,
        period,
        kpis: kpi::kpis(&current, &previous),
        months,
        cohorts,
        lifecycle,
        rfm,
        fit,
    }
}

/// The facts of each month up to `last`, from the first member's month (at most two years).
fn chart_months(
    history: &History,
    last: Month,
    location: Option<LocationId>,
    midnight: &impl Fn(NaiveDate) -> DateTime<Utc>,
) -> Vec<MonthFacts> {
    let Some((_, first_join)) = history.members.first() else {
        return Vec::new();
    };
    let mut month = Month::of(first_join.date_naive());
    if last.months_since(month) >= CHART_MONTHS_MAX {
        month = (0..CHART_MONTHS_MAX - 1).fold(last, |m, _| m.previous());
    }
    let mut months = Vec::new();
    while month <= last {
        let (Some(first), Some(next)) = (month.first_day(), month.next().first_day()) else {
            break;
        };
        let period = Period {
            from: midnight(first),
            to: midnight(next),
        };
        months.push(MonthFacts {
            month,
            facts: history.facts(period, location, None),
        });
        month = month.next();
    }
    months
}

/// How many members each segment has.
type SegmentSizes<S> = Vec<(S, u64)>;

/// How many members are in each lifecycle stage and each named RFM segment at `at`.
fn segment_sizes(
    history: &History,
    at: DateTime<Utc>,
    fit: Option<&clv::Fit>,
) -> (SegmentSizes<Lifecycle>, SegmentSizes<RfmSegment>) {
    let members: Vec<_> = history
        .member_facts(at, fit)
        .into_iter()
        .filter(|(_, f)| f.days_since_joined >= 0.0)
        .map(|(_, f)| f)
        .collect();
    let thresholds = LifecycleThresholds::default();
    let lifecycle = Lifecycle::ALL
        .iter()
        .map(|stage| {
            (
                *stage,
                members
                    .iter()
                    .filter(|m| thresholds.stage(m) == *stage)
                    .count() as u64,
            )
        })
        .collect();
    let segments: Vec<RfmSegment> = rfm_scores(&members)
        .into_iter()
        .flatten()
        .map(|score| score.segment())
        .collect();
    let rfm = RfmSegment::ALL
        .iter()
        .map(|segment| {
            (
                *segment,
                segments.iter().filter(|s| *s == segment).count() as u64,
            )
        })
        .collect();
    (lifecycle, rfm)
}
