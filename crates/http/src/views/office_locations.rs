//! The business's locations: listed and added; each counter device picks the one it
//! books to.

use super::Web;
use super::i18n::text;
use super::office_frame::{OfficeView, Said, render};
use super::session::{Manager, csrf_ok};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, StaffSession};
use stammgast_core::member::Language;

pub fn router() -> Router<Web> {
    Router::new().route("/office/locations", get(page).post(add))
}

#[derive(Serialize)]
struct LocationsPage {
    locations: Vec<(String, String)>,
}

const VIEW: OfficeView = OfficeView {
    template: "office_locations.html",
    title_key: "locations_title",
    path: "/office/locations",
};

async fn show(web: &Web, session: &StaffSession, language: Language, said: Said) -> Response {
    let locations = match web.app.locations(&session.caller).await {
        Ok(locations) => locations.into_iter().map(|l| (l.name, l.address)).collect(),
        Err(error) => return web.failure(language, error),
    };
    render(
        web,
        session,
        language,
        VIEW,
        LocationsPage { locations },
        said,
    )
    .await
}

async fn page(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    show(&web, &session, language, Said::default()).await
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
                Said::notice(text(
                    language,
                    "locations_added",
                    &[("name", form.name.trim())],
                )),
            )
            .await
        }
        Err(AppError::Invalid { field, .. }) => {
            show(
                &web,
                &session,
                language,
                Said::error(text(language, &format!("locations_error_{field}"), &[])),
            )
            .await
        }
        Err(error) => web.failure(language, error),
    }
}
