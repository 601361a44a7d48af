//! What analytics reads: a business's whole history in the shape the core counts from
//! ([`History`]), and the survey answers that feed the NPS.

use crate::batch_tx::{ProgramCache, load_program};
use crate::codec::{TRANSFER_SELECT, transfer};
use crate::sql::{Columns, Connection, Value, insert_rows, text};
use crate::{Store, StoreError};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use stammgast_core::analytics::facts::NpsAnswers;
use stammgast_core::analytics::history::{History, SurveyAnswer, UsedCoupon, Visit};
use stammgast_core::analytics::rollup::{
    DAY_FIELDS, DISTINCT_FIELDS, DayCounts, Deltas, DistinctCounts, Rollups, Span,
};
use stammgast_core::engine::{Coupon, RecordedEvent};
use stammgast_core::ids::{BusinessId, LocationId, MemberId};
use std::collections::BTreeMap;

/// One answer to the NPS survey.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSurveyAnswer {
    pub id: uuid::Uuid,
    pub member_id: MemberId,
    pub score: u8,
    pub comment: String,
    pub location_id: Option<LocationId>,
    pub answered_at: DateTime<Utc>,
    /// Where it was given: `api`, or `journey:<slug>` for a mailed survey.
    pub source: String,
    /// When the member allowed the comment to be published, if they did.
    pub publish_consent_at: Option<DateTime<Utc>>,
}

/// An answer with a comment, as the back office lists them.
#[derive(Clone, Debug, PartialEq)]
pub struct SurveyComment {
    pub member_id: MemberId,
    pub first_name: String,
    pub score: u8,
    pub comment: String,
    pub answered_at: DateTime<Utc>,
    pub publish_consent_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Stores a survey answer of a member of `business` (the caller has checked that the
    /// member is one); an answer with the same id (the same mailed survey answered again)
    /// is replaced.
    pub async fn record_survey_answer(
        &self,
        business: BusinessId,
        answer: NewSurveyAnswer,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO survey_answers (business_id, id, member_id, score, comment, location_id, answered_at, source, publish_consent_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (business_id, id) DO UPDATE \
                 SET score = excluded.score, comment = excluded.comment, answered_at = excluded.answered_at, \
                 publish_consent_at = excluded.publish_consent_at",
                &[
                    text(business),
                    text(answer.id),
                    text(answer.member_id),
                    i64::from(answer.score).into(),
                    answer.comment.into(),
                    answer.location_id.map(text).into(),
                    answer.answered_at.into(),
                    answer.source.into(),
                    answer.publish_consent_at.into(),
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// The latest answers that carry a comment, newest first, at most `limit`.
    pub async fn survey_comments(
        &self,
        business: BusinessId,
        limit: usize,
    ) -> Result<Vec<SurveyComment>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT a.member_id, m.first_name, a.score, a.comment, a.answered_at, a.publish_consent_at \
                 FROM survey_answers a JOIN members m ON m.business_id = a.business_id AND m.id = a.member_id \
                 WHERE a.business_id = $1 AND a.comment <> '' ORDER BY a.answered_at DESC LIMIT $2",
                &[text(business), i64::try_from(limit).unwrap_or(i64::MAX).into()],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(SurveyComment {
                        member_id: columns.parsed(0, MemberId::parse)?,
                        first_name: columns.text(1)?.to_owned(),
                        score: u8::try_from(columns.int(2)?)
                            .map_err(|_| StoreError::Corrupt("a survey score out of range".into()))?,
                        comment: columns.text(3)?.to_owned(),
                        answered_at: columns.time(4)?,
                        publish_consent_at: columns.opt_time(5)?,
                    })
                })
                .collect()
        })
        .await
    }

    /// The business's history as analytics counts from it, read in one go.
    pub async fn analytics_history(&self, business: BusinessId) -> Result<History, StoreError> {
        self.with_connection(move |connection| {
            let program = load_program(connection, &mut ProgramCache::default(), business)?
                .ok_or(StoreError::NotFound)?;
            let coupons_used = used_coupons(connection, business)?
                .into_iter()
                .map(|(coupon, at)| UsedCoupon {
                    member_id: coupon.member_id,
                    at,
                    cost_cents: program.reward_cost_cents(&coupon.reward_id),
                })
                .collect();
            let (visits, voided_visits) = visits(connection, business)?;
            Ok(History {
                members: joins(connection, business)?,
                visits,
                voided_visits,
                point_transfers: point_transfers(connection, business)?,
                coupons_used,
                survey_answers: survey_answers(connection, business)?,
                value_per_100_points_cents: program.points.value_per_100_points.get(),
            })
        })
        .await
    }
}

fn joins(
    connection: &mut dyn Connection,
    business: BusinessId,
) -> Result<Vec<(MemberId, DateTime<Utc>)>, StoreError> {
    connection
        .query(
            "SELECT id, joined_at FROM members WHERE business_id = $1 ORDER BY joined_at",
            &[text(business)],
        )?
        .iter()
        .map(|row| {
            let columns = Columns::of(row);
            Ok((columns.parsed(0, MemberId::parse)?, columns.time(1)?))
        })
        .collect()
}

