//! API keys (`sg_<key id>_<secret>`, see [`tokens`](crate::tokens)) and the callers they
//! stand for: a key carries scopes that say what it may do.

use crate::{App, AppError, tokens};
use stammgast_core::ids::{ApiKeyId, BusinessId, MemberId, StaffId};
use stammgast_store::NewApiKey;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

const PREFIX: &str = "sg_";

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    MembersRead,
    MembersWrite,
    EventsWrite,
    RewardsWrite,
    LedgerAdjust,
    /// Change the program, branding and setup (owners and managers).
    ProgramWrite,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::MembersRead,
        Scope::MembersWrite,
        Scope::EventsWrite,
        Scope::RewardsWrite,
        Scope::LedgerAdjust,
        Scope::ProgramWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::MembersRead => "members:read",
            Self::MembersWrite => "members:write",
            Self::EventsWrite => "events:write",
            Self::RewardsWrite => "rewards:write",
            Self::LedgerAdjust => "ledger:adjust",
            Self::ProgramWrite => "program:write",
        }
    }
}

/// Who acts for a business: an integration through an API key, a staff member logged in,
/// or a customer on their card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    ApiKey(ApiKeyId),
    Staff(StaffId),
    /// A customer on the card pages: joining (no member yet) or acting on their own card.
    Card(Option<MemberId>),
}

/// Who is calling, for which business, and what they may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub business_id: BusinessId,
    pub actor: Actor,
    pub scopes: Vec<String>,
}

impl Caller {
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        if self.scopes.iter().any(|s| s == scope.name()) {
            Ok(())
        } else {
            Err(AppError::Forbidden(scope.name()))
        }
    }

    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        match self.actor {
            Actor::ApiKey(id) => format!("api_key:{id}"),
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::Card(Some(member)) => format!("card:{member}"),
            Actor::Card(None) => "card".to_owned(),
        }
    }
}

/// A new key: what to store, and the token to show the owner once.
pub fn mint(scopes: &[Scope], label: &str) -> (NewApiKey, String) {
    let minted = tokens::mint(PREFIX);
    let key = NewApiKey {
        id: ApiKeyId::from_uuid(minted.id),
        secret_hash: minted.secret_hash,
        scopes: scopes.iter().map(|s| s.name().to_owned()).collect(),
        label: label.to_owned(),
    };
    (key, minted.token)
}

/// How long a verified key is trusted without asking the database again. Bounds how long a
/// revoked key keeps working; saves a database read on every API request.
const VERIFIED_FOR: Duration = Duration::from_secs(10);
/// Verified keys remembered at most; the cache is emptied when it is full.
const VERIFIED_KEYS_MAX: usize = 10_000;

/// Recently verified tokens, by the hash of the whole token.
#[derive(Default)]
pub struct VerifiedKeys(RwLock<HashMap<String, (Caller, Instant)>>);

impl VerifiedKeys {
    fn get(&self, token_hash: &str) -> Option<Caller> {
        let verified = self.0.read().ok()?;
        let (caller, at) = verified.get(token_hash)?;
        (at.elapsed() < VERIFIED_FOR).then(|| caller.clone())
    }

    fn remember(&self, token_hash: String, caller: &Caller) {
        if let Ok(mut verified) = self.0.write() {
            if verified.len() >= VERIFIED_KEYS_MAX {
                verified.clear();
            }
            verified.insert(token_hash, (caller.clone(), Instant::now()));
        }
    }
}

impl App {
    /// The caller a bearer token belongs to. Unknown, revoked and wrong tokens all get the
    /// same answer, so a guesser learns nothing.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, AppError> {
        let token_hash = tokens::hash(token);
        if let Some(caller) = self.verified_keys.get(&token_hash) {
            return Ok(caller);
        }
        let caller = self.verify_token(token).await?;
        self.verified_keys.remember(token_hash, &caller);
        Ok(caller)
    }

    async fn verify_token(&self, token: &str) -> Result<Caller, AppError> {
        let (id, secret) = tokens::split(PREFIX, token).ok_or(AppError::Unauthenticated)?;
        let id = ApiKeyId::from_uuid(id);
        let record = self
            .store
            .api_key(id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if !tokens::matches(secret, &record.secret_hash) {
            return Err(AppError::Unauthenticated);
        }
        Ok(Caller {
            business_id: record.business_id,
            actor: Actor::ApiKey(id),
            scopes: record.scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_without_a_scope_is_forbidden() {
        let caller = Caller {
            business_id: BusinessId::from_uuid(uuid::Uuid::nil()),
            actor: Actor::ApiKey(ApiKeyId::from_uuid(uuid::Uuid::nil())),
            scopes: vec!["members:read".into()],
        };
        assert!(caller.require(Scope::MembersRead).is_ok());
        assert!(matches!(
            caller.require(Scope::EventsWrite),
            Err(AppError::Forbidden("events:write"))
        ));
    }
}
