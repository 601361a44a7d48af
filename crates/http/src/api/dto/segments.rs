//! The shapes of custom segments, members' tags and their consents.

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

/// A marketing consent an integration collected: the version of the text the member agreed
/// to and where (`app`, `pos`, …).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub text_version: String,
    #[serde(default = "api_source")]
    pub source: String,
}

fn api_source() -> String {
    "api".into()
}

/// One consent with its proof.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConsentView {
    /// `terms` or `marketing`.
    pub purpose: String,
    /// `email`, `sms` or `push` for marketing.
    pub channel: String,
    pub given_at: chrono::DateTime<chrono::Utc>,
    pub text_version: String,
    pub source: String,
    pub withdrawn_at: Option<chrono::DateTime<chrono::Utc>>,
    /// By email: when the member confirmed it from the mail; it counts from then.
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<stammgast_app::ConsentRecord> for ConsentView {
    fn from(record: stammgast_app::ConsentRecord) -> Self {
        Self {
            purpose: record.purpose,
            channel: record.channel,
            given_at: record.given_at,
            text_version: record.text_version,
            source: record.source,
            withdrawn_at: record.withdrawn_at,
            confirmed_at: record.confirmed_at,
        }
    }
}
