//! Members: joining, and reading profiles, balances and history.

use crate::{App, AppError, Caller, Scope, fresh};
use chrono::NaiveDate;
use stammgast_core::batch::{Command, IdempotencyKey, Outcome};
use stammgast_core::engine::{Coupon, RecordedEvent};
use stammgast_core::ids::{Code, EventId, MemberId};
use stammgast_core::ledger::Transfer;
use stammgast_core::member::{Contact, Email, FirstName, Language, NewMember, Phone};
use stammgast_store::{MemberRecord, Page};

/// What a new member gives: a first name and at least one of email and phone.
#[derive(Clone, Debug, Default)]
pub struct JoinMember {
    pub first_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub language: Option<String>,
}

impl JoinMember {
    fn into_new_member(self) -> Result<NewMember, AppError> {
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
        Ok(NewMember {
            id: MemberId::from_uuid(fresh::id()),
            code: fresh::member_code(),
            first_name,
            contact,
            birthday: self.birthday,
            language,
        })
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
        let command = Command::Join {
            member: join.into_new_member()?,
            signup_event: EventId::from_uuid(fresh::id()),
        };
        self.submit(caller, key, command).await
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

    pub async fn members(
        &self,
        caller: &Caller,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<MemberRecord>, AppError> {
        caller.require(Scope::MembersRead)?;
        Ok(self
            .store
            .members(caller.business_id, cursor, limit)
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
