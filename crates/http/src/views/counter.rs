//! The cashier's pages: staff login, finding a member (typed or scanned), and recording a
//! purchase or a stamp, redeeming a reward and using a coupon in the same screen.
//!
//! Every form that changes balances carries an idempotency key minted when the page was
//! rendered (or by the offline queue on the device), so a repeated post — a double tap, a
//! reload, a queued retry — is applied once.

use super::format::{euros, number, parse_euros};
use super::i18n::{self, language_of, text};
use super::progress_view::{ProgressView, progress_view};
use super::session::{
    DeviceLocation, LOCATION_COOKIE, STAFF_COOKIE, Staff, cookie_header, csrf_ok,
};
use super::{Layout, Web};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stammgast_app::{AppError, Card, NewEvent, NewEventKind, StaffSession};
use stammgast_core::batch::{IdempotencyKey, Outcome};
use stammgast_core::event::Item;
use stammgast_core::ids::{EventId, LocationId, MemberId};
use stammgast_core::member::Language;
use stammgast_core::money::{Cents, Currency};
use stammgast_core::points::Stamps;

/// A staff session lasts a shift.
const STAFF_COOKIE_SECONDS: i64 = 12 * 3600;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/counter", get(counter))
        .route("/counter/members/{id}", get(member))
        .route("/counter/location", post(choose_location))
        .route("/counter/members/{id}/purchase", post(purchase))
        .route("/counter/members/{id}/stamp", post(stamp))
        .route("/counter/members/{id}/redeem", post(redeem))
        .route("/counter/members/{id}/coupons/use", post(use_coupon))
        .route("/counter/members/{id}/void", post(void))
}

#[derive(Serialize)]
struct LoginPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    email: String,
    error: Option<String>,
}

fn login_page(web: &Web, language: Language, email: String, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let page = LoginPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "login_title", &[]).unwrap_or_default(),
            business: None,
            path: "/login",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        email,
        error,
    };
    (status, web.render("login.html", page)).into_response()
}

