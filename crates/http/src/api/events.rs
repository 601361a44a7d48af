//! Purchases, visits, custom events, the bulk endpoint, voids and refunds.

use super::dto::{
    self, BatchEvent, BatchEventType, BatchItemResult, BatchRequest, BatchResult,
    CustomEventRequest, EventResult, PurchaseRequest, RefundRequest, ReversalResult, VisitRequest,
    VoidRequest,
};
use super::unexpected;
use crate::extract::{Auth, KeyedJson, OptionallyKeyedJson};
use crate::problem::{ApiError, refusal};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use stammgast_app::{App, AppError, Caller, NewEvent, NewEventKind};
use stammgast_core::batch::{IdempotencyKey, Outcome};
use stammgast_core::ids::Slug;

pub fn router() -> Router<App> {
    Router::new()
        .route("/purchases", post(purchase))
        .route("/visits", post(visit))
        .route("/events", post(custom))
        .route(
            "/events:batch",
            post(batch).layer(DefaultBodyLimit::max(crate::extract::BODY_BYTES_MAX)),
        )
        .route("/events/{id}/void", post(void))
        .route("/events/{id}/refunds", post(refund))
}

type Created = (StatusCode, Json<EventResult>);

async fn purchase(
    State(app): State<App>,
    Auth(caller): Auth,
    request: KeyedJson<PurchaseRequest>,
) -> Result<Created, ApiError> {
    let event = purchase_event(request.body)?;
    record(&app, &caller, request.key, event).await
}

async fn visit(
    State(app): State<App>,
    Auth(caller): Auth,
    request: KeyedJson<VisitRequest>,
) -> Result<Created, ApiError> {
    let event = visit_event(request.body)?;
    record(&app, &caller, request.key, event).await
}

async fn custom(
    State(app): State<App>,
    Auth(caller): Auth,
    request: KeyedJson<CustomEventRequest>,
) -> Result<Created, ApiError> {
    let event = custom_event(request.body)?;
    record(&app, &caller, request.key, event).await
}

async fn record(
    app: &App,
    caller: &Caller,
    key: Option<IdempotencyKey>,
    event: NewEvent,
) -> Result<Created, ApiError> {
    match app.record_event(caller, key, event).await? {
        Outcome::Event(outcome) => Ok((StatusCode::CREATED, Json((&outcome).into()))),
        other => Err(unexpected(&other)),
    }
}

fn purchase_event(body: PurchaseRequest) -> Result<NewEvent, AppError> {
    let items = body
        .items
        .into_iter()
        .enumerate()
        .map(|(index, item)| item.into_item(index))
        .collect::<Result<_, _>>()?;
    Ok(NewEvent {
        member_id: dto::member_id(&body.member_id)?,
        kind: NewEventKind::Purchase {
            amount: body.amount.cents("amount")?,
            currency: dto::currency(&body.currency)?,
            items,
        },
        location_id: dto::location_id(body.location_id.as_deref())?,
        occurred_at: body.occurred_at,
    })
}

fn visit_event(body: VisitRequest) -> Result<NewEvent, AppError> {
    Ok(NewEvent {
        member_id: dto::member_id(&body.member_id)?,
        kind: NewEventKind::Visit,
        location_id: dto::location_id(body.location_id.as_deref())?,
        occurred_at: body.occurred_at,
    })
}

fn custom_event(body: CustomEventRequest) -> Result<NewEvent, AppError> {
    Ok(NewEvent {
        member_id: dto::member_id(&body.member_id)?,
        kind: NewEventKind::Custom {
            name: Slug::parse(&body.name).map_err(|reason| AppError::invalid("name", reason))?,
        },
        location_id: dto::location_id(body.location_id.as_deref())?,
        occurred_at: body.occurred_at,
    })
}

/// Converts one bulk event; its key is its own, or the request's key with its index.
fn batch_event(
    index: usize,
    header_key: Option<&IdempotencyKey>,
    event: BatchEvent,
) -> Result<(Option<IdempotencyKey>, NewEvent), AppError> {
    let fingerprint = hex_sha256(format!("{event:?}").as_bytes());
    let key = event
        .idempotency_key
        .clone()
        .or_else(|| header_key.map(|k| format!("{}:{index}", k.key)))
        .map(|key| IdempotencyKey { key, fingerprint });
    let missing = |field: &str| {
        AppError::invalid(
            field,
            format!("a {:?} event needs it", event.kind).to_lowercase(),
        )
    };
    let new_event = match event.kind {
        BatchEventType::Purchase => purchase_event(PurchaseRequest {
            amount: event.amount.clone().ok_or_else(|| missing("amount"))?,
            currency: event.currency.clone().ok_or_else(|| missing("currency"))?,
            member_id: event.member_id,
            items: event.items,
            location_id: event.location_id,
            occurred_at: event.occurred_at,
        }),
        BatchEventType::Visit => visit_event(VisitRequest {
            member_id: event.member_id,
            location_id: event.location_id,
            occurred_at: event.occurred_at,
        }),
        BatchEventType::Custom => custom_event(CustomEventRequest {
            name: event.name.clone().ok_or_else(|| missing("name"))?,
            member_id: event.member_id,
            location_id: event.location_id,
            occurred_at: event.occurred_at,
        }),
    }?;
    Ok((key, new_event))
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Bulk ingestion: malformed events refuse the whole request (nothing is recorded); events
/// the rules refuse (an unknown member, say) are reported one by one.
async fn batch(
    State(app): State<App>,
    Auth(caller): Auth,
    request: OptionallyKeyedJson<BatchRequest>,
) -> Result<Json<BatchResult>, ApiError> {
    let events = request
        .body
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            batch_event(index, request.key.as_ref(), event)
                .map_err(|e| e.in_element("events", index))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let decisions = app.record_events(&caller, events).await?;
    let results: Vec<BatchItemResult> = decisions
        .into_iter()
        .enumerate()
        .map(|(index, decision)| match decision {
            Ok(Outcome::Event(outcome)) => BatchItemResult {
                index,
                status: "recorded",
                event: Some((&outcome).into()),
                problem: None,
            },
            Ok(other) => BatchItemResult {
                index,
                status: "refused",
                event: None,
                problem: Some(*unexpected(&other).0),
            },
            Err(error) => BatchItemResult {
                index,
                status: "refused",
                event: None,
                problem: Some(refusal(&error)),
            },
        })
        .collect();
    let recorded = results.iter().filter(|r| r.event.is_some()).count();
    Ok(Json(BatchResult {
        recorded,
        refused: results.len() - recorded,
        results,
    }))
}

async fn void(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    request: KeyedJson<VoidRequest>,
) -> Result<Json<ReversalResult>, ApiError> {
    let event = dto::event_id(&id).map_err(|_| AppError::NotFound)?;
    match app
        .void_event(&caller, request.key, event, request.body.reason)
        .await?
    {
        Outcome::Reversal(outcome) => Ok(Json((&outcome).into())),
        other => Err(unexpected(&other)),
    }
}

async fn refund(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    request: KeyedJson<RefundRequest>,
) -> Result<Json<ReversalResult>, ApiError> {
    let event = dto::event_id(&id).map_err(|_| AppError::NotFound)?;
    let amount = request.body.amount.cents("amount")?;
    match app
        .refund_event(&caller, request.key, event, amount, request.body.reason)
        .await?
    {
        Outcome::Reversal(outcome) => Ok(Json((&outcome).into())),
        other => Err(unexpected(&other)),
    }
}
