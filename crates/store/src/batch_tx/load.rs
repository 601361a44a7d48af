//! Loading what a batch needs, many keys per query, rows locked where the dialect can.

use super::ProgramCache;
use crate::StoreError;
use crate::codec::{MEMBER_TRANSFERS, OWN_ACCOUNT};
use crate::sql::{Columns, Connection, Row, Value, text};
use stammgast_core::batch::{Needs, Snapshot, StoredOutcome};
use stammgast_core::engine::{Coupon, MemberState};
use stammgast_core::ids::{BusinessId, Code, MemberId, Slug, TransferId};
use stammgast_core::ledger::Lot;
use stammgast_core::program::{Program, parse_program};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub(super) fn load(
    connection: &mut dyn Connection,
    cache: &mut ProgramCache,
    needs: Needs,
    snapshot: &mut Snapshot,
) -> Result<(), StoreError> {
    for business in needs.programs {
        let program = load_program(connection, cache, business)?;
        snapshot.programs.insert(business, program);
    }
    let lock = connection.dialect().lock_rows();
    let select = format!(
        "SELECT id, state FROM member_states WHERE business_id = $1 AND id IN ({{keys}}){lock}"
    );
    for (key, row) in select_many(connection, &select, &needs.members, ToString::to_string)? {
        let state = row
            .map(|row| Columns::of(&row).json::<MemberState>(1))
            .transpose()?;
        snapshot.members.insert(key, state);
    }
    for (key, include) in needs.lots {
        let lots = load_lots(connection, key.0, key.1, &include)?;
        if let Some(Some(state)) = snapshot.members.get_mut(&key) {
            state.lots = Some(lots);
        }
    }
    let select = "SELECT id, record FROM events WHERE business_id = $1 AND id IN ({keys})";
    for (key, row) in select_many(connection, select, &needs.events, ToString::to_string)? {
        let record = row.map(|row| Columns::of(&row).json(1)).transpose()?;
        snapshot.events.insert(key, record);
    }
    for key in needs.coupons {
        let coupon = load_coupon(connection, key.0, &key.1)?;
        snapshot.coupons.insert(key, coupon);
    }
    let select = "SELECT key, fingerprint, outcome FROM idempotency WHERE business_id = $1 AND key IN ({keys})";
    for (key, row) in select_many(connection, select, &needs.outcomes, String::clone)? {
        let stored = row
            .map(|row| -> Result<StoredOutcome, StoreError> {
                let columns = Columns::of(&row);
                Ok(StoredOutcome {
                    fingerprint: columns.text(1)?.to_owned(),
                    outcome: columns.json(2)?,
                })
            })
            .transpose()?;
        snapshot.outcomes.insert(key, stored);
    }
    for (kind, keys) in identifiers_by_kind(&needs.identifiers)? {
        let select =
            format!("SELECT {kind} FROM members WHERE business_id = $1 AND {kind} IN ({{keys}})");
        for ((business, value), row) in select_many(connection, &select, &keys, String::clone)? {
            snapshot
                .identifiers
                .insert((business, format!("{kind}:{value}")), row.is_some());
        }
    }
    let rewards = needs.reward_usage.iter().map(|key| (key.0, &key.1));
    let member_rewards = needs
        .member_reward_usage
        .iter()
        .map(|(business, (_, reward))| (*business, reward));
    lock_rewards(connection, rewards.chain(member_rewards))?;
    for key in needs.reward_usage {
        let count = count(
            connection,
            "SELECT COUNT(*) FROM coupons WHERE business_id = $1 AND reward_id = $2",
            &[text(key.0), text(&key.1)],
        )?;
        snapshot.reward_usage.insert(key, count);
    }
    for key in needs.member_reward_usage {
        let (business, (member, reward)) = &key;
        let count = count(
            connection,
            "SELECT COUNT(*) FROM coupons WHERE business_id = $1 AND reward_id = $2 AND member_id = $3",
            &[text(business), text(reward), text(member)],
        )?;
        snapshot.member_reward_usage.insert(key, count);
    }
    Ok(())
}

/// Takes each reward's lock, in one order, before its coupons are counted: another app
/// server counting the same reward waits until this transaction has committed the coupons
/// it issues, so stock and per-member limits hold across servers.
fn lock_rewards<'a>(
    connection: &mut dyn Connection,
    rewards: impl Iterator<Item = (BusinessId, &'a Slug)>,
) -> Result<(), StoreError> {
    let Some(lock) = connection.dialect().lock_name() else {
        return Ok(());
    };
    let names: BTreeSet<String> = rewards
        .map(|(business, reward)| format!("reward:{business}:{reward}"))
        .collect();
    for name in names {
        connection.execute(lock, &[name.into()])?;
    }
    Ok(())
}

pub fn load_program(
    connection: &mut dyn Connection,
    cache: &mut ProgramCache,
    business: BusinessId,
) -> Result<Option<Arc<Program>>, StoreError> {
    let rows = connection.query(
        "SELECT MAX(version) FROM programs WHERE business_id = $1",
        &[text(business)],
    )?;
    let Some(version) = rows
        .first()
        .map(|row| Columns::of(row).opt_int(0))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    if let Some((cached, program)) = cache.programs.get(&business)
        && *cached == version
    {
        return Ok(Some(Arc::clone(program)));
    }
    let rows = connection.query(
        "SELECT definition FROM programs WHERE business_id = $1 AND version = $2",
        &[text(business), version.into()],
    )?;
    let definition = rows
        .first()
        .map(|row| Columns::of(row).text(0).map(str::to_owned))
        .transpose()?;
    let definition = definition.ok_or(StoreError::NotFound)?;
    let program = parse_program(&definition).map_err(|errors| {
        StoreError::Corrupt(format!(
            "stored program of {business} is invalid: {errors:?}"
        ))
    })?;
    let program = Arc::new(program);
    cache
        .programs
        .insert(business, (version, Arc::clone(&program)));
    Ok(Some(program))
}

