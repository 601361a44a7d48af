//! What the store hands out and takes in besides batch requests: businesses, API keys,
//! member profiles and pages of history.

use chrono::{DateTime, NaiveDate, Utc};
use stammgast_core::engine::{MemberState, RecordedEvent};
use stammgast_core::ids::{
    ApiKeyId, BusinessId, Code, EventId, LocationId, MemberId, SessionId, StaffId,
};
use stammgast_core::ledger::{
    LedgerFacts, LotConsumption, MemberBalances, Transfer, Violation, verify,
};
use std::collections::HashMap;

/// A business as it is created: its first program and its first API key.
#[derive(Clone, Debug)]
pub struct NewBusiness {
    pub id: BusinessId,
    pub name: String,
    /// The program definition as JSON, already validated by the caller.
    pub program: String,
    pub api_key: NewApiKey,
    pub created_at: DateTime<Utc>,
}

/// An API key as stored: never the secret itself, only its hash.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub business_id: BusinessId,
    pub id: ApiKeyId,
    pub secret_hash: String,
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessRecord {
    pub id: BusinessId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The published program's definition (JSON) and version.
    pub program: String,
    pub program_version: i64,
}

/// A member's profile and current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    pub id: MemberId,
    pub code: Code,
    pub first_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub language: String,
    pub joined_at: DateTime<Utc>,
    pub state: MemberState,
}

/// One page of a list, and the cursor that fetches the next one (`None` on the last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Everything `stammgast check` verifies for one business.
#[derive(Clone, Debug)]
pub struct LedgerSnapshot {
    pub transfers: Vec<Transfer>,
    pub consumptions: Vec<LotConsumption>,
    pub members: Vec<MemberBalances>,
    pub event_members: HashMap<EventId, MemberId>,
}

impl LedgerSnapshot {
    /// Every ledger invariant this snapshot breaks.
    pub fn violations(&self) -> Vec<Violation> {
        verify(&LedgerFacts {
            transfers: &self.transfers,
            consumptions: &self.consumptions,
            members: &self.members,
            event_members: &self.event_members,
        })
    }
}

/// A member's recorded events (purchases, visits, …), newest first.
pub type EventPage = Page<RecordedEvent>;

/// A staff account as stored; the role is checked by the app (`StaffRole`).
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub business_id: BusinessId,
    pub id: StaffId,
    /// Lower case; unique in the instance.
    pub email: String,
    pub name: String,
    pub role: String,
    /// An argon2id PHC string.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRecord {
    pub business_id: BusinessId,
    pub id: StaffId,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
}

/// Whose session it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Staff,
    Member,
    /// A one-time link (mailed, or printed by the demo) that signs a member in on a device.
    MemberLink,
    /// The link in a double opt-in mail that confirms a marketing consent by email.
    ConsentConfirmation,
    /// The unsubscribe link in a marketing mail.
    Unsubscribe,
    /// The link to a survey sent by a journey (its subject: member and message).
    Survey,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Member => "member",
            Self::MemberLink => "member_link",
            Self::ConsentConfirmation => "consent_confirmation",
            Self::Unsubscribe => "unsubscribe",
            Self::Survey => "survey",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "staff" => Some(Self::Staff),
            "member" => Some(Self::Member),
            "member_link" => Some(Self::MemberLink),
            "consent_confirmation" => Some(Self::ConsentConfirmation),
            "unsubscribe" => Some(Self::Unsubscribe),
            "survey" => Some(Self::Survey),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub business_id: BusinessId,
    pub id: SessionId,
    pub secret_hash: String,
    pub kind: SessionKind,
    /// The staff or member id.
    pub subject_id: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub business_id: BusinessId,
    pub id: SessionId,
    pub secret_hash: String,
    pub kind: SessionKind,
    pub subject_id: String,
    pub csrf_token: String,
}

/// One consent as given (and perhaps later withdrawn), as the member's data export shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConsentRecord {
    pub purpose: String,
    /// Empty for the terms.
    pub channel: String,
    pub given_at: DateTime<Utc>,
    pub text_version: String,
    pub source: String,
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// For a marketing consent by email: when the member confirmed it (double opt-in).
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// A shop's own settings: its colour (`#rrggbb`), the call to action on its QR material,
/// how many minutes after a purchase a cashier may still void it, and its legal texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopSettings {
    pub brand_color: String,
    pub call_to_action: String,
    pub void_window_minutes: i64,
    pub legal: LegalTexts,
    /// 0 without a logo; goes up with each new one.
    pub logo_version: i64,
}

/// A shop's logo image: its media type and its bytes in base64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    pub content_type: String,
    pub base64: String,
}

/// The texts a shop must show its customers; empty means the product's default text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegalTexts {
    pub imprint: String,
    pub privacy_notice: String,
    pub terms: String,
}

/// Which members a list shows: those whose name, email, phone or code contains `text`
/// (any case), in `tier`. Empty: everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFilter {
    pub text: Option<String>,
    pub tier: Option<String>,
}

/// One of a business's shops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocationRecord {
    pub id: LocationId,
    pub name: String,
    pub address: String,
}
