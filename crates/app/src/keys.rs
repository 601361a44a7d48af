//! API keys: `sg_<key id>_<secret>`. Only a SHA-256 hash of the secret is stored; a key
//! carries scopes that say what it may do.

use crate::{App, AppError, fresh};
use sha2::{Digest, Sha256};
use stammgast_core::ids::{ApiKeyId, BusinessId};
use stammgast_store::NewApiKey;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};
use uuid::Uuid;

const PREFIX: &str = "sg_";

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    MembersRead,
    MembersWrite,
    EventsWrite,
    RewardsWrite,
    LedgerAdjust,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::MembersRead,
        Scope::MembersWrite,
        Scope::EventsWrite,
        Scope::RewardsWrite,
        Scope::LedgerAdjust,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::MembersRead => "members:read",
            Self::MembersWrite => "members:write",
            Self::EventsWrite => "events:write",
            Self::RewardsWrite => "rewards:write",
            Self::LedgerAdjust => "ledger:adjust",
        }
    }
}

/// Who is calling: a business, through one of its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub business_id: BusinessId,
    pub key_id: ApiKeyId,
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
        format!("api_key:{}", self.key_id)
    }
}

/// A new key: what to store, and the token to show the owner once.
pub fn mint(scopes: &[Scope], label: &str) -> (NewApiKey, String) {
    let id = ApiKeyId::from_uuid(fresh::id());
    let secret = fresh::secret();
    let token = format!("{PREFIX}{}_{secret}", id.as_uuid().simple());
    let key = NewApiKey {
        id,
        secret_hash: hash(&secret),
        scopes: scopes.iter().map(|s| s.name().to_owned()).collect(),
        label: label.to_owned(),
    };
    (key, token)
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn split(token: &str) -> Option<(ApiKeyId, &str)> {
    let (id, secret) = token.strip_prefix(PREFIX)?.split_once('_')?;
    let id = Uuid::try_parse(id).ok()?;
    Some((ApiKeyId::from_uuid(id), secret))
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
        let token_hash = hash(token);
        if let Some(caller) = self.verified_keys.get(&token_hash) {
            return Ok(caller);
        }
        let caller = self.verify_token(token).await?;
        self.verified_keys.remember(token_hash, &caller);
        Ok(caller)
    }

    async fn verify_token(&self, token: &str) -> Result<Caller, AppError> {
        let (id, secret) = split(token).ok_or(AppError::Unauthenticated)?;
        let record = self
            .store
            .api_key(id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if !constant_time_eq(hash(secret).as_bytes(), record.secret_hash.as_bytes()) {
            return Err(AppError::Unauthenticated);
        }
        Ok(Caller {
            business_id: record.business_id,
            key_id: id,
            scopes: record.scopes,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_splits_into_its_id_and_a_secret_matching_the_stored_hash() {
        let (key, token) = mint(&Scope::ALL, "test");
        let (id, secret) = split(&token).unwrap();
        assert_eq!(id, key.id);
        assert_eq!(hash(secret), key.secret_hash);
        assert_eq!(key.scopes.len(), 5);
    }

    #[test]
    fn malformed_tokens_are_not_split() {
        for token in ["", "sg_", "sg_nothex_secret", "xx_0190_abc", "sg_0190abcd"] {
            assert!(split(token).is_none(), "{token}");
        }
    }

    #[test]
    fn a_caller_without_a_scope_is_forbidden() {
        let caller = Caller {
            business_id: BusinessId::from_uuid(Uuid::nil()),
            key_id: ApiKeyId::from_uuid(Uuid::nil()),
            scopes: vec!["members:read".into()],
        };
        assert!(caller.require(Scope::MembersRead).is_ok());
        assert!(matches!(
            caller.require(Scope::EventsWrite),
            Err(AppError::Forbidden("events:write"))
        ));
    }
}