/// A member's points lots: posted points credits to the member, minus what has been
/// consumed from each; used-up lots only where the batch asks for them.
fn load_lots(
    connection: &mut dyn Connection,
    business: BusinessId,
    member: MemberId,
    include: &BTreeSet<TransferId>,
) -> Result<Vec<Lot>, StoreError> {
    let sql = format!(
        "SELECT t.id, t.amount, t.created_at, t.expires_at, \
         COALESCE((SELECT CAST(SUM(c.amount) AS BIGINT) FROM lot_consumptions c \
                   WHERE c.business_id = t.business_id AND c.lot_id = t.id), 0) \
         FROM {MEMBER_TRANSFERS} t \
         WHERE t.credit = $3 AND t.unit = 'points' AND t.phase = 'posted'"
    );
    let rows = connection.query(&sql, &[text(business), text(member), OWN_ACCOUNT.into()])?;
    let mut lots = Vec::with_capacity(rows.len());
    for row in &rows {
        let columns = Columns::of(row);
        let earned = columns.int(1)?;
        let lot = Lot {
            id: columns.parsed(0, TransferId::parse)?,
            earned,
            remaining: earned - columns.int(4)?,
            earned_at: columns.time(2)?,
            expires_at: columns.opt_time(3)?,
        };
        if lot.remaining > 0 || include.contains(&lot.id) {
            lots.push(lot);
        }
    }
    Ok(lots)
}

pub fn load_coupon(
    connection: &mut dyn Connection,
    business: BusinessId,
    code: &Code,
) -> Result<Option<Coupon>, StoreError> {
    let lock = connection.dialect().lock_rows();
    let sql = format!("SELECT record FROM coupons WHERE business_id = $1 AND code = $2{lock}");
    let rows = connection.query(&sql, &[text(business), text(code)])?;
    let Some(mut coupon) = rows
        .first()
        .map(|row| Columns::of(row).json::<Coupon>(0))
        .transpose()?
    else {
        return Ok(None);
    };
    if let Some(hold) = &coupon.hold {
        let rows = connection.query(
            "SELECT lot_id, amount FROM lot_consumptions WHERE business_id = $1 AND transfer_id = $2",
            &[text(business), text(hold.transfer_id)],
        )?;
        for row in &rows {
            let columns = Columns::of(row);
            coupon
                .hold_consumptions
                .push(stammgast_core::ledger::LotConsumption {
                    transfer_id: hold.transfer_id,
                    lot_id: columns.parsed(0, TransferId::parse)?,
                    amount: columns.int(1)?,
                });
        }
    }
    Ok(Some(coupon))
}

/// A key of one business.
type Keyed<K> = (BusinessId, K);
/// A looked-up key and its row, if there is one.
type Found<K> = (Keyed<K>, Option<Row>);
/// Identifier values per column (`email`, `phone`, `code`).
type IdentifiersByKind = BTreeMap<&'static str, BTreeSet<Keyed<String>>>;

/// Splits `email:…`, `phone:…` and `code:…` identifiers into their column and value.
fn identifiers_by_kind(
    identifiers: &BTreeSet<Keyed<String>>,
) -> Result<IdentifiersByKind, StoreError> {
    let mut by_kind = IdentifiersByKind::new();
    for (business, identifier) in identifiers {
        let (kind, value) = match identifier.split_once(':') {
            Some(("email", value)) => ("email", value),
            Some(("phone", value)) => ("phone", value),
            Some(("code", value)) => ("code", value),
            _ => {
                return Err(StoreError::Other(format!(
                    "unknown identifier {identifier}"
                )));
            }
        };
        by_kind
            .entry(kind)
            .or_default()
            .insert((*business, value.to_owned()));
    }
    Ok(by_kind)
}

/// Keys per `IN (…)` list.
const KEYS_PER_QUERY_MAX: usize = 500;

/// Looks up many keys at once, a few hundred per query: `select` takes the business as `$1`
/// and has `{keys}` where the list of keys goes, and its first column is the key. Returns
/// every key with its row, or `None` where there is none.
fn select_many<K: Ord + Clone>(
    connection: &mut dyn Connection,
    select: &str,
    keys: &BTreeSet<Keyed<K>>,
    key_text: impl Fn(&K) -> String,
) -> Result<Vec<Found<K>>, StoreError> {
    let mut found = Vec::with_capacity(keys.len());
    let keys: Vec<&Keyed<K>> = keys.iter().collect();
    for group in keys.chunk_by(|a, b| a.0 == b.0) {
        for chunk in group.chunks(KEYS_PER_QUERY_MAX) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
            let sql = select.replace("{keys}", &placeholders.join(", "));
            let mut params = vec![text(chunk[0].0)];
            params.extend(chunk.iter().map(|(_, key)| Value::Text(key_text(key))));
            let mut rows: HashMap<String, Row> = HashMap::new();
            for row in connection.query(&sql, &params)? {
                let key = Columns::of(&row).text(0)?.to_owned();
                rows.insert(key, row);
            }
            found.extend(
                chunk
                    .iter()
                    .map(|&key| (key.clone(), rows.remove(&key_text(&key.1)))),
            );
        }
    }
    Ok(found)
}

pub fn count(
    connection: &mut dyn Connection,
    sql: &str,
    params: &[Value],
) -> Result<i64, StoreError> {
    let rows = connection.query(sql, params)?;
    rows.first()
        .map(|row| Columns::of(row).int(0))
        .transpose()
        .map(|c| c.unwrap_or(0))
}
