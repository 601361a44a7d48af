//! The core's batch protocol on SQL: load what `Snapshot::missing` asks for, let
//! `apply_batch` decide, write what it returns — all inside the caller's transaction.

mod load;
mod write;

pub use load::{count, load_coupon, load_program};
pub(crate) use write::write_audit;

use crate::sql::Connection;
use crate::{Decision, StoreError};
use load::load;
use stammgast_core::batch::{Request, Snapshot, apply_batch};
use stammgast_core::ids::BusinessId;
use stammgast_core::program::Program;
use std::collections::HashMap;
use std::sync::Arc;
use write::write;

/// Loading converges in three rounds (events and coupons lead to members, members to
/// lots); one more proves it.
const LOAD_ROUNDS_MAX: usize = 4;

/// Parsed programs by business and version, so a batch does not re-parse JSON.
#[derive(Default)]
pub struct ProgramCache {
    programs: HashMap<BusinessId, (i64, Arc<Program>)>,
}

/// Runs the requests against the database inside an open transaction.
pub fn decide(
    connection: &mut dyn Connection,
    cache: &mut ProgramCache,
    requests: &[Request],
) -> Result<Vec<Decision>, StoreError> {
    let mut snapshot = Snapshot::default();
    for _ in 0..LOAD_ROUNDS_MAX {
        let needs = snapshot.missing(requests);
        if needs.is_empty() {
            break;
        }
        load(connection, cache, needs, &mut snapshot)?;
    }
    if !snapshot.missing(requests).is_empty() {
        return Err(StoreError::Other("loading a batch did not converge".into()));
    }
    let (decisions, writes) = apply_batch(&mut snapshot, requests);
    write(connection, &writes)?;
    Ok(decisions)
}
