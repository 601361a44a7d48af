//! The team page: the business's staff accounts, adding one with a role and a first
//! password, and removing one (which ends their sessions).

use super::Web;
use super::i18n::text;
use super::office_frame::{OfficeView, Said, render};
use super::session::{Manager, csrf_ok};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, NewStaffAccount, StaffSession, parse_role, role_name};
use stammgast_core::ids::StaffId;
use stammgast_core::member::Language;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/office/team", get(team).post(add))
        .route("/office/team/{id}/remove", post(remove))
}

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    email: String,
    role: String,
    is_me: bool,
}

#[derive(Clone, Default, Deserialize, Serialize)]
struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default, skip_serializing)]
    password: String,
}

#[derive(Serialize)]
struct TeamPage {
    team: Vec<Row>,
    form: AddForm,
}

const VIEW: OfficeView = OfficeView {
    template: "office_team.html",
    title_key: "team_title",
    path: "/office/team",
};

async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    form: AddForm,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let team = match web.app.team(session).await {
        Ok(team) => team,
        Err(error) => return web.failure(language, error),
    };
    let role_label =
        |role| text(language, &format!("role_{}", role_name(role)), &[]).unwrap_or_default();
    let rows = team
        .into_iter()
        .map(|member| Row {
            id: member.id.to_string(),
            is_me: member.id == session.staff_id,
            role: role_label(member.role),
            name: member.name,
            email: member.email,
        })
        .collect();
    let page = TeamPage { team: rows, form };
    render(web, session, language, VIEW, page, Said { notice, error }).await
}

async fn team(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    show(&web, &session, language, AddForm::default(), None, None).await
}

async fn add(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<AddForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let t = |key: &str| text(language, key, &[]);
    let Some(role) = parse_role(&form.role) else {
        return show(&web, &session, language, form, None, t("team_error_role")).await;
    };
    let account = NewStaffAccount {
        email: form.email.clone(),
        name: form.name.clone(),
        role,
        password: form.password.clone(),
    };
    match web.app.add_to_team(&session, account).await {
        Ok(_) => {
            show(
                &web,
                &session,
                language,
                AddForm::default(),
                text(language, "team_added", &[("name", form.name.trim())]),
                None,
            )
            .await
        }
        Err(AppError::Invalid { field, reason }) => {
            let key = match field.as_str() {
                "email" if reason.contains("already") => "team_error_taken",
                "email" => "error_email",
                "name" => "team_error_name",
                "password" => "team_error_password",
                _ => "team_error_role",
            };
            show(&web, &session, language, form, None, t(key)).await
        }
        Err(error) => web.failure(language, error),
    }
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    csrf: String,
}

async fn remove(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
    Form(form): Form<RemoveForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let Some(id) = StaffId::parse(&id) else {
        return web.failure(language, AppError::NotFound);
    };
    match web.app.remove_from_team(&session, id).await {
        Ok(()) => Redirect::to("/office/team").into_response(),
        Err(AppError::Invalid { .. }) => {
            show(
                &web,
                &session,
                language,
                AddForm::default(),
                None,
                text(language, "team_error_remove", &[]),
            )
            .await
        }
        Err(error) => web.failure(language, error),
    }
}
