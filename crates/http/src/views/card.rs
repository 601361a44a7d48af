//! The customer's pages: the join form the shop's QR code opens, the terms, and the card.

use super::format::{date, euros, number};
use super::i18n::{language_of, text};
use super::session::{CARD_COOKIE, Member, cookie_header};
use super::{Layout, Web, qr};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, Card, JoinMember};
use stammgast_core::engine::{DomainError, RecordedEvent};
use stammgast_core::event::EventKind;
use stammgast_core::ids::BusinessId;
use stammgast_core::member::{Channel, Consent, ConsentPurpose, Language, member_qr_payload};
use stammgast_core::program::TierMetric;
use stammgast_core::program::progress::{Distance, progress};
use std::collections::BTreeMap;

/// The version of the terms and consent texts a member agrees to (kept with the consent).
pub const CONSENT_TEXT_VERSION: &str = "2026-11";
/// The card cookie lasts as long as the card session.
const CARD_COOKIE_SECONDS: i64 = 365 * 24 * 3600;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/join/{business}", get(join_form).post(join))
        .route("/join/{business}/terms", get(terms))
        .route("/join/{business}/sign-in", get(link_form).post(send_link))
        .route("/card", get(card))
        .route("/card/open/{link}", get(open_link))
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct JoinForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    terms: Option<String>,
    marketing_email: Option<String>,
    marketing_sms: Option<String>,
}

#[derive(Serialize)]
struct JoinPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    action: String,
    terms_url: String,
    sign_in_url: String,
    form: JoinForm,
    /// Field name → what to fix, in the page's language.
    errors: BTreeMap<&'static str, String>,
}

async fn business_of(
    web: &Web,
    id: &str,
    language: Language,
) -> Result<(BusinessId, String), Response> {
    let business = BusinessId::parse(id).ok_or(AppError::NotFound);
    match business {
        Ok(business) => match web.app.business_name(business).await {
            Ok(name) => Ok((business, name)),
            Err(error) => Err(web.failure(language, error)),
        },
        Err(error) => Err(web.failure(language, error)),
    }
}

fn join_page(
    web: &Web,
    language: Language,
    business: BusinessId,
    name: &str,
    form: JoinForm,
    errors: Vec<(&'static str, String)>,
) -> Response {
    let path = format!("/join/{business}");
    let page = JoinPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "join_title", &[("business", name)]).unwrap_or_default(),
            business: Some(name),
            path: &path,
        },
        lang: language.as_str(),
        action: path.clone(),
        terms_url: format!("{path}/terms"),
        sign_in_url: format!("{path}/sign-in"),
        form,
        errors: errors.into_iter().collect(),
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, web.render("join.html", page)).into_response()
}

async fn join_form(State(web): State<Web>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let language = language_of(&headers);
    match business_of(&web, &id, language).await {
        Ok((business, name)) => join_page(
            &web,
            language,
            business,
            &name,
            JoinForm::default(),
            Vec::new(),
        ),
        Err(page) => page,
    }
}

async fn join(
    State(web): State<Web>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<JoinForm>,
) -> Response {
    let language = language_of(&headers);
    let (business, name) = match business_of(&web, &id, language).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if form.terms.is_none() {
        let errors = vec![("terms", message(language, "error_terms"))];
        return join_page(&web, language, business, &name, form, errors);
    }
    match web
        .app
        .join_on_card(business, join_member(&form, language))
        .await
    {
        Ok((_, token)) => sign_in(&web, &token),
        Err(error) => match join_error(language, &error) {
            Some(field_error) => {
                join_page(&web, language, business, &name, form, vec![field_error])
            }
            None => web.failure(language, error),
        },
    }
}

fn join_member(form: &JoinForm, language: Language) -> JoinMember {
    let filled = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let consent = |purpose| Consent {
        purpose,
        text_version: CONSENT_TEXT_VERSION.to_owned(),
        source: "card".to_owned(),
    };
    let mut consents = vec![consent(ConsentPurpose::Terms)];
    if form.marketing_email.is_some() {
        consents.push(consent(ConsentPurpose::Marketing(Channel::Email)));
    }
    if form.marketing_sms.is_some() {
        consents.push(consent(ConsentPurpose::Marketing(Channel::Sms)));
    }
    JoinMember {
        first_name: form.first_name.clone(),
        email: filled(&form.email),
        phone: filled(&form.phone),
        birthday: None,
        language: Some(language.as_str().to_owned()),
        consents,
    }
}

fn message(language: Language, key: &str) -> String {
    text(language, key, &[]).unwrap_or_default()
}

