//! Journeys: set up from the templates the wizard offers (or written by hand), evaluated
//! by the worker on every member, each member enrolled once per occasion in the message
//! arm or the holdout, the message queued in the same transaction; the report compares
//! the arms. Guardrails: only members with a marketing consent on the journey's channel
//! (confirmed, for email), at most one journey message a week, none in the shop's quiet
//! hours.

use crate::outbox::Carried;
use crate::{App, AppError, Caller, Mail, Scope};
use chrono::Duration;
use stammgast_core::analytics::filter::MemberProfile;
use stammgast_core::analytics::segments::{Lifecycle, RfmSegment};
use stammgast_core::automation::experiment::{ArmResult, Uplift, uplift};
use stammgast_core::automation::journey::{
    Arm, CATCH_UP_DAYS, FREQUENCY_CAP_DAYS, Journey, SegmentEntry, Trigger, after_quiet_hours,
};
use stammgast_core::automation::message::{MessageTemplate, MessageText};
use stammgast_core::ids::{BusinessId, MemberId, Slug};
use stammgast_core::member::Channel;
use stammgast_store::{Enrolment, MemberFilter};
use std::collections::HashMap;

/// How a journey did: each arm and the uplift of each message over the holdout.
#[derive(Clone, Debug, PartialEq)]
pub struct JourneyReport {
    pub journey: Journey,
    pub message: ArmResult,
    pub holdout: ArmResult,
    pub uplift: Option<Uplift>,
    /// The second message's arm and uplift, in an A/B test.
    pub variant_b: Option<(ArmResult, Option<Uplift>)>,
}

/// The journeys the setup offers, by name.
pub const TEMPLATES: [&str; 14] = [
    "campaign",
    "win_back",
    "at_risk",
    "welcome",
    "first_visit",
    "second_visit",
    "birthday",
    "vip",
    "points_expiring",
    "every_tenth_visit",
    "one_stamp_short",
    "reward_ready",
    "tier_upgrade",
    "nps_survey",
];

