//! Importing members from a CSV file: a dry run that reports every row's fate first, then
//! the import. The page sends big files in parts and shows the progress; without
//! JavaScript the pasted file is checked and imported in one go.

use super::i18n::text;
use super::session::{Manager, csrf_ok};
use super::{Layout, Web};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use stammgast_app::AppError;
use stammgast_app::import::ImportReport;
use stammgast_core::member::Language;

/// A pasted or uploaded file of this size is accepted (about 100,000 rows).
const IMPORT_BYTES_MAX: usize = 8 * 1024 * 1024;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/office/import", get(page).post(import))
        .layer(DefaultBodyLimit::max(IMPORT_BYTES_MAX))
}

#[derive(Serialize)]
struct ProblemView {
    line: usize,
    message: String,
}

/// The report as the page and the script show it.
#[derive(Serialize)]
struct ReportView {
    dry_run: bool,
    rows: usize,
    imported: usize,
    already_members: usize,
    problems: Vec<ProblemView>,
    summary: String,
}

fn report_view(report: ImportReport, dry_run: bool, language: Language) -> ReportView {
    let key = if dry_run {
        "import_dry_summary"
    } else {
        "import_summary"
    };
    let summary = text(
        language,
        key,
        &[
            ("rows", &report.rows.to_string()),
            ("imported", &report.imported.to_string()),
            ("existing", &report.already_members.len().to_string()),
            ("problems", &report.problems.len().to_string()),
        ],
    )
    .unwrap_or_default();
    ReportView {
        dry_run,
        rows: report.rows,
        imported: report.imported,
        already_members: report.already_members.len(),
        problems: report
            .problems
            .into_iter()
            .map(|p| ProblemView {
                line: p.line,
                message: format!("{}: {}", p.field, p.reason),
            })
            .collect(),
        summary,
    }
}

#[derive(Serialize)]
struct ImportPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    csrf: &'a str,
    csv: String,
    report: Option<ReportView>,
}

fn render(
    web: &Web,
    language: Language,
    csrf: &str,
    business: &str,
    csv: String,
    report: Option<ReportView>,
) -> Response {
    let page = ImportPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "import_title", &[]).unwrap_or_default(),
            business: Some(business),
            path: "/office/import",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        csrf,
        csv,
        report,
    };
    web.render("office_import.html", page)
}

async fn page(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    match web.app.business_name(session.caller.business_id).await {
        Ok(name) => render(
            &web,
            language,
            &session.csrf_token,
            &name,
            String::new(),
            None,
        ),
        Err(error) => web.failure(language, error),
    }
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    csv: String,
    #[serde(default)]
    step: String,
}

async fn import(
    State(web): State<Web>,
    Manager(session, language): Manager,
    headers: HeaderMap,
    Form(form): Form<ImportForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let dry_run = form.step != "import";
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    let report = match web
        .app
        .import_members(&session.caller, &form.csv, dry_run)
        .await
    {
        Ok(report) => report_view(report, dry_run, language),
        Err(AppError::Invalid { reason, .. }) if wants_json => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({"error": reason})),
            )
                .into_response();
        }
        Err(error) => return web.failure(language, error),
    };
    if wants_json {
        return Json(report).into_response();
    }
    match web.app.business_name(session.caller.business_id).await {
        Ok(name) => render(
            &web,
            language,
            &session.csrf_token,
            &name,
            form.csv,
            Some(report),
        ),
        Err(error) => web.failure(language, error),
    }
}
