//! The one HTTP error type: every failure becomes an RFC 9457 `application/problem+json`
//! body with a stable `code` from the table below and a message a person understands.
//! Internal failures are logged here and answered with an opaque 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;
use stammgast_app::{AppError, StoreError};
use stammgast_core::engine::DomainError;

const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; its last segment is `code`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong in this case, in a sentence.
    pub detail: String,
    /// Stable machine-readable code, e.g. `insufficient_points`.
    pub code: String,
    /// For invalid input: each field and what to fix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct FieldProblem {
    /// Where in the request, e.g. `items[0].amount`.
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://stammgast.dev/problems/{}", code.replace('_', "-")),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.into(),
            errors: Vec::new(),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldProblem {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
            "something went wrong on our side; the request may be retried with the same Idempotency-Key",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(&self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Failures of a handler; converts from the app's errors.
#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (*self.0).into_response()
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self(Box::new(problem))
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(Box::new(app_problem(error)))
    }
}

fn app_problem(error: AppError) -> Problem {
    use StatusCode as S;
    match error {
        AppError::Domain(error) => domain_problem(&error),
        AppError::Invalid { field, reason } => Problem::new(
            S::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Invalid input",
            format!("{field}: {reason}"),
        )
        .with_field(field, reason),
        AppError::InvalidFilter(error) => Problem::new(
            S::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Invalid input",
            format!("filter: {error}"),
        )
        .with_field("filter", error.to_string()),
        AppError::InvalidProgram(errors) => {
            let mut problem = Problem::new(
                S::UNPROCESSABLE_ENTITY,
                "invalid_program",
                "Invalid program",
                format!("the program has {} error(s)", errors.len()),
            );
            for error in errors {
                problem = problem.with_field(error.path, error.reason);
            }
            problem
        }
        AppError::Unauthenticated => Problem::new(
            S::UNAUTHORIZED,
            "unauthenticated",
            "Not authenticated",
            "send a valid API key as `Authorization: Bearer sg_…`",
        ),
        AppError::Forbidden(scope) => Problem::new(
            S::FORBIDDEN,
            "missing_scope",
            "Not allowed",
            format!("this API key lacks the scope \"{scope}\""),
        ),
        AppError::NotFound => Problem::new(
            S::NOT_FOUND,
            "not_found",
            "Not found",
            "there is no such resource",
        ),
        AppError::RateLimited {
            retry_after_seconds,
        } => Problem::new(
            S::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many attempts",
            format!("try again in {retry_after_seconds} seconds"),
        ),
        AppError::Mail(reason) => {
            tracing::error!(%reason, "mail was not sent");
            Problem::new(
                S::BAD_GATEWAY,
                "mail_failed",
                "Mail not sent",
                "the mail server did not take the message; try again later",
            )
        }
        AppError::Store(error) => store_problem(error),
    }
}

fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::NotFound => Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
            "there is no such resource",
        ),
        StoreError::BadCursor(cursor) => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
            "Invalid cursor",
            format!("\"{cursor}\" is not a cursor this list handed out"),
        )
        .with_field("cursor", "use the next_cursor of the previous page"),
        StoreError::Conflict(detail) => {
            tracing::warn!(%detail, "write conflict");
            Problem::new(
                StatusCode::CONFLICT,
                "write_conflict",
                "Conflicting request",
                "another request changed the same data at the same time; retry with the same Idempotency-Key",
            )
        }
        other => {
            tracing::error!(error = %other, "storage failure");
            Problem::internal()
        }
    }
}

/// The error-code table of the domain's refusals.
fn domain_problem(error: &DomainError) -> Problem {
    use DomainError as D;
    use StatusCode as S;
    let (status, code, title) = match error {
        D::BusinessNotFound(_) => (S::NOT_FOUND, "business_not_found", "Unknown business"),
        D::MemberNotFound(_) => (S::NOT_FOUND, "member_not_found", "Unknown member"),
        D::EventNotFound(_) => (S::NOT_FOUND, "transaction_not_found", "Unknown transaction"),
        D::CouponNotFound(_) => (S::NOT_FOUND, "coupon_not_found", "Unknown coupon"),
        D::RewardNotFound(_) => (S::NOT_FOUND, "reward_not_found", "Unknown reward"),
        D::InsufficientPoints { .. } => (S::CONFLICT, "insufficient_points", "Not enough points"),
        D::InsufficientStamps { .. } => (S::CONFLICT, "insufficient_stamps", "Not enough stamps"),
        D::CouponAlreadyUsed(_) => (S::CONFLICT, "coupon_already_used", "Coupon already used"),
        D::CouponCancelled(_) => (S::CONFLICT, "coupon_cancelled", "Coupon cancelled"),
        D::CouponExpired { .. } => (S::CONFLICT, "coupon_expired", "Coupon expired"),
        D::EventAlreadyVoided(_) => (S::CONFLICT, "transaction_already_voided", "Already voided"),
        D::NotAPurchase => (S::UNPROCESSABLE_ENTITY, "not_a_purchase", "Not a purchase"),
        D::RefundTooLarge { .. } => (
            S::UNPROCESSABLE_ENTITY,
            "refund_too_large",
            "Refund too large",
        ),
        D::RewardUnavailable { .. } => (S::CONFLICT, "reward_unavailable", "Reward unavailable"),
        D::StampCardNotFound(_) => (
            S::UNPROCESSABLE_ENTITY,
            "stamp_card_not_found",
            "Unknown stamp card",
        ),
        D::ZeroAdjustment => (
            S::UNPROCESSABLE_ENTITY,
            "zero_adjustment",
            "Nothing to adjust",
        ),
        D::ContactTaken(_) => (S::CONFLICT, "contact_taken", "Already a member"),
        D::IdempotencyKeyReused => (
            S::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "Idempotency-Key reused",
        ),
    };
    Problem::new(status, code, title, error.to_string())
}

/// The problem for a domain refusal, for places that report per-item results (bulk).
pub fn refusal(error: &DomainError) -> Problem {
    domain_problem(error)
}
