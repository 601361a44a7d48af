//! A journey: a trigger, a message, and the share of members held out to measure it. A
//! trigger gives each member an *occasion* (the lapse after a given last visit, the join):
//! a journey acts once per member and occasion, however often and by however many
//! workers it is evaluated.

use super::message::MessageTemplate;
use crate::analytics::filter::MemberProfile;
use crate::ids::{MemberId, Slug};
use crate::member::Channel;
use crate::program::progress::MILESTONE_DAYS;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Journey {
    pub slug: Slug,
    pub name: String,
    pub trigger: Trigger,
    pub message: MessageTemplate,
    /// Percent of the members it fires for who get nothing, to compare with (0–50).
    pub holdout_percent: u8,
    /// Days after the message in which a visit counts as a return.
    pub measure_days: u32,
    pub active: bool,
    /// Points given to each member the message goes to (through the ledger, once per
    /// occasion).
    #[serde(default)]
    pub grant_points: u32,
    /// A tag put on each member the message goes to.
    #[serde(default)]
    pub add_tag: Option<Slug>,
    /// A reward given free with the message: each member it goes to gets a coupon, shown
    /// in the mail with its QR code (and as `{coupon_code}` in the text).
    #[serde(default)]
    pub issue_coupon: Option<Slug>,
    /// Whether the message asks for a rating from 0 to 10 (the NPS survey), answered on a
    /// page of its own.
    #[serde(default)]
    pub survey: bool,
    /// A second message (A/B): the members not held out get one or the other, half each.
    #[serde(default)]
    pub variant_b: Option<MessageTemplate>,
    /// How the message goes out: by email (the default), or as SMS or push through the
    /// provider's webhook; only to members who consented to that channel.
    #[serde(default)]
    pub channel: Channel,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Trigger {
    /// `after_days` after joining (0: right away).
    Joined { after_days: u32 },
    /// No visit for `days` (since joining, for a member who never came).
    NoVisitFor { days: u32 },
    /// Entered a segment (`lifecycle:loyal`, `rfm:champions`, `custom:<slug>`), as the
    /// segments' count recorded it.
    EnteredSegment { segment: String },
    /// `days_before` days before the birthday (0: on the day), once a year.
    Birthday { days_before: u32 },
    /// One visit and then none for `days`: the nudge to come a second time.
    NoSecondVisit { days: u32 },
    /// Points may expire within `within_days`.
    PointsExpiring { within_days: u32 },
    /// Every `every`th visit (the 10th, 20th, … for 10), right after it.
    EveryNthVisit { every: u32 },
    /// `after_days` after the first visit (0 to 12).
    FirstVisit { after_days: u32 },
    /// Reached a tier above the first.
    TierUpgrade,
    /// Their points now cover a reward.
    RewardAvailable,
    /// One stamp short of a full stamp card.
    OneStampShort,
    /// `after_days` after a visit, once a calendar quarter at most: when to ask how it was.
    AfterVisit { after_days: u32 },
    /// Once, at `send_at`, to the members in `segment` then: a one-off campaign.
    Campaign {
        segment: String,
        send_at: DateTime<Utc>,
    },
}

/// A member's entry into a segment: which, and when.
pub type SegmentEntry = (String, DateTime<Utc>);

/// How long after its moment a trigger still fires: a member who lapsed or joined long
/// before the journey started is not written to as if it just happened.
pub const CATCH_UP_DAYS: i64 = 14;

impl Trigger {
    /// The trigger's kind, as pages and forms name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoVisitFor { .. } => "no_visit",
            Self::Joined { .. } => "joined",
            Self::EnteredSegment { .. } => "entered_segment",
            Self::Birthday { .. } => "birthday",
            Self::NoSecondVisit { .. } => "second_visit",
            Self::PointsExpiring { .. } => "points_expiring",
            Self::Campaign { .. } => "campaign",
            Self::EveryNthVisit { .. } => "every_nth_visit",
            Self::FirstVisit { .. } => "first_visit",
            Self::TierUpgrade => "tier_upgrade",
            Self::RewardAvailable => "reward_available",
            Self::OneStampShort => "one_stamp_short",
            Self::AfterVisit { .. } => "after_visit",
        }
    }

    /// The trigger's number of days, for the triggers that have one.
    pub fn days(&self) -> Option<u32> {
        match self {
            Self::NoVisitFor { days } | Self::NoSecondVisit { days } => Some(*days),
            Self::Joined { after_days }
            | Self::AfterVisit { after_days }
            | Self::FirstVisit { after_days } => Some(*after_days),
            Self::Birthday { days_before } => Some(*days_before),
            Self::PointsExpiring { within_days } => Some(*within_days),
            Self::EveryNthVisit { every } => Some(*every),
            Self::EnteredSegment { .. }
            | Self::Campaign { .. }
            | Self::TierUpgrade
            | Self::RewardAvailable
            | Self::OneStampShort => None,
        }
    }

    /// The same trigger with another number of days (unchanged without one).
    pub fn with_days(&self, days: u32) -> Self {
        match self {
            Self::NoVisitFor { .. } => Self::NoVisitFor { days },
            Self::NoSecondVisit { .. } => Self::NoSecondVisit { days },
            Self::Joined { .. } => Self::Joined { after_days: days },
            Self::Birthday { .. } => Self::Birthday { days_before: days },
            Self::PointsExpiring { .. } => Self::PointsExpiring { within_days: days },
            Self::EveryNthVisit { .. } => Self::EveryNthVisit { every: days },
            Self::AfterVisit { .. } => Self::AfterVisit { after_days: days },
            Self::FirstVisit { .. } => Self::FirstVisit { after_days: days },
            other @ (Self::EnteredSegment { .. }
            | Self::Campaign { .. }
            | Self::TierUpgrade
            | Self::RewardAvailable
            | Self::OneStampShort) => other.clone(),
        }
    }

    /// Whether the trigger reads the member's recent entries into segments and milestones.
    pub fn reads_entries(&self) -> bool {
        matches!(
            self,
            Self::EnteredSegment { .. }
                | Self::FirstVisit { .. }
                | Self::TierUpgrade
                | Self::RewardAvailable
                | Self::OneStampShort
        )
    }

    /// The member's occasion for this trigger at `now`, if it fires: `joined`,
    /// `quiet-since:<last visit>` (a later lapse after a new visit is a new occasion), or
    /// `entered:<segment>:<when>`; `entries` are the member's recent entries into segments
    /// and milestones (`tier:…`, `reward-ready:…`, `stamp-short:…`).
    pub fn occasion(
        &self,
        member: &MemberProfile,
        entries: &[SegmentEntry],
        now: DateTime<Utc>,
    ) -> Option<String> {
        let aggregate = &member.aggregate;
        let catch_up = Duration::days(CATCH_UP_DAYS);
        // When the occasion arises, and how long after that it still fires.
        let ((moment, occasion), window) = match self {
            Self::Birthday { days_before } => {
                let ahead = Duration::days(i64::from(*days_before));
                let (birthday, year) = next_birthday(member.birthday?, now.date_naive())?;
                let moment = birthday.and_time(chrono::NaiveTime::MIN).and_utc() - ahead;
                // Never after the birthday itself.
                let window = (ahead + Duration::days(1)).min(catch_up);
                ((moment, format!("birthday:{year}")), window)
            }
            Self::NoSecondVisit { days } => {
                let last = aggregate.last_visit_at.filter(|_| aggregate.visits == 1)?;
                let moment = last + Duration::days(i64::from(*days));
                ((moment, "second-visit".to_owned()), catch_up)
            }
            Self::PointsExpiring { within_days } => {
                let expiry = member.next_expiry_at.filter(|_| member.points > 0)?;
                let within = Duration::days(i64::from(*within_days));
                let occasion = format!("expiring:{}", expiry.timestamp_millis());
                ((expiry - within, occasion), within)
            }
            Self::EveryNthVisit { every } => {
                let visits = aggregate.visits;
                let last = aggregate.last_visit_at.filter(|_| {
                    *every > 0 && visits > 0 && visits.is_multiple_of(u64::from(*every))
                })?;
                ((last, format!("visit:{visits}")), Duration::days(2))
            }
            Self::FirstVisit { after_days } => {
                let ((at, occasion), window) = milestone(entries, "first-visit", now)?;
                (
                    (at + Duration::days(i64::from(*after_days)), occasion),
                    window,
                )
            }
            Self::TierUpgrade => milestone(entries, "tier:", now)?,
            Self::RewardAvailable => milestone(entries, "reward-ready:", now)?,
            Self::OneStampShort => milestone(entries, "stamp-short:", now)?,
            Self::AfterVisit { after_days } => {
                use chrono::Datelike;
                let last = aggregate.last_visit_at?;
                let quarter = format!("{}-Q{}", last.year(), last.month0() / 3 + 1);
                let moment = last + Duration::days(i64::from(*after_days));
                (
                    (moment, format!("after-visit:{quarter}")),
                    Duration::days(2),
                )
            }
            Self::Campaign { segment, send_at } => {
                let in_it = member.segments.contains(segment);
                let occasion = format!("campaign:{}", send_at.timestamp_millis());
                ((in_it.then_some(*send_at)?, occasion), catch_up)
            }
            other => (other.moment(member, entries, now)?, catch_up),
        };
        (moment <= now && now - moment < window).then_some(occasion)
    }

    /// When the lapse, the join or the segment entry happened, with its occasion.
    fn moment(
        &self,
        member: &MemberProfile,
        entries: &[SegmentEntry],
        now: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, String)> {
        let aggregate = &member.aggregate;
        Some(match self {
            Self::Joined { after_days } => (
                aggregate.joined_at + Duration::days(i64::from(*after_days)),
                "joined".to_owned(),
            ),
            Self::NoVisitFor { days } => {
                let since = aggregate.last_visit_at.unwrap_or(aggregate.joined_at);
                (
                    since + Duration::days(i64::from(*days)),
                    format!("quiet-since:{}", since.timestamp()),
                )
            }
            Self::EnteredSegment { segment } => {
                let (_, at) = latest_entry(entries, now, |entered| entered == segment)?;
                (at, format!("entered:{segment}:{}", at.timestamp_millis()))
            }
            Self::Birthday { .. }
            | Self::NoSecondVisit { .. }
            | Self::PointsExpiring { .. }
            | Self::EveryNthVisit { .. }
            | Self::Campaign { .. }
            | Self::FirstVisit { .. }
            | Self::TierUpgrade
            | Self::RewardAvailable
            | Self::OneStampShort
            | Self::AfterVisit { .. } => return None,
        })
    }
}

