//! Custom segments in the back office: the list with each segment's size, a form to write a
//! filter, preview whom it finds and save it, with a filter that does not read explained
//! in the reader's language at the place it goes wrong.

use super::Web;
use super::i18n::text;
use super::office_frame::{OfficeView, Said, render};
use super::session::{Manager, csrf_ok};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, StaffSession};
use stammgast_core::analytics::filter::{FilterError, Found};
use stammgast_core::member::Language;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/office/segments", get(page).post(submit))
        .route("/office/segments/delete", post(delete))
}

const VIEW: OfficeView = OfficeView {
    template: "office_segments.html",
    title_key: "segments_title",
    path: "/office/segments",
};

#[derive(Serialize)]
struct SegmentRow {
    slug: String,
    name: String,
    filter: String,
    members: usize,
}

#[derive(Default, Deserialize, Serialize)]
struct SegmentForm {
    #[serde(default)]
    csrf: String,
    /// Empty for a new segment.
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    filter: String,
    /// `preview` or `save`.
    #[serde(default)]
    action: String,
}

/// Where a filter goes wrong: the text before the place, the place, the rest, and why.
#[derive(Serialize)]
struct FilterProblem {
    before: String,
    at: String,
    after: String,
    reason: String,
}

#[derive(Serialize)]
struct SegmentsPage {
    segments: Vec<SegmentRow>,
    form: SegmentForm,
    preview: Option<String>,
    filter_problem: Option<FilterProblem>,
}

#[derive(Deserialize)]
struct PageQuery {
    edit: Option<String>,
}

async fn page(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Query(query): Query<PageQuery>,
) -> Response {
    let segments = match web.app.custom_segments(&session.caller).await {
        Ok(segments) => segments,
        Err(error) => return web.failure(language, error),
    };
    let form = query
        .edit
        .and_then(|slug| segments.iter().find(|s| s.slug.as_str() == slug))
        .map(|s| SegmentForm {
            slug: s.slug.to_string(),
            name: s.name.clone(),
            filter: s.filter.clone(),
            ..SegmentForm::default()
        })
        .unwrap_or_default();
    show(&web, &session, language, form, None, None, Said::default()).await
}

async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    form: SegmentForm,
    preview: Option<String>,
    filter_problem: Option<FilterProblem>,
    said: Said,
) -> Response {
    let segments = match web.app.custom_segments(&session.caller).await {
        Ok(segments) => segments
            .into_iter()
            .map(|s| SegmentRow {
                slug: s.slug.to_string(),
                name: s.name,
                filter: s.filter,
                members: s.members,
            })
            .collect(),
        Err(error) => return web.failure(language, error),
    };
    let page = SegmentsPage {
        segments,
        form: SegmentForm {
            csrf: String::new(),
            action: String::new(),
            ..form
        },
        preview,
        filter_problem,
    };
    render(web, session, language, VIEW, page, said).await
}

async fn submit(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<SegmentForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let caller = &session.caller;
    if form.action == "preview" {
        return match web.app.preview_segment(caller, &form.filter).await {
            Ok(preview) => {
                let names: Vec<&str> = preview.sample.iter().map(|(_, n)| n.as_str()).collect();
                let count = preview.members.to_string();
                let key = match preview.members {
                    0 => "segments_preview_none",
                    1 => "segments_preview_one",
                    n if n > names.len() => "segments_preview_more",
                    _ => "segments_preview",
                };
                let said = text(
                    language,
                    key,
                    &[("count", &count), ("names", &names.join(", "))],
                );
                show(&web, &session, language, form, said, None, Said::default()).await
            }
            Err(error) => refused(&web, &session, language, form, error).await,
        };
    }
    let slug = Some(form.slug.as_str()).filter(|s| !s.is_empty());
    match web
        .app
        .save_custom_segment(caller, slug, &form.name, &form.filter)
        .await
    {
        Ok(saved) => {
            let count = saved.members.to_string();
            let key = match saved.members {
                1 => "segments_saved_one",
                _ => "segments_saved",
            };
            let said = Said::notice(text(
                language,
                key,
                &[("name", &saved.name), ("count", &count)],
            ));
            show(
                &web,
                &session,
                language,
                SegmentForm::default(),
                None,
                None,
                said,
            )
            .await
        }
        Err(error) => refused(&web, &session, language, form, error).await,
    }
}

