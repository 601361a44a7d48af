//! The back office's members: a searchable list, and a profile with balances, a timeline
//! of everything that happened, the consents on record, and manual adjustments with a
//! reason (audited).

use super::format::{date, euros, number};
use super::i18n::text;
use super::progress_view::{ProgressView, progress_view};
use super::session::{Manager, csrf_ok};
use super::{Layout, Web};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stammgast_app::{AppError, MemberFilter, MemberProfile, StaffSession};
use stammgast_core::batch::IdempotencyKey;
use stammgast_core::event::EventKind;
use stammgast_core::ids::MemberId;
use stammgast_core::ledger::{Transfer, TransferKind, Unit};
use stammgast_core::member::Language;
use stammgast_core::points::Stamps;

/// Members per page of the list.
const LIST_PAGE_SIZE: usize = 50;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/office/members", get(list))
        .route("/office/members/{id}", get(profile))
        .route("/office/members/{id}/adjust", post(adjust))
        .route("/office/members/{id}/tags", post(change_tags))
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    tier: Option<String>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct MemberRow {
    id: String,
    first_name: String,
    code: String,
    contact: String,
    points: String,
    tier: String,
    joined: String,
}

#[derive(Serialize)]
struct ListPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    query: String,
    tier: String,
    tiers: Vec<(String, String)>,
    members: Vec<MemberRow>,
    next: Option<String>,
}

async fn list(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Query(query): Query<ListQuery>,
) -> Response {
    let business = session.caller.business_id;
    let filter = MemberFilter {
        text: query.q.clone().filter(|q| !q.trim().is_empty()),
        tier: query.tier.clone().filter(|t| !t.is_empty()),
    };
    let page = web
        .app
        .members(
            &session.caller,
            &filter,
            query.cursor.clone(),
            LIST_PAGE_SIZE,
        )
        .await;
    let program = web.app.store().program(business).await;
    let name = web.app.business_name(business).await;
    let (page, program, name) = match (page, program, name) {
        (Ok(page), Ok(Some(program)), Ok(name)) => (page, program, name),
        (Err(error), ..) | (_, _, Err(error)) => return web.failure(language, error),
        (_, Err(error), _) => return web.failure(language, error.into()),
        (_, Ok(None), _) => return web.failure(language, AppError::NotFound),
    };
    let tier_name = |id: &str| {
        program
            .tiers
            .as_ref()
            .and_then(|t| t.levels.iter().find(|l| l.id.as_str() == id))
            .map_or_else(|| id.to_owned(), |l| l.name.clone())
    };
    let members = page
        .items
        .iter()
        .map(|member| MemberRow {
            id: member.id.to_string(),
            first_name: member.first_name.clone(),
            code: member.code.to_string(),
            contact: member
                .email
                .clone()
                .or_else(|| member.phone.clone())
                .unwrap_or_default(),
            points: number(member.state.points.available(), language),
            tier: member
                .state
                .tier
                .as_ref()
                .map(|t| tier_name(t.as_str()))
                .unwrap_or_default(),
            joined: date(
                member
                    .joined_at
                    .with_timezone(&program.time_zone())
                    .date_naive(),
                language,
            ),
        })
        .collect();
    let tiers = program
        .tiers
        .iter()
        .flat_map(|t| t.levels.iter().map(|l| (l.id.to_string(), l.name.clone())))
        .collect();
    let next = page.next_cursor.map(|cursor| {
        let encode = |text: &str| {
            text.replace('%', "%25")
                .replace('&', "%26")
                .replace('+', "%2B")
                .replace(' ', "+")
                .replace('#', "%23")
        };
        format!(
            "/office/members?q={}&tier={}&cursor={}",
            encode(query.q.as_deref().unwrap_or_default()),
            encode(query.tier.as_deref().unwrap_or_default()),
            encode(&cursor)
        )
    });
    let page = ListPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "members_title", &[]).unwrap_or_default(),
            business: Some(&name),
            path: "/office/members",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        query: query.q.unwrap_or_default(),
        tier: query.tier.unwrap_or_default(),
        tiers,
        members,
        next,
    };
    web.render("office_members.html", page)
}

#[derive(Serialize)]
struct TimelineEntry {
    /// For ordering (newest first).
    #[serde(skip)]
    at: chrono::DateTime<chrono::Utc>,
    time: String,
    text: String,
}

#[derive(Serialize)]
struct ProfilePage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    csrf: &'a str,
    key: String,
    member_id: String,
    first_name: String,
    code: String,
    email: Option<String>,
    phone: Option<String>,
    joined: String,
    progress: ProgressView,
    units: Vec<(String, String)>,
    timeline: Vec<TimelineEntry>,
    consents: Vec<String>,
    tags: Vec<String>,
    messages: Vec<MessageLine>,
    notice: Option<String>,
    error: Option<String>,
}