/// The latest entry at or before `now` whose name passes `wanted`.
fn latest_entry(
    entries: &[SegmentEntry],
    now: DateTime<Utc>,
    wanted: impl Fn(&str) -> bool,
) -> Option<(&str, DateTime<Utc>)> {
    entries
        .iter()
        .filter(|(name, at)| wanted(name) && *at <= now)
        .max_by_key(|(_, at)| *at)
        .map(|(name, at)| (name.as_str(), *at))
}

/// The latest milestone of a kind (`tier:`, …) as a moment with its occasion (the
/// milestone and its time), and how long after it the trigger still fires.
fn milestone(
    entries: &[SegmentEntry],
    kind: &str,
    now: DateTime<Utc>,
) -> Option<((DateTime<Utc>, String), Duration)> {
    let (name, at) = latest_entry(entries, now, |name| name.starts_with(kind))?;
    let occasion = format!("{name}:{}", at.timestamp_millis());
    Some(((at, occasion), Duration::days(MILESTONE_DAYS)))
}

/// The first birthday on or after `from`, with its year (29 February is the 28th in other
/// years).
fn next_birthday(birthday: NaiveDate, from: NaiveDate) -> Option<(NaiveDate, i32)> {
    use chrono::Datelike;
    let on = |year: i32| {
        NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day() - 1))
    };
    let this_year = on(from.year())?;
    if this_year >= from {
        Some((this_year, from.year()))
    } else {
        Some((on(from.year() + 1)?, from.year() + 1))
    }
}