/// Purchases and visits that were not voided, in the order they happened, and when the
/// voided ones happened.
type Visits = (Vec<Visit>, Vec<(MemberId, DateTime<Utc>)>);

fn visits(connection: &mut dyn Connection, business: BusinessId) -> Result<Visits, StoreError> {
    let rows = connection.query(
        "SELECT record FROM events WHERE business_id = $1 \
         AND type IN ('purchase', 'visit') ORDER BY occurred_at, id",
        &[text(business)],
    )?;
    let (mut visits, mut voided) = (Vec::new(), Vec::new());
    for row in &rows {
        let record: RecordedEvent = Columns::of(row).json(0)?;
        let event = record.event;
        if record.voided_at.is_some() {
            voided.push((event.member_id, event.occurred_at));
            continue;
        }
        let mut categories: Vec<String> = event
            .kind
            .items()
            .iter()
            .filter_map(|item| item.category.clone())
            .collect();
        categories.sort_unstable();
        categories.dedup();
        visits.push(Visit {
            member_id: event.member_id,
            at: event.occurred_at,
            location_id: event.location_id,
            purchase: event.kind.type_name() == "purchase",
            revenue_cents: event.kind.amount().get() - record.refunded_cents,
            categories,
        });
    }
    Ok((visits, voided))
}

fn point_transfers(
    connection: &mut dyn Connection,
    business: BusinessId,
) -> Result<Vec<stammgast_core::ledger::Transfer>, StoreError> {
    let sql = format!(
        "SELECT {TRANSFER_SELECT} FROM transfers WHERE business_id = $1 AND unit = 'points' ORDER BY created_at, id"
    );
    connection
        .query(&sql, &[text(business)])?
        .iter()
        .map(transfer)
        .collect()
}

/// The coupons used, each with the time it was used.
fn used_coupons(
    connection: &mut dyn Connection,
    business: BusinessId,
) -> Result<Vec<(Coupon, DateTime<Utc>)>, StoreError> {
    let rows = connection.query(
        "SELECT record FROM coupons WHERE business_id = $1 AND status = 'redeemed'",
        &[text(business)],
    )?;
    let mut used = Vec::new();
    for row in &rows {
        let coupon: Coupon = Columns::of(row).json(0)?;
        if let Some(at) = coupon.used_at {
            used.push((coupon, at));
        }
    }
    Ok(used)
}

fn survey_answers(
    connection: &mut dyn Connection,
    business: BusinessId,
) -> Result<Vec<SurveyAnswer>, StoreError> {
    connection
        .query(
            "SELECT answered_at, location_id, score FROM survey_answers WHERE business_id = $1 ORDER BY answered_at",
            &[text(business)],
        )?
        .iter()
        .map(|row| {
            let columns = Columns::of(row);
            Ok(SurveyAnswer {
                at: columns.time(0)?,
                location_id: columns.opt_parsed(1, LocationId::parse)?,
                score: u8::try_from(columns.int(2)?).map_err(|_| StoreError::Corrupt("a survey score out of range".into()))?,
            })
        })
        .collect()
}

/// The shard this process adds its aggregates to: the process id spreads app servers over
/// the shards, and one process has one writer, so no two writers share a row.
fn shard() -> i64 {
    const SHARDS: u32 = 16;
    i64::from(std::process::id() % SHARDS)
}

/// Adds a batch's changes to the aggregates, one upsert per table and business.
pub(crate) fn write_rollups(
    connection: &mut dyn Connection,
    rollups: &BTreeMap<BusinessId, Deltas>,
) -> Result<(), StoreError> {
    let shard = shard();
    for (business, deltas) in rollups {
        let days = deltas
            .days
            .iter()
            .map(|(day, counts)| {
                let mut counts = *counts;
                let mut row = vec![
                    text(business),
                    i64::from(day.num_days_from_ce()).into(),
                    shard.into(),
                ];
                row.extend(
                    DAY_FIELDS
                        .iter()
                        .map(|(_, field)| Value::from(*field(&mut counts))),
                );
                row
            })
            .collect();
        let names: Vec<&str> = DAY_FIELDS.iter().map(|(name, _)| *name).collect();
        add_rows(
            connection,
            "analytics_days",
            &["business_id", "day", "shard"],
            &names,
            days,
        )?;
        let distinct = deltas
            .distinct
            .iter()
            .map(|((span, start), counts)| {
                let mut counts = *counts;
                let mut row = vec![
                    text(business),
                    span.as_str().into(),
                    i64::from(*start).into(),
                    shard.into(),
                ];
                row.extend(
                    DISTINCT_FIELDS
                        .iter()
                        .map(|(_, field)| Value::from(*field(&mut counts))),
                );
                row
            })
            .collect();
        let names: Vec<&str> = DISTINCT_FIELDS.iter().map(|(name, _)| *name).collect();
        add_rows(
            connection,
            "analytics_distinct",
            &["business_id", "span", "start_month", "shard"],
            &names,
            distinct,
        )?;
        let cohorts = deltas
            .cohorts
            .iter()
            .map(|((join, active), members)| {
                vec![
                    text(business),
                    i64::from(*join).into(),
                    i64::from(*active).into(),
                    shard.into(),
                    (*members).into(),
                ]
            })
            .collect();
        add_rows(
            connection,
            "analytics_cohorts",
            &["business_id", "join_month", "active_month", "shard"],
            &["members"],
            cohorts,
        )?;
    }
    Ok(())
}