/// A message to the member and how its delivery went.
#[derive(Serialize)]
struct MessageLine {
    date: String,
    /// What it is: the journey's slug, or the confirmation or the points.
    what: String,
    channel: String,
    status: String,
    attempts: u32,
    error: Option<String>,
}

fn message_lines(
    profile: &stammgast_app::MemberProfile,
    language: Language,
    zone: chrono_tz::Tz,
) -> Vec<MessageLine> {
    profile
        .messages
        .iter()
        .map(|message| {
            let journey = serde_json::from_str::<serde_json::Value>(&message.payload)
                .ok()
                .and_then(|payload| payload["journey"].as_str().map(str::to_owned));
            let kind = format!("message_kind_{}", message.kind.as_str());
            let what = text(language, &kind, &[]).unwrap_or_default();
            MessageLine {
                date: message
                    .created_at
                    .with_timezone(&zone)
                    .format("%d.%m.%Y %H:%M")
                    .to_string(),
                what: journey.map_or(what.clone(), |slug| format!("{what} {slug}")),
                channel: message.channel.clone(),
                status: text(language, &format!("message_status_{}", message.status), &[])
                    .unwrap_or_else(|| message.status.clone()),
                attempts: message.attempts,
                error: message.last_error.clone(),
            }
        })
        .collect()
}

fn signed(amount: i64, language: Language) -> String {
    if amount > 0 {
        format!("+{}", number(amount, language))
    } else {
        number(amount, language)
    }
}

/// Everything that happened to the member, newest first: events with what they earned, and
/// the ledger entries no event explains (adjustments, expiry, redemptions).
fn timeline(profile: &MemberProfile, language: Language) -> Vec<TimelineEntry> {
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    let program = &profile.card.program;
    let time_zone = program.time_zone();
    let when = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&time_zone)
            .format("%d.%m.%Y %H:%M")
            .to_string()
    };
    let mut entries: Vec<TimelineEntry> = profile
        .card
        .recent
        .iter()
        .map(|recorded| {
            let event = &recorded.event;
            let mut text = match &event.kind {
                EventKind::Purchase { amount, .. } => format!(
                    "{} {}",
                    t("card_event_purchase", &[]),
                    euros(amount.get(), language)
                ),
                EventKind::Visit => t("card_event_visit", &[]),
                EventKind::Signup => t("card_event_signup", &[]),
                EventKind::Custom { name } => format!("{} {name}", t("card_event_custom", &[])),
            };
            if recorded.points_earned.is_positive() {
                text.push_str(&format!(
                    " · {}",
                    t(
                        "card_earned_points",
                        &[("count", &number(recorded.points_earned.get(), language))]
                    )
                ));
            }
            let stamps: Stamps = recorded.stamps_earned.values().sum();
            if stamps.is_positive() {
                text.push_str(&format!(
                    " · {}",
                    t("card_earned_stamps", &[("count", &stamps.to_string())])
                ));
            }
            if recorded.voided_at.is_some() {
                text.push_str(&format!(" ({})", t("card_event_voided", &[])));
            }
            TimelineEntry {
                at: event.occurred_at,
                time: when(event.occurred_at),
                text,
            }
        })
        .collect();
    entries.extend(
        profile
            .transfers
            .iter()
            .filter(|transfer| transfer.event_id.is_none())
            .map(|transfer| TimelineEntry {
                at: transfer.created_at,
                time: when(transfer.created_at),
                text: ledger_line(transfer, language),
            }),
    );
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.at));
    entries
}

fn ledger_line(transfer: &Transfer, language: Language) -> String {
    let t = |key: &str| text(language, key, &[]).unwrap_or_default();
    let kind = match transfer.kind {
        TransferKind::Adjust => t("ledger_adjust"),
        TransferKind::Expire => t("ledger_expire"),
        TransferKind::Redeem => t("ledger_redeem"),
        TransferKind::CardCompletion => t("ledger_card_completion"),
        TransferKind::Earn => t("ledger_earn"),
        TransferKind::Reverse => t("ledger_reverse"),
    };
    let amount = if transfer.credit.member().is_some() {
        transfer.amount
    } else {
        -transfer.amount
    };
    let unit = match &transfer.unit {
        Unit::Points => t("card_points"),
        Unit::Stamps(card) => format!("{} ({card})", t("ledger_stamps")),
    };
    format!(
        "{kind}: {} {unit} — {}",
        signed(amount, language),
        transfer.memo
    )
}

