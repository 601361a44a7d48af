//! Custom segments and tags: an owner's filter over the members (previewed with who it
//! finds, saved, counted again by every refresh with entries and exits recorded for the
//! automation), and the tags staff or journeys put on members for such filters.

use crate::{App, AppError, Caller, Scope, fresh};
use chrono::{DateTime, Utc};
use stammgast_core::analytics::filter::{self, Filter, MemberProfile};
use stammgast_core::analytics::membership::{Placement, place};
use stammgast_core::analytics::segments::MemberFacts;
use stammgast_core::analytics::snapshot::{MemberAggregate, Snapshot, member_facts};
use stammgast_core::ids::{BusinessId, MemberId, Slug};
use stammgast_store::{CustomMove, CustomSegmentRecord};
use std::collections::HashSet;

/// A custom segment with its current number of members.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomSegment {
    pub slug: Slug,
    pub name: String,
    pub filter: String,
    pub members: usize,
    pub updated_at: DateTime<Utc>,
}

/// Whom a filter finds now: how many, and the first few by name.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentPreview {
    pub members: usize,
    pub sample: Vec<(MemberId, String)>,
}

/// Every member as the filters see them at one moment.
pub(crate) struct Population {
    pub profiles: Vec<MemberProfile>,
    pub facts: Vec<MemberFacts>,
    pub placements: Vec<Placement>,
}

const NAME_CHARS_MAX: usize = 80;
const SAMPLE_SIZE: usize = 10;
const SEGMENTS_MAX: usize = 100;

impl App {
    /// The business's custom segments with their sizes.
    pub async fn custom_segments(&self, caller: &Caller) -> Result<Vec<CustomSegment>, AppError> {
        caller.require(Scope::MembersRead)?;
        let business = caller.business_id;
        let mut segments = Vec::new();
        for record in self.store.custom_segments(business).await? {
            let members = self
                .store
                .custom_segment_members(business, record.slug.clone())
                .await?
                .len();
            segments.push(CustomSegment {
                slug: record.slug,
                name: record.name,
                filter: record.filter,
                members,
                updated_at: record.updated_at,
            });
        }
        Ok(segments)
    }

    /// Whom `filter` finds among the members now (an invalid filter is refused with where
    /// and why).
    pub async fn preview_segment(
        &self,
        caller: &Caller,
        filter: &str,
    ) -> Result<SegmentPreview, AppError> {
        caller.require(Scope::MembersRead)?;
        let business = caller.business_id;
        let filter = self.parse_filter(business, filter).await?;
        let population = self.population(business).await?;
        let found = filter::matching(
            &filter,
            &population.profiles,
            &population.facts,
            &population.placements,
        );
        self.preview_of(business, &found).await
    }

    /// How many members `found` has, and the first few by name.
    pub(crate) async fn preview_of(
        &self,
        business: BusinessId,
        found: &[MemberId],
    ) -> Result<SegmentPreview, AppError> {
        let mut sample = Vec::new();
        for member in found.iter().take(SAMPLE_SIZE) {
            if let Some(record) = self.store.member(business, *member).await? {
                sample.push((*member, record.first_name));
            }
        }
        Ok(SegmentPreview {
            members: found.len(),
            sample,
        })
    }

    /// Creates a custom segment (`slug` None) or changes one, and counts its members at
    /// once; entering it is recorded like every later entry.
    pub async fn save_custom_segment(
        &self,
        caller: &Caller,
        slug: Option<&str>,
        name: &str,
        filter: &str,
    ) -> Result<CustomSegment, AppError> {
        caller.require(Scope::ProgramWrite)?;
        let business = caller.business_id;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_CHARS_MAX {
            return Err(AppError::invalid(
                "name",
                "a segment needs a name of 1 to 80 characters",
            ));
        }
        let parsed = self.parse_filter(business, filter).await?;
        let existing = self.store.custom_segments(business).await?;
        let now = self.now();
        let record = match slug {
            Some(slug) => {
                let found = existing
                    .iter()
                    .find(|s| s.slug.as_str() == slug)
                    .ok_or(AppError::NotFound)?;
                CustomSegmentRecord {
                    name: name.to_owned(),
                    filter: filter.trim().to_owned(),
                    updated_at: now,
                    ..found.clone()
                }
            }
            None => {
                if existing.len() >= SEGMENTS_MAX {
                    return Err(AppError::invalid(
                        "name",
                        "a business has 100 custom segments at most; delete one first",
                    ));
                }
                let taken: Vec<Slug> = existing.iter().map(|s| s.slug.clone()).collect();
                CustomSegmentRecord {
                    slug: Slug::from_name(name, &taken),
                    name: name.to_owned(),
                    filter: filter.trim().to_owned(),
                    created_at: now,
                    updated_at: now,
                }
            }
        };
        self.store
            .save_custom_segment(business, record.clone())
            .await?;
        let population = self.population(business).await?;
        self.count_custom_segment(business, &record.slug, &parsed, &population)
            .await?;
        let members = self
            .store
            .custom_segment_members(business, record.slug.clone())
            .await?
            .len();
        Ok(CustomSegment {
            slug: record.slug,
            name: record.name,
            filter: record.filter,
            members,
            updated_at: record.updated_at,
        })
    }

