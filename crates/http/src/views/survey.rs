//! The page a mailed survey links to, made for a phone: the rating from 0 to 10 (chosen
//! already when the member clicked a number in the mail), a comment, and the permission
//! to publish it. And the QR image of a coupon a journey mailed.

use super::i18n::{chosen_language, language_of, text};
use super::{Layout, Web};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::{AppError, Survey, SurveyAnswer};
use stammgast_core::ids::Code;
use stammgast_core::member::Language;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/survey/{link}", get(page).post(answer))
        .route("/coupon-qr/{code}", get(coupon_qr))
}

#[derive(Default, Deserialize, Serialize)]
struct AnswerForm {
    #[serde(default)]
    score: String,
    #[serde(default)]
    comment: String,
    publish: Option<String>,
}

#[derive(Deserialize)]
struct Chosen {
    score: Option<u8>,
}

#[derive(Serialize)]
struct SurveyPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    action: String,
    scores: Vec<u8>,
    chosen: Option<u8>,
    form: AnswerForm,
    error: Option<String>,
}

async fn page(
    State(web): State<Web>,
    Path(link): Path<String>,
    Query(chosen): Query<Chosen>,
    headers: HeaderMap,
) -> Response {
    match web.app.survey(&link).await {
        Ok(survey) => {
            let chosen = chosen.score.filter(|score| *score <= 10);
            let language = language_for(&headers, &survey);
            show(
                &web,
                language,
                &link,
                &survey,
                chosen,
                AnswerForm::default(),
                None,
            )
        }
        Err(error) => gone_or_failure(&web, language_of(&headers), error),
    }
}

async fn answer(
    State(web): State<Web>,
    Path(link): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AnswerForm>,
) -> Response {
    let survey = match web.app.survey(&link).await {
        Ok(survey) => survey,
        Err(error) => return gone_or_failure(&web, language_of(&headers), error),
    };
    let language = language_for(&headers, &survey);
    let Some(score) = form.score.trim().parse::<u8>().ok().filter(|s| *s <= 10) else {
        let error = text(language, "survey_error_score", &[]);
        return show(&web, language, &link, &survey, None, form, error);
    };
    let answer = SurveyAnswer {
        score,
        comment: form.comment.clone(),
        publish: form.publish.is_some(),
    };
    match web.app.answer_survey(&link, answer).await {
        Ok(()) => {
            let thanks = text(
                language,
                "survey_thanks",
                &[("business", &survey.business_name)],
            );
            web.message_page(
                language,
                StatusCode::OK,
                "survey_thanks_title",
                thanks.unwrap_or_default(),
            )
        }
        Err(AppError::Invalid { field, .. }) => {
            let error = text(language, &format!("survey_error_{field}"), &[]);
            show(&web, language, &link, &survey, Some(score), form, error)
        }
        Err(error) => gone_or_failure(&web, language, error),
    }
}

/// The language the member switched to, else theirs (the mail's).
fn language_for(headers: &HeaderMap, survey: &Survey) -> Language {
    chosen_language(headers)
        .or_else(|| Language::parse(&survey.language).ok())
        .unwrap_or_default()
}

fn show(
    web: &Web,
    language: Language,
    link: &str,
    survey: &Survey,
    chosen: Option<u8>,
    form: AnswerForm,
    error: Option<String>,
) -> Response {
    let status = super::form_status(error.is_some());
    let title = text(
        language,
        "survey_title",
        &[("business", &survey.business_name)],
    );
    let path = format!("/survey/{link}");
    let page = SurveyPage {
        layout: Layout {
            lang: language.as_str(),
            title: title.unwrap_or_default(),
            business: Some(&survey.business_name),
            path: &path,
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        action: path.clone(),
        scores: (0..=10).collect(),
        chosen: chosen.or_else(|| form.score.trim().parse().ok()),
        form,
        error,
    };
    (status, web.render("survey.html", page)).into_response()
}

fn gone_or_failure(web: &Web, language: Language, error: AppError) -> Response {
    match error {
        AppError::Unauthenticated => web.error(
            language,
            StatusCode::NOT_FOUND,
            "consent_link_gone_title",
            "consent_link_gone",
        ),
        other => web.failure(language, other),
    }
}

/// A coupon code as a QR image (PNG) for the mail that gives it; anything that is not a
/// coupon code is refused, so this draws no other codes.
async fn coupon_qr(Path(code): Path<String>) -> Response {
    const PIXELS_PER_MODULE: u32 = 8;
    let png = Code::parse(&code)
        .ok()
        .and_then(|code| super::print::qr_png(code.as_str(), PIXELS_PER_MODULE));
    match png {
        Some(png) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            png,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
