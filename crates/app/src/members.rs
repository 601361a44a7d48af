//! Members: joining, and reading profiles, balances and history.

use crate::{App, AppError, Caller, Scope, fresh};
use chrono::NaiveDate;
use stammgast_core::batch::{Command, IdempotencyKey, Outcome};
use stammgast_core::engine::DomainError;
use stammgast_core::engine::{Coupon, RecordedEvent};
use stammgast_core::ids::{Code, EventId, MemberId};
use stammgast_core::ledger::Transfer;
#[cfg(doc)]
use stammgast_core::member::member_qr_payload;
use stammgast_core::member::{
    Channel, Consent, ConsentPurpose, Contact, Email, FirstName, Language, NewMember, Phone,
};
use stammgast_core::outbox::needs_confirmation;
use stammgast_store::{ConsentRecord, MemberFilter, MemberRecord, Page};

/// What a new member gives: a first name and at least one of email and phone.
#[derive(Clone, Debug, Default)]
pub struct JoinMember {
    pub first_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub language: Option<String>,
    /// What the member agreed to while joining (the card's join form records the terms and
    /// each marketing channel ticked).
    pub consents: Vec<Consent>,
}

impl JoinMember {
    pub(crate) fn into_new_member(self) -> Result<NewMember, AppError> {
        let first_name =
            FirstName::parse(&self.first_name).map_err(|e| AppError::invalid("first_name", e))?;
        let email = self
            .email
            .map(|e| Email::parse(&e).map_err(|r| AppError::invalid("email", r)))
            .transpose()?;
        let phone = self
            .phone
            .map(|p| Phone::parse(&p).map_err(|r| AppError::invalid("phone", r)))
            .transpose()?;
        let contact = Contact::new(email, phone).map_err(|e| AppError::invalid("email", e))?;
        let language = self
            .language
            .map(|l| Language::parse(&l).map_err(|r| AppError::invalid("language", r)))
            .transpose()?
            .unwrap_or_default();
        reachable_on_consented_channels(&contact, &self.consents)?;
        Ok(NewMember {
            id: MemberId::from_uuid(fresh::id()),
            code: fresh::member_code(),
            first_name,
            contact,
            birthday: self.birthday,
            language,
            consents: self.consents,
        })
    }
}

/// How many ledger entries a member's profile shows.
const PROFILE_HISTORY_LENGTH: usize = 50;

/// A member as the back office sees them.
#[derive(Clone, Debug)]
pub struct MemberProfile {
    pub card: crate::Card,
    pub transfers: Vec<Transfer>,
    pub consents: Vec<ConsentRecord>,
    /// Every message to the member with its delivery status, newest first.
    pub messages: Vec<stammgast_store::OutboxMessage>,
}

/// What a member QR code's payload starts with ([`member_qr_payload`]).
const QR_PREFIX: &str = "SG1:";

fn reachable_on_consented_channels(
    contact: &Contact,
    consents: &[Consent],
) -> Result<(), AppError> {
    for consent in consents {
        if let ConsentPurpose::Marketing(channel) = consent.purpose {
            reachable_on(
                contact.email().is_some(),
                contact.phone().is_some(),
                channel,
            )?;
        }
    }
    Ok(())
}

/// Marketing by email needs an email address, by SMS a phone number.
pub(crate) fn reachable_on(
    has_email: bool,
    has_phone: bool,
    channel: Channel,
) -> Result<(), AppError> {
    match channel {
        Channel::Email if !has_email => Err(AppError::invalid(
            "email",
            "give an email address to get news by email",
        )),
        Channel::Sms if !has_phone => Err(AppError::invalid(
            "phone",
            "give a phone number to get news by SMS",
        )),
        _ => Ok(()),
    }
}

impl App {
    pub async fn join_member(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        join: JoinMember,
    ) -> Result<Outcome, AppError> {
        caller.require(Scope::MembersWrite)?;
        let member = join.into_new_member()?;
        // A fresh code can meet one already printed (one in a million per join at a million
        // members): the join is tried again with another, never refused for it.
        const CODE_ATTEMPTS: usize = 4;
        let mut attempt = 1;
        loop {
            let command = Command::Join {
                member: NewMember {
                    code: fresh::member_code(),
                    ..member.clone()
                },
                signup_event: EventId::from_uuid(fresh::id()),
            };
            match self.submit(caller, key.clone(), command).await {
                Err(AppError::Domain(DomainError::ContactTaken(field)))
                    if field == "member code" && attempt < CODE_ATTEMPTS =>
                {
                    attempt += 1;
                }
                result => {
                    if result.is_ok()
                        && member
                            .consents
                            .iter()
                            .any(|c| needs_confirmation(c.purpose))
                    {
                        self.kick_delivery(caller.business_id);
                    }
                    return result;
                }
            }
        }
    }

