//! Request shapes: they reject unknown fields (a typo is an error, not a silently ignored
//! setting), and the helpers that turn their text into domain values with field-named errors.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use stammgast_app::AppError;
use stammgast_core::event::Item;
use stammgast_core::ids::{EventId, LocationId, MemberId};
use stammgast_core::money::{Cents, Currency};
use uuid::Uuid;

/// A decimal amount such as `"12.40"` (a JSON number is accepted too). At most two
/// decimals, never negative.
#[derive(Clone, Debug, JsonSchema)]
#[schemars(example = "12.40")]
pub struct Amount(#[schemars(with = "String")] pub String);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => Ok(Self(text)),
            serde_json::Value::Number(number) => Ok(Self(number.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected an amount like \"12.40\", found {other}"
            ))),
        }
    }
}

impl Amount {
    pub fn cents(&self, field: &str) -> Result<Cents, AppError> {
        Cents::parse(&self.0).map_err(|reason| AppError::invalid(field, reason))
    }
}

pub fn parse_uuid(field: &str, text: &str) -> Result<Uuid, AppError> {
    Uuid::try_parse(text).map_err(|_| AppError::invalid(field, format!("\"{text}\" is not an id")))
}

pub fn member_id(text: &str) -> Result<MemberId, AppError> {
    parse_uuid("member_id", text).map(MemberId::from_uuid)
}

pub fn event_id(text: &str) -> Result<EventId, AppError> {
    parse_uuid("event_id", text).map(EventId::from_uuid)
}

pub fn location_id(text: Option<&str>) -> Result<Option<LocationId>, AppError> {
    text.map(|t| parse_uuid("location_id", t).map(LocationId::from_uuid))
        .transpose()
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinMemberRequest {
    pub first_name: String,
    pub email: Option<String>,
    /// In international form, e.g. `+49 170 1234567`.
    pub phone: Option<String>,
    pub birthday: Option<NaiveDate>,
    /// `de` or `en`; German when not given.
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    pub sku: Option<String>,
    pub category: Option<String>,
    #[serde(default = "one")]
    pub quantity: u32,
    pub amount: Option<Amount>,
}

fn one() -> u32 {
    1
}

impl ItemRequest {
    pub fn into_item(self, index: usize) -> Result<Item, AppError> {
        let amount = self
            .amount
            .map(|a| a.cents(&format!("items[{index}].amount")))
            .transpose()?;
        if self.quantity == 0 {
            return Err(AppError::invalid(
                format!("items[{index}].quantity"),
                "must be at least 1",
            ));
        }
        Ok(Item {
            sku: self.sku,
            category: self.category,
            quantity: self.quantity,
            amount,
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseRequest {
    pub member_id: String,
    pub amount: Amount,
    /// ISO 4217, e.g. `EUR`; must be the business's currency.
    pub currency: String,
    #[serde(default)]
    pub items: Vec<ItemRequest>,
    pub location_id: Option<String>,
    /// When the purchase happened; now when not given.
    pub occurred_at: Option<DateTime<Utc>>,
}

pub fn currency(text: &str) -> Result<Currency, AppError> {
    Currency::parse(text).map_err(|reason| AppError::invalid("currency", reason))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitRequest {
    pub member_id: String,
    pub location_id: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomEventRequest {
    pub member_id: String,
    /// The event's name as the program's rules know it, e.g. `review-written`.
    pub name: String,
    pub location_id: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchEventType {
    Purchase,
    Visit,
    Custom,
}

/// One event of a bulk request: a purchase (with `amount` and `currency`), a visit, or a
/// custom event (with `name`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchEvent {
    #[serde(rename = "type")]
    pub kind: BatchEventType,
    pub member_id: String,
    pub amount: Option<Amount>,
    pub currency: Option<String>,
    #[serde(default)]
    pub items: Vec<ItemRequest>,
    pub name: Option<String>,
    pub location_id: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// Makes this event safe to send again in a later bulk request.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Up to 10,000 events, recorded in one transaction; each is accepted or refused alone.
    pub events: Vec<BatchEvent>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    pub reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// How much of the purchase is refunded; its points are taken back in proportion.
    pub amount: Amount,
    pub reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    pub reward_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRequest {
    /// `points`, or `stamps:<card>` for a stamp card.
    pub unit: String,
    /// Positive to credit, negative to debit.
    pub delta: i64,
    pub reason: String,
}

/// A request without parameters: an empty body or `{}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoBody {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub cursor: Option<String>,
    /// 1 to 500; 50 when not given.
    pub limit: Option<usize>,
}

impl ListQuery {
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(50)
    }
}