/// Inserts rows keyed by `keys`, adding `counts` to a row that is already there.
fn add_rows(
    connection: &mut dyn Connection,
    table: &str,
    keys: &[&str],
    counts: &[&str],
    rows: Vec<crate::sql::Row>,
) -> Result<(), StoreError> {
    let additions: Vec<String> = counts
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    let suffix = format!(
        "ON CONFLICT ({}) DO UPDATE SET {}",
        keys.join(", "),
        additions.join(", ")
    );
    let columns: Vec<&str> = keys.iter().chain(counts).copied().collect();
    insert_rows(connection, table, &columns, &suffix, rows)
}

impl Store {
    /// A business's aggregates, summed over the shards: a few rows per day, month and
    /// cohort however long the history.
    pub async fn analytics_rollups(&self, business: BusinessId) -> Result<Rollups, StoreError> {
        self.with_connection(move |connection| {
            let mut rollups = Rollups::default();
            // PostgreSQL sums BIGINT as NUMERIC; both read the cast back as an integer.
            let sums = |names: &[&str]| names.iter().map(|n| format!("CAST(SUM({n}) AS BIGINT)")).collect::<Vec<_>>().join(", ");
            let day_names: Vec<&str> = DAY_FIELDS.iter().map(|(name, _)| *name).collect();
            let sql = format!("SELECT day, {} FROM analytics_days WHERE business_id = $1 GROUP BY day", sums(&day_names));
            for row in connection.query(&sql, &[text(business)])? {
                let columns = Columns::of(&row);
                let day = i32::try_from(columns.int(0)?).ok().and_then(NaiveDate::from_num_days_from_ce_opt);
                let day = day.ok_or_else(|| StoreError::Corrupt("an analytics day out of range".into()))?;
                let mut counts = DayCounts::default();
                for (index, (_, field)) in DAY_FIELDS.iter().enumerate() {
                    *field(&mut counts) = columns.int(index + 1)?;
                }
                rollups.days.insert(day, counts);
            }
            let distinct_names: Vec<&str> = DISTINCT_FIELDS.iter().map(|(name, _)| *name).collect();
            let sql = format!(
                "SELECT span, start_month, {} FROM analytics_distinct WHERE business_id = $1 GROUP BY span, start_month",
                sums(&distinct_names)
            );
            for row in connection.query(&sql, &[text(business)])? {
                let columns = Columns::of(&row);
                let span = columns.parsed(0, Span::parse)?;
                let start = month(columns.int(1)?)?;
                let mut counts = DistinctCounts::default();
                for (index, (_, field)) in DISTINCT_FIELDS.iter().enumerate() {
                    *field(&mut counts) = columns.int(index + 2)?;
                }
                rollups.distinct.insert((span, start), counts);
            }
            let sql = "SELECT join_month, active_month, CAST(SUM(members) AS BIGINT) FROM analytics_cohorts \
                       WHERE business_id = $1 GROUP BY join_month, active_month";
            for row in connection.query(sql, &[text(business)])? {
                let columns = Columns::of(&row);
                rollups.cohorts.insert((month(columns.int(0)?)?, month(columns.int(1)?)?), columns.int(2)?);
            }
            Ok(rollups)
        })
        .await
    }
}

fn month(value: i64) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| StoreError::Corrupt("an analytics month out of range".into()))
}

impl Store {
    /// The NPS answers given in `[from, to)`, at `location` or anywhere.
    pub async fn nps_answers(
        &self,
        business: BusinessId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> Result<NpsAnswers, StoreError> {
        self.with_connection(move |connection| {
            let mut sql = String::from(
                "SELECT score, COUNT(*) FROM survey_answers WHERE business_id = $1 AND answered_at >= $2 AND answered_at < $3",
            );
            let mut params = vec![text(business), from.into(), to.into()];
            if let Some(location) = location {
                sql.push_str(" AND location_id = $4");
                params.push(text(location));
            }
            sql.push_str(" GROUP BY score");
            let mut answers = NpsAnswers::default();
            for row in connection.query(&sql, &params)? {
                let columns = Columns::of(&row);
                let score = u8::try_from(columns.int(0)?).map_err(|_| StoreError::Corrupt("a survey score out of range".into()))?;
                for _ in 0..columns.int(1)? {
                    answers.add(score);
                }
            }
            Ok(answers)
        })
        .await
    }
}
