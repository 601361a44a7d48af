//! `/members`: join, look up, list, history, and manual adjustments.

use super::dto::{
    self, AdjustmentRequest, AdjustmentResult, JoinMemberRequest, Joined, List, ListQuery, Member,
};
use super::{Params, unexpected};
use crate::extract::{Auth, KeyedJson, OptionallyKeyedJson};
use crate::problem::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use stammgast_app::MemberFilter;
use stammgast_app::{App, AppError, JoinMember};
use stammgast_core::batch::Outcome;
use stammgast_core::ledger::Unit;

pub fn router() -> Router<App> {
    Router::new()
        .route("/members", post(join).get(list))
        .route("/members/by-code/{code}", get(by_code))
        .route("/members/{id}", get(show))
        .route("/members/{id}/events", get(events))
        .route("/members/{id}/ledger", get(ledger))
        .route("/members/{id}/adjustments", post(adjust))
        .route("/audit", get(audit))
}

async fn join(
    State(app): State<App>,
    Auth(caller): Auth,
    request: OptionallyKeyedJson<JoinMemberRequest>,
) -> Result<(StatusCode, Json<Joined>), ApiError> {
    let body = request.body;
    let join = JoinMember {
        first_name: body.first_name,
        email: body.email,
        phone: body.phone,
        birthday: body.birthday,
        language: body.language,
        consents: Vec::new(),
    };
    match app.join_member(&caller, request.key, join).await? {
        Outcome::Joined {
            member_id,
            code,
            signup,
        } => Ok((
            StatusCode::CREATED,
            Json(Joined {
                id: member_id.as_uuid(),
                qr_payload: stammgast_core::member::member_qr_payload(&code),
                code: code.to_string(),
                signup: (&signup).into(),
            }),
        )),
        other => Err(unexpected(&other)),
    }
}

async fn show(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Member>, ApiError> {
    let member = app
        .member(&caller, dto::member_id(&id).map_err(not_found)?)
        .await?;
    Ok(Json(member.into()))
}

async fn by_code(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(code): Path<String>,
) -> Result<Json<Member>, ApiError> {
    let member = app
        .member_by_code(&caller, &code)
        .await
        .map_err(not_found)?;
    Ok(Json(member.into()))
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
    Params(query): Params<ListQuery>,
) -> Result<Json<List<Member>>, ApiError> {
    let page = app
        .members(
            &caller,
            &MemberFilter::default(),
            query.cursor.clone(),
            query.limit(),
        )
        .await?;
    Ok(Json(List::of(page)))
}

async fn events(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Params(query): Params<ListQuery>,
) -> Result<Json<List<dto::HistoryEvent>>, ApiError> {
    let member = dto::member_id(&id).map_err(not_found)?;
    let page = app
        .member_events(&caller, member, query.cursor.clone(), query.limit())
        .await?;
    Ok(Json(List::of(page)))
}

async fn ledger(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Params(query): Params<ListQuery>,
) -> Result<Json<List<dto::LedgerEntry>>, ApiError> {
    let member = dto::member_id(&id).map_err(not_found)?;
    let page = app
        .member_transfers(&caller, member, query.cursor.clone(), query.limit())
        .await?;
    Ok(Json(List::of(page)))
}

async fn adjust(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    request: KeyedJson<AdjustmentRequest>,
) -> Result<(StatusCode, Json<AdjustmentResult>), ApiError> {
    let member = dto::member_id(&id).map_err(not_found)?;
    let body = request.body;
    let unit = Unit::try_from(body.unit).map_err(|reason| AppError::invalid("unit", reason))?;
    match app
        .adjust(&caller, request.key, member, unit, body.delta, body.reason)
        .await?
    {
        Outcome::Adjustment(outcome) => Ok((StatusCode::CREATED, Json((&outcome).into()))),
        other => Err(unexpected(&other)),
    }
}

/// A malformed id in the path names no resource: not found, like an unknown one.
fn not_found(error: AppError) -> AppError {
    match error {
        AppError::Invalid { .. } => AppError::NotFound,
        other => other,
    }
}

async fn audit(
    State(app): State<App>,
    Auth(caller): Auth,
    Params(query): Params<ListQuery>,
) -> Result<Json<List<dto::AuditLine>>, ApiError> {
    let page = app
        .audit_log(&caller, query.cursor.clone(), query.limit())
        .await?;
    Ok(Json(List::of(page)))
}
