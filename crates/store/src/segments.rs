//! Segments and the analytics snapshot: every member's aggregates for the worker, the
//! segments each member is in, the moves between them (written once even when several
//! workers place the same members at once), and the worker's snapshot of the business.

use crate::reads::in_transaction;
use crate::sql::{Columns, Connection, insert_rows, insert_rows_returning, text};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use stammgast_core::ids::{BusinessId, MemberId};
use std::collections::{HashMap, HashSet};

/// A member's segments as stored: the lifecycle stage and the RFM segment ('' for none).
pub type StoredPlacement = (String, String);

/// One member's new placement, with the one it replaces and the moves it makes (each with
/// a fresh id for the transitions table).
#[derive(Clone, Debug, PartialEq)]
pub struct PlacementChange {
    pub member_id: MemberId,
    pub before: Option<StoredPlacement>,
    pub after: StoredPlacement,
    pub moves: Vec<(uuid::Uuid, String, bool)>,
}

/// A recorded entry into or exit from a segment.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentTransition {
    pub member_id: MemberId,
    pub segment: String,
    pub entered: bool,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Where the worker last placed each member.
    pub async fn placements(
        &self,
        business: BusinessId,
    ) -> Result<HashMap<MemberId, StoredPlacement>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT member_id, lifecycle, rfm FROM segment_members WHERE business_id = $1",
                &[text(business)],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok((
                        columns.parsed(0, MemberId::parse)?,
                        (columns.text(1)?.to_owned(), columns.text(2)?.to_owned()),
                    ))
                })
                .collect()
        })
        .await
    }

    /// Stores new placements and their moves in one transaction. A placement is written
    /// only over the one it was computed against, so when two workers place a member at
    /// once, one writes it and its moves, and the other finds it done. Returns the moves
    /// written.
    pub async fn record_placements(
        &self,
        business: BusinessId,
        changes: Vec<PlacementChange>,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let (new, moved): (Vec<_>, Vec<_>) =
                    changes.into_iter().partition(|c| c.before.is_none());
                let mut written = insert_new(connection, business, new, at)?;
                for change in moved {
                    let (Some((old_lifecycle, old_rfm)), (lifecycle, rfm)) =
                        (&change.before, &change.after)
                    else {
                        continue;
                    };
                    let updated = connection.execute(
                        "UPDATE segment_members SET lifecycle = $3, rfm = $4, updated_at = $5 \
                         WHERE business_id = $1 AND member_id = $2 AND lifecycle = $6 AND rfm = $7",
                        &[
                            text(business),
                            text(change.member_id),
                            lifecycle.as_str().into(),
                            rfm.as_str().into(),
                            at.into(),
                            old_lifecycle.as_str().into(),
                            old_rfm.as_str().into(),
                        ],
                    )?;
                    if updated == 1 {
                        written += write_moves(connection, business, &[change], at)?;
                    }
                }
                Ok(written)
            })
        })
        .await
    }

    /// The moves recorded at or after `since`, oldest first, at most `limit`.
    pub async fn segment_transitions(
        &self,
        business: BusinessId,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SegmentTransition>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT member_id, segment, entered, at FROM segment_transitions \
                 WHERE business_id = $1 AND at >= $2 ORDER BY at, id LIMIT $3",
                &[
                    text(business),
                    since.into(),
                    i64::try_from(limit).unwrap_or(i64::MAX).into(),
                ],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(SegmentTransition {
                        member_id: columns.parsed(0, MemberId::parse)?,
                        segment: columns.text(1)?.to_owned(),
                        entered: columns.int(2)? == 1,
                        at: columns.time(3)?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Each member's entries into segments at or after `since` (for the journeys that
    /// trigger on them).
    pub async fn segment_entries(
        &self,
        business: BusinessId,
        since: DateTime<Utc>,
    ) -> Result<HashMap<MemberId, Vec<(String, DateTime<Utc>)>>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT member_id, segment, at FROM segment_transitions \
                 WHERE business_id = $1 AND entered = 1 AND at >= $2",
                &[text(business), since.into()],
            )?;
            let mut entries: HashMap<MemberId, Vec<(String, DateTime<Utc>)>> = HashMap::new();
            for row in &rows {
                let columns = Columns::of(row);
                entries
                    .entry(columns.parsed(0, MemberId::parse)?)
                    .or_default()
                    .push((columns.text(1)?.to_owned(), columns.time(2)?));
            }
            Ok(entries)
        })
        .await
    }

    /// Replaces the business's analytics snapshot (JSON).
    pub async fn save_analytics_snapshot(
        &self,
        business: BusinessId,
        at: DateTime<Utc>,
        snapshot: String,
    ) -> Result<(), StoreError> {
        self.save_document(SNAPSHOT, business, at, snapshot).await
    }

    pub async fn analytics_snapshot(
        &self,
        business: BusinessId,
    ) -> Result<Option<String>, StoreError> {
        self.document(SNAPSHOT, business).await
    }

    /// The business's lifecycle thresholds (JSON), if it set its own.
    pub async fn lifecycle_thresholds(
        &self,
        business: BusinessId,
    ) -> Result<Option<String>, StoreError> {
        self.document(THRESHOLDS, business).await
    }

    pub async fn save_lifecycle_thresholds(
        &self,
        business: BusinessId,
        thresholds: String,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.save_document(THRESHOLDS, business, at, thresholds)
            .await
    }

    async fn document(
        &self,
        document: Document,
        business: BusinessId,
    ) -> Result<Option<String>, StoreError> {
        self.with_connection(move |connection| {
            let sql = format!(
                "SELECT {} FROM {} WHERE business_id = $1",
                document.column, document.table
            );
            let rows = connection.query(&sql, &[text(business)])?;
            rows.first()
                .map(|row| Columns::of(row).text(0).map(str::to_owned))
                .transpose()
        })
        .await
    }

    async fn save_document(
        &self,
        document: Document,
        business: BusinessId,
        at: DateTime<Utc>,
        json: String,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            let Document { table, column, time_column } = document;
            let sql = format!(
                "INSERT INTO {table} (business_id, {column}, {time_column}) VALUES ($1, $2, $3) \
                 ON CONFLICT (business_id) DO UPDATE SET {column} = excluded.{column}, {time_column} = excluded.{time_column}"
            );
            connection.execute(&sql, &[text(business), json.into(), at.into()])?;
            Ok(())
        })
        .await
    }
}

