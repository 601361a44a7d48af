//! What only the counter does: voiding a recent purchase within the shop's window, and
//! enrolling a customer whom staff sign up in person.

use crate::sessions::StaffSession;
use crate::{App, AppError, JoinMember};
use chrono::Duration;
use stammgast_core::batch::{IdempotencyKey, Outcome};
use stammgast_core::ids::{EventId, MemberId};

/// A customer signed up at the counter.
#[derive(Clone, Copy, Debug)]
pub struct Enrolled {
    pub member_id: MemberId,
    /// Whether the link to their card was mailed.
    pub link_sent: bool,
}

/// How far back the counter looks for the event to void.
const RECENT_EVENTS: usize = 50;

impl App {
    /// Voids a member's recent purchase or visit with a reason. Cashiers may do so only
    /// within the shop's void window; owners and managers at any time.
    pub async fn void_at_counter(
        &self,
        staff: &StaffSession,
        key: Option<IdempotencyKey>,
        member: MemberId,
        event_id: EventId,
        reason: String,
    ) -> Result<Outcome, AppError> {
        let business = staff.caller.business_id;
        if !staff.role.may_manage() {
            let window = self.shop_settings(business).await?.void_window_minutes;
            let recent = self
                .store
                .member_events(business, member, None, RECENT_EVENTS)
                .await?
                .items;
            let event = recent
                .iter()
                .find(|recorded| recorded.event.id == event_id)
                .ok_or(AppError::NotFound)?;
            if self.now() - event.event.occurred_at > Duration::minutes(window) {
                return Err(AppError::invalid(
                    "event",
                    format!(
                        "only the last {window} minutes can be voided at the counter; ask a manager"
                    ),
                ));
            }
        }
        self.void_event(&staff.caller, key, event_id, reason).await
    }

    /// Signs up a customer at the counter (they agreed to the terms in person) and, when
    /// they gave an email address, mails them the link that opens their card. A mail that
    /// cannot be sent does not undo the sign-up: the result says whether it went out.
    pub async fn enrol_at_counter(
        &self,
        staff: &StaffSession,
        join: JoinMember,
        base_url: &str,
    ) -> Result<Enrolled, AppError> {
        let email = join.email.clone();
        let outcome = self.join_member(&staff.caller, None, join).await?;
        let Outcome::Joined { member_id, .. } = outcome else {
            return Err(AppError::NotFound);
        };
        let mut link_sent = false;
        if let Some(email) = email {
            match self
                .send_card_link(staff.caller.business_id, &email, base_url)
                .await
            {
                Ok(()) => link_sent = true,
                Err(error) => {
                    tracing::warn!(%error, "the card link for a counter sign-up was not sent")
                }
            }
        }
        Ok(Enrolled {
            member_id,
            link_sent,
        })
    }
}
