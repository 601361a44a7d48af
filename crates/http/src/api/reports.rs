//! `/reports` and `/surveys`: the KPI report of a period, and NPS survey answers.

use super::Params;
use super::dto::{self, KpiQuery, KpiReport, SurveyAnswerRecorded, SurveyAnswerRequest};
use crate::extract::{Auth, parse_json};
use crate::problem::ApiError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use stammgast_app::{App, AppError, ReportQuery};
use stammgast_core::ids::LocationId;

pub fn router() -> Router<App> {
    Router::new()
        .route("/reports/kpis", get(kpis))
        .route("/surveys/nps", post(answer))
}

async fn kpis(
    State(app): State<App>,
    Auth(caller): Auth,
    Params(query): Params<KpiQuery>,
) -> Result<Json<KpiReport>, ApiError> {
    let location = query.location_id.as_deref().map(location_id).transpose()?;
    let report = app
        .report(
            &caller,
            ReportQuery {
                from: query.from,
                to: query.to,
                location,
            },
        )
        .await?;
    Ok(Json(KpiReport::new(caller.business_id, &report)))
}

async fn answer(
    State(app): State<App>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<SurveyAnswerRecorded>), ApiError> {
    let body: SurveyAnswerRequest = parse_json(&body)?;
    let member = dto::member_id(&body.member_id)?;
    let location = body.location_id.as_deref().map(location_id).transpose()?;
    app.record_survey_answer(&caller, member, body.score, &body.comment, location)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SurveyAnswerRecorded { recorded: true }),
    ))
}

fn location_id(text: &str) -> Result<LocationId, AppError> {
    dto::parse_uuid("location_id", text).map(LocationId::from_uuid)
}
