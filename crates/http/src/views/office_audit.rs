//! The audit log in the back office: who adjusted or erased what, when and why.

use super::Web;
use super::office_frame::{OfficeView, Said, render};
use super::session::Manager;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Lines per page.
const AUDIT_PAGE_SIZE: usize = 100;

pub fn router() -> Router<Web> {
    Router::new().route("/office/audit", get(page))
}

#[derive(Serialize)]
struct Line {
    time: String,
    actor: String,
    action: String,
    /// The member's profile, when the line is about a member.
    member: Option<String>,
    detail: String,
}

#[derive(Serialize)]
struct AuditPage {
    lines: Vec<Line>,
    next: Option<String>,
}

const VIEW: OfficeView = OfficeView {
    template: "office_audit.html",
    title_key: "audit_title",
    path: "/office/audit",
};

#[derive(Deserialize)]
struct Cursor {
    cursor: Option<String>,
}

async fn page(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Query(query): Query<Cursor>,
) -> Response {
    let page = match web
        .app
        .audit_log(&session.caller, query.cursor, AUDIT_PAGE_SIZE)
        .await
    {
        Ok(page) => page,
        Err(error) => return web.failure(language, error),
    };
    // Staff appear by name; keys and members by their kind and id.
    let names: HashMap<String, String> = match web.app.team(&session).await {
        Ok(team) => team
            .into_iter()
            .map(|m| (format!("staff:{}", m.id), m.name))
            .collect(),
        Err(error) => return web.failure(language, error),
    };
    let lines = page
        .items
        .into_iter()
        .map(|entry| Line {
            time: entry.at.format("%d.%m.%Y %H:%M").to_string(),
            actor: names.get(&entry.actor).cloned().unwrap_or(entry.actor),
            action: entry.action,
            member: entry.subject.strip_prefix("member:").map(str::to_owned),
            detail: entry.detail.as_object().map_or_else(String::new, |fields| {
                fields
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}: {}",
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        })
        .collect();
    let next = page
        .next_cursor
        .map(|cursor| format!("/office/audit?cursor={cursor}"));
    render(
        &web,
        &session,
        language,
        VIEW,
        AuditPage { lines, next },
        Said::default(),
    )
    .await
}
