//! The customer's card: joining from the shop's QR code, and everything the card page
//! shows (balances, progress, coupons, recent history).

use crate::keys::{Actor, Caller, Scope};
use crate::sessions::CardSession;
use crate::{App, AppError, JoinMember, Mail};
use stammgast_core::batch::Outcome;
use stammgast_core::engine::{Coupon, CouponStatus, RecordedEvent};
use stammgast_core::ids::{BusinessId, MemberId};
use stammgast_core::member::Email;
use stammgast_core::program::Program;
use stammgast_store::{InboxMessage, MemberRecord};
use std::sync::Arc;

/// How many events the card shows.
const CARD_HISTORY_LENGTH: usize = 20;
/// How many messages the card's message box shows.
const CARD_MESSAGES: usize = 10;

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
    /// The messages the member was sent, newest first: the card's message box.
    pub messages: Vec<InboxMessage>,
}

/// How long a mailed sign-in link works.
const LINK_MINUTES: i64 = 30;

/// The sign-in mail in the member's language: subject and text, with `{name}`,
/// `{business}` and `{link}` filled in.
fn link_mail(language: &str) -> (&'static str, &'static str) {
    match language {
        "en" => (
            "Your sign-in link for {business}",
            "Hello {name},\n\nthis link opens your card at {business} on the device you open it on. \
             It works once, within 30 minutes:\n\n{link}\n\n\
             If you did not ask for it, you can ignore this mail.\n",
        ),
        _ => (
            "Dein Anmeldelink für {business}",
            "Hallo {name},\n\nmit diesem Link öffnest du deine Karte bei {business} auf dem Gerät, \
             auf dem du ihn öffnest. Er gilt einmal, 30 Minuten lang:\n\n{link}\n\n\
             Wenn du ihn nicht angefordert hast, kannst du diese Mail ignorieren.\n",
        ),
    }
}

impl App {
    /// Mails a one-time sign-in link to the member of `business` with this email address,
    /// if there is one. The answer is the same either way, so the form does not tell who
    /// is a member; the number of mails per address is limited.
    pub async fn send_card_link(
        &self,
        business: BusinessId,
        email: &str,
        base_url: &str,
    ) -> Result<(), AppError> {
        let email = Email::parse(email).map_err(|e| AppError::invalid("email", e))?;
        let throttle_key = format!("{business}/{email}");
        self.link_throttle.check(&throttle_key)?;
        self.link_throttle.count(&throttle_key);
        let business_name = self.business_name(business).await?;
        let Some(member) = self.store.member_by_email(business, &email).await? else {
            return Ok(());
        };
        let token = self
            .card_link(business, member.id, chrono::Duration::minutes(LINK_MINUTES))
            .await?;
        let link = format!("{}/card/open/{token}", base_url.trim_end_matches('/'));
        let fill = |text: &str| {
            text.replace("{name}", &member.first_name)
                .replace("{business}", &business_name)
                .replace("{link}", &link)
        };
        let (subject, text) = link_mail(&member.language);
        let mail = Mail {
            to: email.to_string(),
            subject: fill(subject),
            text: fill(text),
            html: None,
        };
        self.mailer
            .send(mail)
            .await
            .map_err(|error| AppError::Mail(error.to_string()))
    }

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
    /// Returns the member and the card session's token. Joins per business are limited
    /// (see `Throttle::for_joins`).
    pub async fn join_on_card(
        &self,
        business: BusinessId,
        join: JoinMember,
    ) -> Result<(MemberId, String), AppError> {
        self.business_name(business).await?;
        let throttle_key = business.to_string();
        self.join_throttle.check(&throttle_key)?;
        self.join_throttle.count(&throttle_key);
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
        let messages = self
            .store
            .member_inbox(business, member_id, CARD_MESSAGES)
            .await?;
        Ok(Card {
            business_id: business,
            business_name,
            program,
            member,
            coupons,
            recent,
            messages,
        })
    }
}
