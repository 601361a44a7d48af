//! `/segments`, `/members/{id}/tags` and `/members/{id}/consents`: custom segments from a
//! filter expression (listed, previewed, created, changed, deleted), the tags and the
//! consents such filters and the journeys ask for.

use super::dto::{
    self, ConsentRequest, ConsentView, Deleted, Preview, PreviewRequest, Segment, SegmentRequest,
    Tags,
};
use crate::extract::{Auth, parse_json};
use crate::problem::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use stammgast_app::{App, AppError, Caller};
use stammgast_core::ids::MemberId;
use stammgast_core::member::Channel;

pub fn router() -> Router<App> {
    Router::new()
        .route("/segments", get(list).post(create))
        .route("/segments:preview", post(preview))
        .route("/segments/{slug}", put(change).delete(delete))
        .route("/members/{id}/tags", get(tags))
        .route("/members/{id}/tags/{tag}", put(tag).delete(untag))
        .route(
            "/members/{id}/consents/{channel}",
            put(give_consent).delete(withdraw_consent),
        )
}

async fn give_consent(
    State(app): State<App>,
    Auth(caller): Auth,
    Path((id, channel)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Vec<ConsentView>>, ApiError> {
    let body: ConsentRequest = parse_json(&body)?;
    let given = Some((body.text_version, body.source));
    consent(&app, &caller, &id, &channel, given).await
}

async fn withdraw_consent(
    State(app): State<App>,
    Auth(caller): Auth,
    Path((id, channel)): Path<(String, String)>,
) -> Result<Json<Vec<ConsentView>>, ApiError> {
    consent(&app, &caller, &id, &channel, None).await
}

async fn consent(
    app: &App,
    caller: &Caller,
    id: &str,
    channel: &str,
    given: Option<(String, String)>,
) -> Result<Json<Vec<ConsentView>>, ApiError> {
    let channel = Channel::parse(channel).map_err(|reason| AppError::invalid("channel", reason))?;
    let records = app
        .set_marketing_consent(caller, member(id)?, channel, given)
        .await?;
    Ok(Json(records.into_iter().map(ConsentView::from).collect()))
}

async fn list(State(app): State<App>, Auth(caller): Auth) -> Result<Json<Vec<Segment>>, ApiError> {
    let segments = app.custom_segments(&caller).await?;
    Ok(Json(segments.into_iter().map(Segment::from).collect()))
}

async fn preview(
    State(app): State<App>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<Json<Preview>, ApiError> {
    let body: PreviewRequest = parse_json(&body)?;
    Ok(Json(
        app.preview_segment(&caller, &body.filter).await?.into(),
    ))
}

async fn create(
    State(app): State<App>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<Segment>), ApiError> {
    let body: SegmentRequest = parse_json(&body)?;
    let segment = app
        .save_custom_segment(&caller, None, &body.name, &body.filter)
        .await?;
    Ok((StatusCode::CREATED, Json(segment.into())))
}

async fn change(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<Segment>, ApiError> {
    let body: SegmentRequest = parse_json(&body)?;
    let segment = app
        .save_custom_segment(&caller, Some(&slug), &body.name, &body.filter)
        .await?;
    Ok(Json(segment.into()))
}

async fn delete(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(slug): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    app.delete_custom_segment(&caller, &slug).await?;
    Ok(Json(Deleted { deleted: true }))
}

async fn tags(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Tags>, ApiError> {
    current_tags(&app, &caller, member(&id)?).await
}

async fn tag(
    State(app): State<App>,
    Auth(caller): Auth,
    Path((id, tag)): Path<(String, String)>,
) -> Result<Json<Tags>, ApiError> {
    let member = member(&id)?;
    app.tag_member(&caller, member, &tag).await?;
    current_tags(&app, &caller, member).await
}

async fn untag(
    State(app): State<App>,
    Auth(caller): Auth,
    Path((id, tag)): Path<(String, String)>,
) -> Result<Json<Tags>, ApiError> {
    let member = member(&id)?;
    app.untag_member(&caller, member, &tag).await?;
    current_tags(&app, &caller, member).await
}

async fn current_tags(
    app: &App,
    caller: &Caller,
    member: MemberId,
) -> Result<Json<Tags>, ApiError> {
    let tags = app.member_tags(caller, member).await?;
    Ok(Json(Tags {
        tags: tags.iter().map(ToString::to_string).collect(),
    }))
}

/// A member id in the path that does not parse names no member: 404.
fn member(id: &str) -> Result<MemberId, AppError> {
    dto::member_id(id).map_err(|_| AppError::NotFound)
}
