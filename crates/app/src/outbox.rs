//! Delivering the outbox: each due message is leased, rendered in the member's language,
//! sent, and settled — sent, tried again later with a growing pause, given up, skipped
//! when there is nothing to send any more, or bounced (the address then gets nothing
//! more). Mail is kicked off right after the request that queued it; the worker's passes
//! deliver what is left and retry. And the double opt-in: the link in the confirmation
//! mail confirms the consent.

use crate::{App, AppError, Mail, MailError, Text};
use chrono::Duration;
use stammgast_core::automation::journey::{Arm, Journey};
use stammgast_core::automation::message::{Attachments, Footer, MessageTemplate};
use stammgast_core::batch::{Command, IdempotencyKey, Outcome};
use stammgast_core::engine::MemberState;
use stammgast_core::ids::{BusinessId, MemberId, Slug};
use stammgast_core::ledger::Unit;
use stammgast_core::member::{Channel, ConsentPurpose};
use stammgast_core::outbox::{MessageKind, retry_at};
use stammgast_core::program::progress::progress;
use stammgast_store::{MemberRecord, OutboxMessage, SessionKind, Settled};

/// What one delivery run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
    pub bounced: usize,
}

impl std::ops::AddAssign for Delivered {
    fn add_assign(&mut self, other: Self) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.bounced += other.bounced;
    }
}

/// Messages one run delivers per business at most.
const RUN_MAX: usize = 200;
/// How long a worker holds a message it is sending: longer than a send may take (the SMTP
/// and webhook clients give up after 30 and 20 s), so no other worker sends it meanwhile.
const LEASE_SECONDS: i64 = 120;
/// How long the link in a confirmation mail works.
const CONFIRMATION_DAYS: i64 = 30;
/// How long the unsubscribe link in a marketing mail works.
const UNSUBSCRIBE_DAYS: i64 = 365;

impl App {
    /// Delivers the business's due messages.
    pub async fn deliver_messages(&self, business: BusinessId) -> Result<Delivered, AppError> {
        let mut delivered = Delivered::default();
        for message in self
            .store
            .due_messages(business, self.now(), RUN_MAX)
            .await?
        {
            let now = self.now();
            let lease = now + Duration::seconds(LEASE_SECONDS);
            if !self
                .store
                .claim_message(business, message.id, now, lease)
                .await?
            {
                continue;
            }
            let settled = self.attempt(business, &message).await?;
            match &settled {
                Settled::Sent => delivered.sent += 1,
                Settled::Retry { .. } => delivered.retried += 1,
                Settled::Failed { .. } => delivered.failed += 1,
                Settled::Skipped { .. } => delivered.skipped += 1,
                Settled::Bounced { .. } => delivered.bounced += 1,
            }
            self.store
                .settle_message(business, message.id, settled, self.now())
                .await?;
        }
        Ok(delivered)
    }