/// The form field a failed join points at, and what to fix, in the visitor's language.
fn join_error(language: Language, error: &AppError) -> Option<(&'static str, String)> {
    let (field, key) = match error {
        AppError::Domain(DomainError::ContactTaken(_)) => ("email", "error_contact_taken"),
        AppError::Invalid { field, reason } => match field.as_str() {
            "first_name" => ("first_name", "error_first_name"),
            "phone" if reason.contains("SMS") => ("phone", "error_marketing_sms"),
            "phone" => ("phone", "error_phone"),
            "email" if reason.contains("email address or a phone") => ("email", "error_contact"),
            "email" if reason.contains("by email") => ("email", "error_marketing_email"),
            "email" => ("email", "error_email"),
            _ => return None,
        },
        _ => return None,
    };
    Some((field, message(language, key)))
}

#[derive(Serialize)]
struct LinkPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    action: String,
    email: String,
    /// The answer after sending: the same whether or not the address has a card.
    sent: Option<String>,
    error: Option<String>,
}

fn link_page(
    web: &Web,
    language: Language,
    business: BusinessId,
    name: &str,
    email: String,
    outcome: Result<Option<String>, String>,
) -> Response {
    let action = format!("/join/{business}/sign-in");
    let status = if outcome.is_err() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (sent, error) = match outcome {
        Ok(sent) => (sent, None),
        Err(error) => (None, Some(error)),
    };
    let page = LinkPage {
        layout: Layout {
            lang: language.as_str(),
            title: message(language, "link_title"),
            business: Some(name),
            path: &action,
        },
        lang: language.as_str(),
        action: action.clone(),
        email,
        sent,
        error,
    };
    (status, web.render("sign_in.html", page)).into_response()
}

async fn link_form(State(web): State<Web>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let language = language_of(&headers);
    match business_of(&web, &id, language).await {
        Ok((business, name)) => link_page(&web, language, business, &name, String::new(), Ok(None)),
        Err(page) => page,
    }
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    email: String,
}

async fn send_link(
    State(web): State<Web>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<LinkForm>,
) -> Response {
    let language = language_of(&headers);
    let (business, name) = match business_of(&web, &id, language).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let base_url = web.site.base_url(&headers);
    let outcome = match web
        .app
        .send_card_link(business, &form.email, &base_url)
        .await
    {
        Ok(()) => Ok(Some(message(language, "link_sent"))),
        Err(AppError::Invalid { .. }) => Err(message(language, "error_email")),
        Err(AppError::RateLimited {
            retry_after_seconds,
        }) => {
            let minutes = retry_after_seconds.div_ceil(60).to_string();
            Err(text(language, "link_locked", &[("minutes", &minutes)]).unwrap_or_default())
        }
        Err(AppError::Mail(_)) => Err(message(language, "error_mail_failed")),
        Err(error) => return web.failure(language, error),
    };
    link_page(&web, language, business, &name, form.email, outcome)
}

#[derive(Serialize)]
struct TermsPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    back: String,
}

async fn terms(State(web): State<Web>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let language = language_of(&headers);
    let (business, name) = match business_of(&web, &id, language).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let path = format!("/join/{business}/terms");
    web.render(
        "terms.html",
        TermsPage {
            layout: Layout {
                lang: language.as_str(),
                title: message(language, "terms_title"),
                business: Some(&name),
                path: &path,
            },
            lang: language.as_str(),
            back: format!("/join/{business}"),
        },
    )
}

/// A one-time sign-in link (mailed, or printed by the demo) opens the card on this device.
async fn open_link(
    State(web): State<Web>,
    Path(link): Path<String>,
    headers: HeaderMap,
) -> Response {
    let language = language_of(&headers);
    match web.app.open_card_link(&link).await {
        Ok(token) => sign_in(&web, &token),
        Err(_) => web.error(
            language,
            StatusCode::UNAUTHORIZED,
            "error_signed_out_title",
            "error_link_used",
        ),
    }
}

/// Sets the card cookie and shows the card.
fn sign_in(web: &Web, token: &str) -> Response {
    let cookie = cookie_header(
        CARD_COOKIE,
        token,
        CARD_COOKIE_SECONDS,
        web.site.secure_cookies(),
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/card")).into_response()
}

#[derive(Serialize)]
struct CardPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    first_name: &'a str,
    code: &'a str,
    qr_svg: String,
    points: String,
    stamp_cards: Vec<StampCardView>,
    tier: Option<String>,
    next_tier: Option<String>,
    coupons: Vec<CouponView>,
    rewards: Vec<RewardView>,
    history: Vec<HistoryView>,
    referral_url: String,
    share_message: String,
}

#[derive(Serialize)]
struct StampCardView {
    name: String,
    label: String,
    summary: String,
    /// One entry per stamp field: filled or not.
    fields: Vec<bool>,
}

#[derive(Serialize)]
struct CouponView {
    name: String,
    code: String,
    valid_until: String,
}

#[derive(Serialize)]
struct RewardView {
    name: String,
    status: String,
    ready: bool,
}

#[derive(Serialize)]
struct HistoryView {
    date: String,
    title: String,
    amount: Option<String>,
    earned: Vec<String>,
    voided: bool,
}

