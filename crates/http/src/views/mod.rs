//! The server-rendered pages: the customer's card ([`card`]), the cashier's counter
//! ([`counter`]), shared layout, texts and static files. Templates are compiled into the
//! binary; each page has one view struct; minijinja escapes everything not marked safe.

mod card;
mod counter;
mod download;
mod enrol;
pub mod format;
pub mod i18n;
mod icon;
mod join;
mod office;
mod office_audit;
mod office_branding;
mod office_dashboard;
mod office_dashboard_csv;
mod office_frame;
mod office_import;
mod office_journeys;
mod office_legal;
mod office_locations;
mod office_members;
mod office_reviews;
mod office_rewards;
mod office_segments;
mod office_team;
mod print;
mod privacy;
mod progress_view;
mod qr;
mod session;
mod statics;
mod survey;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use stammgast_app::{App, AppError};
use stammgast_core::member::Language;
use std::sync::Arc;

/// Where the product is reached from outside, for links that leave the browser (QR codes,
/// share links, mail). Without it, the request's `Host` is used.
#[derive(Clone, Debug, Default)]
pub struct Site {
    pub public_url: Option<String>,
}

impl Site {
    /// Cookies are marked `Secure` when the product is served over HTTPS.
    fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }

    /// The absolute base URL (no trailing slash) for a request.
    fn base_url(&self, headers: &HeaderMap) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost");
                format!("http://{host}")
            }
        }
    }
}

/// How a business's public pages look: its colour and its logo's address.
#[derive(Default)]
struct Look {
    color: Option<String>,
    logo: Option<String>,
}

/// The pages' shared state.
#[derive(Clone)]
pub struct Web {
    app: App,
    site: Arc<Site>,
    templates: Arc<Environment<'static>>,
}

pub fn router(app: App, site: Site) -> Router<App> {
    let web = Web {
        app,
        site: Arc::new(site),
        templates: Arc::new(templates()),
    };
    Router::new()
        .merge(join::router())
        .merge(card::router())
        .merge(privacy::router())
        .merge(survey::router())
        .merge(counter::router())
        .merge(enrol::router())
        .merge(office::router())
        .merge(office_members::router())
        .merge(office_import::router())
        .merge(office_team::router())
        .merge(office_legal::router())
        .merge(office_rewards::router())
        .merge(office_locations::router())
        .merge(office_branding::router())
        .merge(office_audit::router())
        .merge(office_dashboard::router())
        .merge(office_segments::router())
        .merge(office_journeys::router())
        .merge(office_reviews::router())
        .merge(statics::router())
        .merge(icon::router())
        .route("/language/{code}", get(switch_language))
        .with_state(web)
}

/// The page templates, compiled into the binary.
macro_rules! templates {
    ($($name:literal),* $(,)?) => { &[$(($name, include_str!(concat!("templates/", $name)))),*] };
}
const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "parts.html",
    "error.html",
    "join.html",
    "legal.html",
    "sign_in.html",
    "card.html",
    "settings.html",
    "survey.html",
    "login.html",
    "counter.html",
    "counter_member.html",
    "counter_enrol.html",
    "office.html",
    "office_qr.html",
    "office_members.html",
    "office_member.html",
    "office_import.html",
    "office_team.html",
    "office_legal.html",
    "office_rewards.html",
    "office_locations.html",
    "office_branding.html",
    "office_audit.html",
    "office_dashboard.html",
    "office_segments.html",
    "office_journeys.html",
    "office_reviews.html",
    "setup_choose.html",
    "setup_adjust.html",
];

fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_function("tr", i18n::tr);
    for (name, source) in TEMPLATES {
        if let Err(error) = env.add_template(name, source) {
            // A template that does not compile is a build bug, which the test below finds.
            tracing::error!(%error, name, "template does not compile");
        }
    }
    env
}

