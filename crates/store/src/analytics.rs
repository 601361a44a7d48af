//! What analytics reads: a business's whole history in the shape the core counts from
//! ([`History`]), and the survey answers that feed the NPS.

use crate::batch_tx::{ProgramCache, load_program};
use crate::codec::{TRANSFER_SELECT, transfer};
use crate::sql::{Columns, Connection, text};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use stammgast_core::analytics::history::{History, SurveyAnswer, UsedCoupon, Visit};
use stammgast_core::engine::{Coupon, RecordedEvent};
use stammgast_core::ids::{BusinessId, LocationId, MemberId};

/// One answer to the NPS survey.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSurveyAnswer {
    pub id: uuid::Uuid,
    pub member_id: MemberId,
    pub score: u8,
    pub comment: String,
    pub location_id: Option<LocationId>,
    pub answered_at: DateTime<Utc>,
}

impl Store {
    /// Stores a survey answer of a member of `business` (the caller has checked that the
    /// member is one).
    pub async fn record_survey_answer(
        &self,
        business: BusinessId,
        answer: NewSurveyAnswer,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO survey_answers (business_id, id, member_id, score, comment, location_id, answered_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    text(business),
                    text(answer.id),
                    text(answer.member_id),
                    i64::from(answer.score).into(),
                    answer.comment.into(),
                    answer.location_id.map(text).into(),
                    answer.answered_at.into(),
                ],
            )?;
            Ok(())
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
            Ok(History {
                members: joins(connection, business)?,
                visits: visits(connection, business)?,
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

/// Purchases and visits that were not voided, in the order they happened.
fn visits(connection: &mut dyn Connection, business: BusinessId) -> Result<Vec<Visit>, StoreError> {
    connection
        .query(
            "SELECT record FROM events WHERE business_id = $1 AND voided_at IS NULL \
             AND type IN ('purchase', 'visit') ORDER BY occurred_at, id",
            &[text(business)],
        )?
        .iter()
        .map(|row| {
            let record: RecordedEvent = Columns::of(row).json(0)?;
            let event = record.event;
            let mut categories: Vec<String> = event
                .kind
                .items()
                .iter()
                .filter_map(|item| item.category.clone())
                .collect();
            categories.sort_unstable();
            categories.dedup();
            Ok(Visit {
                member_id: event.member_id,
                at: event.occurred_at,
                location_id: event.location_id,
                purchase: event.kind.type_name() == "purchase",
                revenue_cents: event.kind.amount().get() - record.refunded_cents,
                categories,
            })
        })
        .collect()
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
