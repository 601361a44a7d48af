//! Where a member stands, as the card, the counter and the setup preview show it: stamp
//! cards drawn as fields, points, tier and the way to the next, and each reward's distance.

use super::format::{euros, number};
use super::i18n::text;
use chrono::{DateTime, Utc};
use serde::Serialize;
use stammgast_core::engine::MemberState;
use stammgast_core::member::Language;
use stammgast_core::program::progress::{Distance, progress};
use stammgast_core::program::{Program, TierMetric};

#[derive(Serialize)]
pub struct ProgressView {
    pub stamp_cards: Vec<StampCardView>,
    pub points: String,
    pub tier: Option<String>,
    pub next_tier: Option<String>,
    pub rewards: Vec<RewardView>,
}

#[derive(Serialize)]
pub struct StampCardView {
    pub name: String,
    /// The whole card in one sentence, for screen readers.
    pub label: String,
    pub summary: String,
    /// One entry per stamp field: filled or not.
    pub fields: Vec<bool>,
}

#[derive(Serialize)]
pub struct RewardView {
    pub id: String,
    pub name: String,
    pub status: String,
    pub ready: bool,
    /// Ready and paid from the balance, so the counter can redeem it (a stamp card's free
    /// reward arrives as a coupon by itself).
    pub redeemable: bool,
}

pub fn progress_view(
    program: &Program,
    state: &MemberState,
    language: Language,
    now: DateTime<Utc>,
) -> ProgressView {
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    let progress = progress(program, state, now);
    let stamp_cards = progress
        .cards
        .iter()
        .map(|p| {
            let (collected, required) =
                (p.collected.to_string(), p.card.stamps_required.to_string());
            StampCardView {
                name: p.card.name.clone(),
                label: t(
                    "card_stamps_label",
                    &[
                        ("name", &p.card.name),
                        ("collected", &collected),
                        ("required", &required),
                    ],
                ),
                summary: t(
                    "card_stamps",
                    &[("collected", &collected), ("required", &required)],
                ),
                fields: (0..p.card.stamps_required.get().clamp(0, 30))
                    .map(|i| i < p.collected.get())
                    .collect(),
            }
        })
        .collect();
    let next_tier = match (&program.tiers, progress.next_tier) {
        (Some(settings), Some((level, missing))) => {
            let amount = match settings.metric {
                TierMetric::Spend => euros(missing, language),
                _ => number(missing, language),
            };
            Some(t(
                "card_next_tier",
                &[("amount", &amount), ("tier", &level.name)],
            ))
        }
        (Some(_), None) => Some(t("card_top_tier", &[])),
        _ => None,
    };
    let rewards = progress
        .rewards
        .iter()
        .map(|r| {
            let (status, ready) = match &r.distance {
                Distance::Ready => (t("card_reward_ready", &[]), true),
                Distance::MissingPoints(n) => (
                    t(
                        "card_reward_points",
                        &[("count", &number(n.get(), language))],
                    ),
                    false,
                ),
                Distance::MissingStamps { stamps, .. } => (
                    t("card_reward_stamps", &[("count", &stamps.to_string())]),
                    false,
                ),
                Distance::Unavailable => (t("card_reward_unavailable", &[]), false),
            };
            let cost = &r.reward.cost;
            RewardView {
                id: r.reward.id.to_string(),
                name: r.reward.name.clone(),
                status,
                ready,
                redeemable: ready && (cost.points.is_positive() || cost.stamps.is_positive()),
            }
        })
        .collect();
    ProgressView {
        stamp_cards,
        points: number(progress.points_available.get(), language),
        tier: progress.tier.map(|level| level.name.clone()),
        next_tier,
        rewards,
    }
}
