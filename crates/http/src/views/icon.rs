//! The app icon as PNG in the sizes home screens ask for (Android 192 and 512 px, iOS
//! 180 px), drawn from the same shapes as `static/icon.svg`: a rounded square in the
//! brand colour with a white ring and dot.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::LazyLock;

const BRAND: [u8; 3] = [0x8c, 0x2f, 0x1b];
const WHITE: [u8; 3] = [0xff, 0xff, 0xff];

/// RGBA pixels of the icon at `size` × `size`, in the SVG's 512-unit coordinates.
fn pixels(size: u32) -> Vec<u8> {
    let scale = 512.0 / size as f32;
    let mut rgba = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let (px, py) = ((x as f32 + 0.5) * scale, (y as f32 + 0.5) * scale);
            // The rounded square: corners of radius 96.
            let corner_x = (px - px.clamp(96.0, 416.0)).abs();
            let corner_y = (py - py.clamp(96.0, 416.0)).abs();
            let inside = corner_x.hypot(corner_y) <= 96.0;
            let from_centre = (px - 256.0).hypot(py - 256.0);
            let ring = (from_centre - 150.0).abs() <= 18.0;
            let dot = from_centre <= 70.0;
            let (color, alpha) = match (inside, ring || dot) {
                (false, _) => (WHITE, 0),
                (true, true) => (WHITE, 255),
                (true, false) => (BRAND, 255),
            };
            rgba.extend_from_slice(&color);
            rgba.push(alpha);
        }
    }
    rgba
}

fn png(size: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, size, size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&pixels(size)));
    if let Err(error) = written {
        tracing::error!(%error, size, "the icon could not be drawn");
    }
    out
}

static ICON_180: LazyLock<Vec<u8>> = LazyLock::new(|| png(180));
static ICON_192: LazyLock<Vec<u8>> = LazyLock::new(|| png(192));
static ICON_512: LazyLock<Vec<u8>> = LazyLock::new(|| png(512));

fn serve(icon: &'static LazyLock<Vec<u8>>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        icon.as_slice(),
    )
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/apple-touch-icon.png", get(|| async { serve(&ICON_180) }))
        .route("/static/icon-192.png", get(|| async { serve(&ICON_192) }))
        .route("/static/icon-512.png", get(|| async { serve(&ICON_512) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icon_has_transparent_corners_a_brand_background_and_a_white_centre() {
        let size = 64;
        let rgba = pixels(size);
        let at = |x: u32, y: u32| {
            &rgba[((y * size + x) * 4) as usize..((y * size + x) * 4 + 4) as usize]
        };
        assert_eq!(at(0, 0)[3], 0, "corner");
        assert_eq!(at(32, 32), [0xff, 0xff, 0xff, 0xff], "centre dot");
        assert_eq!(at(32, 6), [0x8c, 0x2f, 0x1b, 0xff], "background");
        assert!(png(192).starts_with(b"\x89PNG"));
    }
}
