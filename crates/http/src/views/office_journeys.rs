//! Journeys in the back office: set one up from a template, adjust its trigger, holdout and
//! texts, see who it would write to, send a test to yourself, start or pause it, and read
//! how it does against its holdout.

use super::Web;
use super::format::{decimal, euros, percent};
use super::i18n::text;
use super::office_frame::{OfficeView, Said, render};
use super::session::{Manager, csrf_ok};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, JourneyReport, StaffSession};
use stammgast_core::automation::experiment::{ArmResult, Uplift};
use stammgast_core::automation::journey::{Arm, Journey, Trigger};
use stammgast_core::automation::message::{MessageTemplate, MessageText};
use stammgast_core::member::{Channel, Language};

pub fn router() -> Router<Web> {
    Router::new().route("/office/journeys", get(page).post(submit))
}

const VIEW: OfficeView = OfficeView {
    template: "office_journeys.html",
    title_key: "journeys_title",
    path: "/office/journeys",
};

#[derive(Serialize)]
struct JourneyRow {
    slug: String,
    name: String,
    trigger: String,
    active: bool,
    message: String,
    holdout: String,
    uplift: String,
    /// In an A/B test: variant B's arm and its uplift.
    variant_b: Option<(String, String)>,
}

/// The journey as the form shows and sends it.
#[derive(Default, Deserialize, Serialize)]
struct JourneyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    days: String,
    /// For a journey on entering a segment, or a campaign to one: which.
    #[serde(default)]
    segment: String,
    /// For a campaign: when, in the shop's time zone (`2026-12-05T10:00`).
    #[serde(default)]
    send_at: String,
    #[serde(default)]
    holdout_percent: String,
    #[serde(default)]
    grant_points: String,
    #[serde(default)]
    add_tag: String,
    /// The reward given as a coupon with the message (empty: none).
    #[serde(default)]
    issue_coupon: String,
    /// `email`, `sms` or `push`.
    #[serde(default)]
    channel: String,
    survey: Option<String>,
    /// Whether the journey tests a second message (A/B).
    ab: Option<String>,
    #[serde(default)]
    subject_b_de: String,
    #[serde(default)]
    body_b_de: String,
    #[serde(default)]
    subject_b_en: String,
    #[serde(default)]
    body_b_en: String,
    #[serde(default)]
    subject_de: String,
    #[serde(default)]
    body_de: String,
    #[serde(default)]
    subject_en: String,
    #[serde(default)]
    body_en: String,
}

#[derive(Serialize)]
struct JourneysPage {
    journeys: Vec<JourneyRow>,
    templates: Vec<(String, String)>,
    form: Option<JourneyForm>,
    /// The kind of the trigger of the journey in the form (`Trigger::kind`).
    trigger_kind: String,
    /// Whether that trigger takes a number of days.
    has_days: bool,
    /// The segments a journey may trigger on.
    segments: Vec<String>,
    /// The rewards a journey may give as a coupon: id and name.
    rewards: Vec<(String, String)>,
    audience: Option<String>,
    /// The message (and variant B) as the first member it would go to gets it.
    previews: Vec<Preview>,
}

#[derive(Serialize)]
struct Preview {
    label: String,
    subject: String,
    html: String,
}

/// What the page shows besides the form: who would get the journey, or its preview.
#[derive(Default)]
struct Shown {
    audience: Option<String>,
    previews: Vec<Preview>,
}

#[derive(Deserialize)]
struct PageQuery {
    edit: Option<String>,
}

async fn page(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Query(query): Query<PageQuery>,
) -> Response {
    show(
        &web,
        &session,
        language,
        query.edit.as_deref(),
        None,
        Said::default(),
    )
    .await
}

