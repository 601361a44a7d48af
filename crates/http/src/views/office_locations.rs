//! The business's locations: listed and added; each counter device picks the one it
//! books to.

use super::i18n::text;
use super::session::{Manager, csrf_ok};
use super::{Layout, Web};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, StaffSession};
use stammgast_core::member::Language;

pub fn router() -> Router<Web> {
    Router::new().route("/office/locations", get(page).post(add))
}

#[derive(Serialize)]
struct LocationsPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    csrf: &'a str,
    locations: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
}

async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let business = session.caller.business_id;
    let (locations, name) = match (
        web.app.locations(&session.caller).await,
        web.app.business_name(business).await,
    ) {
        (Ok(locations), Ok(name)) => (locations, name),
        (Err(error), _) | (_, Err(error)) => return web.failure(language, error),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = LocationsPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "locations_title", &[]).unwrap_or_default(),
            business: Some(&name),
            path: "/office/locations",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        csrf: &session.csrf_token,
        locations: locations.into_iter().map(|l| (l.name, l.address)).collect(),
        notice,
        error,
    };
    (status, web.render("office_locations.html", page)).into_response()
}

async fn page(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    show(&web, &session, language, None, None).await
}

#[derive(Deserialize)]
struct LocationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
}

async fn add(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<LocationForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    match web
        .app
        .add_location(&session.caller, &form.name, &form.address)
        .await
    {
        Ok(_) => {
            show(
                &web,
                &session,
                language,
                text(language, "locations_added", &[("name", form.name.trim())]),
                None,
            )
            .await
        }
        Err(AppError::Invalid { field, .. }) => {
            show(
                &web,
                &session,
                language,
                None,
                text(language, &format!("locations_error_{field}"), &[]),
            )
            .await
        }
        Err(error) => web.failure(language, error),
    }
}