/// A form page's status: 422 when it shows what to fix.
fn form_status(shows_errors: bool) -> StatusCode {
    if shows_errors {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// What every page's layout needs.
#[derive(Serialize)]
struct Layout<'a> {
    lang: &'static str,
    title: String,
    /// The shop's name in the header, when the page belongs to one.
    business: Option<&'a str>,
    /// Where the language switcher returns to.
    path: &'a str,
    /// The business's colour (`#rrggbb`, checked when saved) for the header and buttons.
    brand: Option<&'a str>,
    /// Where the business's legal pages are (`/join/{business}`), for the footer links.
    legal: Option<String>,
}

impl Web {
    /// How the business's public pages look (the defaults when it cannot be read).
    async fn look(&self, business: stammgast_core::ids::BusinessId) -> Look {
        match self.app.shop_settings(business).await {
            Ok(settings) => Look {
                logo: office_branding::logo_url(business, settings.logo_version),
                color: Some(settings.brand_color),
            },
            Err(_) => Look::default(),
        }
    }

    fn render(&self, template: &str, context: impl Serialize) -> Response {
        let rendered = self
            .templates
            .get_template(template)
            .and_then(|t| t.render(minijinja::value::Serde(&context)));
        match rendered {
            Ok(html) => Html(html).into_response(),
            Err(error) => {
                tracing::error!(%error, template, "a page failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page failed to render",
                )
                    .into_response()
            }
        }
    }

    /// An error page in the visitor's language.
    fn error(
        &self,
        language: Language,
        status: StatusCode,
        title_key: &str,
        text_key: &str,
    ) -> Response {
        let message = i18n::text(language, text_key, &[]).unwrap_or_default();
        self.message_page(language, status, title_key, message)
    }

    /// A page that only says something: a title and a sentence.
    fn message_page(
        &self,
        language: Language,
        status: StatusCode,
        title_key: &str,
        message: String,
    ) -> Response {
        #[derive(Serialize)]
        struct MessagePage<'a> {
            layout: Layout<'a>,
            lang: &'static str,
            message: String,
        }
        let page = MessagePage {
            layout: Layout {
                lang: language.as_str(),
                title: i18n::text(language, title_key, &[]).unwrap_or_default(),
                business: None,
                path: "/",
                brand: None,
                legal: None,
            },
            lang: language.as_str(),
            message,
        };
        (status, self.render("error.html", page)).into_response()
    }

    /// The refusal of a form post without the session's CSRF token.
    fn csrf_refused(&self, language: Language) -> Response {
        self.error(
            language,
            StatusCode::FORBIDDEN,
            "error_internal_title",
            "error_csrf",
        )
    }

    /// The page for a failed use case: not found, or an opaque error that is logged.
    fn failure(&self, language: Language, error: AppError) -> Response {
        match error {
            AppError::NotFound => self.error(
                language,
                StatusCode::NOT_FOUND,
                "error_not_found_title",
                "error_not_found",
            ),
            other => {
                tracing::error!(error = %other, "a page's use case failed");
                self.error(
                    language,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error_internal_title",
                    "error_internal",
                )
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the language cookie and returns to the page the visitor came from.
async fn switch_language(
    axum::extract::State(web): axum::extract::State<Web>,
    axum::extract::Path(code): axum::extract::Path<String>,
    axum::extract::Query(back): axum::extract::Query<Back>,
) -> Response {
    let Ok(language) = Language::parse(&code) else {
        return web.error(
            Language::De,
            StatusCode::NOT_FOUND,
            "error_not_found_title",
            "error_not_found",
        );
    };
    // Only paths on this site, so the switcher cannot be used to redirect elsewhere.
    let back = back
        .back
        .filter(|path| path.starts_with('/') && !path.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = session::cookie_header(
        i18n::LANGUAGE_COOKIE,
        language.as_str(),
        365 * 24 * 3600,
        web.site.secure_cookies(),
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_is_compiled_in_and_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/views/templates");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut listed: Vec<String> = TEMPLATES
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        listed.sort();
        assert_eq!(files, listed);
        let env = templates();
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
