//! What the store hands out and takes in besides batch requests: businesses, API keys,
//! member profiles and pages of history.

use chrono::{DateTime, NaiveDate, Utc};
use stammgast_core::engine::{MemberState, RecordedEvent};
use stammgast_core::ids::{ApiKeyId, BusinessId, Code, MemberId};
use stammgast_core::ledger::MemberBalances;
use stammgast_core::ledger::{LotConsumption, Transfer};

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
}

/// A member's recorded events (purchases, visits, …), newest first.
pub type EventPage = Page<RecordedEvent>;
