//! The shop's look and counter rules: its colour, the call to action on its QR material,
//! how long cashiers may void a booking, and its logo (served on its public pages).

use super::Web;
use super::i18n::text;
use super::office_frame::{OfficeView, Said, render};
use super::session::{Manager, csrf_ok};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, StaffSession};
use stammgast_core::ids::BusinessId;
use stammgast_core::member::Language;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/office/branding", get(page).post(save))
        .route("/office/branding/logo", post(save_logo))
        .route("/join/{business}/logo", get(logo))
}

/// Where a business's logo is shown from, or `None` without one. The version in the
/// address lets browsers keep the image until it changes.
pub fn logo_url(business: BusinessId, version: i64) -> Option<String> {
    (version > 0).then(|| format!("/join/{business}/logo?v={version}"))
}

#[derive(Serialize)]
struct BrandingPage {
    brand_color: String,
    call_to_action: String,
    void_window_minutes: i64,
    logo: Option<String>,
}

const VIEW: OfficeView = OfficeView {
    template: "office_branding.html",
    title_key: "branding_title",
    path: "/office/branding",
};

async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let business = session.caller.business_id;
    let settings = match web.app.shop_settings(business).await {
        Ok(settings) => settings,
        Err(error) => return web.failure(language, error),
    };
    let page = BrandingPage {
        logo: logo_url(business, settings.logo_version),
        brand_color: settings.brand_color,
        call_to_action: settings.call_to_action,
        void_window_minutes: settings.void_window_minutes,
    };
    render(web, session, language, VIEW, page, Said { notice, error }).await
}

async fn page(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    show(&web, &session, language, None, None).await
}

#[derive(Deserialize)]
struct BrandingForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    brand_color: String,
    #[serde(default)]
    call_to_action: String,
    #[serde(default)]
    void_window_minutes: String,
}

/// The page after a change: saved, or what to fix.
async fn after(
    web: &Web,
    session: &StaffSession,
    language: Language,
    result: Result<(), AppError>,
) -> Response {
    match result {
        Ok(()) => {
            show(
                web,
                session,
                language,
                text(language, "legal_saved", &[]),
                None,
            )
            .await
        }
        Err(AppError::Invalid { field, .. }) => {
            let message = text(language, &format!("branding_error_{field}"), &[])
                .or_else(|| text(language, &format!("setup_error_{field}"), &[]));
            show(web, session, language, None, message).await
        }
        Err(error) => web.failure(language, error),
    }
}

async fn save(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<BrandingForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let result = match form.void_window_minutes.trim().parse::<i64>() {
        Ok(minutes) => {
            web.app
                .save_branding(
                    &session.caller,
                    &form.brand_color,
                    &form.call_to_action,
                    minutes,
                )
                .await
        }
        Err(_) => Err(AppError::invalid("void_window_minutes", "a whole number")),
    };
    after(&web, &session, language, result).await
}

#[derive(Deserialize)]
struct LogoForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    content_type: String,
    /// The image in base64 (the page's script reads the chosen file).
    #[serde(default)]
    data: String,
}

async fn save_logo(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<LogoForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let data = form.data.trim();
    let result = if Base64::decode_vec(data).is_err() {
        Err(AppError::invalid("logo", "not base64"))
    } else {
        web.app
            .save_logo(&session.caller, form.content_type.trim(), data)
            .await
    };
    after(&web, &session, language, result).await
}

/// The logo image, for anyone (it is on the shop's public pages).
async fn logo(State(web): State<Web>, Path(business): Path<String>) -> Response {
    let Some(business) = BusinessId::parse(&business) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match web.app.logo(business).await {
        Ok(logo) => match Base64::decode_vec(&logo.base64) {
            Ok(bytes) => (
                [
                    (header::CONTENT_TYPE, logo.content_type),
                    (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
                ],
                bytes,
            )
                .into_response(),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        },
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
