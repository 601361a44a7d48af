//! Everything the store does besides batched requests: reads for the API and pages, the
//! ledger facts `check` verifies, and the rare administrative writes (a new business, a
//! new program version), which go straight to the database in their own transaction.

use crate::batch_tx::{ProgramCache, count, load_coupon, load_program};
use crate::codec::{MEMBER_TRANSFERS, TRANSFER_SELECT, transfer};
use crate::sql::{Columns, Connection, Row, text};
use crate::{
    ApiKeyRecord, BusinessRecord, EventPage, LedgerSnapshot, MemberFilter, MemberRecord,
    NewBusiness, Page, Store, StoreError,
};
use chrono::{DateTime, NaiveDate, Utc};
use stammgast_core::batch::AuditEntry;
use stammgast_core::engine::{Coupon, MemberState, RecordedEvent};
use stammgast_core::ids::{ApiKeyId, BusinessId, Code, EventId, MemberId, TransferId};
use stammgast_core::ledger::{LotConsumption, MemberBalances, Transfer, Unit};
use stammgast_core::member::{Email, Phone};
use std::collections::BTreeMap;

/// The largest page any list returns.
pub const PAGE_SIZE_MAX: usize = 500;

const MEMBER_COLUMNS: &str =
    "m.id, m.code, m.first_name, m.email, m.phone, m.birthday, m.language, m.joined_at, s.state";
/// A member's profile joined with its state.
const MEMBER_FROM: &str =
    "members m JOIN member_states s ON s.business_id = m.business_id AND s.id = m.id";

