//! The back office (owners and managers): the start page, the setup wizard (template →
//! adjust → preview → launch) and the printable QR material.

use super::i18n::text;
use super::print::{self, MM, Mark, Rgb, Sheet};
use super::progress_view::{ProgressView, progress_view};
use super::session::{Manager, csrf_ok};
use super::{Layout, Web, qr};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use stammgast_app::setup::{SetupChoices, TEMPLATES, Template, template};
use stammgast_app::{AppError, StaffSession};
use stammgast_core::engine::{Balance, MemberState};
use stammgast_core::ids::MemberId;
use stammgast_core::member::Language;
use stammgast_core::program::tiers::level_for;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/office", get(overview))
        .route("/office/setup", get(choose_template))
        .route(
            "/office/setup/{template}",
            get(adjust).post(preview_or_launch),
        )
        .route("/office/qr", get(material))
        .route("/office/qr/{file}", get(material_file))
}

fn layout<'a>(language: Language, title_key: &str, business: &'a str, path: &'a str) -> Layout<'a> {
    Layout {
        lang: language.as_str(),
        title: text(language, title_key, &[]).unwrap_or_default(),
        business: Some(business),
        path,
        brand: None,
        legal: None,
    }
}

#[derive(Serialize)]
struct OverviewPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    staff_name: &'a str,
    csrf: &'a str,
    join_url: String,
}

async fn business_name(
    web: &Web,
    session: &StaffSession,
    language: Language,
) -> Result<String, Response> {
    web.app
        .business_name(session.caller.business_id)
        .await
        .map_err(|error| web.failure(language, error))
}

/// The start page; the analytics issue turns it into the dashboard.
async fn overview(
    State(web): State<Web>,
    Manager(session, language): Manager,
    headers: HeaderMap,
) -> Response {
    let name = match business_name(&web, &session, language).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let page = OverviewPage {
        layout: layout(language, "office_title", &name, "/office"),
        lang: language.as_str(),
        staff_name: &session.name,
        csrf: &session.csrf_token,
        join_url: join_url(&web, &headers, &session),
    };
    web.render("office.html", page)
}

fn join_url(web: &Web, headers: &HeaderMap, session: &StaffSession) -> String {
    format!(
        "{}/join/{}",
        web.site.base_url(headers),
        session.caller.business_id
    )
}

#[derive(Serialize)]
struct TemplateChoice {
    id: &'static str,
    name: String,
    description: String,
}

#[derive(Serialize)]
struct ChoosePage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    templates: Vec<TemplateChoice>,
}

async fn choose_template(State(web): State<Web>, Manager(session, language): Manager) -> Response {
    let name = match business_name(&web, &session, language).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let templates = TEMPLATES
        .iter()
        .map(|template| TemplateChoice {
            id: template.id,
            name: text(language, &format!("template_{}", template.id), &[]).unwrap_or_default(),
            description: text(language, &format!("template_{}_text", template.id), &[])
                .unwrap_or_default(),
        })
        .collect();
    let page = ChoosePage {
        layout: layout(language, "setup_title", &name, "/office/setup"),
        lang: language.as_str(),
        templates,
    };
    web.render("setup_choose.html", page)
}

/// The wizard's form, as the owner filled it in (all text, so a mistake can be shown back).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    welcome_points: String,
    #[serde(default)]
    points_per_euro: String,
    #[serde(default)]
    stamps_required: String,
    #[serde(default)]
    stamp_reward_name: String,
    #[serde(default)]
    brand_color: String,
    #[serde(default)]
    call_to_action: String,
}

impl SetupForm {
    fn of(choices: &SetupChoices) -> Self {
        Self {
            welcome_points: choices.welcome_points.to_string(),
            points_per_euro: choices.points_per_euro.to_string(),
            stamps_required: choices
                .stamps_required
                .map(|n| n.to_string())
                .unwrap_or_default(),
            stamp_reward_name: choices.stamp_reward_name.clone().unwrap_or_default(),
            brand_color: choices.brand_color.clone(),
            call_to_action: choices.call_to_action.clone(),
            ..Self::default()
        }
    }

    /// The choices, or the field that is not a whole number.
    fn choices(&self, template: &Template) -> Result<SetupChoices, AppError> {
        let whole = |field: &str, value: &str| {
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid(field, "give a whole number"))
        };
        let defaults = template.defaults();
        Ok(SetupChoices {
            welcome_points: whole("welcome_points", &self.welcome_points)?,
            points_per_euro: whole("points_per_euro", &self.points_per_euro)?,
            stamps_required: match defaults.stamps_required {
                Some(_) => Some(whole("stamps_required", &self.stamps_required)?),
                None => None,
            },
            stamp_reward_name: defaults
                .stamp_reward_name
                .map(|_| self.stamp_reward_name.clone()),
            brand_color: self.brand_color.clone(),
            call_to_action: self.call_to_action.clone(),
        })
    }
}

#[derive(Serialize)]
struct AdjustPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    csrf: &'a str,
    template: &'static str,
    template_name: String,
    has_stamp_card: bool,
    form: SetupForm,
    error: Option<(String, String)>,
    /// The customer's card as it will look, after "preview".
    preview: Option<ProgressView>,
    business_name: &'a str,
}