    pub async fn member(&self, caller: &Caller, id: MemberId) -> Result<MemberRecord, AppError> {
        caller.require(Scope::MembersRead)?;
        self.store
            .member(caller.business_id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Finds a member by the code on their card or QR code (typos forgiven).
    pub async fn member_by_code(
        &self,
        caller: &Caller,
        code: &str,
    ) -> Result<MemberRecord, AppError> {
        caller.require(Scope::MembersRead)?;
        let code = Code::parse(code).map_err(|e| AppError::invalid("code", e))?;
        self.store
            .member_by_code(caller.business_id, code)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Finds a member by what staff type or scan: the card's QR payload or code, an email
    /// address, or a phone number.
    pub async fn find_member(
        &self,
        caller: &Caller,
        query: &str,
    ) -> Result<MemberRecord, AppError> {
        caller.require(Scope::MembersRead)?;
        let query = query.trim();
        let business = caller.business_id;
        if query.contains('@') {
            let email = Email::parse(query).map_err(|e| AppError::invalid("query", e))?;
            let found = self.store.member_by_email(business, &email).await?;
            return found.ok_or(AppError::NotFound);
        }
        // Digits alone can be a code or a phone number: the code is tried first.
        let code = Code::parse(query.strip_prefix(QR_PREFIX).unwrap_or(query));
        let phone = Phone::parse(query);
        if code.is_err() && phone.is_err() {
            return Err(AppError::invalid(
                "query",
                "not a card number, email address or phone number",
            ));
        }
        let mut found = None;
        if let Ok(code) = code {
            found = self.store.member_by_code(business, code).await?;
        }
        if let (None, Ok(phone)) = (&found, phone) {
            found = self.store.member_by_phone(business, &phone).await?;
        }
        found.ok_or(AppError::NotFound)
    }

    pub async fn members(
        &self,
        caller: &Caller,
        filter: &MemberFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<MemberRecord>, AppError> {
        caller.require(Scope::MembersRead)?;
        Ok(self
            .store
            .members(caller.business_id, filter, cursor, limit)
            .await?)
    }

    /// A member's events, newest first. Unknown members are not found, not an empty list.
    pub async fn member_events(
        &self,
        caller: &Caller,
        member: MemberId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<RecordedEvent>, AppError> {
        self.member(caller, member).await?;
        Ok(self
            .store
            .member_events(caller.business_id, member, cursor, limit)
            .await?)
    }

    pub async fn member_transfers(
        &self,
        caller: &Caller,
        member: MemberId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<Transfer>, AppError> {
        self.member(caller, member).await?;
        Ok(self
            .store
            .member_transfers(caller.business_id, member, cursor, limit)
            .await?)
    }

    /// Everything the back office shows about a member: the card, the ledger (newest
    /// first) and the consents on record.
    pub async fn member_profile(
        &self,
        caller: &Caller,
        member: MemberId,
    ) -> Result<MemberProfile, AppError> {
        let card = self.member_card(caller, member).await?;
        let business = caller.business_id;
        let transfers = self
            .store
            .member_transfers(business, member, None, PROFILE_HISTORY_LENGTH)
            .await?
            .items;
        let consents = self.store.member_consents(business, member).await?;
        let messages = self.store.member_messages(business, member).await?;
        Ok(MemberProfile {
            card,
            transfers,
            consents,
            messages,
        })
    }

    /// A member (for the balance the coupons draw on) and their coupons.
    pub async fn member_coupons(
        &self,
        caller: &Caller,
        member: MemberId,
    ) -> Result<(MemberRecord, Vec<Coupon>), AppError> {
        let record = self.member(caller, member).await?;
        let coupons = self
            .store
            .member_coupons(caller.business_id, member)
            .await?;
        Ok((record, coupons))
    }
}