impl Store {
    /// Creates a business with its first program and API key, in one transaction.
    pub async fn create_business(&self, business: NewBusiness) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let id = text(business.id);
                connection.execute(
                    "INSERT INTO businesses (id, name, created_at) VALUES ($1, $2, $3)",
                    &[id.clone(), business.name.as_str().into(), business.created_at.into()],
                )?;
                insert_program(connection, business.id, 1, &business.program, business.created_at)?;
                let key = &business.api_key;
                connection.execute(
                    "INSERT INTO api_keys (business_id, id, secret_hash, scopes, label, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        id,
                        text(key.id),
                        key.secret_hash.as_str().into(),
                        key.scopes.join(" ").into(),
                        key.label.as_str().into(),
                        business.created_at.into(),
                    ],
                )?;
                Ok(())
            })
        })
        .await
    }

    /// Publishes a new version of a business's program (JSON, validated by the caller).
    pub async fn publish_program(
        &self,
        business: BusinessId,
        definition: String,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let version = 1 + count(
                    connection,
                    "SELECT COALESCE(MAX(version), 0) FROM programs WHERE business_id = $1",
                    &[text(business)],
                )?;
                insert_program(connection, business, version, &definition, now)?;
                Ok(version)
            })
        })
        .await
    }

    pub async fn business(&self, id: BusinessId) -> Result<Option<BusinessRecord>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT b.name, b.created_at, p.version, p.definition FROM businesses b \
                 JOIN programs p ON p.business_id = b.id \
                 WHERE b.id = $1 ORDER BY p.version DESC LIMIT 1",
                &[text(id)],
            )?;
            rows.first()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(BusinessRecord {
                        id,
                        name: columns.text(0)?.to_owned(),
                        created_at: columns.time(1)?,
                        program_version: columns.int(2)?,
                        program: columns.text(3)?.to_owned(),
                    })
                })
                .transpose()
        })
        .await
    }

    /// Answers when the database does (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.with_connection(|connection| connection.query("SELECT 1", &[]).map(|_| ()))
            .await
    }

    pub async fn businesses(&self) -> Result<Vec<BusinessId>, StoreError> {
        self.with_connection(|connection| {
            let rows = connection.query("SELECT id FROM businesses ORDER BY id", &[])?;
            rows.iter()
                .map(|row| Columns::of(row).parsed(0, BusinessId::parse))
                .collect()
        })
        .await
    }

    /// The API key with this id, whichever business it belongs to (the caller checks the
    /// secret against its hash before trusting the business).
    pub async fn api_key(&self, id: ApiKeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT business_id, secret_hash, scopes FROM api_keys WHERE id = $1 AND revoked_at IS NULL",
                &[text(id)],
            )?;
            rows.first()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(ApiKeyRecord {
                        business_id: columns.parsed(0, BusinessId::parse)?,
                        id,
                        secret_hash: columns.text(1)?.to_owned(),
                        scopes: columns.text(2)?.split_whitespace().map(str::to_owned).collect(),
                    })
                })
                .transpose()
        })
        .await
    }

    pub async fn member(
        &self,
        business: BusinessId,
        id: MemberId,
    ) -> Result<Option<MemberRecord>, StoreError> {
        self.find_member(business, "id", id.to_string()).await
    }

    pub async fn member_by_code(
        &self,
        business: BusinessId,
        code: Code,
    ) -> Result<Option<MemberRecord>, StoreError> {
        self.find_member(business, "code", code.to_string()).await
    }

    /// A member by email address, as the core normalises it.
    pub async fn member_by_email(
        &self,
        business: BusinessId,
        email: &Email,
    ) -> Result<Option<MemberRecord>, StoreError> {
        self.find_member(business, "email", email.to_string()).await
    }

    /// A member by phone number, as the core normalises it.
    pub async fn member_by_phone(
        &self,
        business: BusinessId,
        phone: &Phone,
    ) -> Result<Option<MemberRecord>, StoreError> {
        self.find_member(business, "phone", phone.to_string()).await
    }

    async fn find_member(
        &self,
        business: BusinessId,
        column: &'static str,
        value: String,
    ) -> Result<Option<MemberRecord>, StoreError> {
        self.with_connection(move |connection| {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM {MEMBER_FROM} WHERE m.business_id = $1 AND m.{column} = $2"
            );
            let rows = connection.query(&sql, &[text(business), value.into()])?;
            rows.first().map(member_record).transpose()
        })
        .await
    }

    /// Members matching `filter` in the order they joined; `after` is the cursor of the
    /// previous page.
    pub async fn members(
        &self,
        business: BusinessId,
        filter: &MemberFilter,
        after: Option<String>,
        limit: usize,
    ) -> Result<Page<MemberRecord>, StoreError> {
        let filter = filter.clone();
        self.with_connection(move |connection| {
            let limit = limit.clamp(1, PAGE_SIZE_MAX);
            let (after_time, after_id) = decode_cursor(after.as_deref())?;
            let mut params = vec![text(business), after_time.into(), after_id.into()];
            let mut conditions = String::new();
            if let Some(words) = filter.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                params.push(format!("%{}%", like_literal(&words.to_lowercase())).into());
                let n = params.len();
                conditions.push_str(&format!(
                    " AND (LOWER(m.first_name) LIKE ${n} ESCAPE '\\' OR m.email LIKE ${n} ESCAPE '\\' \
                     OR m.phone LIKE ${n} ESCAPE '\\' OR LOWER(m.code) LIKE ${n} ESCAPE '\\')"
                ));
            }
            if let Some(tier) = &filter.tier {
                params.push(tier.as_str().into());
                conditions.push_str(&format!(" AND s.tier = ${}", params.len()));
            }
            params.push((limit as i64 + 1).into());
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM {MEMBER_FROM} WHERE m.business_id = $1 \
                 AND (m.joined_at > $2 OR (m.joined_at = $2 AND m.id > $3)){conditions} \
                 ORDER BY m.joined_at, m.id LIMIT ${}",
                params.len()
            );
            let rows = connection.query(&sql, &params)?;
            let members = rows
                .iter()
                .map(member_record)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(paginate(members, limit, |m| {
                encode_cursor(m.joined_at.timestamp_millis(), &m.id.to_string())
            }))
        })
        .await
    }

    /// A member's events, newest first; `before` is the cursor of the previous page.
    pub async fn member_events(
        &self,
        business: BusinessId,
        member: MemberId,
        before: Option<String>,
        limit: usize,
    ) -> Result<EventPage, StoreError> {
        self.with_connection(move |connection| {
            let history = History {
                select: "SELECT record FROM events",
                time_column: "occurred_at",
                decode: |row| Columns::of(row).json::<RecordedEvent>(0),
                position: |e| {
                    (
                        e.event.occurred_at.timestamp_millis(),
                        e.event.id.to_string(),
                    )
                },
            };
            history.page(connection, business, Some(member), before.as_deref(), limit)
        })
        .await
    }

    /// A member's ledger transfers, newest first.
    pub async fn member_transfers(
        &self,
        business: BusinessId,
        member: MemberId,
        before: Option<String>,
        limit: usize,
    ) -> Result<Page<Transfer>, StoreError> {
        self.with_connection(move |connection| {
            let select =
                format!("SELECT {TRANSFER_SELECT} FROM {MEMBER_TRANSFERS} AS member_transfers");
            let history = History {
                select: &select,
                time_column: "created_at",
                decode: transfer,
                position: |t| (t.created_at.timestamp_millis(), t.id.to_string()),
            };
            history.page(connection, business, Some(member), before.as_deref(), limit)
        })
        .await
    }

    pub async fn member_coupons(
        &self,
        business: BusinessId,
        member: MemberId,
    ) -> Result<Vec<Coupon>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT record FROM coupons WHERE business_id = $1 AND member_id = $2 ORDER BY expires_at DESC",
                &[text(business), text(member)],
            )?;
            rows.iter().map(|row| Columns::of(row).json(0)).collect()
        })
        .await
    }

    pub async fn coupon(
        &self,
        business: BusinessId,
        code: Code,
    ) -> Result<Option<Coupon>, StoreError> {
        self.with_connection(move |connection| load_coupon(connection, business, &code))
            .await
    }

    /// Members who may have points past their expiry, up to `limit` (by the members'
    /// `next_expiry_at`, which is never later than the truth).
    pub async fn members_with_expired_points(
        &self,
        business: BusinessId,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MemberId>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT id FROM member_states WHERE business_id = $1 AND next_expiry_at <= $2 \
                 ORDER BY next_expiry_at LIMIT $3",
                &[text(business), now.into(), (limit as i64).into()],
            )?;
            rows.iter()
                .map(|row| Columns::of(row).parsed(0, MemberId::parse))
                .collect()
        })
        .await
    }

    /// Members holding a tier, in id order after `after`, for the periodic tier evaluation.
    pub async fn members_with_tier(
        &self,
        business: BusinessId,
        after: Option<MemberId>,
        limit: usize,
    ) -> Result<Vec<MemberId>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT id FROM member_states WHERE business_id = $1 AND tier IS NOT NULL AND id > $2 ORDER BY id LIMIT $3",
                &[text(business), after.map(|a| a.to_string()).unwrap_or_default().into(), (limit as i64).into()],
            )?;
            rows.iter().map(|row| Columns::of(row).parsed(0, MemberId::parse)).collect()
        })
        .await
    }

    /// Everything the ledger checker needs for one business.
    pub async fn ledger_snapshot(
        &self,
        business: BusinessId,
    ) -> Result<LedgerSnapshot, StoreError> {
        self.with_connection(move |connection| {
            let sql = format!("SELECT {TRANSFER_SELECT} FROM transfers WHERE business_id = $1 ORDER BY created_at, id");
            let transfers = connection
                .query(&sql, &[text(business)])?
                .iter()
                .map(transfer)
                .collect::<Result<Vec<_>, _>>()?;
            let consumptions = connection
                .query("SELECT transfer_id, lot_id, amount FROM lot_consumptions WHERE business_id = $1", &[text(business)])?
                .iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(LotConsumption {
                        transfer_id: columns.parsed(0, TransferId::parse)?,
                        lot_id: columns.parsed(1, TransferId::parse)?,
                        amount: columns.int(2)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let members = connection
                .query("SELECT points, points_held, state FROM member_states WHERE business_id = $1", &[text(business)])?
                .iter()
                .map(member_balances)
                .collect::<Result<Vec<_>, _>>()?;
            let event_members = connection
                .query("SELECT id, member_id FROM events WHERE business_id = $1", &[text(business)])?
                .iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok((columns.parsed(0, EventId::parse)?, columns.parsed(1, MemberId::parse)?))
                })
                .collect::<Result<_, StoreError>>()?;
            Ok(LedgerSnapshot { transfers, consumptions, members, event_members })
        })
        .await
    }

    /// The business's audit log (adjustments, erasures, …), newest first.
    pub async fn audit_log(
        &self,
        business: BusinessId,
        before: Option<String>,
        limit: usize,
    ) -> Result<Page<AuditEntry>, StoreError> {
        self.with_connection(move |connection| {
            let history = History {
                select: "SELECT business_id, id, at, actor, action, subject, detail FROM audit_log",
                time_column: "at",
                decode: |row| {
                    let columns = Columns::of(row);
                    Ok(AuditEntry {
                        business_id: columns.parsed(0, BusinessId::parse)?,
                        id: columns.parsed(1, |raw| uuid::Uuid::try_parse(raw).ok())?,
                        at: columns.time(2)?,
                        actor: columns.text(3)?.to_owned(),
                        action: columns.text(4)?.to_owned(),
                        subject: columns.text(5)?.to_owned(),
                        detail: columns.json(6)?,
                    })
                },
                position: |entry| (entry.at.timestamp_millis(), entry.id.to_string()),
            };
            history.page(connection, business, None, before.as_deref(), limit)
        })
        .await
    }

    /// The program a business runs now, parsed.
    pub async fn program(
        &self,
        business: BusinessId,
    ) -> Result<Option<std::sync::Arc<stammgast_core::program::Program>>, StoreError> {
        self.with_connection(move |connection| {
            load_program(connection, &mut ProgramCache::default(), business)
        })
        .await
    }
}

