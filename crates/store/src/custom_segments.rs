//! Custom segments: the owner's filters, who is in each (entries and exits recorded once
//! even when several workers count at once), members' tags, and every member's profile
//! as the filters see it.

use crate::reads::in_transaction;
use crate::segments::write_transitions;
use crate::sql::{Columns, Connection, Value, insert_rows_returning, text};
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use stammgast_core::analytics::filter::MemberProfile;
use stammgast_core::analytics::snapshot::MemberAggregate;
use stammgast_core::ids::{BusinessId, MemberId, Slug};
use stammgast_core::member::Channel;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomSegmentRecord {
    pub slug: Slug,
    pub name: String,
    /// The filter as the owner wrote it.
    pub filter: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member entering (`entered`) or leaving a custom segment, with the id its transition
/// gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomMove {
    pub member_id: MemberId,
    pub entered: bool,
    pub transition_id: uuid::Uuid,
}

/// The transitions' name of a custom segment.
pub fn custom_segment_name(slug: &Slug) -> String {
    format!("custom:{}", slug.as_str())
}

impl Store {
    /// Every member's profile (erased members are left out): aggregates, points, tier,
    /// birthday month, categories bought, tags and channels with marketing consent (by email
    /// once confirmed).
    pub async fn member_profiles(
        &self,
        business: BusinessId,
    ) -> Result<Vec<MemberProfile>, StoreError> {
        self.with_connection(move |connection| {
            let mut tags = member_sets(
                connection,
                "SELECT member_id, tag FROM member_tags WHERE business_id = $1",
                business,
                |raw| Slug::parse(raw).ok(),
            )?;
            let mut consents = member_sets(
                connection,
                "SELECT member_id, channel FROM consents WHERE business_id = $1 \
                 AND purpose = 'marketing' AND withdrawn_at IS NULL AND confirmed_at IS NOT NULL",
                business,
                |raw| Channel::parse(raw).ok(),
            )?;
            let mut segments = member_sets(
                connection,
                "SELECT member_id, 'lifecycle:' || lifecycle FROM segment_members WHERE business_id = $1 \
                 UNION ALL SELECT member_id, 'rfm:' || rfm FROM segment_members WHERE business_id = $1 AND rfm <> '' \
                 UNION ALL SELECT member_id, 'custom:' || slug FROM custom_segment_members WHERE business_id = $1",
                business,
                |raw| Some(raw.to_owned()),
            )?;
            let rows = connection.query(
                "SELECT m.id, m.joined_at, s.last_visit_at, s.visits, s.spend_cents, s.points, \
                 s.tier, m.birthday, s.categories, s.next_expiry_at FROM members m \
                 JOIN member_states s ON s.business_id = m.business_id AND s.id = m.id \
                 WHERE m.business_id = $1 AND m.erased_at IS NULL",
                &[text(business)],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    let member_id = columns.parsed(0, MemberId::parse)?;
                    let mut consents = consents.remove(&member_id).unwrap_or_default();
                    consents.dedup();
                    Ok(MemberProfile {
                        aggregate: MemberAggregate {
                            member_id,
                            joined_at: columns.time(1)?,
                            last_visit_at: columns.opt_time(2)?,
                            visits: u64::try_from(columns.int(3)?).unwrap_or(0),
                            spend_cents: columns.int(4)?,
                        },
                        points: columns.int(5)?,
                        tier: columns.opt_text(6)?.map(str::to_owned),
                        birthday: columns.opt_parsed(7, |raw| raw.parse::<NaiveDate>().ok())?,
                        next_expiry_at: columns.opt_time(9)?,
                        categories: columns.json(8)?,
                        tags: tags.remove(&member_id).unwrap_or_default(),
                        segments: segments.remove(&member_id).unwrap_or_default(),
                        consents,
                    })
                })
                .collect()
        })
        .await
    }

    /// Tags a member; `false` when the member had the tag already.
    pub async fn add_member_tag(
        &self,
        business: BusinessId,
        member: MemberId,
        tag: Slug,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with_connection(move |connection| {
            let added = connection.execute(
                "INSERT INTO member_tags (business_id, member_id, tag, added_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[text(business), text(member), text(&tag), at.into()],
            )?;
            Ok(added == 1)
        })
        .await
    }

    /// Takes a tag off a member; `false` when the member did not have it.
    pub async fn remove_member_tag(
        &self,
        business: BusinessId,
        member: MemberId,
        tag: Slug,
    ) -> Result<bool, StoreError> {
        self.with_connection(move |connection| {
            let removed = connection.execute(
                "DELETE FROM member_tags WHERE business_id = $1 AND member_id = $2 AND tag = $3",
                &[text(business), text(member), text(&tag)],
            )?;
            Ok(removed == 1)
        })
        .await
    }

    /// A member's tags, alphabetically.
    pub async fn member_tags(
        &self,
        business: BusinessId,
        member: MemberId,
    ) -> Result<Vec<Slug>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT tag FROM member_tags WHERE business_id = $1 AND member_id = $2 ORDER BY tag",
                &[text(business), text(member)],
            )?;
            rows.iter()
                .map(|row| Columns::of(row).parsed(0, |raw| Slug::parse(raw).ok()))
                .collect()
        })
        .await
    }

    /// The business's custom segments, by name.
    pub async fn custom_segments(
        &self,
        business: BusinessId,
    ) -> Result<Vec<CustomSegmentRecord>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT slug, name, filter, created_at, updated_at FROM custom_segments \
                 WHERE business_id = $1 ORDER BY name, slug",
                &[text(business)],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(CustomSegmentRecord {
                        slug: columns.parsed(0, |raw| Slug::parse(raw).ok())?,
                        name: columns.text(1)?.to_owned(),
                        filter: columns.text(2)?.to_owned(),
                        created_at: columns.time(3)?,
                        updated_at: columns.time(4)?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Creates a custom segment or replaces its name and filter (its members stay until
    /// the next count moves them).
    pub async fn save_custom_segment(
        &self,
        business: BusinessId,
        segment: CustomSegmentRecord,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO custom_segments (business_id, slug, name, filter, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (business_id, slug) DO UPDATE \
                 SET name = excluded.name, filter = excluded.filter, updated_at = excluded.updated_at",
                &[
                    text(business),
                    text(&segment.slug),
                    segment.name.into(),
                    segment.filter.into(),
                    segment.created_at.into(),
                    segment.updated_at.into(),
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Deletes a custom segment and its membership; `NotFound` when there is none.
    pub async fn delete_custom_segment(
        &self,
        business: BusinessId,
        slug: Slug,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let params = [text(business), text(&slug)];
                connection.execute(
                    "DELETE FROM custom_segment_members WHERE business_id = $1 AND slug = $2",
                    &params,
                )?;
                match connection.execute(
                    "DELETE FROM custom_segments WHERE business_id = $1 AND slug = $2",
                    &params,
                )? {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
        })
        .await
    }

    /// The members in a custom segment now.
    pub async fn custom_segment_members(
        &self,
        business: BusinessId,
        slug: Slug,
    ) -> Result<HashSet<MemberId>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT member_id FROM custom_segment_members WHERE business_id = $1 AND slug = $2",
                &[text(business), text(&slug)],
            )?;
            rows.iter()
                .map(|row| Columns::of(row).parsed(0, MemberId::parse))
                .collect()
        })
        .await
    }

    /// Adds and removes members of a custom segment in one transaction, recording each
    /// entry and exit that this call made: a member another worker moved first is left
    /// alone. Returns the moves written.
    pub async fn record_custom_moves(
        &self,
        business: BusinessId,
        slug: Slug,
        moves: Vec<CustomMove>,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let (entering, leaving): (Vec<CustomMove>, Vec<CustomMove>) =
                    moves.into_iter().partition(|m| m.entered);
                let rows = entering
                    .iter()
                    .map(|m| vec![text(business), text(&slug), text(m.member_id), at.into()])
                    .collect();
                let entered: HashSet<MemberId> = member_ids(&insert_rows_returning(
                    connection,
                    "custom_segment_members",
                    &["business_id", "slug", "member_id", "since"],
                    "ON CONFLICT (business_id, slug, member_id) DO NOTHING RETURNING member_id",
                    rows,
                )?)?;
                let left = delete_members(connection, business, &slug, &leaving)?;
                let done = entering
                    .iter()
                    .filter(|m| entered.contains(&m.member_id))
                    .chain(leaving.iter().filter(|m| left.contains(&m.member_id)));
                let segment = custom_segment_name(&slug);
                write_transitions(
                    connection,
                    business,
                    done.map(|m| {
                        (
                            m.transition_id,
                            m.member_id,
                            segment.as_str(),
                            m.entered,
                            at,
                        )
                    }),
                )
            })
        })
        .await
    }
}

