//! Bearer secrets shaped `<prefix><id>_<secret>`: the id finds the stored row, and only a
//! SHA-256 hash of the secret is stored, so a leaked database holds no usable token. API
//! keys and login sessions both use them.

use crate::fresh;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A freshly minted token: the id to store it under, the hash to store, and the token to
/// hand out once.
pub struct Minted {
    pub id: Uuid,
    pub secret_hash: String,
    pub token: String,
}

pub fn mint(prefix: &str) -> Minted {
    let id = fresh::id();
    let secret = fresh::secret();
    Minted {
        id,
        secret_hash: hash(&secret),
        token: format!("{prefix}{}_{secret}", id.simple()),
    }
}

pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The id and secret of a token with this prefix, or `None` when it is not shaped like one.
pub fn split<'a>(prefix: &str, token: &'a str) -> Option<(Uuid, &'a str)> {
    let (id, secret) = token.strip_prefix(prefix)?.split_once('_')?;
    Some((Uuid::try_parse(id).ok()?, secret))
}

/// Whether `secret` is the one whose hash was stored, in time independent of where they
/// differ.
pub fn matches(secret: &str, stored_hash: &str) -> bool {
    let computed = hash(secret);
    let (a, b) = (computed.as_bytes(), stored_hash.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_splits_into_its_id_and_a_secret_matching_the_stored_hash() {
        let minted = mint("sg_");
        let (id, secret) = split("sg_", &minted.token).unwrap();
        assert_eq!(id, minted.id);
        assert!(matches(secret, &minted.secret_hash));
        assert!(!matches("guess", &minted.secret_hash));
    }

    #[test]
    fn malformed_tokens_are_not_split() {
        for token in ["", "sg_", "sg_nothex_secret", "xx_0190_abc", "sg_0190abcd"] {
            assert!(split("sg_", token).is_none(), "{token}");
        }
    }
}
