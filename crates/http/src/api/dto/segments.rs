//! The shapes of custom segments and members' tags.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stammgast_app::{CustomSegment, SegmentPreview};
use uuid::Uuid;

/// A custom segment to create or change: its name and filter expression, such as
/// `visits >= 5 and bought cake and consent email`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentRequest {
    pub name: String,
    pub filter: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub filter: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Segment {
    /// The segment's id, made from its name; entries and exits are recorded as
    /// `custom:<slug>`.
    pub slug: String,
    pub name: String,
    pub filter: String,
    /// Members in it now.
    pub members: usize,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<CustomSegment> for Segment {
    fn from(segment: CustomSegment) -> Self {
        Self {
            slug: segment.slug.to_string(),
            name: segment.name,
            filter: segment.filter,
            members: segment.members,
            updated_at: segment.updated_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SampleMember {
    pub id: Uuid,
    pub first_name: String,
}

/// Whom a filter finds now: how many members, and the first ten.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Preview {
    pub members: usize,
    pub sample: Vec<SampleMember>,
}

impl From<SegmentPreview> for Preview {
    fn from(preview: SegmentPreview) -> Self {
        Self {
            members: preview.members,
            sample: preview
                .sample
                .into_iter()
                .map(|(id, first_name)| SampleMember {
                    id: id.as_uuid(),
                    first_name,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Deleted {
    pub deleted: bool,
}

/// A member's tags, alphabetically.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Tags {
    pub tags: Vec<String>,
}
