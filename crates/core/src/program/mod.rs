//! The program a business runs: earning rules, caps, stamp cards, tiers, rewards and point
//! expiry. Stored as JSON, parsed with exact error paths, validated as a whole, and then
//! evaluated by pure functions (`rules::evaluate`, `tiers::level_for`).

mod definition;
mod parse;
pub mod progress;
pub mod rules;
pub mod tiers;

pub use definition::*;
pub use parse::{ProgramError, parse_program};