    /// Starts delivering the business's due messages in the background, so mail queued by
    /// a request goes out at once; what fails is left to the worker.
    pub(crate) fn kick_delivery(&self, business: BusinessId) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let app = self.clone();
        runtime.spawn(async move {
            if let Err(error) = app.deliver_messages(business).await {
                tracing::warn!(%error, "delivering the outbox failed; the worker tries again");
            }
        });
    }

    async fn attempt(
        &self,
        business: BusinessId,
        message: &OutboxMessage,
    ) -> Result<Settled, AppError> {
        if message.kind == MessageKind::GrantPoints {
            return self.grant_points(business, message).await;
        }
        let channel = Channel::parse(&message.channel).unwrap_or_default();
        let mail = match self.render(business, message, channel).await? {
            Ok(mail) => mail,
            Err(reason) => return Ok(Settled::Skipped { reason }),
        };
        if message.kind == MessageKind::Journey {
            // The card's message box shows it as sent, without the mail's footer.
            let (content, _) = mail.text.split_once(SIGNATURE).unwrap_or((&mail.text, ""));
            let body = content.trim().to_owned();
            self.store
                .keep_message_copy(business, message.id, mail.subject.clone(), body)
                .await?;
        }
        if channel != Channel::Email {
            return Ok(self.send_text(message, channel, mail).await);
        }
        if self.store.bounced(business, mail.to.clone()).await? {
            return Ok(Settled::Failed {
                error: format!("{} bounced before", mail.to),
            });
        }
        let address = mail.to.clone();
        Ok(match self.mailer.send(mail).await {
            Ok(()) => Settled::Sent,
            Err(MailError::Permanent(error)) => Settled::Bounced { address, error },
            Err(MailError::Transient(error)) => self.retry(message, error),
        })
    }

    /// An SMS or push message through the provider: the mail's subject and text with the
    /// link to unsubscribe, without the HTML and the imprint.
    async fn send_text(&self, message: &OutboxMessage, channel: Channel, mail: Mail) -> Settled {
        let Some(texter) = &self.texter else {
            return Settled::Failed {
                error: "no SMS or push provider is configured".into(),
            };
        };
        let (content, footer) = mail.text.split_once(SIGNATURE).unwrap_or((&mail.text, ""));
        let unsubscribe = footer.lines().next().unwrap_or_default();
        let text = Text {
            id: message.id,
            channel,
            to: mail.to.clone(),
            text: format!("{}\n{}\n{unsubscribe}", mail.subject, content.trim()),
        };
        match texter.send(text).await {
            Ok(()) => Settled::Sent,
            Err(MailError::Permanent(error)) => Settled::Failed { error },
            Err(MailError::Transient(error)) => self.retry(message, error),
        }
    }

    /// Another try later, with a growing pause, until the tries are used up.
    fn retry(&self, message: &OutboxMessage, error: String) -> Settled {
        match retry_at(message.attempts + 1, self.now()) {
            Some(at) => Settled::Retry { at, error },
            None => Settled::Failed { error },
        }
    }

    /// Books a journey's points through the ledger; the message's id is the idempotency
    /// key, so a retry after a lost answer books them once.
    async fn grant_points(
        &self,
        business: BusinessId,
        message: &OutboxMessage,
    ) -> Result<Settled, AppError> {
        let payload: serde_json::Value = serde_json::from_str(&message.payload).unwrap_or_default();
        let points = payload["points"].as_i64().unwrap_or(0);
        let journey = payload["journey"].as_str().unwrap_or_default();
        let key = format!("outbox:{}", message.id);
        let request = self.request_as(
            business,
            format!("journey:{journey}"),
            Some(IdempotencyKey {
                key: key.clone(),
                fingerprint: key,
            }),
            Command::Adjust {
                member_id: message.member_id,
                unit: Unit::Points,
                delta: points,
                reason: format!("journey {journey}"),
            },
        );
        let decision = self.store.submit(vec![request]).await?.pop();
        Ok(match decision {
            Some(Ok(_)) => Settled::Sent,
            Some(Err(refused)) => Settled::Failed {
                error: refused.to_string(),
            },
            None => Settled::Failed {
                error: "the store gave no decision".into(),
            },
        })
    }

    /// The mail of a message (addressed on its channel: the email address, the phone
    /// number, or the member's id for push), or why there is nothing to send any more.
    async fn render(
        &self,
        business: BusinessId,
        message: &OutboxMessage,
        channel: Channel,
    ) -> Result<Result<Mail, String>, AppError> {
        let Some(member) = self.store.member(business, message.member_id).await? else {
            return Ok(Err("the member is gone".into()));
        };
        let to = match channel {
            Channel::Email => member.email.clone(),
            Channel::Sms => member.phone.clone(),
            Channel::Push => Some(member.id.to_string()),
        };
        let Some(to) = to else {
            return Ok(Err(format!(
                "the member has no {} address",
                channel.as_str()
            )));
        };
        match message.kind {
            MessageKind::ConfirmEmail => {
                if !self.awaits_confirmation(business, member.id).await? {
                    return Ok(Err("the consent was withdrawn or confirmed already".into()));
                }
                let link = self
                    .mailed_link(business, member.id, SessionKind::ConsentConfirmation)
                    .await?;
                let business_name = self.business_name(business).await?;
                let (subject, text) = confirmation_mail(&member.language);
                let fill = |text: &str| {
                    text.replace("{name}", &member.first_name)
                        .replace("{business}", &business_name)
                        .replace("{link}", &link)
                };
                Ok(Ok(Mail {
                    to,
                    subject: fill(subject),
                    text: fill(text),
                    html: None,
                }))
            }
            MessageKind::Journey => {
                self.journey_mail(business, &member, to, message, channel)
                    .await
            }
            MessageKind::GrantPoints => Ok(Err("points are booked, not mailed".into())),
        }
    }

    /// A journey's message to a member who still consents, in the arm's variant, with the
    /// coupon it gives, the survey it asks, the unsubscribe link and the imprint; or why
    /// it is not sent (no confirmed consent, the journey paused, the coupon refused).
    async fn journey_mail(
        &self,
        business: BusinessId,
        member: &MemberRecord,
        to: String,
        message: &OutboxMessage,
        channel: Channel,
    ) -> Result<Result<Mail, String>, AppError> {
        if self.marketing_consent(business, member.id, channel).await? != Some(true) {
            return Ok(Err(format!(
                "the member has no confirmed consent to {} marketing",
                channel.as_str()
            )));
        }
        let payload: serde_json::Value = serde_json::from_str(&message.payload).unwrap_or_default();
        let slug = payload["journey"].as_str().unwrap_or_default();
        let arm = payload["arm"]
            .as_str()
            .and_then(Arm::parse)
            .unwrap_or(Arm::Message);
        let journey = self
            .business_journeys(business)
            .await?
            .into_iter()
            .find(|j| j.slug.as_str() == slug && j.active);
        let Some((journey, template)) =
            journey.as_ref().and_then(|j| Some((j, j.message_of(arm)?)))
        else {
            return Ok(Err("the journey is paused or gone".into()));
        };
        let coupon = match &journey.issue_coupon {
            Some(reward) => match self.gift_coupon(business, message, journey, reward).await? {
                Ok(code) => Some(code),
                Err(reason) => return Ok(Err(reason)),
            },
            None => None,
        };
        let survey_url = match journey.survey {
            true => Some(
                self.survey_link(business, member.id, message.id, journey)
                    .await?,
            ),
            false => None,
        };
        let unsubscribe_url = self.unsubscribe_link(business, member.id, channel).await?;
        let carried = Carried {
            coupon,
            survey_url,
            unsubscribe_url,
        };
        let values = self.message_values(business, Some(member)).await?;
        let mail = self
            .compose(business, template, &member.language, values, carried)
            .await?;
        Ok(Ok(Mail { to, ..mail }))
    }

    /// Gives the journey's reward as a coupon through the ledger; the message's id is the
    /// idempotency key, so a retry of the mail shows the same coupon. Its code, or why
    /// there is none.
    async fn gift_coupon(
        &self,
        business: BusinessId,
        message: &OutboxMessage,
        journey: &Journey,
        reward: &Slug,
    ) -> Result<Result<String, String>, AppError> {
        let key = format!("outbox:{}:coupon", message.id);
        let request = self.request_as(
            business,
            format!("journey:{}", journey.slug),
            Some(IdempotencyKey {
                key: key.clone(),
                fingerprint: key,
            }),
            Command::Gift {
                member_id: message.member_id,
                reward_id: reward.clone(),
            },
        );
        Ok(match self.store.submit(vec![request]).await?.pop() {
            Some(Ok(Outcome::Coupon(coupon))) => Ok(coupon.code.to_string()),
            Some(Err(refused)) => Err(format!("the coupon could not be given: {refused}")),
            other => Err(format!("the store answered {other:?} to a coupon")),
        })
    }

    /// What a message says of its member, as its variables name it; without a member,
    /// of a sample one (for a test mail to staff).
    pub(crate) async fn message_values(
        &self,
        business: BusinessId,
        member: Option<&MemberRecord>,
    ) -> Result<Vec<(&'static str, String)>, AppError> {
        let program = self
            .store
            .program(business)
            .await?
            .ok_or(AppError::NotFound)?;
        let sample = MemberState::new(MemberId::from_uuid(uuid::Uuid::nil()));
        let state = member.map_or(&sample, |m| &m.state);
        let progress = progress(&program, state, self.now());
        let last_product = match member {
            Some(member) => self.last_product(business, member.id).await?,
            None => Some("Cappuccino".to_owned()),
        };
        let dash = || "–".to_owned();
        Ok(vec![
            (
                "first_name",
                member.map_or("Anna", |m| &m.first_name).to_owned(),
            ),
            (
                "points",
                member.map_or(120, |_| state.points.available()).to_string(),
            ),
            (
                "stamps_left",
                progress.stamps_left().map_or_else(dash, |n| n.to_string()),
            ),
            (
                "next_reward",
                progress.next_reward().map_or_else(dash, |r| r.name.clone()),
            ),
            ("last_product", last_product.unwrap_or_else(dash)),
            (
                "tier",
                progress.tier.map_or_else(dash, |level| level.name.clone()),
            ),
        ])
    }

    /// What the member bought last, as its product (or category) names it.
    async fn last_product(
        &self,
        business: BusinessId,
        member: MemberId,
    ) -> Result<Option<String>, AppError> {
        const LOOK_BACK: usize = 10;
        let recent = self
            .store
            .member_events(business, member, None, LOOK_BACK)
            .await?;
        Ok(recent
            .items
            .iter()
            .filter(|record| record.voided_at.is_none())
            .flat_map(|record| record.event.kind.items())
            .find_map(|item| item.sku.clone().or_else(|| item.category.clone()))
            .map(|name| product_name(&name)))
    }

    /// A journey's message in `language` with `values`, what it carries and the imprint
    /// (the recipient left empty).
    pub(crate) async fn compose(
        &self,
        business: BusinessId,
        template: &MessageTemplate,
        language: &str,
        mut values: Vec<(&'static str, String)>,
        carried: Carried,
    ) -> Result<Mail, AppError> {
        let business_name = self.business_name(business).await?;
        let imprint = self.shop_settings(business).await?.legal.imprint;
        let footer = Footer {
            unsubscribe_url: carried.unsubscribe_url,
            imprint: if imprint.trim().is_empty() {
                business_name.clone()
            } else {
                imprint
            },
        };
        values.push(("business", business_name));
        let attachments = Attachments {
            coupon: carried.coupon.map(|code| {
                let qr = format!("{}/coupon-qr/{code}", self.public_url);
                values.push(("coupon_code", code.clone()));
                (code, qr)
            }),
            survey_url: carried.survey_url,
        };
        let rendered = template.render(language, &values, &attachments, &footer);
        Ok(Mail {
            to: String::new(),
            subject: rendered.subject,
            text: rendered.text,
            html: Some(rendered.html),
        })
    }

    /// A link for a mail to the member: confirming a consent (30 days) or unsubscribing
    /// from email (a year).
    async fn mailed_link(
        &self,
        business: BusinessId,
        member: MemberId,
        kind: SessionKind,
    ) -> Result<String, AppError> {
        self.link(business, member.to_string(), kind).await
    }

    /// The link that ends marketing on `channel`; its subject names the member, and the
    /// channel when it is not email.
    async fn unsubscribe_link(
        &self,
        business: BusinessId,
        member: MemberId,
        channel: Channel,
    ) -> Result<String, AppError> {
        let subject = match channel {
            Channel::Email => member.to_string(),
            other => format!("{member}/{}", other.as_str()),
        };
        self.link(business, subject, SessionKind::Unsubscribe).await
    }

    async fn link(
        &self,
        business: BusinessId,
        subject: String,
        kind: SessionKind,
    ) -> Result<String, AppError> {
        let (path, days) = match kind {
            SessionKind::ConsentConfirmation => ("consent/confirm", CONFIRMATION_DAYS),
            _ => ("unsubscribe", UNSUBSCRIBE_DAYS),
        };
        let token = self
            .open_session(business, kind, subject, Duration::days(days))
            .await?;
        Ok(format!("{}/{path}/{token}", self.public_url))
    }

    async fn awaits_confirmation(
        &self,
        business: BusinessId,
        member: MemberId,
    ) -> Result<bool, AppError> {
        Ok(self
            .marketing_consent(business, member, Channel::Email)
            .await?
            .is_some_and(|confirmed| !confirmed))
    }

    /// Whether the member's standing marketing consent on `channel` is confirmed (those
    /// other than email are from when they were given); `None` without one.
    async fn marketing_consent(
        &self,
        business: BusinessId,
        member: MemberId,
        channel: Channel,
    ) -> Result<Option<bool>, AppError> {
        let consents = self.store.member_consents(business, member).await?;
        Ok(consents
            .iter()
            .find(|c| {
                c.purpose == "marketing"
                    && c.channel == channel.as_str()
                    && c.withdrawn_at.is_none()
            })
            .map(|c| c.confirmed_at.is_some()))
    }

    /// The unsubscribe link of a marketing message: withdraws the member's marketing
    /// consent on its channel (the link keeps working, and says so again); the business's
    /// name.
    pub async fn unsubscribe(&self, link: &str) -> Result<String, AppError> {
        let record = self.session(link, SessionKind::Unsubscribe).await?;
        let (member, channel) = match record.subject_id.split_once('/') {
            Some((member, channel)) => (member, Channel::parse(channel).ok()),
            None => (record.subject_id.as_str(), Some(Channel::Email)),
        };
        let member = MemberId::parse(member).ok_or(AppError::Unauthenticated)?;
        let channel = channel.ok_or(AppError::Unauthenticated)?;
        self.store
            .change_consents(
                record.business_id,
                member,
                Vec::new(),
                vec![ConsentPurpose::Marketing(channel)],
                self.now(),
            )
            .await?;
        self.business_name(record.business_id).await
    }

    /// Spends the link of a confirmation mail and confirms the member's marketing consent
    /// by email; the business's name, for the page that says so.
    pub async fn confirm_consent(&self, link: &str) -> Result<String, AppError> {
        let record = self.session(link, SessionKind::ConsentConfirmation).await?;
        let member = MemberId::parse(&record.subject_id).ok_or(AppError::Unauthenticated)?;
        self.store
            .delete_session(record.business_id, record.id)
            .await?;
        self.store
            .confirm_consent(
                record.business_id,
                member,
                ConsentPurpose::Marketing(Channel::Email),
                self.now(),
            )
            .await?;
        self.business_name(record.business_id).await
    }
}

