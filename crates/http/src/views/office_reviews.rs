//! What members wrote in the surveys, newest first, with who allowed it to be published.

use super::Web;
use super::office_frame::{OfficeView, Said, render};
use super::session::Manager;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;

pub fn router() -> Router<Web> {
    Router::new().route("/office/reviews", get(page))
}

const VIEW: OfficeView = OfficeView {
    template: "office_reviews.html",
    title_key: "reviews_title",
    path: "/office/reviews",
};

#[derive(Serialize)]
struct Review {
    member_id: String,
    first_name: String,
    score: u8,
    comment: String,
    date: String,
    /// When the member allowed it to be published, if they did.
    publishable_since: Option<String>,
}

#[derive(Serialize)]
struct ReviewsPage {
    reviews: Vec<Review>,
}

async fn page(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    let caller = &session.caller;
    let zone = match web.app.shop_zone(caller.business_id).await {
        Ok(zone) => zone,
        Err(error) => return web.failure(language, error),
    };
    let comments = match web.app.survey_comments(caller).await {
        Ok(comments) => comments,
        Err(error) => return web.failure(language, error),
    };
    let date =
        |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&zone).format("%d.%m.%Y").to_string();
    let reviews = comments
        .into_iter()
        .map(|c| Review {
            member_id: c.member_id.to_string(),
            first_name: c.first_name,
            score: c.score,
            comment: c.comment,
            date: date(c.answered_at),
            publishable_since: c.publish_consent_at.map(date),
        })
        .collect();
    let page = ReviewsPage { reviews };
    render(&web, &session, language, VIEW, page, Said::default()).await
}