/// A business's rows in one table (a member's, when given), newest first, paged by
/// (time, id).
struct History<'a, T> {
    /// `SELECT … FROM table`; the table has `business_id`, `id` and the time (and
    /// `member_id` when paged per member).
    select: &'a str,
    time_column: &'a str,
    decode: fn(&Row) -> Result<T, StoreError>,
    /// A row's place in the order: its time in milliseconds and its id.
    position: fn(&T) -> (i64, String),
}

impl<T> History<'_, T> {
    fn page(
        &self,
        connection: &mut dyn Connection,
        business: BusinessId,
        member: Option<MemberId>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, StoreError> {
        let limit = limit.clamp(1, PAGE_SIZE_MAX);
        let (before_time, before_id) = match before {
            None => (i64::MAX, String::new()),
            cursor => decode_cursor(cursor)?,
        };
        let time = self.time_column;
        // Without a member, `$2` is NULL and keeps every row; the parameters stay the same.
        let member_condition = if member.is_some() {
            "member_id = $2"
        } else {
            "CAST($2 AS TEXT) IS NULL"
        };
        let sql = format!(
            "{} WHERE business_id = $1 AND {member_condition} \
             AND ({time} < $3 OR ({time} = $3 AND id < $4)) \
             ORDER BY {time} DESC, id DESC LIMIT $5",
            self.select
        );
        let params = [
            text(business),
            member.map(text).unwrap_or(crate::sql::Value::Null),
            before_time.into(),
            before_id.into(),
            (limit as i64 + 1).into(),
        ];
        let items = connection
            .query(&sql, &params)?
            .iter()
            .map(self.decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(items, limit, |item| {
            let (millis, id) = (self.position)(item);
            encode_cursor(millis, &id)
        }))
    }
}

