//! Fresh ids, codes, seeds and secrets from the operating system's random source.

use stammgast_core::ids::Code;
use uuid::Uuid;

/// 128 random bits. The OS random source failing is not something to recover from.
pub fn random_u128() -> u128 {
    let mut bytes = [0u8; 16];
    if let Err(error) = getrandom::fill(&mut bytes) {
        // Without randomness, ids and secrets would collide or be guessable: stop.
        eprintln!("the operating system's random source failed: {error}");
        std::process::abort();
    }
    u128::from_le_bytes(bytes)
}

pub fn seed() -> u128 {
    random_u128()
}

/// A time-ordered id: new rows land at the end of their indexes.
pub fn id() -> Uuid {
    Uuid::now_v7()
}

/// A member code: 8 Crockford characters (40 bits), short enough to read out at the counter.
pub fn member_code() -> Code {
    Code::from_entropy(random_u128(), 8)
}

/// A secret for an API key: 26 Crockford characters (130 bits, of which 128 are random).
pub fn secret() -> String {
    Code::from_entropy(random_u128(), 26).to_string()
}
