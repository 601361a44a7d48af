//! Purchases, visits and custom events, one at a time or in bulk, and their corrections:
//! voids, refunds and manual adjustments.

use crate::{App, AppError, Caller, Decision, Page, Scope, fresh};
use chrono::{DateTime, Duration, Utc};
use stammgast_core::batch::{AuditEntry, Command, IdempotencyKey, Outcome};
use stammgast_core::event::{Event, EventKind, Item};
use stammgast_core::ids::{BusinessId, EventId, LocationId, MemberId, Slug};
use stammgast_core::ledger::Unit;
use stammgast_core::money::{Cents, Currency};

/// The most events one bulk request may carry.
pub const BATCH_EVENTS_MAX: usize = 10_000;
/// How far ahead of the server's clock an event may claim to have happened (clock skew).
const FUTURE_TOLERANCE: Duration = Duration::minutes(5);

#[derive(Clone, Debug)]
pub enum NewEventKind {
    Purchase {
        amount: Cents,
        currency: Currency,
        items: Vec<Item>,
    },
    Visit,
    Custom {
        name: Slug,
    },
}

#[derive(Clone, Debug)]
pub struct NewEvent {
    pub member_id: MemberId,
    pub kind: NewEventKind,
    pub location_id: Option<LocationId>,
    /// When it happened; now when not given.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl App {
    pub async fn record_event(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        event: NewEvent,
    ) -> Result<Outcome, AppError> {
        caller.require(Scope::EventsWrite)?;
        let command = self.record_command(caller.business_id, event).await?;
        self.submit(caller, key, command).await
    }

    /// Records many events in one transaction. Each event stands alone: one that is refused
    /// does not stop the others, and its decision says why. Each may carry its own key.
    pub async fn record_events(
        &self,
        caller: &Caller,
        events: Vec<(Option<IdempotencyKey>, NewEvent)>,
    ) -> Result<Vec<Decision>, AppError> {
        caller.require(Scope::EventsWrite)?;
        if events.len() > BATCH_EVENTS_MAX {
            return Err(AppError::invalid(
                "events",
                format!(
                    "send at most {BATCH_EVENTS_MAX} events per request, not {}",
                    events.len()
                ),
            ));
        }
        let mut requests = Vec::with_capacity(events.len());
        for (index, (key, event)) in events.into_iter().enumerate() {
            let command = self
                .record_command(caller.business_id, event)
                .await
                .map_err(|error| error.in_element("events", index))?;
            requests.push(self.request(caller, key, command));
        }
        Ok(self.store.submit(requests).await?)
    }

    async fn record_command(
        &self,
        business: BusinessId,
        event: NewEvent,
    ) -> Result<Command, AppError> {
        let now = self.now();
        let occurred_at = event.occurred_at.unwrap_or(now);
        if occurred_at > now + FUTURE_TOLERANCE {
            return Err(AppError::invalid("occurred_at", "lies in the future"));
        }
        if let Some(location) = event.location_id {
            self.check_location(business, location).await?;
        }
        let kind = match event.kind {
            NewEventKind::Purchase {
                amount,
                currency,
                items,
            } => {
                let expected = self.currency_of(business).await?;
                if currency != expected {
                    return Err(AppError::invalid(
                        "currency",
                        format!("this business counts in {expected}, not {currency}"),
                    ));
                }
                EventKind::Purchase { amount, items }
            }
            NewEventKind::Visit => EventKind::Visit,
            NewEventKind::Custom { name } => EventKind::Custom { name },
        };
        Ok(Command::Record {
            event: Event {
                id: EventId::from_uuid(fresh::id()),
                member_id: event.member_id,
                kind,
                location_id: event.location_id,
                occurred_at,
            },
        })
    }

