//! The outbox: messages queued in the transaction that decided to send them, claimed by
//! one worker at a time under a lease, settled as sent, to retry, failed or bounced; the
//! addresses that bounced; and confirming a consent (double opt-in).

use crate::reads::in_transaction;
use crate::sql::{Columns, Connection, text};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use stammgast_core::ids::{BusinessId, MemberId};
use stammgast_core::member::ConsentPurpose;
use stammgast_core::outbox::MessageKind;
use uuid::Uuid;

/// A message as the outbox keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub member_id: MemberId,
    pub kind: MessageKind,
    pub occasion: String,
    pub channel: String,
    /// JSON; what the kind needs to render the message.
    pub payload: String,
    /// pending, sent, failed or bounced.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A message in a member's message box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxMessage {
    pub subject: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

/// How a delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    Sent,
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    Failed {
        error: String,
    },
    /// Not sent because there is nothing to send any more (the consent it asks about was
    /// withdrawn or confirmed meanwhile, the member is gone, the journey paused).
    Skipped {
        reason: String,
    },
    /// Refused for good: the address is marked and gets nothing more.
    Bounced {
        address: String,
        error: String,
    },
}

const COLUMNS: &str =
    "id, member_id, kind, occasion, channel, payload, status, attempts, last_error, created_at";

/// Queues a message inside the caller's transaction; a message of the same kind for the
/// same member and occasion is queued once.
pub(crate) fn queue_message(
    connection: &mut dyn Connection,
    business: BusinessId,
    member: MemberId,
    message: Queued<'_>,
) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO outbox (business_id, id, member_id, kind, occasion, channel, payload, status, \
         attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9) \
         ON CONFLICT (business_id, member_id, kind, occasion) DO NOTHING",
        &[
            text(business),
            text(Uuid::new_v4()),
            text(member),
            message.kind.as_str().into(),
            message.occasion.into(),
            message.channel.into(),
            message.payload.into(),
            message.not_before.into(),
            message.at.into(),
        ],
    )?;
    Ok(())
}

/// A message to queue: its kind and occasion, channel, payload (JSON), when it was decided
/// and the earliest time to send it (after quiet hours, say).
#[derive(Clone, Copy, Debug)]
pub struct Queued<'a> {
    pub kind: MessageKind,
    pub occasion: &'a str,
    pub channel: &'a str,
    pub payload: &'a str,
    pub at: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
}

/// Queues the double opt-in mail for a marketing consent by email given at `given_at`
/// (once per consent given).
pub(crate) fn queue_confirmation(
    connection: &mut dyn Connection,
    business: BusinessId,
    member: MemberId,
    given_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let occasion = given_at.timestamp_millis().to_string();
    let message = Queued {
        kind: MessageKind::ConfirmEmail,
        occasion: &occasion,
        channel: "email",
        payload: "{}",
        at: given_at,
        not_before: given_at,
    };
    queue_message(connection, business, member, message)
}

impl Store {
    /// Messages due at `now` and not leased by a worker, oldest first, at most `limit`.
    pub async fn due_messages(
        &self,
        business: BusinessId,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.with_connection(move |connection| {
            let sql = format!(
                "SELECT {COLUMNS} FROM outbox WHERE business_id = $1 AND status = 'pending' \
                 AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2) \
                 ORDER BY next_attempt_at, id LIMIT $3"
            );
            let rows = connection.query(
                &sql,
                &[
                    text(business),
                    now.into(),
                    i64::try_from(limit).unwrap_or(i64::MAX).into(),
                ],
            )?;
            rows.iter().map(message).collect()
        })
        .await
    }

    /// A member's messages, newest first (their delivery status).
    pub async fn member_messages(
        &self,
        business: BusinessId,
        member: MemberId,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.with_connection(move |connection| {
            let sql = format!(
                "SELECT {COLUMNS} FROM outbox WHERE business_id = $1 AND member_id = $2 \
                 ORDER BY created_at DESC, id"
            );
            let rows = connection.query(&sql, &[text(business), text(member)])?;
            rows.iter().map(message).collect()
        })
        .await
    }