    pub async fn delete_custom_segment(&self, caller: &Caller, slug: &str) -> Result<(), AppError> {
        caller.require(Scope::ProgramWrite)?;
        let slug = Slug::parse(slug).map_err(|_| AppError::NotFound)?;
        Ok(self
            .store
            .delete_custom_segment(caller.business_id, slug)
            .await?)
    }

    /// Tags a member (the tag is made from the text: `Kuchen Fan` → `kuchen-fan`); tagging
    /// twice changes nothing. Returns the tag.
    pub async fn tag_member(
        &self,
        caller: &Caller,
        member: MemberId,
        tag: &str,
    ) -> Result<Slug, AppError> {
        caller.require(Scope::MembersWrite)?;
        let tag = tag_of(tag)?;
        self.existing_member(caller.business_id, member).await?;
        self.store
            .add_member_tag(caller.business_id, member, tag.clone(), self.now())
            .await?;
        Ok(tag)
    }

    /// Takes a tag off a member; `NotFound` when the member does not have it.
    pub async fn untag_member(
        &self,
        caller: &Caller,
        member: MemberId,
        tag: &str,
    ) -> Result<(), AppError> {
        caller.require(Scope::MembersWrite)?;
        let tag = tag_of(tag)?;
        match self
            .store
            .remove_member_tag(caller.business_id, member, tag)
            .await?
        {
            true => Ok(()),
            false => Err(AppError::NotFound),
        }
    }

    pub async fn member_tags(
        &self,
        caller: &Caller,
        member: MemberId,
    ) -> Result<Vec<Slug>, AppError> {
        caller.require(Scope::MembersRead)?;
        self.existing_member(caller.business_id, member).await?;
        Ok(self.store.member_tags(caller.business_id, member).await?)
    }

    /// Counts every custom segment of the business on `population`, recording who entered
    /// and left; a filter that no longer reads (a tier removed from the program, say)
    /// keeps its members until it is fixed. Returns the moves recorded.
    pub(crate) async fn count_custom_segments(
        &self,
        business: BusinessId,
        population: &Population,
    ) -> Result<usize, AppError> {
        let tiers = self.tier_ids(business).await?;
        let mut moves = 0;
        for record in self.store.custom_segments(business).await? {
            let Ok(filter) = Filter::parse(&record.filter, &tiers) else {
                continue;
            };
            moves += self
                .count_custom_segment(business, &record.slug, &filter, population)
                .await?;
        }
        Ok(moves)
    }

    async fn count_custom_segment(
        &self,
        business: BusinessId,
        slug: &Slug,
        filter: &Filter,
        population: &Population,
    ) -> Result<usize, AppError> {
        let now: HashSet<MemberId> = filter::matching(
            filter,
            &population.profiles,
            &population.facts,
            &population.placements,
        )
        .into_iter()
        .collect();
        let before = self
            .store
            .custom_segment_members(business, slug.clone())
            .await?;
        let movement = |members: &HashSet<MemberId>, others: &HashSet<MemberId>, entered| {
            members
                .difference(others)
                .map(move |member_id| CustomMove {
                    member_id: *member_id,
                    entered,
                    transition_id: fresh::id(),
                })
                .collect::<Vec<_>>()
        };
        let mut moves = movement(&now, &before, true);
        moves.extend(movement(&before, &now, false));
        if moves.is_empty() {
            return Ok(0);
        }
        Ok(self
            .store
            .record_custom_moves(business, slug.clone(), moves, self.now())
            .await?)
    }

    /// Every member as the filters see them now, with P(alive) from the worker's last fit.
    async fn population(&self, business: BusinessId) -> Result<Population, AppError> {
        let thresholds = self.lifecycle_thresholds(business).await?;
        let snapshot: Option<Snapshot> = self
            .store
            .analytics_snapshot(business)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok());
        let fit = snapshot.and_then(|s| s.fit.ok());
        let profiles = self.store.member_profiles(business).await?;
        let aggregates: Vec<MemberAggregate> = profiles.iter().map(|p| p.aggregate).collect();
        let facts = member_facts(&aggregates, self.now(), fit.as_ref());
        let placements = place(&facts, &thresholds);
        Ok(Population {
            profiles,
            facts,
            placements,
        })
    }

    async fn parse_filter(&self, business: BusinessId, text: &str) -> Result<Filter, AppError> {
        let tiers = self.tier_ids(business).await?;
        Filter::parse(text, &tiers).map_err(AppError::InvalidFilter)
    }

    async fn tier_ids(&self, business: BusinessId) -> Result<Vec<String>, AppError> {
        let program = self
            .store
            .program(business)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(program
            .tiers
            .iter()
            .flat_map(|tiers| tiers.levels.iter().map(|level| level.id.to_string()))
            .collect())
    }

    async fn existing_member(
        &self,
        business: BusinessId,
        member: MemberId,
    ) -> Result<(), AppError> {
        self.store
            .member(business, member)
            .await?
            .ok_or(AppError::NotFound)
            .map(|_| ())
    }
}

fn tag_of(text: &str) -> Result<Slug, AppError> {
    filter::tag(text).map_err(|reason| AppError::invalid("tag", reason))
}
