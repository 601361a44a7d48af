//! Static files compiled into the binary: the stylesheet, the little JavaScript the pages
//! use, the card's web manifest, service worker and icon.

use super::Web;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const FILES: &[(&str, &str, &str)] = &[
    (
        "/static/app.css",
        "text/css; charset=utf-8",
        include_str!("static/app.css"),
    ),
    (
        "/static/card.js",
        "text/javascript; charset=utf-8",
        include_str!("static/card.js"),
    ),
    (
        "/static/counter.js",
        "text/javascript; charset=utf-8",
        include_str!("static/counter.js"),
    ),
    (
        "/static/import.js",
        "text/javascript; charset=utf-8",
        include_str!("static/import.js"),
    ),
    (
        "/static/dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("static/dashboard.js"),
    ),
    (
        "/static/vendor/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("static/vendor/uPlot.iife.min.js"),
    ),
    (
        "/static/vendor/uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("static/vendor/uPlot.min.css"),
    ),
    (
        "/static/logo.js",
        "text/javascript; charset=utf-8",
        include_str!("static/logo.js"),
    ),
    (
        "/static/vendor/jsQR.js",
        "text/javascript; charset=utf-8",
        include_str!("static/vendor/jsQR.js"),
    ),
    (
        "/static/icon.svg",
        "image/svg+xml",
        include_str!("static/icon.svg"),
    ),
    (
        "/manifest.webmanifest",
        "application/manifest+json",
        include_str!("static/manifest.webmanifest"),
    ),
    // The service worker is served from the root so that its scope covers the card.
    (
        "/sw.js",
        "text/javascript; charset=utf-8",
        include_str!("static/sw.js"),
    ),
];

pub fn router() -> Router<Web> {
    FILES
        .iter()
        .fold(Router::new(), |router, &(path, content_type, body)| {
            router.route(
                path,
                get(move || async move {
                    (
                        [
                            (header::CONTENT_TYPE, content_type),
                            (header::CACHE_CONTROL, "no-cache"),
                        ],
                        body,
                    )
                        .into_response()
                }),
            )
        })
}
