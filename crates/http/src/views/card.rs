//! The customer's card: the member QR, progress, coupons, recent history and the referral
//! link.

use super::format::{date, euros, number};
use super::i18n::text;
use super::progress_view::{ProgressView, progress_view};
use super::session::Member;
use super::{Layout, Look, Web, qr};
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use stammgast_app::Card;
use stammgast_core::engine::RecordedEvent;
use stammgast_core::event::EventKind;
use stammgast_core::member::{Language, member_qr_payload};
use stammgast_core::points::Stamps;

pub fn router() -> Router<Web> {
    Router::new().route("/card", get(card))
}

#[derive(Serialize)]
struct CardPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    first_name: &'a str,
    code: &'a str,
    qr_svg: String,
    progress: ProgressView,
    coupons: Vec<CouponView>,
    messages: Vec<MessageView>,
    history: Vec<HistoryView>,
    referral_url: String,
    share_message: String,
    logo: Option<&'a str>,
}

#[derive(Serialize)]
struct CouponView {
    name: String,
    code: String,
    valid_until: String,
}

/// A message in the card's message box.
#[derive(Serialize)]
struct MessageView {
    date: String,
    subject: String,
    body: String,
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
            let look = web.look(card.business_id).await;
            web.render(
                "card.html",
                card_page(&card, language, &base_url, &web.app.now(), &look),
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
    look: &'a Look,
) -> CardPage<'a> {
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    let program = &card.program;
    let member = &card.member;
    let time_zone = program.time_zone();
    let local_date = |at: chrono::DateTime<chrono::Utc>| {
        date(at.with_timezone(&time_zone).date_naive(), language)
    };
    let coupons = card
        .coupons
        .iter()
        .map(|coupon| CouponView {
            name: program
                .reward(&coupon.reward_id)
                .map_or_else(|| coupon.reward_id.to_string(), |r| r.name.clone()),
            code: coupon.code.to_string(),
            valid_until: t(
                "card_coupon_valid",
                &[("date", &local_date(coupon.expires_at))],
            ),
        })
        .collect();
    let messages = card
        .messages
        .iter()
        .map(|message| MessageView {
            date: local_date(message.sent_at),
            subject: message.subject.clone(),
            body: message.body.clone(),
        })
        .collect();
    let history = card
        .recent
        .iter()
        .map(|event| HistoryView {
            date: local_date(event.event.occurred_at),
            ..history_entry(event, language)
        })
        .collect();
    CardPage {
        layout: Layout {
            lang: language.as_str(),
            title: t("card_title", &[]),
            business: Some(&card.business_name),
            path: "/card",
            brand: look.color.as_deref(),
            legal: Some(format!("/join/{}", card.business_id)),
        },
        lang: language.as_str(),
        first_name: &member.first_name,
        code: member.code.as_str(),
        qr_svg: qr::svg(&member_qr_payload(&member.code), &t("card_show_code", &[]))
            .unwrap_or_default(),
        progress: progress_view(program, &member.state, language, *now),
        coupons,
        messages,
        history,
        referral_url: format!("{base_url}/join/{}?ref={}", card.business_id, member.code),
        share_message: t("card_share_message", &[("business", &card.business_name)]),
        logo: look.logo.as_deref(),
    }
}

/// What an event was and what it earned (the date is filled in by the caller, in the
/// business's time zone).
fn history_entry(recorded: &RecordedEvent, language: Language) -> HistoryView {
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    let (title, amount) = match &recorded.event.kind {
        EventKind::Purchase { amount, .. } => (
            t("card_event_purchase", &[]),
            Some(euros(amount.get(), language)),
        ),
        EventKind::Visit => (t("card_event_visit", &[]), None),
        EventKind::Signup => (t("card_event_signup", &[]), None),
        EventKind::Custom { .. } => (t("card_event_custom", &[]), None),
    };
    let mut earned = Vec::new();
    if recorded.points_earned.is_positive() {
        earned.push(t(
            "card_earned_points",
            &[("count", &number(recorded.points_earned.get(), language))],
        ));
    }
    let stamps: Stamps = recorded.stamps_earned.values().sum();
    if stamps.is_positive() {
        earned.push(t("card_earned_stamps", &[("count", &stamps.to_string())]));
    }
    HistoryView {
        date: String::new(),
        title,
        amount,
        earned,
        voided: recorded.voided_at.is_some(),
    }
}