/// A journey from a template, ready to adjust and save.
pub fn journey_template(name: &str) -> Option<Journey> {
    let text = |subject: &str, body: &str| MessageText {
        subject: subject.into(),
        body: body.into(),
    };
    let (slug, title, trigger, de, en) = match name {
        "win_back" => (
            "win-back",
            "Wir vermissen dich",
            Trigger::NoVisitFor { days: 60 },
            text(
                "Wir vermissen dich, {first_name}!",
                "Hallo {first_name},\n\nwir haben dich eine Weile nicht bei {business} gesehen. \
                 Komm vorbei und zeig diese Mail an der Kasse: Beim nächsten Besuch bekommst du 15 % auf deinen Einkauf.\n\n\
                 Du hast übrigens {points} Punkte auf deiner Karte.",
            ),
            text(
                "We miss you, {first_name}!",
                "Hello {first_name},\n\nwe have not seen you at {business} for a while. \
                 Come by and show this mail at the counter: on your next visit you get 15 % off.\n\n\
                 By the way, you have {points} points on your card.",
            ),
        ),
        "at_risk" => (
            "at-risk",
            "Bevor du uns vergisst",
            // At risk: the churn probability above the dashboard's threshold (70 % unless
            // changed), or long enough without a visit.
            Trigger::EnteredSegment {
                segment: "lifecycle:at_risk".into(),
            },
            text(
                "Lange nicht gesehen, {first_name}",
                "Hallo {first_name},\n\nbei {business} ist es ohne dich nicht dasselbe. Auf \
                 deiner Karte warten {points} Punkte – und {next_reward} ist nicht mehr weit.",
            ),
            text(
                "Long time no see, {first_name}",
                "Hello {first_name},\n\n{business} is not the same without you. {points} \
                 points are waiting on your card — and {next_reward} is not far.",
            ),
        ),
        "welcome" => (
            "welcome",
            "Willkommen",
            Trigger::Joined { after_days: 0 },
            text(
                "Willkommen bei {business}, {first_name}!",
                "Hallo {first_name},\n\nschön, dass du dabei bist. Mit jedem Einkauf sammelst \
                 du Punkte; {points} hast du schon.",
            ),
            text(
                "Welcome to {business}, {first_name}!",
                "Hello {first_name},\n\nglad to have you. Every purchase earns points; you \
                 have {points} already.",
            ),
        ),
        "vip" => (
            "vip",
            "Stammgast",
            Trigger::EnteredSegment {
                segment: "lifecycle:loyal".into(),
            },
            text(
                "Du gehörst jetzt zu unseren Stammgästen, {first_name}",
                "Hallo {first_name},\n\ndanke, dass du so oft bei {business} bist. Als Stammgast \
                 erfährst du Neuheiten bei uns als Erste(r) – schau beim nächsten Besuch, was es \
                 gerade gibt.",
            ),
            text(
                "You are one of our regulars now, {first_name}",
                "Hello {first_name},\n\nthank you for coming to {business} so often. As a regular \
                 you hear of what is new before anyone else — ask on your next visit.",
            ),
        ),
        "second_visit" => (
            "second-visit",
            "Zweiter Besuch",
            Trigger::NoSecondVisit { days: 14 },
            text(
                "Schön, dass du da warst, {first_name}",
                "Hallo {first_name},\n\ndanke für deinen ersten Besuch bei {business}! Komm \
                 bald wieder: Mit jedem Einkauf wächst dein Punktestand ({points} sind es schon).",
            ),
            text(
                "Glad you came by, {first_name}",
                "Hello {first_name},\n\nthank you for your first visit to {business}! Come back \
                 soon: every purchase adds to your points ({points} so far).",
            ),
        ),
        "birthday" => (
            "birthday",
            "Geburtstag",
            Trigger::Birthday { days_before: 7 },
            text(
                "Bald ist dein Geburtstag, {first_name}!",
                "Hallo {first_name},\n\nin einer Woche hast du Geburtstag – {business} gratuliert \
                 schon jetzt. Komm in deiner Geburtstagswoche vorbei und zeig diese Mail an der \
                 Kasse: Ein Stück Kuchen geht auf uns.",
            ),
            text(
                "Your birthday is coming, {first_name}!",
                "Hello {first_name},\n\nyour birthday is a week away — {business} says happy \
                 birthday already. Come by in your birthday week and show this mail at the \
                 counter: a piece of cake is on us.",
            ),
        ),
        "points_expiring" => (
            "points-expiring",
            "Punkte verfallen bald",
            Trigger::PointsExpiring { within_days: 14 },
            text(
                "Deine Punkte verfallen bald, {first_name}",
                "Hallo {first_name},\n\nein Teil deiner {points} Punkte bei {business} verfällt \
                 in den nächsten zwei Wochen. Löse sie bei deinem nächsten Besuch ein.",
            ),
            text(
                "Your points expire soon, {first_name}",
                "Hello {first_name},\n\nsome of your {points} points at {business} expire within \
                 the next two weeks. Redeem them on your next visit.",
            ),
        ),
        "every_tenth_visit" => (
            "every-tenth-visit",
            "Jeder zehnte Besuch",
            Trigger::EveryNthVisit { every: 10 },
            text(
                "Danke für deinen Besuch, {first_name}!",
                "Hallo {first_name},\n\ndas war schon wieder ein runder Besuch bei {business} – \
                 danke für deine Treue! Du hast jetzt {points} Punkte.",
            ),
            text(
                "Thank you for your visit, {first_name}!",
                "Hello {first_name},\n\nthat was another round number of visits to {business} — \
                 thank you for coming back! You have {points} points now.",
            ),
        ),
        "first_visit" => (
            "first-visit",
            "Danke für den ersten Besuch",
            Trigger::FirstVisit { after_days: 1 },
            text(
                "Danke für deinen ersten Besuch, {first_name}!",
                "Hallo {first_name},\n\nschön, dass du bei {business} warst! Auf deiner Karte \
                 sind schon {points} Punkte – bis zum nächsten Mal.",
            ),
            text(
                "Thank you for your first visit, {first_name}!",
                "Hello {first_name},\n\nglad you came to {business}! Your card has {points} \
                 points already — see you next time.",
            ),
        ),
        "one_stamp_short" => (
            "one-stamp-short",
            "Noch ein Stempel",
            Trigger::OneStampShort,
            text(
                "Nur noch ein Stempel, {first_name}!",
                "Hallo {first_name},\n\nauf deiner Karte bei {business} fehlt nur noch ein \
                 Stempel bis {next_reward}. Bis bald!",
            ),
            text(
                "Just one more stamp, {first_name}!",
                "Hello {first_name},\n\nyour card at {business} is one stamp short of \
                 {next_reward}. See you soon!",
            ),
        ),
        "reward_ready" => (
            "reward-ready",
            "Prämie einlösbar",
            Trigger::RewardAvailable,
            text(
                "{next_reward} wartet auf dich, {first_name}",
                "Hallo {first_name},\n\nmit deinen {points} Punkten bei {business} kannst du \
                 jetzt {next_reward} einlösen – sag einfach beim nächsten Besuch an der Kasse \
                 Bescheid.",
            ),
            text(
                "{next_reward} is waiting for you, {first_name}",
                "Hello {first_name},\n\nwith your {points} points at {business} you can now \
                 redeem {next_reward} — just say so at the counter on your next visit.",
            ),
        ),
        "tier_upgrade" => (
            "tier-upgrade",
            "Neue Stufe",
            Trigger::TierUpgrade,
            text(
                "Willkommen in der Stufe {tier}, {first_name}!",
                "Hallo {first_name},\n\ndu hast bei {business} die Stufe {tier} erreicht. \
                 Danke für deine Treue!",
            ),
            text(
                "Welcome to {tier}, {first_name}!",
                "Hello {first_name},\n\nyou have reached {tier} at {business}. Thank you for \
                 coming back so often!",
            ),
        ),
        "nps_survey" => (
            "nps-survey",
            "Wie war's?",
            Trigger::AfterVisit { after_days: 1 },
            text(
                "Wie war dein Besuch, {first_name}?",
                "Hallo {first_name},\n\ndanke für deinen Besuch bei {business}! Sag uns mit \
                 einem Klick, wie es dir gefallen hat – das hilft uns sehr.",
            ),
            text(
                "How was your visit, {first_name}?",
                "Hello {first_name},\n\nthank you for visiting {business}! Tell us with one \
                 click how you liked it — it helps us a lot.",
            ),
        ),
        "campaign" => (
            "campaign",
            "Einmalige Aktion",
            // The time is set when the campaign is set up (see `journey_from_template`).
            Trigger::Campaign {
                segment: "lifecycle:active".into(),
                send_at: chrono::DateTime::UNIX_EPOCH,
            },
            text(
                "Neu bei {business}, {first_name}",
                "Hallo {first_name},\n\nbei {business} gibt es etwas Neues – komm vorbei und \
                 probier es aus.",
            ),
            text(
                "New at {business}, {first_name}",
                "Hello {first_name},\n\nthere is something new at {business} — come by and \
                 try it.",
            ),
        ),
        _ => return None,
    };
    let survey = name == "nps_survey";
    Some(Journey {
        slug: Slug::parse(slug).ok()?,
        name: title.into(),
        trigger,
        message: MessageTemplate { de, en },
        // A survey measures opinions, not returns: nobody is held out of it.
        holdout_percent: if survey { 0 } else { 10 },
        measure_days: 30,
        active: true,
        grant_points: 0,
        add_tag: None,
        issue_coupon: None,
        survey,
        variant_b: None,
        channel: Channel::Email,
    })
}