/// The page; `editing` opens that journey's form (filled from `typed` when given).
async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    editing: Option<&str>,
    typed: Option<(JourneyForm, Shown)>,
    said: Said,
) -> Response {
    let caller = &session.caller;
    let zone = match web.app.shop_zone(caller.business_id).await {
        Ok(zone) => zone,
        Err(error) => return web.failure(language, error),
    };
    let journeys = match web.app.journeys(caller).await {
        Ok(journeys) => journeys,
        Err(error) => return web.failure(language, error),
    };
    let mut rows = Vec::new();
    for journey in &journeys {
        let report = match web.app.journey_report(caller, journey.slug.as_str()).await {
            Ok(report) => report,
            Err(error) => return web.failure(language, error),
        };
        rows.push(row(&report, language, zone));
    }
    let edited = editing.and_then(|slug| journeys.iter().find(|j| j.slug.as_str() == slug));
    let trigger_kind = edited.map_or("no_visit", |j| j.trigger.kind());
    let has_days = edited.is_some_and(|j| j.trigger.days().is_some());
    let segments = match web.app.segment_names(caller.business_id).await {
        Ok(segments) => segments,
        Err(error) => return web.failure(language, error),
    };
    let rewards = match web.app.store().program(caller.business_id).await {
        Ok(program) => program
            .iter()
            .flat_map(|p| p.rewards.iter())
            .map(|r| (r.id.to_string(), r.name.clone()))
            .collect(),
        Err(error) => return web.failure(language, error.into()),
    };
    let (form, shown) = match typed {
        Some((form, shown)) => (Some(form), shown),
        None => (edited.map(|j| form_of(j, zone)), Shown::default()),
    };
    let templates = stammgast_app::JOURNEY_TEMPLATES
        .iter()
        .map(|name| {
            let label = text(language, &format!("journeys_template_{name}"), &[]);
            (name.to_string(), label.unwrap_or_default())
        })
        .collect();
    let page = JourneysPage {
        journeys: rows,
        templates,
        form,
        trigger_kind: trigger_kind.into(),
        has_days,
        segments,
        rewards,
        audience: shown.audience,
        previews: shown.previews,
    };
    render(web, session, language, VIEW, page, said).await
}

/// A trigger's days, segment and (for a campaign) time in the shop's zone, as text.
fn trigger_fields(trigger: &Trigger, zone: chrono_tz::Tz) -> (String, String, String) {
    let days = trigger.days().map(|d| d.to_string()).unwrap_or_default();
    match trigger {
        Trigger::EnteredSegment { segment } => (days, segment.clone(), String::new()),
        Trigger::Campaign { segment, send_at } => {
            let local = send_at.with_timezone(&zone).format("%Y-%m-%dT%H:%M");
            (days, segment.clone(), local.to_string())
        }
        _ => (days, String::new(), String::new()),
    }
}

fn form_of(journey: &Journey, zone: chrono_tz::Tz) -> JourneyForm {
    let (days, segment, send_at) = trigger_fields(&journey.trigger, zone);
    JourneyForm {
        send_at,
        slug: journey.slug.to_string(),
        name: journey.name.clone(),
        days,
        segment,
        holdout_percent: journey.holdout_percent.to_string(),
        grant_points: journey.grant_points.to_string(),
        add_tag: journey
            .add_tag
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        issue_coupon: journey
            .issue_coupon
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        survey: journey.survey.then(|| "yes".to_owned()),
        channel: journey.channel.as_str().to_owned(),
        ab: journey.variant_b.as_ref().map(|_| "yes".to_owned()),
        subject_b_de: variant(journey, |m| &m.de.subject),
        body_b_de: variant(journey, |m| &m.de.body),
        subject_b_en: variant(journey, |m| &m.en.subject),
        body_b_en: variant(journey, |m| &m.en.body),
        subject_de: journey.message.de.subject.clone(),
        body_de: journey.message.de.body.clone(),
        subject_en: journey.message.en.subject.clone(),
        body_en: journey.message.en.body.clone(),
        ..JourneyForm::default()
    }
}

/// A part of variant B's message, empty without one.
fn variant(journey: &Journey, part: impl Fn(&MessageTemplate) -> &String) -> String {
    journey
        .variant_b
        .as_ref()
        .map(part)
        .cloned()
        .unwrap_or_default()
}

