//! The member's settings and privacy controls on the card: language, marketing channels,
//! downloading everything stored about them (JSON and CSV), and deleting the account.

use super::download::{attachment, csv_table};
use super::i18n::{LANGUAGE_COOKIE, text};
use super::join::CONSENT_TEXT_VERSION;
use super::session::{CARD_COOKIE, Member, cookie_header, csrf_ok};
use super::{Layout, Web};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, MemberExport, Preferences};
use stammgast_core::member::{Channel, Language};
use stammgast_core::points::Stamps;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/card/settings", get(settings).post(save_settings))
        .route("/card/data.json", get(data_json))
        .route("/card/data.csv", get(data_csv))
        .route("/card/delete", post(delete))
        .route("/consent/confirm/{link}", get(confirm_consent))
        .route("/unsubscribe/{link}", get(unsubscribe))
}

/// The unsubscribe link in a marketing mail: one click, no sign-in.
async fn unsubscribe(
    State(web): State<Web>,
    headers: axum::http::HeaderMap,
    axum::extract::Path(link): axum::extract::Path<String>,
) -> Response {
    let done = web.app.unsubscribe(&link).await;
    link_followed(&web, &headers, done, "unsubscribed").await
}

/// The link in the double opt-in mail: confirms the member's marketing consent by email.
async fn confirm_consent(
    State(web): State<Web>,
    headers: axum::http::HeaderMap,
    axum::extract::Path(link): axum::extract::Path<String>,
) -> Response {
    let done = web.app.confirm_consent(&link).await;
    link_followed(&web, &headers, done, "consent_confirmed").await
}

/// The page after following a link from a mail: what it did (the texts `<key>` and
/// `<key>_title`, naming the business), or that the link is spent or expired.
async fn link_followed(
    web: &Web,
    headers: &axum::http::HeaderMap,
    done: Result<String, AppError>,
    key: &str,
) -> Response {
    let language = super::i18n::language_of(headers);
    match done {
        Ok(business) => {
            let message = text(language, key, &[("business", &business)]).unwrap_or_default();
            web.message_page(language, StatusCode::OK, &format!("{key}_title"), message)
        }
        Err(AppError::Unauthenticated) => web.error(
            language,
            StatusCode::NOT_FOUND,
            "consent_link_gone_title",
            "consent_link_gone",
        ),
        Err(error) => web.failure(language, error),
    }
}

#[derive(Serialize)]
struct SettingsPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    csrf: &'a str,
    language: &'static str,
    marketing_email: bool,
    marketing_sms: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn settings_page(
    web: &Web,
    session: &stammgast_app::CardSession,
    language: Language,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let channels = match web.app.marketing_channels(session).await {
        Ok(channels) => channels,
        Err(error) => return web.failure(language, error),
    };
    let member_language = match web.app.card(session).await {
        Ok(card) => Language::parse(&card.member.language).unwrap_or_default(),
        Err(error) => return web.failure(language, error),
    };
    let status = super::form_status(error.is_some());
    let page = SettingsPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "card_preferences", &[]).unwrap_or_default(),
            business: None,
            path: "/card/settings",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        csrf: &session.csrf_token,
        language: member_language.as_str(),
        marketing_email: channels.contains(&Channel::Email),
        marketing_sms: channels.contains(&Channel::Sms),
        notice,
        error,
    };
    (status, web.render("settings.html", page)).into_response()
}

async fn settings(State(web): State<Web>, Member(session, language): Member) -> Response {
    settings_page(&web, &session, language, None, None).await
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
    marketing_email: Option<String>,
    marketing_sms: Option<String>,
}