/// A JSON document kept once per business, with the time it was written.
#[derive(Clone, Copy)]
struct Document {
    table: &'static str,
    column: &'static str,
    time_column: &'static str,
}

const SNAPSHOT: Document = Document {
    table: "analytics_snapshots",
    column: "snapshot",
    time_column: "computed_at",
};

const THRESHOLDS: Document = Document {
    table: "segment_settings",
    column: "lifecycle_thresholds",
    time_column: "updated_at",
};

/// Inserts the placements of members placed for the first time; a row another worker
/// inserted first is left alone, and only the inserted ones' moves are written.
fn insert_new(
    connection: &mut dyn Connection,
    business: BusinessId,
    changes: Vec<PlacementChange>,
    at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let rows = changes
        .iter()
        .map(|change| {
            vec![
                text(business),
                text(change.member_id),
                change.after.0.as_str().into(),
                change.after.1.as_str().into(),
                at.into(),
            ]
        })
        .collect();
    let inserted: HashSet<MemberId> = insert_rows_returning(
        connection,
        "segment_members",
        &["business_id", "member_id", "lifecycle", "rfm", "updated_at"],
        "ON CONFLICT (business_id, member_id) DO NOTHING RETURNING member_id",
        rows,
    )?
    .iter()
    .map(|row| Columns::of(row).parsed(0, MemberId::parse))
    .collect::<Result<_, _>>()?;
    let done: Vec<PlacementChange> = changes
        .into_iter()
        .filter(|c| inserted.contains(&c.member_id))
        .collect();
    write_moves(connection, business, &done, at)
}

fn write_moves(
    connection: &mut dyn Connection,
    business: BusinessId,
    changes: &[PlacementChange],
    at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let moves = changes.iter().flat_map(|change| {
        change.moves.iter().map(move |(id, segment, entered)| {
            (*id, change.member_id, segment.as_str(), *entered, at)
        })
    });
    write_transitions(connection, business, moves)
}

/// Records entries into and exits from segments, and milestones (entries that have no
/// exit): (transition id, member, segment, entered, when). Returns how many.
pub(crate) fn write_transitions<'a>(
    connection: &mut dyn Connection,
    business: BusinessId,
    moves: impl Iterator<Item = (uuid::Uuid, MemberId, &'a str, bool, DateTime<Utc>)>,
) -> Result<usize, StoreError> {
    let rows: Vec<crate::sql::Row> = moves
        .map(|(id, member, segment, entered, at)| {
            vec![
                text(business),
                text(id),
                text(member),
                segment.into(),
                i64::from(entered).into(),
                at.into(),
            ]
        })
        .collect();
    let count = rows.len();
    insert_rows(
        connection,
        "segment_transitions",
        &["business_id", "id", "member_id", "segment", "entered", "at"],
        "",
        rows,
    )?;
    Ok(count)
}
