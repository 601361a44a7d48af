//! Rewards and coupons: redeeming a reward reserves its cost (a pending hold) and issues a
//! coupon; using the coupon posts the hold, cancelling it releases it.

use crate::{App, AppError, Caller, Scope};
use stammgast_core::batch::{Command, IdempotencyKey, Outcome};
use stammgast_core::ids::{Code, MemberId, Slug};

impl App {
    pub async fn redeem_reward(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        member_id: MemberId,
        reward_id: &str,
    ) -> Result<Outcome, AppError> {
        caller.require(Scope::RewardsWrite)?;
        let reward_id = Slug::parse(reward_id).map_err(|e| AppError::invalid("reward_id", e))?;
        self.submit(
            caller,
            key,
            Command::Redeem {
                member_id,
                reward_id,
            },
        )
        .await
    }

    /// Uses a coupon at the counter. A coupon is used at most once, however many requests
    /// race for it.
    pub async fn use_coupon(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        code: &str,
    ) -> Result<Outcome, AppError> {
        caller.require(Scope::RewardsWrite)?;
        let code = parse_code(code)?;
        self.submit(caller, key, Command::UseCoupon { code }).await
    }

    pub async fn cancel_coupon(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        code: &str,
    ) -> Result<Outcome, AppError> {
        caller.require(Scope::RewardsWrite)?;
        let code = parse_code(code)?;
        self.submit(caller, key, Command::CancelCoupon { code })
            .await
    }
}

fn parse_code(code: &str) -> Result<Code, AppError> {
    Code::parse(code).map_err(|e| AppError::invalid("code", e))
}