fn row(report: &JourneyReport, language: Language, zone: chrono_tz::Tz) -> JourneyRow {
    let journey = &report.journey;
    let (days, segment, send_at) = trigger_fields(&journey.trigger, zone);
    let trigger = text(
        language,
        &format!("journeys_trigger_{}", journey.trigger.kind()),
        &[
            ("days", &days),
            ("segment", &segment),
            ("send_at", &send_at.replace('T', " ")),
        ],
    );
    let arm = |result: &ArmResult| {
        let rate = result
            .return_rate()
            .map_or_else(|| "–".to_owned(), |r| percent(r * 100.0, language));
        text(
            language,
            "journeys_arm",
            &[
                ("members", &result.members.to_string()),
                ("returned", &result.returned.to_string()),
                ("rate", &rate),
                ("revenue", &euros(result.revenue_cents, language)),
            ],
        )
        .unwrap_or_default()
    };
    let uplift_text = |uplift: Option<&Uplift>| match uplift {
        Some(u) => {
            let points = |value: f64| decimal(value * 100.0, 1, language);
            let key = if u.significant {
                "journeys_uplift_significant"
            } else {
                "journeys_uplift_not_significant"
            };
            text(
                language,
                key,
                &[
                    ("uplift", &points(u.difference)),
                    ("low", &points(u.low)),
                    ("high", &points(u.high)),
                    ("days", &journey.measure_days.to_string()),
                ],
            )
            .unwrap_or_default()
        }
        None => text(language, "journeys_uplift_none", &[]).unwrap_or_default(),
    };
    JourneyRow {
        slug: journey.slug.to_string(),
        name: journey.name.clone(),
        trigger: trigger.unwrap_or_default(),
        active: journey.active,
        message: arm(&report.message),
        holdout: arm(&report.holdout),
        uplift: uplift_text(report.uplift.as_ref()),
        variant_b: report
            .variant_b
            .as_ref()
            .map(|(b, lift)| (arm(b), uplift_text(lift.as_ref()))),
    }
}

async fn submit(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<JourneyForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let app = &web.app;
    let caller = &session.caller;
    let slug = form.slug.clone();
    let said = |key: &str, values: &[(&str, &str)]| Said::notice(text(language, key, values));
    let outcome = match form.action.as_str() {
        template if template.starts_with("template:") => {
            match app
                .journey_from_template(caller, &template["template:".len()..])
                .await
            {
                Ok(journey) => {
                    let slug = journey.slug.to_string();
                    let notice = said("journeys_created", &[("name", &journey.name)]);
                    return show(&web, &session, language, Some(&slug), None, notice).await;
                }
                Err(error) => Err(error),
            }
        }
        "start" | "pause" => {
            let start = form.action == "start";
            let key = if start {
                "journeys_started_notice"
            } else {
                "journeys_paused_notice"
            };
            app.set_journey_active(caller, &slug, start)
                .await
                .map(|()| said(key, &[]))
        }
        "audience" | "preview" => {
            let shown = match form.action.as_str() {
                "audience" => audience(&web, caller, &slug, language).await,
                _ => previews(&web, &session, &slug, language)
                    .await
                    .map(|previews| Shown {
                        previews,
                        ..Shown::default()
                    }),
            };
            match shown {
                Ok(shown) => {
                    let typed = Some((form, shown));
                    return show(
                        &web,
                        &session,
                        language,
                        Some(&slug),
                        typed,
                        Said::default(),
                    )
                    .await;
                }
                Err(error) => Err(error),
            }
        }
        "test" => app
            .send_journey_test(&session, &slug, language.as_str())
            .await
            .map(|to| said("journeys_test_sent", &[("to", &to)])),
        _ => save(&web, &session, &form)
            .await
            .map(|()| said("journeys_saved", &[])),
    };
    match outcome {
        Ok(notice) => show(&web, &session, language, Some(&slug), None, notice).await,
        Err(AppError::Invalid { field, reason }) => {
            let key = format!("journeys_error_{}", field.replace('.', "_"));
            let error = Said::error(text(language, &key, &[]).or(Some(reason)));
            show(
                &web,
                &session,
                language,
                Some(&slug),
                Some((form, Shown::default())),
                error,
            )
            .await
        }
        Err(error) => web.failure(language, error),
    }
}

