//! Joining and signing in on a card: the join form the shop's QR code opens, the terms,
//! the sign-in link by mail, and opening such a link.

use super::i18n::{language_of, text};
use super::session::{CARD_COOKIE, cookie_header};
use super::{Layout, Web};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, JoinMember};
use stammgast_core::engine::DomainError;
use stammgast_core::ids::BusinessId;
use stammgast_core::member::{Channel, Consent, ConsentPurpose, Language};
use std::collections::BTreeMap;

/// The version of the terms and consent texts a member agrees to (kept with the consent).
pub const CONSENT_TEXT_VERSION: &str = "2026-11";
/// The card cookie lasts as long as the card session.
const CARD_COOKIE_SECONDS: i64 = 365 * 24 * 3600;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/join/{business}", get(join_form).post(join))
        .route(
            "/join/{business}/terms",
            get(|State(web), Path(id), headers| legal(web, id, headers, Document::Terms)),
        )
        .route(
            "/join/{business}/privacy",
            get(|State(web), Path(id), headers| legal(web, id, headers, Document::Privacy)),
        )
        .route(
            "/join/{business}/imprint",
            get(|State(web), Path(id), headers| legal(web, id, headers, Document::Imprint)),
        )
        .route("/join/{business}/sign-in", get(link_form).post(send_link))
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
    logo: Option<&'a str>,
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

async fn join_page(
    web: &Web,
    language: Language,
    business: BusinessId,
    name: &str,
    form: JoinForm,
    errors: Vec<(&'static str, String)>,
) -> Response {
    let path = format!("/join/{business}");
    let look = web.look(business).await;
    let page = JoinPage {
        logo: look.logo.as_deref(),
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "join_title", &[("business", name)]).unwrap_or_default(),
            business: Some(name),
            path: &path,
            brand: look.color.as_deref(),
            legal: Some(path.clone()),
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
        Ok((business, name)) => {
            join_page(
                &web,
                language,
                business,
                &name,
                JoinForm::default(),
                Vec::new(),
            )
            .await
        }
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
        return join_page(&web, language, business, &name, form, errors).await;
    }
    match web
        .app
        .join_on_card(business, join_member(&form, language))
        .await
    {
        Ok((_, token)) => sign_in(&web, &token),
        Err(error) => match join_error(language, &error) {
            Some(field_error) => {
                join_page(&web, language, business, &name, form, vec![field_error]).await
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
        // Too many joins at this shop just now: the first field, so the message leads there.
        AppError::RateLimited { .. } => ("first_name", "error_joins_limited"),
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
            brand: None,
            legal: Some(format!("/join/{business}")),
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

/// The business's legal pages, linked from every page of the card.
#[derive(Clone, Copy)]
enum Document {
    Terms,
    Privacy,
    Imprint,
}

#[derive(Serialize)]
struct LegalPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    text: String,
    back: String,
}

async fn legal(web: Web, id: String, headers: HeaderMap, document: Document) -> Response {
    let language = language_of(&headers);
    let (business, name) = match business_of(&web, &id, language).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let texts = match web.app.shop_settings(business).await {
        Ok(settings) => settings.legal,
        Err(error) => return web.failure(language, error),
    };
    // The shop's own text, or the product's default until the owner writes one.
    let (slug, title_key, own, default_key) = match document {
        Document::Terms => ("terms", "terms_title", texts.terms, "terms_text"),
        Document::Privacy => (
            "privacy",
            "legal_privacy",
            texts.privacy_notice,
            "privacy_default",
        ),
        Document::Imprint => ("imprint", "legal_imprint", texts.imprint, "imprint_missing"),
    };
    let text = if own.is_empty() {
        message(language, default_key)
    } else {
        own
    };
    let path = format!("/join/{business}/{slug}");
    web.render(
        "legal.html",
        LegalPage {
            layout: Layout {
                lang: language.as_str(),
                title: message(language, title_key),
                business: Some(&name),
                path: &path,
                brand: None,
                legal: Some(format!("/join/{business}")),
            },
            lang: language.as_str(),
            text,
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
