//! A member's own data (DSGVO): everything stored about them to download (Art. 15/20),
//! erasure (Art. 17), and their language and marketing channels with proof of consent.

use crate::members::reachable_on;
use crate::sessions::CardSession;
use crate::{App, AppError, Caller, Scope, fresh};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use stammgast_core::batch::AuditEntry;
use stammgast_core::engine::{Coupon, RecordedEvent};
use stammgast_core::ids::{BusinessId, Code, MemberId};
use stammgast_core::ledger::Transfer;
use stammgast_core::member::{Channel, Consent, ConsentPurpose, Language};
use stammgast_store::{ConsentRecord, Page};
use std::collections::BTreeMap;

/// Pages read at most per history in one export (a page is up to 500 entries).
const EXPORT_PAGES_MAX: usize = 1_000;
const EXPORT_PAGE_SIZE: usize = 500;

/// Everything stored about one member.
#[derive(Clone, Debug, Serialize)]
pub struct MemberExport {
    pub exported_at: DateTime<Utc>,
    pub business: String,
    pub member: ExportedProfile,
    pub balances: ExportedBalances,
    /// With their proof: text version, source, and when confirmed and withdrawn.
    pub consents: Vec<ConsentRecord>,
    pub events: Vec<RecordedEvent>,
    pub transfers: Vec<Transfer>,
    pub coupons: Vec<Coupon>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExportedProfile {
    pub id: MemberId,
    pub code: Code,
    pub first_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub language: String,
    pub joined_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExportedBalances {
    pub points: i64,
    pub points_held: i64,
    pub stamps: BTreeMap<String, i64>,
    pub tier: Option<String>,
}

/// Reads every page of a history, newest first.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, AppError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, stammgast_store::StoreError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..EXPORT_PAGES_MAX {
        let next = page(cursor).await?;
        items.extend(next.items);
        match next.next_cursor {
            Some(after) => cursor = Some(after),
            None => return Ok(items),
        }
    }
    Ok(items)
}

/// What a member chose on their card's settings.
#[derive(Clone, Debug)]
pub struct Preferences {
    pub language: Language,
    /// The channels the member wants marketing on; the others are withdrawn.
    pub marketing: Vec<Channel>,
    /// The version of the consent text shown with the choice.
    pub text_version: String,
}

impl App {
    pub async fn export_own_data(&self, session: &CardSession) -> Result<MemberExport, AppError> {
        let (business, member_id) = (session.business_id, session.member_id);
        let store = &self.store;
        let record = store
            .member(business, member_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let events =
            all_pages(|cursor| store.member_events(business, member_id, cursor, EXPORT_PAGE_SIZE))
                .await?;
        let transfers = all_pages(|cursor| {
            store.member_transfers(business, member_id, cursor, EXPORT_PAGE_SIZE)
        })
        .await?;
        let state = &record.state;
        Ok(MemberExport {
            exported_at: self.now(),
            business: self.business_name(business).await?,
            balances: ExportedBalances {
                points: state.points.available(),
                points_held: state.points.held,
                stamps: state
                    .stamps
                    .iter()
                    .map(|(card, b)| (card.to_string(), b.available()))
                    .collect(),
                tier: state.tier.as_ref().map(ToString::to_string),
            },
            consents: store.member_consents(business, member_id).await?,
            coupons: store.member_coupons(business, member_id).await?,
            member: ExportedProfile {
                id: record.id,
                code: record.code,
                first_name: record.first_name,
                email: record.email,
                phone: record.phone,
                birthday: record.birthday,
                language: record.language,
                joined_at: record.joined_at,
            },
            events,
            transfers,
        })
    }

    /// Erases the signed-in member's personal data and ends their sessions.
    pub async fn erase_own_account(&self, session: &CardSession) -> Result<(), AppError> {
        self.erase_member(
            session.business_id,
            session.member_id,
            format!("card:{}", session.member_id),
        )
        .await
    }

    async fn erase_member(
        &self,
        business: BusinessId,
        member: MemberId,
        actor: String,
    ) -> Result<(), AppError> {
        let audit = AuditEntry {
            business_id: business,
            id: fresh::id(),
            at: self.now(),
            actor,
            action: "erase".into(),
            subject: format!("member:{member}"),
            detail: serde_json::json!({"reason": "erasure requested (DSGVO Art. 17)"}),
        };
        self.store
            .erase_member(business, member, fresh::member_code(), audit)
            .await
            .map_err(|error| match error {
                stammgast_store::StoreError::NotFound => AppError::NotFound,
                other => other.into(),
            })
    }

    /// The member's marketing channels in force now (given and not withdrawn).
    pub async fn marketing_channels(
        &self,
        session: &CardSession,
    ) -> Result<Vec<Channel>, AppError> {
        let consents = self
            .store
            .member_consents(session.business_id, session.member_id)
            .await?;
        Ok(Channel::ALL
            .into_iter()
            .filter(|channel| {
                consents.iter().any(|c| {
                    c.purpose == "marketing"
                        && c.channel == channel.as_str()
                        && c.withdrawn_at.is_none()
                })
            })
            .collect())
    }

    pub async fn set_preferences(
        &self,
        session: &CardSession,
        preferences: Preferences,
    ) -> Result<(), AppError> {
        let (business, member) = (session.business_id, session.member_id);
        let record = self
            .store
            .member(business, member)
            .await?
            .ok_or(AppError::NotFound)?;
        for channel in &preferences.marketing {
            reachable_on(record.email.is_some(), record.phone.is_some(), *channel)?;
        }
        self.store
            .set_member_language(business, member, preferences.language)
            .await?;
        let give = preferences
            .marketing
            .iter()
            .map(|channel| Consent {
                purpose: ConsentPurpose::Marketing(*channel),
                text_version: preferences.text_version.clone(),
                source: "card".into(),
            })
            .collect();
        let withdraw = Channel::ALL
            .into_iter()
            .filter(|channel| !preferences.marketing.contains(channel))
            .map(ConsentPurpose::Marketing)
            .collect();
        self.store
            .change_consents(business, member, give, withdraw, self.now())
            .await?;
        self.kick_delivery(business);
        Ok(())
    }

    /// Records a member's marketing consent on one channel with its proof (the text they
    /// agreed to and where), as an integration collected it (`given`), or its withdrawal.
    /// By email it counts once the member confirms it from the mail this sends. Returns
    /// the member's consent records.
    pub async fn set_marketing_consent(
        &self,
        caller: &Caller,
        member: MemberId,
        channel: Channel,
        given: Option<(String, String)>,
    ) -> Result<Vec<ConsentRecord>, AppError> {
        caller.require(Scope::MembersWrite)?;
        let business = caller.business_id;
        let record = self
            .store
            .member(business, member)
            .await?
            .ok_or(AppError::NotFound)?;
        let purpose = ConsentPurpose::Marketing(channel);
        let (give, withdraw) = match given {
            Some((text_version, source)) => {
                reachable_on(record.email.is_some(), record.phone.is_some(), channel)?;
                for (field, value) in [("text_version", &text_version), ("source", &source)] {
                    if value.trim().is_empty() || value.chars().count() > 100 {
                        return Err(AppError::invalid(field, "1 to 100 characters"));
                    }
                }
                let consent = Consent {
                    purpose,
                    text_version,
                    source,
                };
                (vec![consent], vec![])
            }
            None => (vec![], vec![purpose]),
        };
        self.store
            .change_consents(business, member, give, withdraw, self.now())
            .await?;
        self.kick_delivery(business);
        Ok(self.store.member_consents(business, member).await?)
    }
}