    /// Refuses a location that is not one of the business's. Locations are only ever
    /// added, so the ones seen are remembered and only an unknown one asks the database.
    pub(crate) async fn check_location(
        &self,
        business: BusinessId,
        location: LocationId,
    ) -> Result<(), AppError> {
        let known = |app: &Self| {
            app.known_locations
                .read()
                .is_ok_and(|known| known.contains(&(business, location)))
        };
        if known(self) {
            return Ok(());
        }
        let locations = self.store.locations(business).await?;
        if let Ok(mut remembered) = self.known_locations.write() {
            remembered.extend(locations.iter().map(|l| (business, l.id)));
        }
        if locations.iter().any(|l| l.id == location) {
            Ok(())
        } else {
            Err(AppError::invalid(
                "location_id",
                "is not a location of this business",
            ))
        }
    }

    async fn currency_of(&self, business: BusinessId) -> Result<Currency, AppError> {
        if let Some(currency) = self
            .currencies
            .read()
            .ok()
            .and_then(|c| c.get(&business).copied())
        {
            return Ok(currency);
        }
        let program = self
            .store
            .program(business)
            .await?
            .ok_or(AppError::NotFound)?;
        if let Ok(mut currencies) = self.currencies.write() {
            currencies.insert(business, program.currency);
        }
        Ok(program.currency)
    }

    pub async fn void_event(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        event_id: EventId,
        reason: String,
    ) -> Result<Outcome, AppError> {
        caller.require(Scope::EventsWrite)?;
        let reason = required_reason(reason)?;
        self.submit(caller, key, Command::Void { event_id, reason })
            .await
    }

    pub async fn refund_event(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        event_id: EventId,
        amount: Cents,
        reason: String,
    ) -> Result<Outcome, AppError> {
        caller.require(Scope::EventsWrite)?;
        if amount == Cents::ZERO {
            return Err(AppError::invalid("amount", "a refund must be more than 0"));
        }
        let reason = required_reason(reason)?;
        self.submit(
            caller,
            key,
            Command::Refund {
                event_id,
                amount,
                reason,
            },
        )
        .await
    }

    /// A manual correction by staff, with the reason recorded in the audit log.
    pub async fn adjust(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        member_id: MemberId,
        unit: Unit,
        delta: i64,
        reason: String,
    ) -> Result<Outcome, AppError> {
        caller.require(Scope::LedgerAdjust)?;
        let reason = required_reason(reason)?;
        self.submit(
            caller,
            key,
            Command::Adjust {
                member_id,
                unit,
                delta,
                reason,
            },
        )
        .await
    }

    /// The business's audit log (adjustments, erasures), newest first: for those who may
    /// adjust balances.
    pub async fn audit_log(
        &self,
        caller: &Caller,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<AuditEntry>, AppError> {
        caller.require(Scope::LedgerAdjust)?;
        Ok(self
            .store
            .audit_log(caller.business_id, cursor, limit)
            .await?)
    }

    /// Expires the due points of these members.
    pub async fn expire_points(
        &self,
        business: BusinessId,
        members: &[MemberId],
    ) -> Result<Vec<Decision>, AppError> {
        self.maintain(business, members, |member_id| Command::Expire { member_id })
            .await
    }

    /// Re-evaluates these members' tiers (downgrades happen here, after the grace period).
    pub async fn evaluate_tiers(
        &self,
        business: BusinessId,
        members: &[MemberId],
    ) -> Result<Vec<Decision>, AppError> {
        self.maintain(business, members, |member_id| Command::EvaluateTier {
            member_id,
        })
        .await
    }

    async fn maintain(
        &self,
        business: BusinessId,
        members: &[MemberId],
        command: impl Fn(MemberId) -> Command,
    ) -> Result<Vec<Decision>, AppError> {
        let requests = members
            .iter()
            .map(|&member_id| self.request_as(business, "worker".into(), None, command(member_id)))
            .collect();
        Ok(self.store.submit(requests).await?)
    }
}

fn required_reason(reason: String) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::invalid(
            "reason",
            "give a reason of 1 to 500 characters",
        ));
    }
    Ok(reason.to_owned())
}