async fn save_settings(
    State(web): State<Web>,
    Member(session, language): Member,
    Form(form): Form<SettingsForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let chosen = Language::parse(&form.language).unwrap_or(language);
    let mut marketing = Vec::new();
    if form.marketing_email.is_some() {
        marketing.push(Channel::Email);
    }
    if form.marketing_sms.is_some() {
        marketing.push(Channel::Sms);
    }
    let preferences = Preferences {
        language: chosen,
        marketing,
        text_version: CONSENT_TEXT_VERSION.to_owned(),
    };
    match web.app.set_preferences(&session, preferences).await {
        Ok(()) => {
            // The pages follow the member's choice from now on.
            let cookie = cookie_header(
                LANGUAGE_COOKIE,
                chosen.as_str(),
                365 * 24 * 3600,
                web.site.secure_cookies(),
            );
            let page = settings_page(
                &web,
                &session,
                chosen,
                text(chosen, "settings_saved", &[]),
                None,
            )
            .await;
            ([(header::SET_COOKIE, cookie)], page).into_response()
        }
        Err(AppError::Invalid { field, .. }) => {
            let key = if field == "phone" {
                "error_marketing_sms"
            } else {
                "error_marketing_email"
            };
            settings_page(&web, &session, language, None, text(language, key, &[])).await
        }
        Err(error) => web.failure(language, error),
    }
}

async fn export(
    web: &Web,
    session: &stammgast_app::CardSession,
    language: Language,
) -> Result<MemberExport, Response> {
    web.app
        .export_own_data(session)
        .await
        .map_err(|error| web.failure(language, error))
}

async fn data_json(State(web): State<Web>, Member(session, language): Member) -> Response {
    match export(&web, &session, language).await {
        Ok(data) => {
            let mut response = Json(&data).into_response();
            response.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                header::HeaderValue::from_static("attachment; filename=\"stammgast-data.json\""),
            );
            response
        }
        Err(page) => page,
    }
}

async fn data_csv(State(web): State<Web>, Member(session, language): Member) -> Response {
    match export(&web, &session, language).await {
        Ok(data) => attachment("text/csv; charset=utf-8", "stammgast-data.csv", csv(&data)),
        Err(page) => page,
    }
}

/// The export as one table: the profile, each consent, each event and each coupon a row.
fn csv(data: &MemberExport) -> String {
    let mut rows = vec![
        ["kind", "time", "detail", "amount_cents", "points", "stamps"]
            .map(String::from)
            .to_vec(),
    ];
    let profile = &data.member;
    let fields = [
        ("first_name", Some(profile.first_name.clone())),
        ("email", profile.email.clone()),
        ("phone", profile.phone.clone()),
        ("birthday", profile.birthday.map(|b| b.to_string())),
        ("language", Some(profile.language.clone())),
        ("code", Some(profile.code.to_string())),
    ];
    for (name, value) in fields {
        rows.push(vec![
            "profile".into(),
            profile.joined_at.to_rfc3339(),
            format!("{name}: {}", value.unwrap_or_default()),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for consent in &data.consents {
        let withdrawn = consent
            .withdrawn_at
            .map(|at| format!(", withdrawn {}", at.to_rfc3339()))
            .unwrap_or_default();
        rows.push(vec![
            "consent".into(),
            consent.given_at.to_rfc3339(),
            format!(
                "{} {} (text {}, {}){withdrawn}",
                consent.purpose, consent.channel, consent.text_version, consent.source
            ),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for recorded in &data.events {
        let event = &recorded.event;
        rows.push(vec![
            "event".into(),
            event.occurred_at.to_rfc3339(),
            event.kind.type_name().into(),
            event.kind.amount().get().to_string(),
            recorded.points_earned.to_string(),
            recorded.stamps_earned.values().sum::<Stamps>().to_string(),
        ]);
    }
    for coupon in &data.coupons {
        rows.push(vec![
            "coupon".into(),
            coupon.issued_at.to_rfc3339(),
            format!(
                "{} {} {}",
                coupon.reward_id,
                coupon.code,
                coupon.status.as_str()
            ),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    csv_table(&rows)
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    csrf: String,
    confirm: Option<String>,
}

async fn delete(
    State(web): State<Web>,
    Member(session, language): Member,
    Form(form): Form<DeleteForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    if form.confirm.is_none() {
        return settings_page(
            &web,
            &session,
            language,
            None,
            text(language, "delete_confirm_missing", &[]),
        )
        .await;
    }
    if let Err(error) = web.app.erase_own_account(&session).await {
        return web.failure(language, error);
    }
    let cookie = cookie_header(CARD_COOKIE, "", 0, web.site.secure_cookies());
    let page = web.error(language, StatusCode::OK, "deleted_title", "deleted_text");
    ([(header::SET_COOKIE, cookie)], page).into_response()
}