async fn show_profile(
    web: &Web,
    session: &StaffSession,
    language: Language,
    id: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let Some(member) = MemberId::parse(id) else {
        return web.failure(language, AppError::NotFound);
    };
    let profile = match web.app.member_profile(&session.caller, member).await {
        Ok(profile) => profile,
        Err(error) => return web.failure(language, error),
    };
    let tags = match web.app.member_tags(&session.caller, member).await {
        Ok(tags) => tags.iter().map(ToString::to_string).collect(),
        Err(error) => return web.failure(language, error),
    };
    let card = &profile.card;
    let record = &card.member;
    let program = &card.program;
    let units = std::iter::once((
        "points".to_owned(),
        text(language, "card_points", &[]).unwrap_or_default(),
    ))
    .chain(
        program
            .stamp_cards
            .iter()
            .map(|c| (format!("stamps:{}", c.id), c.name.clone())),
    )
    .collect();
    let consents = profile
        .consents
        .iter()
        .map(|c| {
            let withdrawn = c
                .withdrawn_at
                .map(|at| {
                    format!(
                        ", {} {}",
                        text(language, "consent_withdrawn", &[]).unwrap_or_default(),
                        date(at.date_naive(), language)
                    )
                })
                .unwrap_or_default();
            format!(
                "{} {} · {} · {} ({}){withdrawn}",
                c.purpose,
                c.channel,
                date(c.given_at.date_naive(), language),
                c.source,
                c.text_version
            )
        })
        .collect();
    let status = super::form_status(error.is_some());
    let page = ProfilePage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "members_title", &[]).unwrap_or_default(),
            business: Some(&card.business_name),
            path: "/office/members",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        csrf: &session.csrf_token,
        key: uuid::Uuid::new_v4().to_string(),
        member_id: record.id.to_string(),
        first_name: record.first_name.clone(),
        code: record.code.to_string(),
        email: record.email.clone(),
        phone: record.phone.clone(),
        joined: date(
            record
                .joined_at
                .with_timezone(&program.time_zone())
                .date_naive(),
            language,
        ),
        progress: progress_view(program, &record.state, language, web.app.now()),
        units,
        timeline: timeline(&profile, language),
        consents,
        tags,
        messages: message_lines(&profile, language, program.time_zone()),
        notice,
        error,
    };
    (status, web.render("office_member.html", page)).into_response()
}

async fn profile(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
) -> Response {
    show_profile(&web, &session, language, &id, None, None).await
}

#[derive(Deserialize)]
struct AdjustForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    delta: String,
    #[serde(default)]
    reason: String,
}

async fn adjust(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
    Form(form): Form<AdjustForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let Some(member) = MemberId::parse(&id) else {
        return web.failure(language, AppError::NotFound);
    };
    let t = |key: &str| text(language, key, &[]);
    let Some(delta) = form
        .delta
        .trim()
        .trim_start_matches('+')
        .parse::<i64>()
        .ok()
        .filter(|d| *d != 0)
    else {
        return show_profile(&web, &session, language, &id, None, t("error_delta")).await;
    };
    let Ok(unit) = Unit::try_from(form.unit.clone()) else {
        return web.failure(language, AppError::NotFound);
    };
    let digest = Sha256::digest(format!("{id}\n{}\n{delta}\n{}", form.unit, form.reason));
    let key = Some(form.key.trim())
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .map(|key| IdempotencyKey {
            key: format!("office:{key}"),
            fingerprint: digest.iter().map(|b| format!("{b:02x}")).collect(),
        });
    match web
        .app
        .adjust(
            &session.caller,
            key,
            member,
            unit,
            delta,
            form.reason.clone(),
        )
        .await
    {
        Ok(_) => {
            let notice = text(language, "adjusted", &[("delta", &signed(delta, language))]);
            show_profile(&web, &session, language, &id, notice, None).await
        }
        Err(AppError::Invalid { .. }) => {
            show_profile(&web, &session, language, &id, None, t("error_reason")).await
        }
        Err(AppError::Domain(refusal)) => {
            show_profile(
                &web,
                &session,
                language,
                &id,
                None,
                Some(super::i18n::refusal(language, &refusal)),
            )
            .await
        }
        Err(error) => web.failure(language, error),
    }
}

#[derive(Deserialize)]
struct TagForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tag: String,
    /// `add` or `remove`.
    #[serde(default)]
    action: String,
}

/// Adds a tag to the member or takes one off (custom segments filter on tags).
async fn change_tags(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
    Form(form): Form<TagForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let Some(member) = MemberId::parse(&id) else {
        return web.failure(language, AppError::NotFound);
    };
    let changed = if form.action == "remove" {
        web.app
            .untag_member(&session.caller, member, &form.tag)
            .await
            .map(|()| "tag_removed")
    } else {
        web.app
            .tag_member(&session.caller, member, &form.tag)
            .await
            .map(|_| "tag_added")
    };
    match changed {
        Ok(key) => {
            let notice = text(language, key, &[("tag", form.tag.trim())]);
            show_profile(&web, &session, language, &id, notice, None).await
        }
        Err(AppError::Invalid { .. }) => {
            let error = text(language, "tag_error", &[]);
            show_profile(&web, &session, language, &id, None, error).await
        }
        Err(AppError::NotFound) if form.action == "remove" => {
            show_profile(&web, &session, language, &id, None, None).await
        }
        Err(error) => web.failure(language, error),
    }
}
