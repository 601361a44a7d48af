//! The data types of the program format. Every struct rejects unknown fields so that a typo
//! (`"mutliplier"`) is an error with its path, never a silently ignored setting.

use crate::ids::{LocationId, Slug};
use crate::money::{Cents, Currency};
use crate::points::{Points, Stamps};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// IANA time zone of the shop; weekday, time-of-day and daily caps are judged in it.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_currency")]
    pub currency: Currency,
    #[serde(default)]
    pub points: PointsSettings,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub caps: Caps,
    #[serde(default)]
    pub stamp_cards: Vec<StampCard>,
    #[serde(default)]
    pub tiers: Option<TierSettings>,
    #[serde(default)]
    pub rewards: Vec<Reward>,
    /// `timezone` parsed, on first use: a purchase asks for its zone about ten times, and each
    /// parse looks the name up in a hashed table of every zone.
    #[serde(skip)]
    parsed_zone: ParsedZone,
}

/// A time zone parsed once. Not part of what a program is: two programs with the same
/// `timezone` are equal whether or not either has parsed it yet.
#[derive(Clone, Debug, Default)]
struct ParsedZone(std::sync::OnceLock<chrono_tz::Tz>);

impl PartialEq for ParsedZone {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

fn default_timezone() -> String {
    "Europe/Berlin".into()
}

fn default_currency() -> Currency {
    Currency::EUR
}

impl Program {
    pub fn stamp_card(&self, id: &Slug) -> Option<&StampCard> {
        self.stamp_cards.iter().find(|card| &card.id == id)
    }

    pub fn reward(&self, id: &Slug) -> Option<&Reward> {
        self.rewards.iter().find(|reward| &reward.id == id)
    }

    /// What a used coupon of this reward gave away, where it is known: a fixed discount's
    /// amount, otherwise the points it cost at the points' value (0 for a reward paid in
    /// stamps only, whose product cost the program does not know).
    pub fn reward_cost_cents(&self, id: &Slug) -> i64 {
        match self.reward(id) {
            Some(Reward {
                kind: RewardKind::FixedDiscount { amount },
                ..
            }) => amount.get(),
            Some(reward) => reward.cost.points.get() * self.points.value_per_100_points.get() / 100,
            None => 0,
        }
    }

    /// The parsed time zone; validation guarantees it parses, Berlin is the safe fallback.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        *self
            .parsed_zone
            .0
            .get_or_init(|| self.timezone.parse().unwrap_or(chrono_tz::Europe::Berlin))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsSettings {
    #[serde(default)]
    pub expiry: Expiry,
    /// What 100 points are worth to the business, for the liability report.
    #[serde(default = "default_value_per_100_points")]
    pub value_per_100_points: Cents,
}

impl Default for PointsSettings {
    fn default() -> Self {
        Self {
            expiry: Expiry::Never,
            value_per_100_points: default_value_per_100_points(),
        }
    }
}

fn default_value_per_100_points() -> Cents {
    Cents::new(100).unwrap_or(Cents::ZERO)
}

/// When earned points expire. Each earning is its own lot with its own expiry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expiry {
    #[default]
    Never,
    AfterDays {
        days: u32,
        #[serde(default)]
        round_to: RoundTo,
    },
    AfterMonths {
        months: u32,
        #[serde(default)]
        round_to: RoundTo,
    },
    /// At the end of the calendar year after the one in which the points were earned.
    EndOfFollowingYear,
    FixedDate {
        date: NaiveDate,
    },
}

/// Expiry instants are rounded up to the end of this period, so members get simple dates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundTo {
    #[default]
    EndOfDay,
    EndOfWeek,
    EndOfMonth,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: Slug,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub when: Conditions,
    pub then: Effects,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Purchase,
    Visit,
    Signup,
    Custom,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub fn of(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Self::Mon,
            chrono::Weekday::Tue => Self::Tue,
            chrono::Weekday::Wed => Self::Wed,
            chrono::Weekday::Thu => Self::Thu,
            chrono::Weekday::Fri => Self::Fri,
            chrono::Weekday::Sat => Self::Sat,
            chrono::Weekday::Sun => Self::Sun,
        }
    }
}

/// A time of day written `HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime {
    minutes: u32,
}

impl ClockTime {
    pub fn minutes_since_midnight(self) -> u32 {
        self.minutes
    }
}

impl TryFrom<String> for ClockTime {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let problem = || format!("\"{text}\" is not a time of day like 14:30");
        let (hours, minutes) = text.split_once(':').ok_or_else(problem)?;
        let hours: u32 = hours.parse().map_err(|_| problem())?;
        let minutes: u32 = minutes.parse().map_err(|_| problem())?;
        if hours > 24 || minutes > 59 || (hours == 24 && minutes > 0) {
            return Err(problem());
        }
        Ok(Self {
            minutes: hours * 60 + minutes,
        })
    }
}

impl From<ClockTime> for String {
    fn from(time: ClockTime) -> String {
        format!("{:02}:{:02}", time.minutes / 60, time.minutes % 60)
    }
}

/// From (inclusive) to (exclusive); a window that wraps midnight (`22:00`–`02:00`) is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    pub from: ClockTime,
    pub to: ClockTime,
}

