//! The JSON API under `/api/v1`: thin handlers that convert DTOs, make one app call and
//! shape the response. The route table here is also what the OpenAPI document describes.

pub mod dto;
mod events;
mod journeys;
mod members;
pub mod openapi;
mod reports;
mod rewards;
mod segments;

use crate::problem::{ApiError, Problem};
use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use stammgast_app::App;
use stammgast_core::batch::Outcome;

pub fn router() -> Router<App> {
    Router::new()
        .merge(members::router())
        .merge(events::router())
        .merge(rewards::router())
        .merge(reports::router())
        .merge(segments::router())
        .merge(journeys::router())
        .merge(openapi::router())
}

/// Query parameters, rejected as a problem document that names the parameter.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    "Invalid query parameters",
                    rejection.body_text(),
                )
                .into()
            })
    }
}

/// An outcome of another shape than the use case returns means a bug, not bad input.
pub fn unexpected(outcome: &Outcome) -> ApiError {
    tracing::error!(?outcome, "use case returned an unexpected outcome");
    Problem::internal().into()
}
