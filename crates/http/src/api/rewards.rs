//! Redeeming rewards into coupons, and using or cancelling coupons.

use super::dto::{self, CouponResult, NoBody, RedeemRequest};
use super::unexpected;
use crate::extract::{Auth, KeyedJson, OptionallyKeyedJson};
use crate::problem::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use stammgast_app::{App, AppError};
use stammgast_core::batch::Outcome;
use stammgast_core::engine::{BalanceView, Coupon};

pub fn router() -> Router<App> {
    Router::new()
        .route("/members/{id}/redemptions", post(redeem_reward))
        .route("/members/{id}/coupons", get(member_coupons))
        .route("/coupons/{code}/redeem", post(use_coupon))
        .route("/coupons/{code}/cancel", post(cancel_coupon))
}

fn coupon_result(outcome: Outcome) -> Result<Json<CouponResult>, ApiError> {
    match outcome {
        Outcome::Coupon(outcome) => Ok(Json((&outcome).into())),
        other => Err(unexpected(&other)),
    }
}

async fn redeem_reward(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    request: KeyedJson<RedeemRequest>,
) -> Result<(StatusCode, Json<CouponResult>), ApiError> {
    let member = dto::member_id(&id).map_err(|_| AppError::NotFound)?;
    let outcome = app
        .redeem_reward(&caller, request.key, member, &request.body.reward_id)
        .await?;
    Ok((StatusCode::CREATED, coupon_result(outcome)?))
}

/// Uses a coupon. Only one request ever succeeds for a coupon; every other gets 409.
async fn use_coupon(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(code): Path<String>,
    request: OptionallyKeyedJson<NoBody>,
) -> Result<Json<CouponResult>, ApiError> {
    coupon_result(app.use_coupon(&caller, request.key, &code).await?)
}

async fn cancel_coupon(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(code): Path<String>,
    request: OptionallyKeyedJson<NoBody>,
) -> Result<Json<CouponResult>, ApiError> {
    coupon_result(app.cancel_coupon(&caller, request.key, &code).await?)
}

async fn member_coupons(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<CouponResult>>, ApiError> {
    let member = dto::member_id(&id).map_err(|_| AppError::NotFound)?;
    let (record, coupons) = app.member_coupons(&caller, member).await?;
    let balance = BalanceView::of(&record.state);
    Ok(Json(coupons.iter().map(|c| listed(c, &balance)).collect()))
}

fn listed(coupon: &Coupon, balance: &BalanceView) -> CouponResult {
    CouponResult {
        code: coupon.code.to_string(),
        member_id: coupon.member_id.as_uuid(),
        reward_id: coupon.reward_id.to_string(),
        status: coupon.status.as_str().into(),
        expires_at: coupon.expires_at,
        balance: balance.into(),
    }
}
