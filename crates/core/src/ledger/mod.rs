//! The ledger: accounts and immutable double-entry transfers. Balances are never stored as
//! truth; they are derived from transfers (`balances`), and `verify` checks every invariant.

mod expiry;
mod lots;
mod transfer;
mod verify;

pub use expiry::expires_at;
pub use lots::{Lot, LotConsumption, Shortfall, consume};
pub use transfer::*;
pub use verify::{LedgerFacts, MemberBalances, Violation, balances, verify};