async fn card(
    State(web): State<Web>,
    Member(session, language): Member,
    headers: HeaderMap,
) -> Response {
    match web.app.card(&session).await {
        Ok(card) => {
            let base_url = web.site.base_url(&headers);
            web.render(
                "card.html",
                card_page(&card, language, &base_url, &web.app.now()),
            )
        }
        Err(error) => web.failure(language, error),
    }
}

fn card_page<'a>(
    card: &'a Card,
    language: Language,
    base_url: &str,
    now: &chrono::DateTime<chrono::Utc>,
) -> CardPage<'a> {
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    let program = &card.program;
    let member = &card.member;
    let progress = progress(program, &member.state, *now);
    let stamp_cards = progress
        .cards
        .iter()
        .map(|p| {
            let (collected, required) =
                (p.collected.to_string(), p.card.stamps_required.to_string());
            StampCardView {
                name: p.card.name.clone(),
                label: t(
                    "card_stamps_label",
                    &[
                        ("name", &p.card.name),
                        ("collected", &collected),
                        ("required", &required),
                    ],
                ),
                summary: t(
                    "card_stamps",
                    &[("collected", &collected), ("required", &required)],
                ),
                fields: (0..p.card.stamps_required.clamp(0, 30))
                    .map(|i| i < p.collected)
                    .collect(),
            }
        })
        .collect();
    let next_tier = match (&program.tiers, progress.next_tier) {
        (Some(settings), Some((level, missing))) => {
            let amount = match settings.metric {
                TierMetric::Spend => euros(missing, language),
                _ => number(missing, language),
            };
            Some(t(
                "card_next_tier_spend",
                &[("amount", &amount), ("tier", &level.name)],
            ))
        }
        (Some(_), None) => Some(t("card_top_tier", &[])),
        _ => None,
    };
    let time_zone = program.time_zone();
    let reward_name = |id: &stammgast_core::ids::Slug| {
        program
            .reward(id)
            .map_or_else(|| id.to_string(), |r| r.name.clone())
    };
    let coupons = card
        .coupons
        .iter()
        .map(|coupon| CouponView {
            name: reward_name(&coupon.reward_id),
            code: coupon.code.to_string(),
            valid_until: t(
                "card_coupon_valid",
                &[(
                    "date",
                    &date(
                        coupon.expires_at.with_timezone(&time_zone).date_naive(),
                        language,
                    ),
                )],
            ),
        })
        .collect();
    let rewards = progress
        .rewards
        .iter()
        .map(|r| {
            let (status, ready) = match &r.distance {
                Distance::Ready => (t("card_reward_ready", &[]), true),
                Distance::MissingPoints(n) => (
                    t("card_reward_points", &[("count", &number(*n, language))]),
                    false,
                ),
                Distance::MissingStamps { stamps, .. } => (
                    t("card_reward_stamps", &[("count", &stamps.to_string())]),
                    false,
                ),
                Distance::Unavailable => (t("card_reward_unavailable", &[]), false),
            };
            RewardView {
                name: r.reward.name.clone(),
                status,
                ready,
            }
        })
        .collect();
    let history = card
        .recent
        .iter()
        .map(|event| history_entry(event, language, time_zone))
        .collect();
    CardPage {
        layout: Layout {
            lang: language.as_str(),
            title: t("card_title", &[]),
            business: Some(&card.business_name),
            path: "/card",
        },
        lang: language.as_str(),
        first_name: &member.first_name,
        code: member.code.as_str(),
        qr_svg: qr::svg(&member_qr_payload(&member.code), &t("card_show_code", &[]))
            .unwrap_or_default(),
        points: number(progress.points_available, language),
        stamp_cards,
        tier: progress.tier.map(|level| level.name.clone()),
        next_tier,
        coupons,
        rewards,
        history,
        referral_url: format!("{base_url}/join/{}?ref={}", card.business_id, member.code),
        share_message: t("card_share_message", &[("business", &card.business_name)]),
    }
}

fn history_entry(
    recorded: &RecordedEvent,
    language: Language,
    time_zone: chrono_tz::Tz,
) -> HistoryView {
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    let event = &recorded.event;
    let (title, amount) = match &event.kind {
        EventKind::Purchase { amount, .. } => (
            t("card_event_purchase", &[]),
            Some(euros(amount.get(), language)),
        ),
        EventKind::Visit => (t("card_event_visit", &[]), None),
        EventKind::Signup => (t("card_event_signup", &[]), None),
        EventKind::Custom { .. } => (t("card_event_custom", &[]), None),
    };
    let mut earned = Vec::new();
    if recorded.points_earned > 0 {
        earned.push(t(
            "card_earned_points",
            &[("count", &number(recorded.points_earned, language))],
        ));
    }
    let stamps: i64 = recorded.stamps_earned.values().sum();
    if stamps > 0 {
        earned.push(t("card_earned_stamps", &[("count", &stamps.to_string())]));
    }
    HistoryView {
        date: date(
            event.occurred_at.with_timezone(&time_zone).date_naive(),
            language,
        ),
        title,
        amount,
        earned,
        voided: recorded.voided_at.is_some(),
    }
}