/// Saves the form over the journey it edits (keeping what the form does not show).
async fn save(web: &Web, session: &StaffSession, form: &JourneyForm) -> Result<(), AppError> {
    let journeys = web.app.journeys(&session.caller).await?;
    let journey = journeys
        .into_iter()
        .find(|j| j.slug.as_str() == form.slug)
        .ok_or(AppError::NotFound)?;
    let whole = |field: &str, text: &str| {
        text.trim()
            .parse::<u32>()
            .map_err(|_| AppError::invalid(field, "a whole number"))
    };
    let holdout = u8::try_from(whole("holdout_percent", &form.holdout_percent)?)
        .map_err(|_| AppError::invalid("holdout_percent", "hold out 50 % at most"))?;
    let trigger = match &journey.trigger {
        Trigger::EnteredSegment { .. } => Trigger::EnteredSegment {
            segment: form.segment.trim().to_owned(),
        },
        Trigger::Campaign { .. } => {
            let zone = web.app.shop_zone(session.caller.business_id).await?;
            Trigger::Campaign {
                segment: form.segment.trim().to_owned(),
                send_at: shop_time(&form.send_at, zone)
                    .ok_or_else(|| AppError::invalid("send_at", "a date and time"))?,
            }
        }
        other if other.days().is_some() => other.with_days(whole("days", &form.days)?),
        other => other.clone(),
    };
    let text = |subject: &str, body: &str| MessageText {
        subject: subject.trim().to_owned(),
        body: body.trim().replace("\r\n", "\n"),
    };
    let add_tag = match form.add_tag.trim() {
        "" => None,
        tag => Some(
            stammgast_core::analytics::filter::tag(tag)
                .map_err(|reason| AppError::invalid("add_tag", reason))?,
        ),
    };
    let issue_coupon = match form.issue_coupon.trim() {
        "" => None,
        reward => Some(
            stammgast_core::ids::Slug::parse(reward)
                .map_err(|reason| AppError::invalid("issue_coupon", reason))?,
        ),
    };
    let variant_b = form.ab.as_ref().map(|_| MessageTemplate {
        de: text(&form.subject_b_de, &form.body_b_de),
        en: text(&form.subject_b_en, &form.body_b_en),
    });
    let channel = match form.channel.trim() {
        "" => journey.channel,
        channel => {
            Channel::parse(channel).map_err(|reason| AppError::invalid("channel", reason))?
        }
    };
    let journey = Journey {
        name: form.name.trim().to_owned(),
        channel,
        trigger,
        holdout_percent: holdout,
        grant_points: whole("grant_points", &form.grant_points)?,
        add_tag,
        issue_coupon,
        survey: form.survey.is_some(),
        variant_b,
        message: MessageTemplate {
            de: text(&form.subject_de, &form.body_de),
            en: text(&form.subject_en, &form.body_en),
        },
        ..journey
    };
    web.app.save_journey(&session.caller, journey).await
}

/// Who the journey would write to now, as a sentence.
async fn audience(
    web: &Web,
    caller: &stammgast_app::Caller,
    slug: &str,
    language: Language,
) -> Result<Shown, AppError> {
    let preview = web.app.journey_audience(caller, slug).await?;
    let names: Vec<&str> = preview.sample.iter().map(|(_, n)| n.as_str()).collect();
    let audience = text(
        language,
        "journeys_audience",
        &[
            ("count", &preview.members.to_string()),
            ("names", &names.join(", ")),
        ],
    );
    Ok(Shown {
        audience,
        ..Shown::default()
    })
}

/// The journey's message and variant B as the first member it would go to gets them.
async fn previews(
    web: &Web,
    session: &StaffSession,
    slug: &str,
    language: Language,
) -> Result<Vec<Preview>, AppError> {
    let journey = web
        .app
        .journeys(&session.caller)
        .await?
        .into_iter()
        .find(|j| j.slug.as_str() == slug)
        .ok_or(AppError::NotFound)?;
    let mut previews = Vec::new();
    for arm in Arm::ALL
        .into_iter()
        .filter(|arm| journey.message_of(*arm).is_some())
    {
        let mail = web
            .app
            .journey_preview(&session.caller, slug, arm, language.as_str())
            .await?;
        let key = format!("journeys_preview_{}", arm.as_str());
        previews.push(Preview {
            label: text(language, &key, &[]).unwrap_or_default(),
            subject: mail.subject,
            html: mail.html.unwrap_or_default(),
        });
    }
    Ok(previews)
}

/// A date and time as a `datetime-local` field sends it, in the shop's time zone.
fn shop_time(text: &str, zone: chrono_tz::Tz) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    let local = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").ok()?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}
