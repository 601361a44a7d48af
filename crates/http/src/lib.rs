//! HTTP: the JSON API (`/api/v1`), the server-rendered pages ([`views`]), health
//! endpoints, and the server loop. Handlers are thin: extract, convert, one app call,
//! respond. API errors are problem documents ([`problem`]); pages show what to fix.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod api;
mod extract;
pub mod problem;
pub mod views;

pub use views::Site;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use problem::Problem;
use stammgast_app::App;
use std::future::Future;
use tokio::net::TcpListener;

/// The whole HTTP surface for `app`, callable without a socket (tests use `oneshot`).
pub fn router(app: App, site: Site) -> Router {
    let api = api::router().fallback(|| async {
        Problem::new(
            StatusCode::NOT_FOUND,
            "no_such_endpoint",
            "No such endpoint",
            "see /api/v1/openapi.json for the endpoints",
        )
    });
    Router::new()
        .nest("/api/v1", api)
        .merge(views::router(app.clone(), site))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                "this endpoint does not take that method",
            )
        })
        .with_state(app)
}

/// Ready when the database answers.
async fn ready(
    axum::extract::State(app): axum::extract::State<App>,
) -> Result<&'static str, Problem> {
    app.store().ping().await.map(|()| "ready").map_err(|error| {
        tracing::error!(%error, "not ready");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "Not ready",
            "the database does not answer",
        )
    })
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
