//! Cookies and the sessions they carry: extractors for a signed-in member (the card) and
//! a logged-in staff member (the counter), and the CSRF check every form post goes through.

use super::Web;
use super::i18n::language_of;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use stammgast_app::{CardSession, StaffSession};
use stammgast_core::member::Language;

pub const CARD_COOKIE: &str = "sg_card";
pub const STAFF_COOKIE: &str = "sg_staff";
/// The location a counter device books to.
pub const LOCATION_COOKIE: &str = "sg_location";

/// The value of one cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: never readable by scripts, sent on same-site requests and top-level
/// navigations only. `max_age_seconds` 0 deletes the cookie.
pub fn cookie_header(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    );
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// A member signed in on their card, and the page language.
pub struct Member(pub CardSession, pub Language);

impl FromRequestParts<Web> for Member {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let language = language_of(&parts.headers);
        let token = cookie(&parts.headers, CARD_COOKIE).unwrap_or_default();
        match web.app.card_session(token).await {
            Ok(session) => Ok(Self(session, language)),
            Err(_) => Err(web.error(
                language,
                StatusCode::UNAUTHORIZED,
                "error_signed_out_title",
                "error_signed_out",
            )),
        }
    }
}

/// A logged-in staff member, and the page language. Others are sent to the login page.
pub struct Staff(pub StaffSession, pub Language);

impl FromRequestParts<Web> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let language = language_of(&parts.headers);
        let token = cookie(&parts.headers, STAFF_COOKIE).unwrap_or_default();
        match web.app.staff_session(token).await {
            Ok(session) => Ok(Self(session, language)),
            Err(_) => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// Whether a form post carries the session's CSRF token (compared in constant time).
pub fn csrf_ok(expected: &str, sent: &str) -> bool {
    expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// An owner or manager (the back office). Cashiers are sent to the counter.
pub struct Manager(pub StaffSession, pub Language);

impl FromRequestParts<Web> for Manager {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let Staff(session, language) = Staff::from_request_parts(parts, web).await?;
        if session.role.may_manage() {
            Ok(Self(session, language))
        } else {
            Err(Redirect::to("/counter").into_response())
        }
    }
}

/// The location this counter device books to, from its cookie (not yet checked against
/// the business: the handler does that).
pub struct DeviceLocation(pub Option<stammgast_core::ids::LocationId>);

impl<S: Send + Sync> FromRequestParts<S> for DeviceLocation {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            cookie(&parts.headers, LOCATION_COOKIE)
                .and_then(stammgast_core::ids::LocationId::parse),
        ))
    }
}
