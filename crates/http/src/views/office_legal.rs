//! The shop's legal texts: imprint, privacy notice and terms, shown on its join page and
//! card (the product's defaults until the owner writes their own).

use super::Web;
use super::i18n::text;
use super::office_frame::{OfficeView, Said, render};
use super::session::{Manager, csrf_ok};
use axum::extract::State;
use axum::response::Response;
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
struct LegalPage {
    form: LegalForm,
    public_base: String,
}

const VIEW: OfficeView = OfficeView {
    template: "office_legal.html",
    title_key: "legal_title",
    path: "/office/legal",
};

async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    form: Option<LegalForm>,
    said: Said,
) -> Response {
    let business = session.caller.business_id;
    let settings = match web.app.shop_settings(business).await {
        Ok(settings) => settings,
        Err(error) => return web.failure(language, error),
    };
    let form = form.unwrap_or(LegalForm {
        csrf: String::new(),
        imprint: settings.legal.imprint,
        privacy_notice: settings.legal.privacy_notice,
        terms: settings.legal.terms,
    });
    let page = LegalPage {
        form,
        public_base: format!("/join/{business}"),
    };
    render(web, session, language, VIEW, page, said).await
}

async fn page(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    show(&web, &session, language, None, Said::default()).await
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
            let said = Said::notice(text(language, "legal_saved", &[]));
            show(&web, &session, language, None, said).await
        }
        Err(AppError::Invalid { .. }) => {
            let said = Said::error(text(language, "legal_too_long", &[]));
            show(&web, &session, language, Some(form), said).await
        }
        Err(error) => web.failure(language, error),
    }
}
