//! What every back-office page shares: the layout with the shop's name, the CSRF token for
//! its forms, and what the last action did (a notice, or what to fix, answered with 422).

use super::i18n::text;
use super::{Layout, Web};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use stammgast_app::StaffSession;
use stammgast_core::member::Language;

/// Which page: its template, the text key of its title, and its path.
pub struct OfficeView {
    pub template: &'static str,
    pub title_key: &'static str,
    pub path: &'static str,
}

/// What the last action on the page did.
#[derive(Default)]
pub struct Said {
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Said {
    pub fn notice(text: Option<String>) -> Self {
        Self {
            notice: text,
            error: None,
        }
    }

    pub fn error(text: Option<String>) -> Self {
        Self {
            notice: None,
            error: text,
        }
    }
}

#[derive(Serialize)]
struct Frame<'a, T: Serialize> {
    layout: Layout<'a>,
    lang: &'static str,
    csrf: &'a str,
    notice: Option<String>,
    error: Option<String>,
    #[serde(flatten)]
    page: T,
}

/// Renders a back-office page with the page's own fields in `page`.
pub async fn render<T: Serialize>(
    web: &Web,
    session: &StaffSession,
    language: Language,
    view: OfficeView,
    page: T,
    said: Said,
) -> Response {
    let name = match web.app.business_name(session.caller.business_id).await {
        Ok(name) => name,
        Err(error) => return web.failure(language, error),
    };
    let status = super::form_status(said.error.is_some());
    let frame = Frame {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, view.title_key, &[]).unwrap_or_default(),
            business: Some(&name),
            path: view.path,
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        csrf: &session.csrf_token,
        notice: said.notice,
        error: said.error,
        page,
    };
    (status, web.render(view.template, frame)).into_response()
}
