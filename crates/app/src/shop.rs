//! A shop's own settings: colour, call to action, the cashiers' void window, logo and legal
//! texts, each checked before it is saved.

use crate::keys::{Caller, Scope};
use crate::setup::TEMPLATES;
use crate::{App, AppError};
use stammgast_core::ids::BusinessId;
use stammgast_store::{LegalTexts, Logo, ShopSettings};

pub(crate) const DEFAULT_BRAND_COLOR: &str = "#8c2f1b";
/// The longest legal text a shop may save.
const LEGAL_TEXT_LENGTH_MAX: usize = 20_000;
/// How long a cashier may void a purchase when the owner has not said otherwise.
const VOID_WINDOW_MINUTES_DEFAULT: i64 = 60;
/// The largest logo accepted (it is sent with every card page's header image).
pub const LOGO_BYTES_MAX: usize = 200 * 1024;
/// Logos are raster images: an SVG could carry scripts.
const LOGO_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

/// White text on the brand colour (headers, buttons) needs this contrast (WCAG 2.1 AA).
const CONTRAST_MIN: f64 = 4.5;

/// The contrast ratio of white against `#rrggbb` (WCAG 2.1 relative luminance).
fn contrast_with_white(color: &str) -> f64 {
    let channel = |at: usize| {
        let value =
            f64::from(u8::from_str_radix(color.get(at..at + 2).unwrap_or("00"), 16).unwrap_or(0))
                / 255.0;
        if value <= 0.039_28 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    1.05 / (luminance + 0.05)
}

/// The colour and call to action the owner chose, checked.
pub struct Branding {
    pub brand_color: String,
    pub call_to_action: String,
}

/// Checks a colour and call to action the owner chose.
pub fn check_branding(brand_color: &str, call_to_action: &str) -> Result<Branding, AppError> {
    let color = brand_color.trim();
    let hex_ok = color.len() == 7
        && color.starts_with('#')
        && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !hex_ok {
        return Err(AppError::invalid("brand_color", "give a colour as #rrggbb"));
    }
    if contrast_with_white(color) < CONTRAST_MIN {
        return Err(AppError::invalid(
            "brand_color",
            "choose a darker colour: white text on it must stay readable (contrast 4.5:1)",
        ));
    }
    let call_to_action = call_to_action.trim();
    if call_to_action.is_empty() || call_to_action.chars().count() > 60 {
        return Err(AppError::invalid(
            "call_to_action",
            "give a call to action of 1 to 60 characters",
        ));
    }
    Ok(Branding {
        brand_color: color.to_lowercase(),
        call_to_action: call_to_action.to_owned(),
    })
}

impl App {
    /// The shop's settings, or the defaults until the owner sets them.
    pub async fn shop_settings(&self, business: BusinessId) -> Result<ShopSettings, AppError> {
        Ok(self
            .store
            .shop_settings(business)
            .await?
            .unwrap_or_else(|| ShopSettings {
                brand_color: DEFAULT_BRAND_COLOR.to_owned(),
                call_to_action: TEMPLATES[0].call_to_action.to_owned(),
                void_window_minutes: VOID_WINDOW_MINUTES_DEFAULT,
                legal: LegalTexts::default(),
                logo_version: 0,
            }))
    }

    /// Saves the shop's imprint, privacy notice and terms (each at most 20,000 characters).
    pub async fn save_legal_texts(
        &self,
        caller: &Caller,
        legal: LegalTexts,
    ) -> Result<(), AppError> {
        caller.require(Scope::ProgramWrite)?;
        for (field, text) in [
            ("imprint", &legal.imprint),
            ("privacy_notice", &legal.privacy_notice),
            ("terms", &legal.terms),
        ] {
            if text.chars().count() > LEGAL_TEXT_LENGTH_MAX {
                return Err(AppError::invalid(
                    field,
                    format!("at most {LEGAL_TEXT_LENGTH_MAX} characters"),
                ));
            }
        }
        let settings = ShopSettings {
            legal: LegalTexts {
                imprint: legal.imprint.trim().to_owned(),
                privacy_notice: legal.privacy_notice.trim().to_owned(),
                terms: legal.terms.trim().to_owned(),
            },
            ..self.shop_settings(caller.business_id).await?
        };
        Ok(self
            .store
            .save_shop_settings(caller.business_id, settings, self.now())
            .await?)
    }

    /// Changes the shop's colour, call to action and the cashiers' void window.
    pub async fn save_branding(
        &self,
        caller: &Caller,
        brand_color: &str,
        call_to_action: &str,
        void_window_minutes: i64,
    ) -> Result<(), AppError> {
        caller.require(Scope::ProgramWrite)?;
        let branding = check_branding(brand_color, call_to_action)?;
        if !(0..=24 * 60).contains(&void_window_minutes) {
            return Err(AppError::invalid(
                "void_window_minutes",
                "give 0 to 1,440 minutes",
            ));
        }
        let settings = ShopSettings {
            brand_color: branding.brand_color,
            call_to_action: branding.call_to_action,
            void_window_minutes,
            ..self.shop_settings(caller.business_id).await?
        };
        Ok(self
            .store
            .save_shop_settings(caller.business_id, settings, self.now())
            .await?)
    }

    /// Saves a new logo (PNG, JPEG or WebP of at most 200 KB, given as base64).
    pub async fn save_logo(
        &self,
        caller: &Caller,
        content_type: &str,
        base64: &str,
    ) -> Result<(), AppError> {
        caller.require(Scope::ProgramWrite)?;
        if !LOGO_TYPES.contains(&content_type) {
            return Err(AppError::invalid(
                "logo",
                "upload a PNG, JPEG or WebP image",
            ));
        }
        // Base64 takes four characters for three bytes.
        if base64.len() > LOGO_BYTES_MAX / 3 * 4 + 4 || base64.is_empty() {
            return Err(AppError::invalid("logo", "the image may be at most 200 KB"));
        }
        let current = self.shop_settings(caller.business_id).await?;
        let settings = ShopSettings {
            logo_version: current.logo_version + 1,
            ..current
        };
        let logo = Logo {
            content_type: content_type.to_owned(),
            base64: base64.to_owned(),
        };
        Ok(self
            .store
            .save_logo(caller.business_id, logo, settings, self.now())
            .await?)
    }

    /// The shop's logo, for the image its pages show.
    pub async fn logo(&self, business: BusinessId) -> Result<Logo, AppError> {
        self.store.logo(business).await?.ok_or(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_too_light_for_white_text_are_refused() {
        for colour in ["red", "#ffdd00"] {
            assert!(
                matches!(check_branding(colour, "Scannen"), Err(AppError::Invalid { field, .. }) if field == "brand_color"),
                "{colour}"
            );
        }
        assert!(check_branding("#8c2f1b", " ").is_err());
    }

    #[test]
    fn contrast_follows_wcag() {
        assert!((contrast_with_white("#000000") - 21.0).abs() < 0.01);
        assert!((contrast_with_white("#ffffff") - 1.0).abs() < 0.01);
        assert!((contrast_with_white("#767676") - 4.54).abs() < 0.01);
    }
}