/// Both ends inclusive, in the shop's local calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// All present conditions must hold; an empty condition set matches every event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    pub event: Option<EventType>,
    /// With `event: custom`, the name of the custom event (`review`, `share`).
    pub custom_event: Option<Slug>,
    pub min_amount: Option<Cents>,
    pub max_amount: Option<Cents>,
    #[serde(default)]
    pub skus_any: Vec<String>,
    #[serde(default)]
    pub categories_any: Vec<String>,
    #[serde(default)]
    pub tiers_any: Vec<Slug>,
    #[serde(default)]
    pub locations_any: Vec<LocationId>,
    #[serde(default)]
    pub weekdays: Vec<Weekday>,
    pub time: Option<TimeWindow>,
    pub dates: Option<DateRange>,
    /// Matches on every n-th visit of the member (purchases and visits count).
    pub every_nth_visit: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    #[default]
    Down,
    Nearest,
    Up,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsPerAmount {
    pub points: Points,
    pub per: Cents,
    #[serde(default)]
    pub rounding: Rounding,
}

/// A factor written as a decimal (`"1.5"`), kept in thousandths so arithmetic stays exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Multiplier {
    thousandths: i64,
}

impl Multiplier {
    pub const ONE: Multiplier = Multiplier { thousandths: 1000 };

    pub fn thousandths(self) -> i64 {
        self.thousandths
    }
}

impl TryFrom<String> for Multiplier {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let problem =
            || format!("\"{text}\" is not a multiplier like \"1.5\" (more than 0, at most 100)");
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        if fraction.len() > 3
            || whole.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(problem());
        }
        let whole: i64 = whole.parse().map_err(|_| problem())?;
        let fraction: i64 = format!("{fraction:0<3}").parse().map_err(|_| problem())?;
        let thousandths = whole * 1000 + fraction;
        if thousandths == 0 || thousandths > 100_000 {
            return Err(problem());
        }
        Ok(Self { thousandths })
    }
}

impl From<Multiplier> for String {
    fn from(multiplier: Multiplier) -> String {
        let text = format!(
            "{}.{:03}",
            multiplier.thousandths / 1000,
            multiplier.thousandths % 1000
        );
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StampBasis {
    /// `count` stamps per qualifying event.
    #[default]
    Visit,
    /// `count` stamps per qualifying item (quantity counts).
    Item,
    /// `count` stamps per full `per_amount` spent.
    Amount,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StampEffect {
    pub card: Slug,
    #[serde(default = "one")]
    pub count: Stamps,
    #[serde(default)]
    pub per: StampBasis,
    pub per_amount: Option<Cents>,
}

fn one() -> Stamps {
    Stamps::new(1)
}

/// What a matching rule does. Points of all matching rules add up; multipliers multiply the
/// sum; then caps apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effects {
    pub points: Option<Points>,
    pub points_per_amount: Option<PointsPerAmount>,
    pub multiplier: Option<Multiplier>,
    pub stamps: Option<StampEffect>,
    /// Issues a coupon for this reward, free of charge.
    pub coupon: Option<Slug>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    pub points_per_transaction: Option<Points>,
    pub points_per_day: Option<Points>,
    /// Purchases below this amount earn no points.
    pub min_purchase: Option<Cents>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StampCard {
    pub id: Slug,
    pub name: String,
    pub stamps_required: Stamps,
    /// The reward whose coupon is issued automatically when the card is full.
    pub reward: Option<Slug>,
    /// At most this many stamps per member and day on this card.
    pub daily_limit: Option<Stamps>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMetric {
    Spend,
    PointsEarned,
    Visits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierWindow {
    Lifetime,
    #[serde(rename = "rolling_12_months")]
    Rolling12Months,
    CalendarYear,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSettings {
    pub metric: TierMetric,
    pub window: TierWindow,
    /// A member keeps a tier at least this many days after reaching it.
    #[serde(default)]
    pub downgrade_grace_days: u32,
    pub levels: Vec<TierLevel>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierLevel {
    pub id: Slug,
    pub name: String,
    /// In the metric's unit: an amount like `"200.00"` for spend, a count for points and visits.
    pub threshold: String,
    pub multiplier: Option<Multiplier>,
    #[serde(default)]
    pub perks: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardCost {
    #[serde(default)]
    pub points: Points,
    #[serde(default)]
    pub stamps: Stamps,
    /// The stamp card the stamps are taken from (required when `stamps` > 0).
    pub card: Option<Slug>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RewardKind {
    FixedDiscount { amount: Cents },
    PercentDiscount { percent: u8 },
    FreeProduct { product: String },
    Perk { description: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    pub id: Slug,
    pub name: String,
    pub cost: RewardCost,
    pub kind: RewardKind,
    /// How many coupons of this reward may exist in total.
    pub stock: Option<i64>,
    pub per_member_limit: Option<i64>,
    pub available_from: Option<NaiveDate>,
    pub available_until: Option<NaiveDate>,
    #[serde(default = "default_coupon_valid_days")]
    pub coupon_valid_days: u32,
    /// Only members in one of these tiers may redeem it (early access, VIP rewards).
    #[serde(default)]
    pub tiers_any: Vec<Slug>,
}

fn default_coupon_valid_days() -> u32 {
    30
}
