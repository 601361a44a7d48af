//! Signing a customer up at the counter: staff type the name and an email or phone number,
//! confirm that the customer agreed to the terms, and the customer gets the link to their
//! card by mail.

use super::i18n::text;
use super::join::CONSENT_TEXT_VERSION;
use super::session::{Staff, csrf_ok};
use super::{Layout, Web};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, JoinMember, StaffSession};
use stammgast_core::engine::DomainError;
use stammgast_core::member::{Consent, ConsentPurpose, Language};

pub fn router() -> Router<Web> {
    Router::new().route("/counter/enrol", get(form).post(enrol))
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    terms: Option<String>,
}

#[derive(Serialize)]
struct EnrolPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    csrf: &'a str,
    form: EnrolForm,
    error: Option<String>,
}

fn page(
    web: &Web,
    session: &StaffSession,
    language: Language,
    form: EnrolForm,
    error: Option<String>,
) -> Response {
    let status = super::form_status(error.is_some());
    let page = EnrolPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "counter_enrol", &[]).unwrap_or_default(),
            business: None,
            path: "/counter/enrol",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        csrf: &session.csrf_token,
        form,
        error,
    };
    (status, web.render("counter_enrol.html", page)).into_response()
}

async fn form(State(web): State<Web>, Staff(session, language): Staff) -> Response {
    page(&web, &session, language, EnrolForm::default(), None)
}

async fn enrol(
    State(web): State<Web>,
    Staff(session, language): Staff,
    headers: HeaderMap,
    Form(form): Form<EnrolForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let t = |key: &str| text(language, key, &[]).unwrap_or_default();
    if form.terms.is_none() {
        return page(&web, &session, language, form, Some(t("error_terms")));
    }
    let filled = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let join = JoinMember {
        first_name: form.first_name.clone(),
        email: filled(&form.email),
        phone: filled(&form.phone),
        birthday: None,
        language: Some(language.as_str().to_owned()),
        consents: vec![Consent {
            purpose: ConsentPurpose::Terms,
            text_version: CONSENT_TEXT_VERSION.to_owned(),
            source: "counter".to_owned(),
        }],
    };
    let base_url = web.site.base_url(&headers);
    match web.app.enrol_at_counter(&session, join, &base_url).await {
        Ok(enrolled) => {
            let notice = if enrolled.link_sent { "link" } else { "plain" };
            Redirect::to(&format!(
                "/counter/members/{}?enrolled={notice}",
                enrolled.member_id
            ))
            .into_response()
        }
        Err(AppError::Domain(DomainError::ContactTaken(_))) => page(
            &web,
            &session,
            language,
            form,
            Some(t("error_contact_taken")),
        ),
        Err(AppError::Invalid { field, reason }) => {
            let key = match field.as_str() {
                "first_name" => "error_first_name",
                "phone" => "error_phone",
                "email" if reason.contains("email address or a phone") => "error_contact",
                _ => "error_email",
            };
            page(&web, &session, language, form, Some(t(key)))
        }
        Err(error) => web.failure(language, error),
    }
}