/// At most one journey message per member within this many days (the frequency cap).
pub const FREQUENCY_CAP_DAYS: i64 = 7;
/// Marketing goes out between these hours of the shop's day only (quiet hours outside).
pub const SENDING_HOURS: std::ops::Range<u32> = 8..20;

/// The first moment at or after `now` outside the shop's quiet hours.
pub fn after_quiet_hours(now: DateTime<Utc>, zone: chrono_tz::Tz) -> DateTime<Utc> {
    use chrono::{TimeZone, Timelike};
    let local = now.with_timezone(&zone);
    if SENDING_HOURS.contains(&local.hour()) {
        return now;
    }
    let day = if local.hour() >= SENDING_HOURS.end {
        local.date_naive() + Duration::days(1)
    } else {
        local.date_naive()
    };
    let opening = day
        .and_hms_opt(SENDING_HOURS.start, 0, 0)
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN));
    zone.from_local_datetime(&opening)
        .earliest()
        .map_or(now, |t| t.with_timezone(&Utc))
}

/// Which arm of the measurement a member is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// Gets the message.
    Message,
    /// Gets the second message of an A/B test.
    VariantB,
    /// Held out: gets nothing, and is the comparison.
    Holdout,
}

impl Arm {
    pub const ALL: [Self; 3] = [Self::Message, Self::VariantB, Self::Holdout];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::VariantB => "variant_b",
            Self::Holdout => "holdout",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|arm| arm.as_str() == text)
    }

    /// Whether the arm gets a message.
    pub fn is_sent(self) -> bool {
        self != Self::Holdout
    }

    /// A member's arm in a journey: the same on every server and every evaluation, and
    /// independent between journeys. With `ab`, the members not held out are split in
    /// halves between the message and variant B.
    pub fn of(journey: &Slug, member: MemberId, holdout_percent: u8, ab: bool) -> Self {
        let hash = format!("{journey}/{member}")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        if hash % 100 < u64::from(holdout_percent) {
            Self::Holdout
        } else if ab && (hash / 100) % 2 == 1 {
            Self::VariantB
        } else {
            Self::Message
        }
    }
}

