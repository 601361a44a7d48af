//! The shop's legal texts: imprint, privacy notice and terms, shown on its join page and
//! card (the product's defaults until the owner writes their own).

use super::i18n::text;
use super::session::{Manager, csrf_ok};
use super::{Layout, Web};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, LegalTexts, StaffSession};
use stammgast_core::member::Language;

pub fn router() -> Router<Web> {
    Router::new().route("/office/legal", get(page).post(save))
}

#[derive(Clone, Default, Deserialize, Serialize)]
struct LegalForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    imprint: String,
    #[serde(default)]
    privacy_notice: String,
    #[serde(default)]
    terms: String,
}

#[derive(Serialize)]
struct LegalPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    csrf: &'a str,
    form: LegalForm,
    public_base: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    form: Option<LegalForm>,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let business = session.caller.business_id;
    let (settings, name) = match (
        web.app.shop_settings(business).await,
        web.app.business_name(business).await,
    ) {
        (Ok(settings), Ok(name)) => (settings, name),
        (Err(error), _) | (_, Err(error)) => return web.failure(language, error),
    };
    let form = form.unwrap_or(LegalForm {
        csrf: String::new(),
        imprint: settings.legal.imprint,
        privacy_notice: settings.legal.privacy_notice,
        terms: settings.legal.terms,
    });
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = LegalPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "legal_title", &[]).unwrap_or_default(),
            business: Some(&name),
            path: "/office/legal",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        csrf: &session.csrf_token,
        form,
        public_base: format!("/join/{business}"),
        notice,
        error,
    };
    (status, web.render("office_legal.html", page)).into_response()
}

async fn page(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    show(&web, &session, language, None, None, None).await
}

async fn save(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<LegalForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let legal = LegalTexts {
        imprint: form.imprint.clone(),
        privacy_notice: form.privacy_notice.clone(),
        terms: form.terms.clone(),
    };
    match web.app.save_legal_texts(&session.caller, legal).await {
        Ok(()) => {
            show(
                &web,
                &session,
                language,
                None,
                text(language, "legal_saved", &[]),
                None,
            )
            .await
        }
        Err(AppError::Invalid { .. }) => {
            show(
                &web,
                &session,
                language,
                Some(form),
                None,
                text(language, "legal_too_long", &[]),
            )
            .await
        }
        Err(error) => web.failure(language, error),
    }
}