impl App {
    /// Creates or replaces a journey (owners and managers).
    pub async fn save_journey(&self, caller: &Caller, journey: Journey) -> Result<(), AppError> {
        caller.require(Scope::ProgramWrite)?;
        journey
            .check()
            .map_err(|(field, reason)| AppError::invalid(field, reason))?;
        if journey.channel != Channel::Email && self.texter.is_none() {
            return Err(AppError::invalid(
                "channel",
                "no SMS or push provider is configured (text_webhook_url)",
            ));
        }
        if let Some(reward) = &journey.issue_coupon {
            let program = self
                .store
                .program(caller.business_id)
                .await?
                .ok_or(AppError::NotFound)?;
            if program.reward(reward).is_none() {
                return Err(AppError::invalid(
                    "issue_coupon",
                    format!("\"{reward}\" is not a reward of the program"),
                ));
            }
        }
        if let Trigger::EnteredSegment { segment } | Trigger::Campaign { segment, .. } =
            &journey.trigger
        {
            let known = self.segment_names(caller.business_id).await?;
            if !known.contains(segment) {
                return Err(AppError::invalid(
                    "trigger.segment",
                    format!(
                        "\"{segment}\" is not a segment; known are {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        let json = serde_json::to_string(&journey)
            .map_err(|e| AppError::Store(stammgast_store::StoreError::Other(e.to_string())))?;
        Ok(self
            .store
            .save_journey(caller.business_id, journey.slug, json, self.now())
            .await?)
    }

    pub async fn journeys(&self, caller: &Caller) -> Result<Vec<Journey>, AppError> {
        caller.require(Scope::MembersRead)?;
        self.business_journeys(caller.business_id).await
    }

    /// Each arm's members, returns and revenue, and the uplift.
    pub async fn journey_report(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<JourneyReport, AppError> {
        caller.require(Scope::MembersRead)?;
        let journey = self
            .business_journeys(caller.business_id)
            .await?
            .into_iter()
            .find(|j| j.slug.as_str() == slug)
            .ok_or(AppError::NotFound)?;
        let results = self
            .store
            .journey_results(
                caller.business_id,
                journey.slug.clone(),
                journey.measure_days,
            )
            .await?;
        let arm = |wanted| {
            results
                .iter()
                .find(|(arm, _)| *arm == wanted)
                .map(|(_, result)| *result)
                .unwrap_or_default()
        };
        let (message, holdout) = (arm(Arm::Message), arm(Arm::Holdout));
        let variant_b = journey.variant_b.as_ref().map(|_| {
            let b = arm(Arm::VariantB);
            (b, uplift(b, holdout))
        });
        Ok(JourneyReport {
            journey,
            message,
            holdout,
            uplift: uplift(message, holdout),
            variant_b,
        })
    }

    /// Evaluates every active journey on every member: those it fires for, with a
    /// marketing consent on the journey's channel (confirmed, for email), are enrolled
    /// once per occasion. Returns the enrolments made.
    pub async fn run_journeys(&self, business: BusinessId) -> Result<usize, AppError> {
        let profiles = self.store.member_profiles(business).await?;
        self.run_journeys_on(business, &profiles).await
    }

    /// Runs the journeys as `run_journeys` does, on members already read (the worker's
    /// analytics refresh has just read every one).
    pub async fn run_journeys_on(
        &self,
        business: BusinessId,
        profiles: &[MemberProfile],
    ) -> Result<usize, AppError> {
        let journeys: Vec<Journey> = self
            .business_journeys(business)
            .await?
            .into_iter()
            .filter(|j| j.active)
            .collect();
        if journeys.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let zone = self.shop_zone(business).await?;
        let entries = self.recent_entries(business, &journeys).await?;
        let mut enrolled = 0;
        for journey in &journeys {
            for profile in profiles {
                let member_entries = entries
                    .get(&profile.aggregate.member_id)
                    .map_or(&[][..], Vec::as_slice);
                let Some(occasion) = journey.trigger.occasion(profile, member_entries, now) else {
                    continue;
                };
                if !profile.consents.contains(&journey.channel) {
                    continue;
                }
                let member_id = profile.aggregate.member_id;
                let arm = journey.arm_of(member_id);
                if arm.is_sent() {
                    let since = now - Duration::days(FREQUENCY_CAP_DAYS);
                    let recent = self
                        .store
                        .journey_messages_since(business, member_id, since)
                        .await?;
                    if recent > 0 {
                        continue;
                    }
                }
                let enrolment = Enrolment {
                    journey: journey.slug.clone(),
                    member_id,
                    occasion,
                    arm,
                    at: now,
                    send_from: arm.is_sent().then(|| after_quiet_hours(now, zone)),
                    grant_points: journey.grant_points,
                    add_tag: journey.add_tag.clone(),
                    channel: journey.channel,
                };
                if self.store.enrol(business, enrolment).await? {
                    enrolled += 1;
                }
            }
        }
        if enrolled > 0 {
            self.kick_delivery(business);
        }
        Ok(enrolled)
    }

    /// Sets a journey up from a template, paused, under a slug of its own; returns it.
    pub async fn journey_from_template(
        &self,
        caller: &Caller,
        template: &str,
    ) -> Result<Journey, AppError> {
        let journey = journey_template(template).ok_or_else(|| {
            AppError::invalid("template", format!("known are {}", TEMPLATES.join(", ")))
        })?;
        let taken: Vec<Slug> = self
            .business_journeys(caller.business_id)
            .await?
            .into_iter()
            .map(|j| j.slug)
            .collect();
        let trigger = match journey.trigger {
            Trigger::Campaign { segment, .. } => Trigger::Campaign {
                segment,
                send_at: self.now() + Duration::days(1),
            },
            other => other,
        };
        let journey = Journey {
            slug: Slug::from_name(journey.slug.as_str(), &taken),
            active: false,
            trigger,
            ..journey
        };
        self.save_journey(caller, journey.clone()).await?;
        Ok(journey)
    }

    /// Starts or pauses a journey.
    pub async fn set_journey_active(
        &self,
        caller: &Caller,
        slug: &str,
        active: bool,
    ) -> Result<(), AppError> {
        let journey = self.journey(caller.business_id, slug).await?;
        self.save_journey(caller, Journey { active, ..journey })
            .await
    }

    /// Who the journey would write to now: members it fires for with a consent on its
    /// channel (the holdout included, who would be counted instead).
    pub async fn journey_audience(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<crate::SegmentPreview, AppError> {
        caller.require(Scope::MembersRead)?;
        let journey = self.journey(caller.business_id, slug).await?;
        let now = self.now();
        let profiles = self.store.member_profiles(caller.business_id).await?;
        let entries = self
            .recent_entries(caller.business_id, std::slice::from_ref(&journey))
            .await?;
        let found: Vec<_> = profiles
            .iter()
            .filter(|p| {
                let member_entries = entries
                    .get(&p.aggregate.member_id)
                    .map_or(&[][..], Vec::as_slice);
                p.consents.contains(&journey.channel)
                    && journey.trigger.occasion(p, member_entries, now).is_some()
            })
            .map(|p| p.aggregate.member_id)
            .collect();
        self.preview_of(caller.business_id, &found).await
    }

    /// The journey's message (or variant B's) as the first member it would write to gets
    /// it (else the first member, else a sample one), in `language`: the live preview.
    pub async fn journey_preview(
        &self,
        caller: &Caller,
        slug: &str,
        arm: Arm,
        language: &str,
    ) -> Result<Mail, AppError> {
        let business = caller.business_id;
        let journey = self.journey(business, slug).await?;
        let template = journey.message_of(arm).ok_or(AppError::NotFound)?;
        let audience = self.journey_audience(caller, slug).await?;
        // The first member it would write to, else the first member at all.
        let sample = match audience.sample.first() {
            Some((member, _)) => self.store.member(business, *member).await?,
            None => self
                .store
                .members(business, &MemberFilter::default(), None, 1)
                .await?
                .items
                .pop(),
        };
        let values = self.message_values(business, sample.as_ref()).await?;
        let carried = Carried {
            coupon: journey.issue_coupon.as_ref().map(|_| "TEST2026".to_owned()),
            survey_url: journey
                .survey
                .then(|| format!("{}/survey/preview", self.public_url)),
            unsubscribe_url: format!("{}/unsubscribe/preview", self.public_url),
        };
        self.compose(business, template, language, values, carried)
            .await
    }

    /// Sends the journey's message (each variant), marked as a test, to the staff member
    /// asking, as the live preview fills it.
    pub async fn send_journey_test(
        &self,
        session: &crate::StaffSession,
        slug: &str,
        language: &str,
    ) -> Result<String, AppError> {
        let business = session.caller.business_id;
        session.caller.require(Scope::ProgramWrite)?;
        let journey = self.journey(business, slug).await?;
        let staff = self
            .store
            .staff(business, session.staff_id)
            .await?
            .ok_or(AppError::NotFound)?;
        for arm in Arm::ALL
            .into_iter()
            .filter(|arm| journey.message_of(*arm).is_some())
        {
            let mut mail = self
                .journey_preview(&session.caller, slug, arm, language)
                .await?;
            mail.to = staff.email.clone();
            mail.subject = match arm {
                Arm::VariantB => format!("[Test B] {}", mail.subject),
                _ => format!("[Test] {}", mail.subject),
            };
            self.mailer
                .send(mail)
                .await
                .map_err(|error| AppError::Mail(error.to_string()))?;
        }
        Ok(staff.email)
    }

    /// The segments a journey may trigger on: the lifecycle stages, the RFM segments and
    /// the business's custom segments, as the transitions name them.
    pub async fn segment_names(&self, business: BusinessId) -> Result<Vec<String>, AppError> {
        let mut names: Vec<String> = Lifecycle::ALL
            .iter()
            .map(|s| format!("lifecycle:{}", s.as_str()))
            .chain(
                RfmSegment::ALL
                    .iter()
                    .map(|s| format!("rfm:{}", s.as_str())),
            )
            .collect();
        for segment in self.store.custom_segments(business).await? {
            names.push(stammgast_store::custom_segment_name(&segment.slug));
        }
        Ok(names)
    }

    /// The members' segment entries within the catch-up window, read only when one of the
    /// journeys triggers on them.
    async fn recent_entries(
        &self,
        business: BusinessId,
        journeys: &[Journey],
    ) -> Result<HashMap<MemberId, Vec<SegmentEntry>>, AppError> {
        let needed = journeys.iter().any(|j| j.trigger.reads_entries());
        if !needed {
            return Ok(HashMap::new());
        }
        let since = self.now() - Duration::days(CATCH_UP_DAYS);
        Ok(self.store.segment_entries(business, since).await?)
    }

    async fn journey(&self, business: BusinessId, slug: &str) -> Result<Journey, AppError> {
        self.business_journeys(business)
            .await?
            .into_iter()
            .find(|j| j.slug.as_str() == slug)
            .ok_or(AppError::NotFound)
    }

    pub(crate) async fn business_journeys(
        &self,
        business: BusinessId,
    ) -> Result<Vec<Journey>, AppError> {
        self.store
            .journeys(business)
            .await?
            .iter()
            .map(|json| {
                serde_json::from_str(json).map_err(|e| {
                    AppError::Store(stammgast_store::StoreError::Corrupt(e.to_string()))
                })
            })
            .collect()
    }
}
