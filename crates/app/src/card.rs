//! The customer's card: joining from the shop's QR code, and everything the card page
//! shows (balances, progress, coupons, recent history).

use crate::keys::{Actor, Caller, Scope};
use crate::sessions::CardSession;
use crate::{App, AppError, JoinMember};
use stammgast_core::batch::Outcome;
use stammgast_core::engine::{Coupon, CouponStatus, RecordedEvent};
use stammgast_core::ids::{BusinessId, MemberId};
use stammgast_core::program::Program;
use stammgast_store::MemberRecord;
use std::sync::Arc;

/// How many events the card shows.
const CARD_HISTORY_LENGTH: usize = 20;

/// Everything the card page shows.
#[derive(Clone, Debug)]
pub struct Card {
    pub business_id: BusinessId,
    pub business_name: String,
    pub program: Arc<Program>,
    pub member: MemberRecord,
    /// Coupons the member can use now.
    pub coupons: Vec<Coupon>,
    pub recent: Vec<RecordedEvent>,
}

impl App {
    /// The name of the business a join page belongs to (unknown businesses: not found).
    pub async fn business_name(&self, business: BusinessId) -> Result<String, AppError> {
        let record = self
            .store
            .business(business)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(record.name)
    }

    /// A customer joins on the business's join page and is signed in on their new card.
    /// Returns the member and the card session's token.
    pub async fn join_on_card(
        &self,
        business: BusinessId,
        join: JoinMember,
    ) -> Result<(MemberId, String), AppError> {
        self.business_name(business).await?;
        let caller = Caller {
            business_id: business,
            actor: Actor::Card(None),
            scopes: vec![Scope::MembersWrite.name().to_owned()],
        };
        match self.join_member(&caller, None, join).await? {
            Outcome::Joined { member_id, .. } => {
                let token = self.open_card_session(business, member_id).await?;
                Ok((member_id, token))
            }
            other => Err(AppError::Store(stammgast_store::StoreError::Other(
                format!("a join came back as {other:?}"),
            ))),
        }
    }

    /// The signed-in member's own card.
    pub async fn card(&self, session: &CardSession) -> Result<Card, AppError> {
        self.load_card(session.business_id, session.member_id).await
    }

    /// A member's card as staff see it at the counter.
    pub async fn member_card(&self, caller: &Caller, member: MemberId) -> Result<Card, AppError> {
        caller.require(Scope::MembersRead)?;
        self.load_card(caller.business_id, member).await
    }

    async fn load_card(&self, business: BusinessId, member_id: MemberId) -> Result<Card, AppError> {
        let business_name = self.business_name(business).await?;
        let program = self
            .store
            .program(business)
            .await?
            .ok_or(AppError::NotFound)?;
        let member = self
            .store
            .member(business, member_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let now = self.now();
        let coupons = self
            .store
            .member_coupons(business, member_id)
            .await?
            .into_iter()
            .filter(|coupon| coupon.status == CouponStatus::Issued && coupon.expires_at > now)
            .collect();
        let recent = self
            .store
            .member_events(business, member_id, None, CARD_HISTORY_LENGTH)
            .await?
            .items;
        Ok(Card {
            business_id: business,
            business_name,
            program,
            member,
            coupons,
            recent,
        })
    }
}
