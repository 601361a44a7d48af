//! Journeys: their definitions, each member's enrolment per occasion (written with its
//! message in one transaction, once however many workers try), the frequency cap's count
//! and the measurement of each arm.

use crate::outbox::{Queued, queue_message};
use crate::reads::in_transaction;
use crate::sql::{Columns, text};
use crate::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use stammgast_core::automation::experiment::ArmResult;
use stammgast_core::automation::journey::Arm;
use stammgast_core::ids::{BusinessId, MemberId, Slug};
use stammgast_core::member::Channel;
use stammgast_core::outbox::MessageKind;

/// A member entering a journey on an occasion, in an arm; `message` says when its message
/// may go out (none for the holdout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub journey: Slug,
    pub member_id: MemberId,
    pub occasion: String,
    pub arm: Arm,
    pub at: DateTime<Utc>,
    pub send_from: Option<DateTime<Utc>>,
    /// What else the message arm gets: points (booked from the outbox) and a tag.
    pub grant_points: u32,
    pub add_tag: Option<Slug>,
    /// The channel the message goes out on.
    pub channel: Channel,
}

impl Store {
    /// Creates or replaces a journey's definition (JSON, checked by the caller).
    pub async fn save_journey(
        &self,
        business: BusinessId,
        slug: Slug,
        definition: String,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO journeys (business_id, slug, definition, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (business_id, slug) DO UPDATE \
                 SET definition = excluded.definition, updated_at = excluded.updated_at",
                &[text(business), text(&slug), definition.into(), at.into()],
            )?;
            Ok(())
        })
        .await
    }

    /// The business's journeys' definitions (JSON), by slug.
    pub async fn journeys(&self, business: BusinessId) -> Result<Vec<String>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT definition FROM journeys WHERE business_id = $1 ORDER BY slug",
                &[text(business)],
            )?;
            rows.iter()
                .map(|row| Columns::of(row).text(0).map(str::to_owned))
                .collect()
        })
        .await
    }

    /// Enrols a member and queues the journey's message in one transaction; `false` when
    /// the member was enrolled on this occasion already (by this or another worker).
    pub async fn enrol(
        &self,
        business: BusinessId,
        enrolment: Enrolment,
    ) -> Result<bool, StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let inserted = connection.execute(
                    "INSERT INTO journey_enrolments (business_id, journey, member_id, occasion, arm, enrolled_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    &[
                        text(business),
                        text(&enrolment.journey),
                        text(enrolment.member_id),
                        enrolment.occasion.as_str().into(),
                        enrolment.arm.as_str().into(),
                        enrolment.at.into(),
                    ],
                )?;
                if let (1, Some(not_before)) = (inserted, enrolment.send_from) {
                    let occasion = format!("{}:{}", enrolment.journey, enrolment.occasion);
                    let payload = serde_json::json!({
                        "journey": enrolment.journey.as_str(),
                        "arm": enrolment.arm.as_str(),
                        "points": enrolment.grant_points,
                    })
                    .to_string();
                    let message = Queued {
                        kind: MessageKind::Journey,
                        occasion: &occasion,
                        channel: enrolment.channel.as_str(),
                        payload: &payload,
                        at: enrolment.at,
                        not_before,
                    };
                    queue_message(connection, business, enrolment.member_id, message)?;
                    if enrolment.grant_points > 0 {
                        let points = Queued {
                            kind: MessageKind::GrantPoints,
                            channel: "ledger",
                            not_before: enrolment.at,
                            ..message
                        };
                        queue_message(connection, business, enrolment.member_id, points)?;
                    }
                    if let Some(tag) = &enrolment.add_tag {
                        connection.execute(
                            "INSERT INTO member_tags (business_id, member_id, tag, added_at) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                            &[
                                text(business),
                                text(enrolment.member_id),
                                text(tag),
                                enrolment.at.into(),
                            ],
                        )?;
                    }
                }
                Ok(inserted == 1)
            })
        })
        .await
    }

    /// How many journey messages the member was sent or is due since `since` (the
    /// frequency cap).
    pub async fn journey_messages_since(
        &self,
        business: BusinessId,
        member: MemberId,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT COUNT(*) FROM outbox WHERE business_id = $1 AND member_id = $2 \
                 AND kind = 'journey' AND created_at >= $3 AND status IN ('pending', 'sent')",
                &[text(business), text(member), since.into()],
            )?;
            let count = rows
                .first()
                .map(|row| Columns::of(row).int(0))
                .transpose()?;
            Ok(u64::try_from(count.unwrap_or(0)).unwrap_or(0))
        })
        .await
    }

    /// Each arm's members, those who came back within `days` after they were enrolled,
    /// and what they spent then (voided purchases left out).
    pub async fn journey_results(
        &self,
        business: BusinessId,
        journey: Slug,
        days: u32,
    ) -> Result<Vec<(Arm, ArmResult)>, StoreError> {
        self.with_connection(move |connection| {
            let window = Duration::days(i64::from(days)).num_milliseconds();
            let rows = connection.query(
                "SELECT e.arm, COUNT(DISTINCT e.member_id), COUNT(DISTINCT v.member_id), \
                 COALESCE(SUM(v.amount_cents), 0) FROM journey_enrolments e \
                 LEFT JOIN events v ON v.business_id = e.business_id AND v.member_id = e.member_id \
                 AND v.type IN ('purchase', 'visit') AND v.voided_at IS NULL \
                 AND v.occurred_at > e.enrolled_at AND v.occurred_at <= e.enrolled_at + $3 \
                 WHERE e.business_id = $1 AND e.journey = $2 GROUP BY e.arm",
                &[text(business), text(&journey), window.into()],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    let count = |index| columns.int(index).map(|n| u64::try_from(n).unwrap_or(0));
                    Ok((
                        columns.parsed(0, Arm::parse)?,
                        ArmResult {
                            members: count(1)?,
                            returned: count(2)?,
                            revenue_cents: columns.int(3)?,
                        },
                    ))
                })
                .collect()
        })
        .await
    }
}