async fn login_form(State(web): State<Web>, headers: HeaderMap) -> Response {
    login_page(&web, language_of(&headers), String::new(), None)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(web): State<Web>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let language = language_of(&headers);
    match web.app.log_in(&form.email, &form.password).await {
        Ok((token, role)) => {
            let cookie = cookie_header(
                STAFF_COOKIE,
                &token,
                STAFF_COOKIE_SECONDS,
                web.site.secure_cookies(),
            );
            // Owners and managers start in the back office, cashiers at the counter.
            let start = if role.may_manage() {
                "/office"
            } else {
                "/counter"
            };
            ([(header::SET_COOKIE, cookie)], Redirect::to(start)).into_response()
        }
        Err(AppError::Unauthenticated) => login_page(
            &web,
            language,
            form.email,
            text(language, "login_failed", &[]),
        ),
        Err(AppError::RateLimited {
            retry_after_seconds,
        }) => {
            let minutes = retry_after_seconds.div_ceil(60).to_string();
            let page = login_page(
                &web,
                language,
                form.email,
                text(language, "login_locked", &[("minutes", &minutes)]),
            );
            (StatusCode::TOO_MANY_REQUESTS, page).into_response()
        }
        Err(error) => web.failure(language, error),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(web): State<Web>,
    Staff(session, language): Staff,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    if let Err(error) = web
        .app
        .log_out(session.caller.business_id, session.session_id)
        .await
    {
        return web.failure(language, error);
    }
    let cookie = cookie_header(STAFF_COOKIE, "", 0, web.site.secure_cookies());
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

#[derive(Serialize)]
struct CounterPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    staff_name: &'a str,
    csrf: &'a str,
    query: &'a str,
    not_found: Option<String>,
    /// The business's locations and the one this device books to.
    locations: Vec<(String, String)>,
    location: String,
}

#[derive(Deserialize)]
struct Search {
    q: Option<String>,
}

/// The start screen: scan or type. A query that finds a member goes straight to them.
async fn counter(
    State(web): State<Web>,
    Staff(session, language): Staff,
    DeviceLocation(location): DeviceLocation,
    Query(search): Query<Search>,
) -> Response {
    let query = search.q.unwrap_or_default();
    let mut not_found = None;
    if !query.trim().is_empty() {
        match web.app.find_member(&session.caller, &query).await {
            Ok(member) => {
                return Redirect::to(&format!("/counter/members/{}", member.id)).into_response();
            }
            Err(AppError::NotFound | AppError::Invalid { .. }) => {
                not_found = text(language, "counter_not_found", &[("query", query.trim())]);
            }
            Err(error) => return web.failure(language, error),
        }
    }
    let page = CounterPage {
        layout: Layout {
            lang: language.as_str(),
            title: text(language, "counter_title", &[]).unwrap_or_default(),
            business: None,
            path: "/counter",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        staff_name: &session.name,
        csrf: &session.csrf_token,
        query: &query,
        not_found,
        locations: match web.app.locations(&session.caller).await {
            Ok(locations) => locations
                .into_iter()
                .map(|l| (l.id.to_string(), l.name))
                .collect(),
            Err(error) => return web.failure(language, error),
        },
        location: location.map(|l| l.to_string()).unwrap_or_default(),
    };
    let status = if page.not_found.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    (status, web.render("counter.html", page)).into_response()
}

#[derive(Serialize)]
struct MemberPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    staff_name: &'a str,
    csrf: &'a str,
    member_id: String,
    first_name: &'a str,
    code: &'a str,
    progress: ProgressView,
    coupons: Vec<(String, String)>,
    recent: Vec<RecentView>,
    /// What the last action did, shown above the keypad.
    notice: Option<String>,
    error: Option<String>,
    /// A fresh idempotency key for each form on the page.
    keys: [String; 5],
}

/// A recent purchase or visit, and whether this staff member may void it now.
#[derive(Serialize)]
struct RecentView {
    id: String,
    time: String,
    title: String,
    voidable: bool,
}

fn recent_events(
    card: &Card,
    language: Language,
    now: chrono::DateTime<chrono::Utc>,
    void_window: Option<chrono::Duration>,
) -> Vec<RecentView> {
    let time_zone = card.program.time_zone();
    card.recent
        .iter()
        .filter(|recorded| recorded.event.kind.is_visit())
        .take(5)
        .map(|recorded| {
            let event = &recorded.event;
            let amount = event.kind.amount().get();
            let title = if amount > 0 {
                euros(amount, language)
            } else {
                text(language, "card_event_visit", &[]).unwrap_or_default()
            };
            let within = void_window.is_none_or(|window| now - event.occurred_at <= window);
            RecentView {
                id: event.id.to_string(),
                time: event
                    .occurred_at
                    .with_timezone(&time_zone)
                    .format("%d.%m. %H:%M")
                    .to_string(),
                title,
                voidable: recorded.voided_at.is_none() && within,
            }
        })
        .collect()
}

fn member_page(
    web: &Web,
    session: &StaffSession,
    language: Language,
    card: &Card,
    recent: Vec<RecentView>,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    let program = &card.program;
    let page = MemberPage {
        layout: Layout {
            lang: language.as_str(),
            title: t("counter_title", &[]),
            business: Some(&card.business_name),
            path: "/counter",
            brand: None,
            legal: None,
        },
        lang: language.as_str(),
        staff_name: &session.name,
        csrf: &session.csrf_token,
        member_id: card.member.id.to_string(),
        first_name: &card.member.first_name,
        code: card.member.code.as_str(),
        progress: progress_view(program, &card.member.state, language, web.app.now()),
        coupons: card
            .coupons
            .iter()
            .map(|c| {
                (
                    c.code.to_string(),
                    program
                        .reward(&c.reward_id)
                        .map_or_else(|| c.reward_id.to_string(), |r| r.name.clone()),
                )
            })
            .collect(),
        recent,
        notice,
        error,
        keys: std::array::from_fn(|_| uuid::Uuid::new_v4().to_string()),
    };
    let status = super::form_status(page.error.is_some());
    (status, web.render("counter_member.html", page)).into_response()
}

async fn show_member(
    web: &Web,
    session: &StaffSession,
    language: Language,
    id: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let Some(member) = MemberId::parse(id) else {
        return web.failure(language, AppError::NotFound);
    };
    let card = web.app.member_card(&session.caller, member).await;
    let settings = web.app.shop_settings(session.caller.business_id).await;
    match card.and_then(|card| Ok((card, settings?))) {
        Ok((card, settings)) => {
            // Cashiers may void within the shop's window; owners and managers any time.
            let void_window = (!session.role.may_manage())
                .then(|| chrono::Duration::minutes(settings.void_window_minutes));
            let recent = recent_events(&card, language, web.app.now(), void_window);
            member_page(web, session, language, &card, recent, notice, error)
        }
        Err(error) => web.failure(language, error),
    }
}

#[derive(Deserialize)]
struct Enrolled {
    enrolled: Option<String>,
}

async fn member(
    State(web): State<Web>,
    Staff(session, language): Staff,
    Path(id): Path<String>,
    Query(enrolled): Query<Enrolled>,
) -> Response {
    // Right after a sign-up at the counter, the page says so.
    let notice = enrolled.enrolled.map(|how| {
        let key = if how == "link" {
            "counter_enrolled_link"
        } else {
            "counter_enrolled"
        };
        text(language, key, &[]).unwrap_or_default()
    });
    show_member(&web, &session, language, &id, notice, None).await
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// The idempotency key the page (or the offline queue) minted for this action.
    #[serde(default)]
    key: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    reward: String,
    #[serde(default)]
    coupon: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    reason: String,
}

impl ActionForm {
    /// The key with a fingerprint of what the form asks, so a key reused for another
    /// action is refused instead of answered with the first action's result.
    fn idempotency_key(&self, path: &str) -> Option<IdempotencyKey> {
        let key = self.key.trim();
        if key.is_empty() || key.len() > 255 {
            return None;
        }
        let digest = Sha256::digest(format!(
            "{path}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.amount, self.category, self.reward, self.coupon, self.event, self.reason
        ));
        Some(IdempotencyKey {
            key: format!("counter:{key}"),
            fingerprint: digest.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

/// Runs one counter action at this device's location (when it has one) and shows the
/// member again with what it did.
async fn act(
    web: &Web,
    session: &StaffSession,
    language: Language,
    (id, location): (&str, Option<LocationId>),
    form: &ActionForm,
    action: Action,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let Some(member_id) = MemberId::parse(id) else {
        return web.failure(language, AppError::NotFound);
    };
    // A location of another business (or one since removed) books without a location.
    let location = match location {
        Some(location) => web
            .app
            .location(&session.caller, location)
            .await
            .ok()
            .map(|l| l.id),
        None => None,
    };
    let path = format!("/counter/members/{id}/{}", action.name());
    let key = form.idempotency_key(&path);
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    let caller = &session.caller;
    let result = match action {
        Action::Purchase => {
            let Some(cents) = parse_euros(&form.amount)
                .filter(|c| *c > 0)
                .and_then(|c| Cents::new(c).ok())
            else {
                return show_member(
                    web,
                    session,
                    language,
                    id,
                    None,
                    Some(t("counter_error_amount", &[])),
                )
                .await;
            };
            let category = Some(form.category.trim().to_owned()).filter(|c| !c.is_empty());
            let items = category
                .map(|category| {
                    vec![Item {
                        sku: None,
                        category: Some(category),
                        quantity: 1,
                        amount: Some(cents),
                    }]
                })
                .unwrap_or_default();
            let kind = NewEventKind::Purchase {
                amount: cents,
                currency: Currency::EUR,
                items,
            };
            web.app
                .record_event(
                    caller,
                    key,
                    NewEvent {
                        member_id,
                        kind,
                        location_id: location,
                        occurred_at: None,
                    },
                )
                .await
        }
        Action::Stamp => {
            web.app
                .record_event(
                    caller,
                    key,
                    NewEvent {
                        member_id,
                        kind: NewEventKind::Visit,
                        location_id: location,
                        occurred_at: None,
                    },
                )
                .await
        }
        Action::Redeem => {
            web.app
                .redeem_reward(caller, key, member_id, form.reward.trim())
                .await
        }
        Action::UseCoupon => web.app.use_coupon(caller, key, form.coupon.trim()).await,
        Action::Void => {
            let Some(event_id) = EventId::parse(form.event.trim()) else {
                return web.failure(language, AppError::NotFound);
            };
            let reason = form.reason.clone();
            web.app
                .void_at_counter(session, key, member_id, event_id, reason)
                .await
        }
    };
    match result {
        Ok(outcome) => {
            show_member(
                web,
                session,
                language,
                id,
                Some(notice(language, &outcome, action)),
                None,
            )
            .await
        }
        Err(AppError::Domain(refusal)) => {
            show_member(
                web,
                session,
                language,
                id,
                None,
                Some(i18n::refusal(language, &refusal)),
            )
            .await
        }
        Err(AppError::Invalid { field, reason }) => {
            let message = match field.as_str() {
                "event" => t("error_void_window", &[]),
                "reason" => t("error_reason", &[]),
                _ => format!("{field}: {reason}"),
            };
            show_member(web, session, language, id, None, Some(message)).await
        }
        Err(error) => web.failure(language, error),
    }
}

#[derive(Clone, Copy)]
enum Action {
    Purchase,
    Stamp,
    Redeem,
    UseCoupon,
    Void,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Self::Purchase => "purchase",
            Self::Stamp => "stamp",
            Self::Redeem => "redeem",
            Self::UseCoupon => "coupons/use",
            Self::Void => "void",
        }
    }
}

fn notice(language: Language, outcome: &Outcome, action: Action) -> String {
    let t = |key: &str, args: &[(&str, &str)]| text(language, key, args).unwrap_or_default();
    match (outcome, action) {
        (Outcome::Event(event), _) => {
            let stamps: Stamps = event.stamps_earned.values().sum();
            let mut notice = t(
                "counter_earned",
                &[
                    ("points", &number(event.points_earned.get(), language)),
                    ("stamps", &stamps.to_string()),
                ],
            );
            for coupon in &event.coupons_issued {
                notice.push_str(" · ");
                notice.push_str(&t("counter_issued", &[("code", coupon.code.as_str())]));
            }
            notice
        }
        (Outcome::Coupon(coupon), Action::UseCoupon) => {
            t("counter_used", &[("code", coupon.code.as_str())])
        }
        (Outcome::Coupon(coupon), _) => t("counter_issued", &[("code", coupon.code.as_str())]),
        (Outcome::Reversal(reversal), _) => {
            let stamps: Stamps = reversal.stamps_reversed.values().sum();
            t(
                "counter_voided",
                &[
                    ("points", &number(reversal.points_reversed.get(), language)),
                    ("stamps", &stamps.to_string()),
                ],
            )
        }
        (_, _) => t("counter_all_sent", &[]),
    }
}

async fn purchase(
    State(web): State<Web>,
    Staff(session, language): Staff,
    DeviceLocation(location): DeviceLocation,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let at = (id.as_str(), location);
    act(&web, &session, language, at, &form, Action::Purchase).await
}

async fn stamp(
    State(web): State<Web>,
    Staff(session, language): Staff,
    DeviceLocation(location): DeviceLocation,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let at = (id.as_str(), location);
    act(&web, &session, language, at, &form, Action::Stamp).await
}

async fn redeem(
    State(web): State<Web>,
    Staff(session, language): Staff,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    act(&web, &session, language, (&id, None), &form, Action::Redeem).await
}

async fn use_coupon(
    State(web): State<Web>,
    Staff(session, language): Staff,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    act(
        &web,
        &session,
        language,
        (&id, None),
        &form,
        Action::UseCoupon,
    )
    .await
}

async fn void(
    State(web): State<Web>,
    Staff(session, language): Staff,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    act(&web, &session, language, (&id, None), &form, Action::Void).await
}

#[derive(Deserialize)]
struct LocationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    location: String,
}

/// Sets the location this device books to (a cookie on the device, kept for a year).
async fn choose_location(
    State(web): State<Web>,
    Staff(session, language): Staff,
    Form(form): Form<LocationForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let chosen = match LocationId::parse(form.location.trim()) {
        Some(id) => match web.app.location(&session.caller, id).await {
            Ok(location) => location.id.to_string(),
            Err(error) => return web.failure(language, error),
        },
        None => String::new(),
    };
    let max_age = if chosen.is_empty() {
        0
    } else {
        365 * 24 * 3600
    };
    let cookie = cookie_header(LOCATION_COOKIE, &chosen, max_age, web.site.secure_cookies());
    ([(header::SET_COOKIE, cookie)], Redirect::to("/counter")).into_response()
}
