//! Rewards and stamp cards: the catalog customers redeem from, edited in place. Each
//! change publishes a new program version (nothing retroactive).

use super::Web;
use super::format::parse_euros;
use super::i18n::text;
use super::office_frame::{OfficeView, Said, render};
use super::session::{Manager, csrf_ok};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::catalog::{RewardDraft, StampCardDraft};
use stammgast_app::{AppError, StaffSession};
use stammgast_core::member::Language;
use stammgast_core::money::Cents;
use stammgast_core::program::RewardKind;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/office/rewards", get(page).post(add))
        .route("/office/rewards/{id}", post(update))
        .route("/office/rewards/{id}/remove", post(remove))
        .route("/office/rewards/cards/{id}", post(update_card))
}

#[derive(Serialize)]
struct RewardView {
    id: String,
    name: String,
    points: i64,
    /// Paid with a full stamp card, not with points.
    from_card: bool,
    kind: &'static str,
    value: String,
    valid_days: u32,
}

#[derive(Serialize)]
struct CardView {
    id: String,
    name: String,
    stamps_required: i64,
    daily_limit: String,
}

#[derive(Serialize)]
struct RewardsPage {
    cards: Vec<CardView>,
    rewards: Vec<RewardView>,
}

const VIEW: OfficeView = OfficeView {
    template: "office_rewards.html",
    title_key: "rewards_title",
    path: "/office/rewards",
};

fn kind_fields(kind: &RewardKind) -> (&'static str, String) {
    match kind {
        RewardKind::FreeProduct { product } => ("free_product", product.clone()),
        RewardKind::FixedDiscount { amount } => (
            "fixed_discount",
            format!("{}.{:02}", amount.get() / 100, amount.get() % 100),
        ),
        RewardKind::PercentDiscount { percent } => ("percent_discount", percent.to_string()),
        RewardKind::Perk { description } => ("perk", description.clone()),
    }
}

async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let business = session.caller.business_id;
    let program = match web.app.store().program(business).await {
        Ok(Some(program)) => program,
        Ok(None) => return web.failure(language, AppError::NotFound),
        Err(error) => return web.failure(language, error.into()),
    };
    let cards = program
        .stamp_cards
        .iter()
        .map(|card| CardView {
            id: card.id.to_string(),
            name: card.name.clone(),
            stamps_required: card.stamps_required.get(),
            daily_limit: card.daily_limit.map(|l| l.to_string()).unwrap_or_default(),
        })
        .collect();
    let rewards = program
        .rewards
        .iter()
        .map(|reward| {
            let (kind, value) = kind_fields(&reward.kind);
            let from_card = reward.cost.stamps.is_positive()
                || program
                    .stamp_cards
                    .iter()
                    .any(|c| c.reward.as_ref() == Some(&reward.id));
            RewardView {
                id: reward.id.to_string(),
                name: reward.name.clone(),
                points: reward.cost.points.get(),
                from_card,
                kind,
                value,
                valid_days: reward.coupon_valid_days,
            }
        })
        .collect();
    let page = RewardsPage { cards, rewards };
    render(web, session, language, VIEW, page, Said { notice, error }).await
}

async fn page(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    show(&web, &session, language, None, None).await
}

#[derive(Deserialize)]
struct RewardForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    valid_days: String,
}

impl RewardForm {
    fn draft(&self) -> Result<RewardDraft, AppError> {
        let whole = |field: &str, text: &str| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid(field, "give a whole number"))
        };
        let value = self.value.trim().to_owned();
        let kind =
            match self.kind.as_str() {
                "fixed_discount" => RewardKind::FixedDiscount {
                    amount: parse_euros(&value)
                        .and_then(|c| Cents::new(c).ok())
                        .ok_or_else(|| {
                            AppError::invalid("value", "give the discount in euros, e.g. 5.00")
                        })?,
                },
                "percent_discount" => RewardKind::PercentDiscount {
                    percent: value.trim_end_matches('%').trim().parse().map_err(|_| {
                        AppError::invalid("value", "a discount is 1 to 100 percent")
                    })?,
                },
                "perk" => RewardKind::Perk { description: value },
                _ => RewardKind::FreeProduct { product: value },
            };
        let valid_days = whole("coupon_valid_days", &self.valid_days)?;
        Ok(RewardDraft {
            name: self.name.clone(),
            points: if self.points.trim().is_empty() {
                0
            } else {
                whole("points", &self.points)?
            },
            kind,
            coupon_valid_days: u32::try_from(valid_days).map_err(|_| {
                AppError::invalid("coupon_valid_days", "a coupon is valid 1 to 3,650 days")
            })?,
        })
    }
}

/// Shows the catalog after a change: the notice, or what to fix.
async fn after(
    web: &Web,
    session: &StaffSession,
    language: Language,
    result: Result<i64, AppError>,
) -> Response {
    match result {
        Ok(version) => {
            show(
                web,
                session,
                language,
                text(
                    language,
                    "rewards_saved",
                    &[("version", &version.to_string())],
                ),
                None,
            )
            .await
        }
        Err(AppError::Invalid { field, .. }) => {
            let message = text(language, &format!("rewards_error_{field}"), &[])
                .or_else(|| text(language, "rewards_error_value", &[]));
            show(web, session, language, None, message).await
        }
        Err(error) => web.failure(language, error),
    }
}

async fn add(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<RewardForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let result = match form.draft() {
        Ok(draft) => web.app.add_reward(&session.caller, draft).await,
        Err(error) => Err(error),
    };
    after(&web, &session, language, result).await
}

async fn update(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
    Form(form): Form<RewardForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let result = match form.draft() {
        Ok(draft) => web.app.update_reward(&session.caller, &id, draft).await,
        Err(error) => Err(error),
    };
    after(&web, &session, language, result).await
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn remove(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    match web.app.remove_reward(&session.caller, &id).await {
        Ok(_) => Redirect::to("/office/rewards").into_response(),
        other => after(&web, &session, language, other).await,
    }
}

#[derive(Deserialize)]
struct CardForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    stamps_required: String,
    #[serde(default)]
    daily_limit: String,
}

async fn update_card(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
    Form(form): Form<CardForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let stamps = form
        .stamps_required
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::invalid("stamps_required", "a whole number"));
    let limit = Some(form.daily_limit.trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.parse::<i64>()
                .map_err(|_| AppError::invalid("daily_limit", "a whole number"))
        })
        .transpose();
    let result = match (stamps, limit) {
        (Ok(stamps_required), Ok(daily_limit)) => {
            let draft = StampCardDraft {
                name: form.name.clone(),
                stamps_required,
                daily_limit,
            };
            web.app.update_stamp_card(&session.caller, &id, draft).await
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    after(&web, &session, language, result).await
}