/// Rows of (member id, value) grouped by member; values that do not parse are skipped.
fn member_sets<T>(
    connection: &mut dyn Connection,
    sql: &str,
    business: BusinessId,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<HashMap<MemberId, Vec<T>>, StoreError> {
    let mut sets: HashMap<MemberId, Vec<T>> = HashMap::new();
    for row in connection.query(sql, &[text(business)])? {
        let columns = Columns::of(&row);
        if let Some(value) = parse(columns.text(1)?) {
            sets.entry(columns.parsed(0, MemberId::parse)?)
                .or_default()
                .push(value);
        }
    }
    Ok(sets)
}

fn member_ids(rows: &[crate::sql::Row]) -> Result<HashSet<MemberId>, StoreError> {
    rows.iter()
        .map(|row| Columns::of(row).parsed(0, MemberId::parse))
        .collect()
}

/// Deletes the members' rows of a segment, a few hundred per statement; the ones deleted.
fn delete_members(
    connection: &mut dyn Connection,
    business: BusinessId,
    slug: &Slug,
    leaving: &[CustomMove],
) -> Result<HashSet<MemberId>, StoreError> {
    const CHUNK: usize = 500;
    let mut deleted = HashSet::new();
    for chunk in leaving.chunks(CHUNK) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "DELETE FROM custom_segment_members WHERE business_id = $1 AND slug = $2 \
             AND member_id IN ({}) RETURNING member_id",
            placeholders.join(", ")
        );
        let mut params: Vec<Value> = vec![text(business), text(slug)];
        params.extend(chunk.iter().map(|m| text(m.member_id)));
        deleted.extend(member_ids(&connection.query(&sql, &params)?)?);
    }
    Ok(deleted)
}