struct Wizard<'a> {
    web: &'a Web,
    session: &'a StaffSession,
    language: Language,
    template: &'static Template,
    business_name: &'a str,
}

impl Wizard<'_> {
    fn page(
        &self,
        form: SetupForm,
        error: Option<(String, String)>,
        preview: Option<ProgressView>,
    ) -> Response {
        let language = self.language;
        let path = format!("/office/setup/{}", self.template.id);
        let status = super::form_status(error.is_some());
        let page = AdjustPage {
            layout: layout(language, "setup_title", self.business_name, &path),
            lang: language.as_str(),
            csrf: &self.session.csrf_token,
            template: self.template.id,
            template_name: text(language, &format!("template_{}", self.template.id), &[])
                .unwrap_or_default(),
            has_stamp_card: self.template.defaults().stamps_required.is_some(),
            form,
            error,
            preview,
            business_name: self.business_name,
        };
        (status, self.web.render("setup_adjust.html", page)).into_response()
    }

    /// The card of a new member under the adjusted program: the sign-up bonus and a few
    /// stamps, computed by the same code as a real card.
    fn preview(&self, choices: &SetupChoices) -> Result<ProgressView, AppError> {
        let (_, program) = self.template.program(choices)?;
        let mut state = MemberState::new(MemberId::from_uuid(uuid::Uuid::nil()));
        state.points = Balance {
            posted: choices.welcome_points,
            held: 0,
        };
        if let Some(card) = program.stamp_cards.first() {
            state.stamps.insert(
                card.id.clone(),
                Balance {
                    posted: 3.min(card.stamps_required.get() - 1),
                    held: 0,
                },
            );
        }
        state.tier = program
            .tiers
            .as_ref()
            .and_then(|tiers| level_for(tiers, 0))
            .map(|level| level.id.clone());
        Ok(progress_view(
            &program,
            &state,
            self.language,
            self.web.app.now(),
        ))
    }

    fn refusal(&self, form: SetupForm, error: AppError) -> Response {
        match error {
            AppError::Invalid { field, reason } => {
                let message =
                    text(self.language, &format!("setup_error_{field}"), &[]).unwrap_or(reason);
                self.page(form, Some((field, message)), None)
            }
            other => self.web.failure(self.language, other),
        }
    }
}

async fn adjust(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
) -> Response {
    let Some(template) = template(&id) else {
        return web.failure(language, AppError::NotFound);
    };
    let name = match business_name(&web, &session, language).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let mut defaults = template.defaults();
    if let Ok(branding) = web.app.shop_settings(session.caller.business_id).await {
        defaults.brand_color = branding.brand_color;
    }
    let wizard = Wizard {
        web: &web,
        session: &session,
        language,
        template,
        business_name: &name,
    };
    wizard.page(SetupForm::of(&defaults), None, None)
}

async fn preview_or_launch(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(id): Path<String>,
    Form(form): Form<SetupForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let Some(template) = template(&id) else {
        return web.failure(language, AppError::NotFound);
    };
    let name = match business_name(&web, &session, language).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let wizard = Wizard {
        web: &web,
        session: &session,
        language,
        template,
        business_name: &name,
    };
    let choices = match form.choices(template) {
        Ok(choices) => choices,
        Err(error) => return wizard.refusal(form, error),
    };
    if form.step != "launch" {
        return match wizard.preview(&choices).and_then(|preview| {
            stammgast_app::check_branding(&choices.brand_color, &choices.call_to_action)
                .map(|_| preview)
        }) {
            Ok(preview) => wizard.page(form, None, Some(preview)),
            Err(error) => wizard.refusal(form, error),
        };
    }
    match web
        .app
        .launch_program(&session.caller, template, &choices)
        .await
    {
        Ok(_) => Redirect::to("/office/qr?launched=1").into_response(),
        Err(error) => wizard.refusal(form, error),
    }
}

/// The printable materials: (file stem, translation key, page size in mm).
const MATERIALS: [(&str, &str, f32, f32); 4] = [
    ("poster", "qr_poster", 210.0, 297.0),
    ("table-tent", "qr_table_tent", 105.0, 148.0),
    ("sticker", "qr_sticker", 70.0, 70.0),
    ("receipt", "qr_receipt", 80.0, 40.0),
];

#[derive(Serialize)]
struct MaterialView {
    file: &'static str,
    name: String,
}

#[derive(Serialize)]
struct MaterialPage<'a> {
    layout: Layout<'a>,
    lang: &'static str,
    launched: bool,
    join_url: String,
    receipt_line: String,
    qr_svg: String,
    materials: Vec<MaterialView>,
}

#[derive(Deserialize)]
struct Launched {
    launched: Option<String>,
}

