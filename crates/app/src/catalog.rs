//! The reward catalog and stamp cards, edited in the back office. Every change publishes a
//! new program version: it applies from now on, and coupons already issued keep their
//! terms (nothing is retroactive).

use crate::keys::{Caller, Scope};
use crate::{App, AppError};
use stammgast_core::ids::Slug;
use stammgast_core::money::Cents;
use stammgast_core::points::{Points, Stamps};
use stammgast_core::program::{Program, Reward, RewardCost, RewardKind};

/// What the owner fills in for a reward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewardDraft {
    pub name: String,
    /// The price in points (0 for a stamp card's reward, which costs a full card).
    pub points: i64,
    pub kind: RewardKind,
    pub coupon_valid_days: u32,
}

/// What the owner can change on a stamp card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StampCardDraft {
    pub name: String,
    pub stamps_required: i64,
    pub daily_limit: Option<i64>,
}

fn checked_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::invalid(
            "name",
            "give a name of 1 to 80 characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_reward(draft: &RewardDraft) -> Result<(), AppError> {
    if !(0..=1_000_000).contains(&draft.points) {
        return Err(AppError::invalid("points", "give 0 to 1,000,000 points"));
    }
    if !(1..=3650).contains(&draft.coupon_valid_days) {
        return Err(AppError::invalid(
            "coupon_valid_days",
            "a coupon is valid 1 to 3,650 days",
        ));
    }
    match &draft.kind {
        RewardKind::PercentDiscount { percent } if !(1..=100).contains(percent) => {
            Err(AppError::invalid("value", "a discount is 1 to 100 percent"))
        }
        RewardKind::FixedDiscount { amount } if *amount == Cents::ZERO => Err(AppError::invalid(
            "value",
            "give the discount in euros, e.g. 5.00",
        )),
        RewardKind::FreeProduct { product: text } | RewardKind::Perk { description: text }
            if text.trim().is_empty() =>
        {
            Err(AppError::invalid("value", "say what the customer gets"))
        }
        _ => Ok(()),
    }
}

impl App {
    /// Changes the business's program with `edit` and publishes the result as a new version.
    async fn edit_program(
        &self,
        caller: &Caller,
        edit: impl FnOnce(&mut Program) -> Result<(), AppError>,
    ) -> Result<i64, AppError> {
        caller.require(Scope::ProgramWrite)?;
        let current = self
            .store
            .program(caller.business_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut program = (*current).clone();
        edit(&mut program)?;
        let definition = serde_json::to_string(&program).map_err(|e| {
            stammgast_store::StoreError::Other(format!("a program did not serialize: {e}"))
        })?;
        self.publish_program(caller.business_id, &definition).await
    }

    pub async fn add_reward(&self, caller: &Caller, draft: RewardDraft) -> Result<i64, AppError> {
        let name = checked_name(&draft.name)?;
        check_reward(&draft)?;
        self.edit_program(caller, |program| {
            let taken: Vec<Slug> = program.rewards.iter().map(|r| r.id.clone()).collect();
            program.rewards.push(Reward {
                id: Slug::from_name(&name, &taken),
                name,
                cost: RewardCost {
                    points: Points::new(draft.points),
                    stamps: Stamps::ZERO,
                    card: None,
                },
                kind: draft.kind,
                stock: None,
                per_member_limit: None,
                available_from: None,
                available_until: None,
                coupon_valid_days: draft.coupon_valid_days,
                tiers_any: Vec::new(),
            });
            Ok(())
        })
        .await
    }

    /// Changes a reward's name, price, kind and validity; its id, limits and tiers stay.
    pub async fn update_reward(
        &self,
        caller: &Caller,
        id: &str,
        draft: RewardDraft,
    ) -> Result<i64, AppError> {
        let name = checked_name(&draft.name)?;
        check_reward(&draft)?;
        self.edit_program(caller, |program| {
            let reward = program
                .rewards
                .iter_mut()
                .find(|r| r.id.as_str() == id)
                .ok_or(AppError::NotFound)?;
            reward.name = name;
            if reward.cost.stamps == Stamps::ZERO {
                reward.cost.points = Points::new(draft.points);
            }
            reward.kind = draft.kind;
            reward.coupon_valid_days = draft.coupon_valid_days;
            Ok(())
        })
        .await
    }

    /// Takes a reward out of the catalog (coupons already issued stay valid). A stamp
    /// card's reward cannot go while the card gives it.
    pub async fn remove_reward(&self, caller: &Caller, id: &str) -> Result<i64, AppError> {
        self.edit_program(caller, |program| {
            if program
                .stamp_cards
                .iter()
                .any(|card| card.reward.as_ref().is_some_and(|r| r.as_str() == id))
            {
                return Err(AppError::invalid(
                    "reward",
                    "a stamp card gives this reward; change the card first",
                ));
            }
            let before = program.rewards.len();
            program.rewards.retain(|reward| reward.id.as_str() != id);
            if program.rewards.len() == before {
                return Err(AppError::NotFound);
            }
            Ok(())
        })
        .await
    }

    pub async fn update_stamp_card(
        &self,
        caller: &Caller,
        id: &str,
        draft: StampCardDraft,
    ) -> Result<i64, AppError> {
        let name = checked_name(&draft.name)?;
        if !(2..=30).contains(&draft.stamps_required) {
            return Err(AppError::invalid(
                "stamps_required",
                "a card has 2 to 30 stamps",
            ));
        }
        if draft
            .daily_limit
            .is_some_and(|limit| !(1..=30).contains(&limit))
        {
            return Err(AppError::invalid(
                "daily_limit",
                "a daily limit is 1 to 30 stamps",
            ));
        }
        self.edit_program(caller, |program| {
            let card = program
                .stamp_cards
                .iter_mut()
                .find(|c| c.id.as_str() == id)
                .ok_or(AppError::NotFound)?;
            card.name = name;
            card.stamps_required = Stamps::new(draft.stamps_required);
            card.daily_limit = draft.daily_limit.map(Stamps::new);
            Ok(())
        })
        .await
    }
}