/// Shows the form again with what to fix.
async fn refused(
    web: &Web,
    session: &StaffSession,
    language: Language,
    form: SegmentForm,
    error: AppError,
) -> Response {
    match error {
        AppError::InvalidFilter(error) => {
            let problem = filter_problem(language, &form.filter, &error);
            let said = Said::error(text(language, "segments_error_filter", &[]));
            show(web, session, language, form, None, Some(problem), said).await
        }
        AppError::Invalid { field, .. } => {
            let said = Said::error(text(language, &format!("segments_error_{field}"), &[]));
            show(web, session, language, form, None, None, said).await
        }
        error => web.failure(language, error),
    }
}

async fn delete(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<SegmentForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    match web
        .app
        .delete_custom_segment(&session.caller, &form.slug)
        .await
    {
        Ok(()) | Err(AppError::NotFound) => Redirect::to("/office/segments").into_response(),
        Err(error) => web.failure(language, error),
    }
}

/// The filter split at the place it goes wrong, and the reason in `language`.
fn filter_problem(language: Language, filter: &str, error: &FilterError) -> FilterProblem {
    let chars: Vec<char> = filter.chars().collect();
    let index = error.position.saturating_sub(1).min(chars.len());
    let end = (index + 1).min(chars.len());
    let mut values: Vec<(&str, String)> = error.reason.values();
    if let Some(found) = error.reason.found() {
        let found = match found {
            Found::End => text(language, "filter_found_end", &[]).unwrap_or_default(),
            Found::Text(written) => format!("„{written}“"),
        };
        values.push(("found", found));
    }
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let key = format!("filter_error_{}", error.reason.key());
    let reason = text(language, &key, &values).unwrap_or_else(|| error.reason.to_string());
    let position = error.position.to_string();
    FilterProblem {
        before: chars[..index].iter().collect(),
        at: chars[index..end].iter().collect(),
        after: chars[end..].iter().collect(),
        reason: text(
            language,
            "filter_error_at",
            &[("position", &position), ("reason", &reason)],
        )
        .unwrap_or(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stammgast_core::analytics::filter::Filter;

    /// One filter per reason a filter can fail for.
    fn bad_filters() -> Vec<String> {
        let deep = format!("{}visits > 1{}", "(".repeat(35), ")".repeat(35));
        [
            "visits > 1 tag vip",
            "bought \"cake",
            "visits ! 1",
            "visits > 1 ; x",
            "(visits > 1",
            "",
            ")",
            "visit > 1",
            "visits >",
            "spend > 1.234",
            "visits > 1.5",
            "birthday_month = 13",
            "visits 1",
            "tier > gold",
            "tier = platin",
            "bought",
            "tag",
            "consent",
            "lifecycle =",
            "tag \"!!\"",
            "consent fax",
            "tier = gold",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([deep, "x".repeat(2_001)])
        .collect()
    }

    #[test]
    fn every_reason_a_filter_fails_for_is_said_in_german_and_english() {
        let mut keys = std::collections::BTreeSet::new();
        for filter in bad_filters() {
            let tiers = if filter == "tier = gold" {
                vec![]
            } else {
                vec!["gold".into()]
            };
            let error = Filter::parse(&filter, &tiers).expect_err(&filter);
            keys.insert(error.reason.key());
            for language in [Language::De, Language::En] {
                let problem = filter_problem(language, &filter, &error);
                let key = format!("filter_error_{}", error.reason.key());
                assert!(text(language, &key, &[]).is_some(), "{key} in {language:?}");
                assert!(!problem.reason.contains('{'), "{}", problem.reason);
            }
        }
        assert_eq!(keys.len(), 24, "every reason: {keys:?}");
    }

    #[test]
    fn the_problem_marks_the_place_in_the_filter() {
        let error = Filter::parse("visits >= viele", &[]).unwrap_err();
        let problem = filter_problem(Language::De, "visits >= viele", &error);
        assert_eq!(
            (
                problem.before.as_str(),
                problem.at.as_str(),
                problem.after.as_str()
            ),
            ("visits >= ", "v", "iele")
        );
        assert_eq!(
            problem.reason,
            "Zeichen 11: Nach „visits >=“ fehlt eine Zahl; dort steht „viele“."
        );
    }
}
