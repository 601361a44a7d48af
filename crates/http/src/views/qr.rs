//! QR codes as inline SVG: black on white with the quiet zone, so phone cameras and
//! counter scanners read them in any light.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The payload as an `<svg>` element labelled for screen readers, or `None` when it is too
/// long for a QR code.
pub fn svg(payload: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    let element = image
        .split_once("?>")
        .map_or(image.as_str(), |(_, svg)| svg);
    let label = label.replace(['"', '<', '>', '&'], "");
    Some(element.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" "),
        1,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_svg_is_an_inline_element_with_a_label() {
        let svg = super::svg("SG1:ABCD1234", "Code <x>").unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Code x\" xmlns="));
        assert!(svg.ends_with("</svg>"));
    }
}
