//! `/journeys`: the automations — listed with their results, set up from a template,
//! written or changed whole (`active` starts and pauses one), and who one would write to.

use super::dto::{FromTemplateRequest, JourneyResults, Preview};
use crate::extract::{Auth, parse_json};
use crate::problem::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use stammgast_app::{App, AppError};
use stammgast_core::automation::journey::Journey;

pub fn router() -> Router<App> {
    Router::new()
        .route("/journeys", get(list))
        .route("/journeys:from-template", post(from_template))
        .route("/journeys/{slug}", get(one).put(save))
        .route("/journeys/{slug}/audience", get(audience))
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
) -> Result<Json<Vec<JourneyResults>>, ApiError> {
    let mut results = Vec::new();
    for journey in app.journeys(&caller).await? {
        let report = app.journey_report(&caller, journey.slug.as_str()).await?;
        results.push(report.into());
    }
    Ok(Json(results))
}

async fn one(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(slug): Path<String>,
) -> Result<Json<JourneyResults>, ApiError> {
    Ok(Json(app.journey_report(&caller, &slug).await?.into()))
}

async fn from_template(
    State(app): State<App>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<Journey>), ApiError> {
    let body: FromTemplateRequest = parse_json(&body)?;
    let journey = app.journey_from_template(&caller, &body.template).await?;
    Ok((StatusCode::CREATED, Json(journey)))
}

async fn save(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<JourneyResults>, ApiError> {
    let journey: Journey = parse_json(&body)?;
    if journey.slug.as_str() != slug {
        return Err(
            AppError::invalid("slug", "the slug in the body must be the one in the path").into(),
        );
    }
    app.save_journey(&caller, journey).await?;
    Ok(Json(app.journey_report(&caller, &slug).await?.into()))
}

async fn audience(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(slug): Path<String>,
) -> Result<Json<Preview>, ApiError> {
    Ok(Json(app.journey_audience(&caller, &slug).await?.into()))
}