async fn material(
    State(web): State<Web>,
    Manager(session, language): Manager,
    headers: HeaderMap,
    Query(launched): Query<Launched>,
) -> Response {
    let name = match business_name(&web, &session, language).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let join_url = join_url(&web, &headers, &session);
    let call_to_action = match web.app.shop_settings(session.caller.business_id).await {
        Ok(branding) => branding.call_to_action,
        Err(error) => return web.failure(language, error),
    };
    let page = MaterialPage {
        layout: layout(language, "qr_title", &name, "/office/qr"),
        lang: language.as_str(),
        launched: launched.launched.is_some(),
        receipt_line: format!("{call_to_action}: {join_url}"),
        qr_svg: qr::svg(&join_url, &join_url).unwrap_or_default(),
        join_url,
        materials: MATERIALS
            .iter()
            .map(|(file, key, _, _)| MaterialView {
                file,
                name: text(language, key, &[]).unwrap_or_default(),
            })
            .collect(),
    };
    web.render("office_qr.html", page)
}

/// One material as PDF, SVG or PNG (the QR code alone), or the receipt line as text.
async fn material_file(
    State(web): State<Web>,
    Manager(session, language): Manager,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let Some((stem, format)) = file.rsplit_once('.') else {
        return web.failure(language, AppError::NotFound);
    };
    let Some(&(_, _, width_mm, height_mm)) = MATERIALS.iter().find(|(name, ..)| *name == stem)
    else {
        return web.failure(language, AppError::NotFound);
    };
    let name = match business_name(&web, &session, language).await {
        Ok(name) => name,
        Err(page) => return page,
    };
    let branding = match web.app.shop_settings(session.caller.business_id).await {
        Ok(branding) => branding,
        Err(error) => return web.failure(language, error),
    };
    let join_url = join_url(&web, &headers, &session);
    let brand = Rgb::parse(&branding.brand_color).unwrap_or(Rgb(140, 47, 27));
    let sheet = sheet(
        width_mm * MM,
        height_mm * MM,
        &name,
        &branding.call_to_action,
        &join_url,
        brand,
    );
    let download = |content_type: &'static str, body: Vec<u8>| {
        (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"stammgast-{stem}.{format}\""),
                ),
            ],
            body,
        )
            .into_response()
    };
    match format {
        "pdf" => download("application/pdf", print::to_pdf(&sheet)),
        "svg" => download("image/svg+xml", print::to_svg(&sheet).into_bytes()),
        "png" => match print::qr_png(&join_url, 16) {
            Some(png) => download("image/png", png),
            None => web.failure(language, AppError::NotFound),
        },
        "txt" if stem == "receipt" => download(
            "text/plain; charset=utf-8",
            format!("{}: {join_url}\n", branding.call_to_action).into_bytes(),
        ),
        _ => web.failure(language, AppError::NotFound),
    }
}

/// A sheet of `width` × `height` points: the shop's name on a band in its colour, the call
/// to action, the QR code of the join page, and the address under it. Small sheets (the
/// receipt strip) put the code beside the text.
fn sheet(
    width: f32,
    height: f32,
    business: &str,
    call_to_action: &str,
    join_url: &str,
    brand: Rgb,
) -> Sheet {
    let margin = (width.min(height) * 0.06).max(6.0);
    let landscape = width > height;
    let mut marks = Vec::new();
    if landscape {
        let qr = height - 2.0 * margin;
        marks.push(Mark::Qr {
            x: width - margin - qr,
            y: margin,
            size: qr,
            payload: join_url.to_owned(),
        });
        let text_width = width - 3.0 * margin - qr;
        let size = (height / 7.0).min(14.0);
        let mut y = margin + size;
        marks.push(Mark::Text {
            x: margin,
            y,
            size,
            bold: true,
            color: brand,
            text: business.to_owned(),
        });
        for line in print::wrap(call_to_action, text_width, size * 0.85) {
            y += size * 1.2;
            marks.push(Mark::Text {
                x: margin,
                y,
                size: size * 0.85,
                bold: false,
                color: Rgb::BLACK,
                text: line,
            });
        }
        return Sheet {
            width,
            height,
            marks,
        };
    }
    let title = width / 14.0;
    let band = title * 2.2;
    marks.push(Mark::Rect {
        x: 0.0,
        y: 0.0,
        width,
        height: band,
        color: brand,
    });
    marks.push(Mark::Text {
        x: margin,
        y: band * 0.62,
        size: title,
        bold: true,
        color: Rgb::WHITE,
        text: business.to_owned(),
    });
    let action = width / 16.0;
    let mut y = band + margin + action;
    for line in print::wrap(call_to_action, width - 2.0 * margin, action) {
        marks.push(Mark::Text {
            x: margin,
            y,
            size: action,
            bold: true,
            color: Rgb::BLACK,
            text: line,
        });
        y += action * 1.25;
    }
    let address_size = (width / 45.0).max(5.0);
    let qr = (width - 2.0 * margin)
        .min(height - y - 2.0 * margin - address_size * 2.0)
        .max(40.0);
    marks.push(Mark::Qr {
        x: (width - qr) / 2.0,
        y,
        size: qr,
        payload: join_url.to_owned(),
    });
    marks.push(Mark::Text {
        x: margin,
        y: y + qr + address_size * 1.6,
        size: address_size,
        bold: false,
        color: Rgb::BLACK,
        text: join_url.to_owned(),
    });
    Sheet {
        width,
        height,
        marks,
    }
}