/// Where a mail's text ends and its footer begins (the signature separator).
const SIGNATURE: &str = "\n-- \n";

/// What a journey's mail carries besides its text: the coupon's code, the survey's link
/// and the unsubscribe link.
pub(crate) struct Carried {
    pub coupon: Option<String>,
    pub survey_url: Option<String>,
    pub unsubscribe_url: String,
}

/// A product's code as a mail names it: `apple-pie` is "Apple pie".
fn product_name(code: &str) -> String {
    let spaced = code.replace(['-', '_'], " ");
    let mut letters = spaced.chars();
    letters.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(letters).collect()
    })
}

/// The confirmation mail's subject and text in the member's language.
fn confirmation_mail(language: &str) -> (&'static str, &'static str) {
    match language {
        "en" => (
            "Please confirm: news from {business} by email",
            "Hello {name},\n\nyou asked to get news and offers from {business} by email. \
             Please confirm it with this link (it works for 30 days):\n\n{link}\n\n\
             Until you do, we send you nothing of the kind. If you did not ask for it, \
             ignore this mail.\n",
        ),
        _ => (
            "Bitte bestätigen: Neuigkeiten von {business} per E-Mail",
            "Hallo {name},\n\ndu möchtest Neuigkeiten und Angebote von {business} per E-Mail \
             bekommen. Bitte bestätige das mit diesem Link (er gilt 30 Tage):\n\n{link}\n\n\
             Bis dahin schicken wir dir nichts dergleichen. Wenn du das nicht wolltest, \
             ignoriere diese Mail einfach.\n",
        ),
    }
}
