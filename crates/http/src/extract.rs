//! Extractors: the caller from the bearer token, and JSON bodies with their idempotency
//! key. Every rejection is a problem document that names what to fix.

use crate::problem::{ApiError, Problem};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use stammgast_app::{App, AppError, Caller};
use stammgast_core::batch::IdempotencyKey;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
const KEY_LENGTH_MAX: usize = 255;
/// Bodies larger than this are refused; a full bulk request of 10,000 events fits.
pub const BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// The business calling, from `Authorization: Bearer …`.
pub struct Auth(pub Caller);

impl FromRequestParts<App> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthenticated)?;
        Ok(Self(app.authenticate(token.trim()).await?))
    }
}

/// A JSON body and the request's `Idempotency-Key`, which must be present when `REQUIRED`.
/// The key's fingerprint covers method, path and body, so the same key sent with another
/// request is refused rather than answered with the wrong result.
pub struct Keyed<T, const REQUIRED: bool> {
    pub key: Option<IdempotencyKey>,
    pub body: T,
}

/// For requests that change balances: the key is required.
pub type KeyedJson<T> = Keyed<T, true>;
/// For requests that are safe to repeat by their nature (a coupon is used once anyway).
pub type OptionallyKeyedJson<T> = Keyed<T, false>;

impl<T: DeserializeOwned, const REQUIRED: bool> FromRequest<App> for Keyed<T, REQUIRED> {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let key = idempotency_key(&parts)?;
        if REQUIRED && key.is_none() {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "Idempotency-Key required",
                "this request changes balances: send an `Idempotency-Key` header (a UUID, say) so a retry cannot apply it twice",
            )
            .into());
        }
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), app)
            .await
            .map_err(|rejection| {
                Problem::new(
                    rejection.status(),
                    "unreadable_body",
                    "Unreadable body",
                    rejection.body_text(),
                )
            })?;
        let body = parse_json(&bytes)?;
        let key = key.map(|key| IdempotencyKey {
            fingerprint: fingerprint(&parts, &bytes),
            key,
        });
        Ok(Self { key, body })
    }
}

fn idempotency_key(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(value) = parts.headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().ok().map(str::trim).filter(|key| {
        !key.is_empty() && key.len() <= KEY_LENGTH_MAX && key.bytes().all(|b| b.is_ascii_graphic())
    });
    match key {
        Some(key) => Ok(Some(key.to_owned())),
        None => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "Invalid Idempotency-Key",
            format!("the Idempotency-Key must be 1 to {KEY_LENGTH_MAX} visible ASCII characters"),
        )
        .into()),
    }
}

fn fingerprint(parts: &Parts, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update(b" ");
    hasher.update(parts.uri.path());
    hasher.update(b"\n");
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses a JSON body; an empty body reads as `{}` (for requests without parameters).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        json_problem(path, error.into_inner())
    })?;
    deserializer
        .end()
        .map_err(|error| json_problem(".".into(), error))?;
    Ok(value)
}

fn json_problem(path: String, error: serde_json::Error) -> ApiError {
    if error.is_data() {
        let field = if path == "." { "body".to_owned() } else { path };
        let message = clean_serde_message(&error.to_string());
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Invalid input",
            format!("{field}: {message}"),
        )
        .with_field(field, message)
        .into()
    } else {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "Malformed JSON",
            format!("the body is not valid JSON: {error}"),
        )
        .into()
    }
}

/// serde's messages end with " at line 1 column 42", which is noise next to a field path.
fn clean_serde_message(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        amount: u32,
    }

    #[test]
    fn syntax_errors_are_malformed_json_and_type_errors_name_the_field() {
        let malformed = parse_json::<Sample>(b"{\"amount\": ").unwrap_err().0;
        assert_eq!(malformed.code, "malformed_json");
        let wrong_type = parse_json::<Sample>(b"{\"amount\": \"x\"}").unwrap_err().0;
        assert_eq!(wrong_type.code, "validation_failed");
        assert_eq!(wrong_type.errors[0].field, "amount");
        let unknown = parse_json::<Sample>(b"{\"amount\": 1, \"amout\": 2}")
            .unwrap_err()
            .0;
        assert!(
            unknown.detail.contains("unknown field `amout`"),
            "{}",
            unknown.detail
        );
    }
}