    /// Keeps the message as the member gets it (subject and text), for their card's
    /// message box.
    pub async fn keep_message_copy(
        &self,
        business: BusinessId,
        id: Uuid,
        subject: String,
        body: String,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection.execute(
                "UPDATE outbox SET subject = $3, body = $4 WHERE business_id = $1 AND id = $2",
                &[text(business), text(id), subject.into(), body.into()],
            )?;
            Ok(())
        })
        .await
    }

    /// The messages sent to a member, newest first, at most `limit`: the card's message
    /// box.
    pub async fn member_inbox(
        &self,
        business: BusinessId,
        member: MemberId,
        limit: usize,
    ) -> Result<Vec<InboxMessage>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT subject, body, sent_at FROM outbox WHERE business_id = $1 AND member_id = $2 \
                 AND status = 'sent' AND subject IS NOT NULL ORDER BY sent_at DESC, id LIMIT $3",
                &[
                    text(business),
                    text(member),
                    i64::try_from(limit).unwrap_or(i64::MAX).into(),
                ],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(InboxMessage {
                        subject: columns.text(0)?.to_owned(),
                        body: columns.text(1)?.to_owned(),
                        sent_at: columns.time(2)?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Leases a due message to the caller until `until`; `false` when another worker holds
    /// it or it is no longer due.
    pub async fn claim_message(
        &self,
        business: BusinessId,
        id: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with_connection(move |connection| {
            let claimed = connection.execute(
                "UPDATE outbox SET lease_until = $4 WHERE business_id = $1 AND id = $2 \
                 AND status = 'pending' AND next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3)",
                &[text(business), text(id), now.into(), until.into()],
            )?;
            Ok(claimed == 1)
        })
        .await
    }

    /// Records how the attempt on a claimed message ended, and releases the lease.
    pub async fn settle_message(
        &self,
        business: BusinessId,
        id: Uuid,
        settled: Settled,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let params = |status: &str, next: DateTime<Utc>, error: Option<&str>| {
                    vec![
                        text(business),
                        text(id),
                        status.into(),
                        next.into(),
                        error.map(str::to_owned).into(),
                        now.into(),
                    ]
                };
                let values = match &settled {
                    Settled::Sent => params("sent", now, None),
                    Settled::Retry { at, error } => params("pending", *at, Some(error)),
                    Settled::Failed { error } => params("failed", now, Some(error)),
                    Settled::Skipped { reason } => params("skipped", now, Some(reason)),
                    Settled::Bounced { address, error } => {
                        connection.execute(
                            "INSERT INTO email_bounces (business_id, address, bounced_at, reason) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (business_id, address) DO NOTHING",
                            &[
                                text(business),
                                address.as_str().into(),
                                now.into(),
                                error.as_str().into(),
                            ],
                        )?;
                        params("bounced", now, Some(error))
                    }
                };
                connection.execute(
                    "UPDATE outbox SET status = $3, next_attempt_at = $4, last_error = $5, \
                     attempts = attempts + 1, lease_until = NULL, \
                     sent_at = CASE WHEN $3 = 'sent' THEN $6 ELSE sent_at END \
                     WHERE business_id = $1 AND id = $2",
                    &values,
                )?;
                Ok(())
            })
        })
        .await
    }

    /// Whether a mail server refused this address for good.
    pub async fn bounced(&self, business: BusinessId, address: String) -> Result<bool, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT 1 FROM email_bounces WHERE business_id = $1 AND address = $2",
                &[text(business), address.into()],
            )?;
            Ok(!rows.is_empty())
        })
        .await
    }

    /// Confirms the member's standing consent for `purpose`; `false` when there is none
    /// waiting (withdrawn, or confirmed already).
    pub async fn confirm_consent(
        &self,
        business: BusinessId,
        member: MemberId,
        purpose: ConsentPurpose,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with_connection(move |connection| {
            let (purpose, channel) = purpose.as_parts();
            let confirmed = connection.execute(
                "UPDATE consents SET confirmed_at = $5 WHERE business_id = $1 AND member_id = $2 \
                 AND purpose = $3 AND channel = $4 AND withdrawn_at IS NULL AND confirmed_at IS NULL",
                &[text(business), text(member), purpose.into(), channel.into(), at.into()],
            )?;
            Ok(confirmed > 0)
        })
        .await
    }
}

fn message(row: &crate::sql::Row) -> Result<OutboxMessage, StoreError> {
    let columns = Columns::of(row);
    Ok(OutboxMessage {
        id: columns.parsed(0, |raw| Uuid::try_parse(raw).ok())?,
        member_id: columns.parsed(1, MemberId::parse)?,
        kind: columns.parsed(2, MessageKind::parse)?,
        occasion: columns.text(3)?.to_owned(),
        channel: columns.text(4)?.to_owned(),
        payload: columns.text(5)?.to_owned(),
        status: columns.text(6)?.to_owned(),
        attempts: u32::try_from(columns.int(7)?).unwrap_or(0),
        last_error: columns.opt_text(8)?.map(str::to_owned),
        created_at: columns.time(9)?,
    })
}