impl Journey {
    /// A member's arm in this journey.
    pub fn arm_of(&self, member: MemberId) -> Arm {
        Arm::of(
            &self.slug,
            member,
            self.holdout_percent,
            self.variant_b.is_some(),
        )
    }

    /// The message an arm gets (none for the holdout).
    pub fn message_of(&self, arm: Arm) -> Option<&MessageTemplate> {
        match arm {
            Arm::Message => Some(&self.message),
            Arm::VariantB => self.variant_b.as_ref(),
            Arm::Holdout => None,
        }
    }

    /// Refuses a journey that cannot work: the field to fix and why.
    pub fn check(&self) -> Result<(), (String, String)> {
        let refuse = |field: &str, reason: &str| Err((field.to_owned(), reason.to_owned()));
        if self.name.trim().is_empty() || self.name.chars().count() > 80 {
            return refuse("name", "a journey needs a name of 1 to 80 characters");
        }
        if self.holdout_percent > 50 {
            return refuse("holdout_percent", "hold out 50 % at most");
        }
        if self.grant_points > 10_000 {
            return refuse("grant_points", "10,000 points at most");
        }
        if !(1..=365).contains(&self.measure_days) {
            return refuse("measure_days", "measure over 1 to 365 days");
        }
        let days = self.trigger.days().unwrap_or(0);
        let allowed = match self.trigger {
            Trigger::NoVisitFor { .. } => 1..=3_650,
            Trigger::Joined { .. } => 0..=3_650,
            Trigger::Birthday { .. } => 0..=60,
            Trigger::NoSecondVisit { .. } => 1..=365,
            Trigger::PointsExpiring { .. } => 1..=90,
            Trigger::EveryNthVisit { .. } => 2..=1_000,
            Trigger::AfterVisit { .. } => 0..=30,
            // Milestones are read back over the catch-up window only.
            Trigger::FirstVisit { .. } => 0..=12,
            Trigger::EnteredSegment { .. }
            | Trigger::Campaign { .. }
            | Trigger::TierUpgrade
            | Trigger::RewardAvailable
            | Trigger::OneStampShort => 0..=0,
        };
        if !allowed.contains(&days) {
            let reason = format!("{} to {} days", allowed.start(), allowed.end());
            return refuse("trigger.days", &reason);
        }
        let messages = [
            ("message", Some(&self.message)),
            ("variant_b", self.variant_b.as_ref()),
        ];
        for (name, message) in messages {
            let Some(message) = message else { continue };
            message.check(name)?;
            if self.issue_coupon.is_none()
                && let Some(field) = message.field_using(name, "coupon_code")
            {
                let reason =
                    format!("{field} shows {{coupon_code}}: choose the reward the message gives");
                return refuse("issue_coupon", &reason);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::snapshot::MemberAggregate;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn member(last_visit_days_ago: Option<i64>, now: DateTime<Utc>) -> MemberProfile {
        MemberProfile {
            aggregate: MemberAggregate {
                member_id: MemberId::from_uuid(Uuid::from_u128(3)),
                joined_at: now - Duration::days(200),
                last_visit_at: last_visit_days_ago.map(|d| now - Duration::days(d)),
                visits: 4,
                spend_cents: 2_000,
            },
            points: 40,
            tier: None,
            birthday: None,
            next_expiry_at: None,
            segments: vec![],
            categories: vec![],
            tags: vec![],
            consents: vec![],
        }
    }

    #[test]
    fn no_visit_for_sixty_days_fires_from_day_sixty_for_two_weeks_once_per_lapse() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let trigger = Trigger::NoVisitFor { days: 60 };
        assert_eq!(trigger.occasion(&member(Some(59), now), &[], now), None);
        let lapse = trigger.occasion(&member(Some(60), now), &[], now).unwrap();
        assert!(lapse.starts_with("quiet-since:"));
        assert!(trigger.occasion(&member(Some(70), now), &[], now).is_some());
        assert_eq!(
            trigger.occasion(&member(Some(75), now), &[], now),
            None,
            "lapsed before the catch-up window"
        );
        let later = now + Duration::days(3);
        let same_lapse = trigger
            .occasion(&member(Some(60), now), &[], later)
            .unwrap();
        assert_eq!(same_lapse, lapse, "the same lapse is the same occasion");
    }

    #[test]
    fn marketing_waits_for_the_morning_in_the_shops_time_zone() {
        let zone = chrono_tz::Europe::Berlin;
        // 21:30 in Berlin (winter, UTC+1) waits for 08:00 the next day.
        let evening = Utc.with_ymd_and_hms(2026, 12, 1, 20, 30, 0).unwrap();
        assert_eq!(
            after_quiet_hours(evening, zone),
            Utc.with_ymd_and_hms(2026, 12, 2, 7, 0, 0).unwrap()
        );
        let early = Utc.with_ymd_and_hms(2026, 12, 2, 5, 0, 0).unwrap();
        assert_eq!(
            after_quiet_hours(early, zone),
            Utc.with_ymd_and_hms(2026, 12, 2, 7, 0, 0).unwrap()
        );
        let noon = Utc.with_ymd_and_hms(2026, 12, 2, 11, 0, 0).unwrap();
        assert_eq!(after_quiet_hours(noon, zone), noon);
    }

    #[test]
    fn entering_a_segment_fires_once_per_entry_within_two_weeks() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let trigger = Trigger::EnteredSegment {
            segment: "lifecycle:loyal".into(),
        };
        let member = member(Some(1), now);
        let entered = now - Duration::days(2);
        let entries = [
            ("lifecycle:active".to_owned(), now - Duration::days(1)),
            ("lifecycle:loyal".to_owned(), entered),
        ];
        assert_eq!(
            trigger.occasion(&member, &entries, now),
            Some(format!(
                "entered:lifecycle:loyal:{}",
                entered.timestamp_millis()
            ))
        );
        assert_eq!(
            trigger.occasion(&member, &entries[..1], now),
            None,
            "another segment"
        );
        let old = [("lifecycle:loyal".to_owned(), now - Duration::days(20))];
        assert_eq!(trigger.occasion(&member, &old, now), None, "too long ago");
    }

    #[test]
    fn a_birthday_fires_the_days_before_it_once_a_year_and_never_after() {
        let now = Utc.with_ymd_and_hms(2026, 12, 17, 9, 0, 0).unwrap();
        let mut member = member(Some(3), now);
        member.birthday = NaiveDate::from_ymd_opt(1990, 12, 24);
        let week_before = Trigger::Birthday { days_before: 7 };
        assert_eq!(
            week_before.occasion(&member, &[], now).as_deref(),
            Some("birthday:2026")
        );
        assert_eq!(
            week_before.occasion(&member, &[], now - Duration::days(1)),
            None,
            "eight days before"
        );
        let after = Utc.with_ymd_and_hms(2026, 12, 25, 9, 0, 0).unwrap();
        assert_eq!(
            week_before.occasion(&member, &[], after),
            None,
            "after the birthday"
        );
        member.birthday = NaiveDate::from_ymd_opt(2000, 2, 29);
        let on_the_day = Trigger::Birthday { days_before: 0 };
        let leap = Utc.with_ymd_and_hms(2027, 2, 28, 9, 0, 0).unwrap();
        assert_eq!(
            on_the_day.occasion(&member, &[], leap).as_deref(),
            Some("birthday:2027")
        );
        member.birthday = None;
        assert_eq!(week_before.occasion(&member, &[], now), None);
    }

    #[test]
    fn the_second_visit_nudge_and_expiring_points() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let mut once = member(Some(14), now);
        once.aggregate.visits = 1;
        let nudge = Trigger::NoSecondVisit { days: 14 };
        assert_eq!(
            nudge.occasion(&once, &[], now).as_deref(),
            Some("second-visit")
        );
        once.aggregate.visits = 2;
        assert_eq!(nudge.occasion(&once, &[], now), None, "came back already");
        let mut expiring = member(Some(1), now);
        let expiry = now + Duration::days(10);
        expiring.next_expiry_at = Some(expiry);
        let soon = Trigger::PointsExpiring { within_days: 14 };
        assert_eq!(
            soon.occasion(&expiring, &[], now),
            Some(format!("expiring:{}", expiry.timestamp_millis()))
        );
        assert_eq!(
            Trigger::PointsExpiring { within_days: 7 }.occasion(&expiring, &[], now),
            None
        );
        expiring.points = 0;
        assert_eq!(soon.occasion(&expiring, &[], now), None, "nothing to lose");
    }