fn member_record(row: &Row) -> Result<MemberRecord, StoreError> {
    let columns = Columns::of(row);
    Ok(MemberRecord {
        id: columns.parsed(0, MemberId::parse)?,
        code: columns.parsed(1, |raw| Code::parse(raw).ok())?,
        first_name: columns.text(2)?.to_owned(),
        email: columns.opt_text(3)?.map(str::to_owned),
        phone: columns.opt_text(4)?.map(str::to_owned),
        birthday: columns.opt_parsed(5, |raw| raw.parse::<NaiveDate>().ok())?,
        language: columns.text(6)?.to_owned(),
        joined_at: columns.time(7)?,
        state: columns.json::<MemberState>(8)?,
    })
}

/// The balances stored beside a member: the points columns and the stamps in its state.
fn member_balances(row: &Row) -> Result<MemberBalances, StoreError> {
    let columns = Columns::of(row);
    let state: MemberState = columns.json(2)?;
    let mut by_unit = BTreeMap::new();
    by_unit.insert(Unit::Points, (columns.int(0)?, columns.int(1)?));
    for (card, balance) in &state.stamps {
        by_unit.insert(Unit::Stamps(card.clone()), (balance.posted, balance.held));
    }
    Ok(MemberBalances {
        member_id: state.id,
        by_unit,
    })
}

fn insert_program(
    connection: &mut dyn Connection,
    business: BusinessId,
    version: i64,
    definition: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO programs (business_id, version, definition, published_at) VALUES ($1, $2, $3, $4)",
        &[text(business), version.into(), definition.into(), now.into()],
    )?;
    Ok(())
}

pub(crate) fn in_transaction<T>(
    connection: &mut dyn Connection,
    work: impl FnOnce(&mut dyn Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    connection.begin()?;
    match work(connection) {
        Ok(value) => {
            connection.commit()?;
            Ok(value)
        }
        Err(error) => {
            let _ = connection.rollback();
            Err(error)
        }
    }
}

/// Text to match literally inside a LIKE pattern (with `ESCAPE '\'`).
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Keeps `limit` items and, when there were more, the cursor after the last one kept.
fn paginate<T>(mut items: Vec<T>, limit: usize, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor_of)
    } else {
        None
    };
    Page { items, next_cursor }
}

/// Cursors are opaque to clients: a position (time and id) in the list's order.
fn encode_cursor(millis: i64, id: &str) -> String {
    format!("{millis}.{id}")
}

fn decode_cursor(cursor: Option<&str>) -> Result<(i64, String), StoreError> {
    let Some(cursor) = cursor else {
        return Ok((i64::MIN, String::new()));
    };
    cursor
        .split_once('.')
        .and_then(|(millis, id)| Some((millis.parse().ok()?, id.to_owned())))
        .ok_or_else(|| StoreError::BadCursor(cursor.to_owned()))
}
