//! What happens at the counter or in the shop system: purchases, visits, sign-ups and custom
//! events, as the rules see them.

use crate::ids::{EventId, LocationId, MemberId, Slug};
use crate::money::Cents;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub sku: Option<String>,
    pub category: Option<String>,
    pub quantity: u32,
    pub amount: Option<Cents>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Purchase { amount: Cents, items: Vec<Item> },
    Visit,
    Signup,
    Custom { name: Slug },
}

impl EventKind {
    pub fn amount(&self) -> Cents {
        match self {
            Self::Purchase { amount, .. } => *amount,
            Self::Visit | Self::Signup | Self::Custom { .. } => Cents::ZERO,
        }
    }

    pub fn items(&self) -> &[Item] {
        match self {
            Self::Purchase { items, .. } => items,
            Self::Visit | Self::Signup | Self::Custom { .. } => &[],
        }
    }

    /// The categories of the items bought, as given (with repeats).
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.items()
            .iter()
            .filter_map(|item| item.category.as_deref())
    }

    /// Purchases and visits are visits to the shop; sign-ups and custom events are not.
    pub fn is_visit(&self) -> bool {
        matches!(self, Self::Purchase { .. } | Self::Visit)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Purchase { .. } => "purchase",
            Self::Visit => "visit",
            Self::Signup => "signup",
            Self::Custom { .. } => "custom",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub member_id: MemberId,
    pub kind: EventKind,
    pub location_id: Option<LocationId>,
    pub occurred_at: DateTime<Utc>,
}