    #[test]
    fn a_campaign_goes_once_at_its_time_to_the_members_in_its_segment_then() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let send_at = now + Duration::hours(2);
        let campaign = Trigger::Campaign {
            segment: "lifecycle:active".into(),
            send_at,
        };
        let mut member = member(Some(3), now);
        member.segments = vec!["lifecycle:active".into()];
        assert_eq!(campaign.occasion(&member, &[], now), None, "not yet");
        let later = now + Duration::hours(3);
        assert_eq!(
            campaign.occasion(&member, &[], later),
            Some(format!("campaign:{}", send_at.timestamp_millis()))
        );
        member.segments = vec!["lifecycle:lapsed".into()];
        assert_eq!(
            campaign.occasion(&member, &[], later),
            None,
            "not in the segment"
        );
    }

    #[test]
    fn every_tenth_visit_fires_right_after_it_once_per_tenth() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let tenth = Trigger::EveryNthVisit { every: 10 };
        let mut member = member(Some(0), now);
        member.aggregate.visits = 20;
        assert_eq!(
            tenth.occasion(&member, &[], now).as_deref(),
            Some("visit:20")
        );
        member.aggregate.visits = 21;
        assert_eq!(tenth.occasion(&member, &[], now), None);
        member.aggregate.visits = 20;
        assert_eq!(
            tenth.occasion(&member, &[], now + Duration::days(3)),
            None,
            "only right after the visit"
        );
    }

    #[test]
    fn joined_fires_after_the_days_given() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let member = member(None, now);
        assert_eq!(
            Trigger::Joined { after_days: 200 }
                .occasion(&member, &[], now)
                .as_deref(),
            Some("joined")
        );
        assert_eq!(
            Trigger::Joined { after_days: 201 }.occasion(&member, &[], now),
            None
        );
        assert_eq!(
            Trigger::Joined { after_days: 0 }.occasion(&member, &[], now),
            None,
            "long ago"
        );
    }

    #[test]
    fn the_holdout_is_stable_and_about_the_share_asked() {
        let journey = Slug::parse("win-back").unwrap();
        let held = (0..10_000u128)
            .filter(|n| {
                Arm::of(
                    &journey,
                    MemberId::from_uuid(Uuid::from_u128(*n)),
                    10,
                    false,
                ) == Arm::Holdout
            })
            .count();
        assert!((900..1_100).contains(&held), "{held}");
        let member = MemberId::from_uuid(Uuid::from_u128(42));
        assert_eq!(
            Arm::of(&journey, member, 10, false),
            Arm::of(&journey, member, 10, false)
        );
        assert!((0..100u128).all(|n| {
            Arm::of(&journey, MemberId::from_uuid(Uuid::from_u128(n)), 0, false) == Arm::Message
        }));
    }

    #[test]
    fn an_ab_test_splits_the_members_not_held_out_in_halves_and_keeps_the_holdout() {
        let journey = Slug::parse("win-back").unwrap();
        let arms: Vec<(Arm, Arm)> = (0..10_000u128)
            .map(|n| {
                let member = MemberId::from_uuid(Uuid::from_u128(n));
                (
                    Arm::of(&journey, member, 10, false),
                    Arm::of(&journey, member, 10, true),
                )
            })
            .collect();
        let count = |arm| arms.iter().filter(|(_, ab)| *ab == arm).count();
        assert!(
            (4_250..4_750).contains(&count(Arm::VariantB)),
            "{}",
            count(Arm::VariantB)
        );
        assert!((4_250..4_750).contains(&count(Arm::Message)));
        assert!(
            arms.iter()
                .all(|(plain, ab)| (*plain == Arm::Holdout) == (*ab == Arm::Holdout)),
            "the same members are held out with and without the test"
        );
        assert_eq!(
            Arm::ALL.map(|arm| Arm::parse(arm.as_str())),
            Arm::ALL.map(Some)
        );
    }

    #[test]
    fn milestones_fire_right_after_the_event_that_reached_them_once_each() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let member = member(Some(0), now);
        let an_hour_ago = now - Duration::hours(1);
        let entries = [
            ("stamp-short:coffee".to_owned(), an_hour_ago),
            ("tier:gold".to_owned(), now - Duration::days(3)),
        ];
        assert_eq!(
            Trigger::OneStampShort.occasion(&member, &entries, now),
            Some(format!(
                "stamp-short:coffee:{}",
                an_hour_ago.timestamp_millis()
            ))
        );
        assert_eq!(
            Trigger::TierUpgrade.occasion(&member, &entries, now),
            None,
            "three days ago is too late to congratulate"
        );
        assert_eq!(
            Trigger::RewardAvailable.occasion(&member, &entries, now),
            None
        );
        let first = [("first-visit".to_owned(), now - Duration::days(3))];
        let three_days = Trigger::FirstVisit { after_days: 3 };
        assert!(three_days.occasion(&member, &first, now).is_some());
        assert_eq!(
            Trigger::FirstVisit { after_days: 4 }.occasion(&member, &first, now),
            None,
            "not yet"
        );
        assert_eq!(
            three_days.occasion(&member, &first, now + Duration::days(3)),
            None,
            "too late"
        );
        assert!(Trigger::OneStampShort.reads_entries());
        assert!(!Trigger::AfterVisit { after_days: 1 }.reads_entries());
    }

    #[test]
    fn the_survey_after_a_visit_asks_once_a_quarter_the_day_after() {
        let visit = Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap();
        let trigger = Trigger::AfterVisit { after_days: 1 };
        let mut member = member(None, visit);
        member.aggregate.last_visit_at = Some(visit);
        let same_day = visit + Duration::hours(3);
        assert_eq!(trigger.occasion(&member, &[], same_day), None);
        let next_day = visit + Duration::hours(25);
        assert_eq!(
            trigger.occasion(&member, &[], next_day).as_deref(),
            Some("after-visit:2026-Q4")
        );
        let december = Utc.with_ymd_and_hms(2026, 12, 20, 10, 0, 0).unwrap();
        member.aggregate.last_visit_at = Some(december);
        assert_eq!(
            trigger
                .occasion(&member, &[], december + Duration::days(1))
                .as_deref(),
            Some("after-visit:2026-Q4"),
            "the same quarter: the same occasion, so no second survey"
        );
    }
}
