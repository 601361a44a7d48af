//! Printable QR material: a sheet (page size, coloured bands, text, a QR code) laid out
//! once and written as SVG or PDF by the same description; the QR code alone as PNG.
//! Lengths are PDF points (1/72 inch), measured from the top left.

use qrcode::{Color, EcLevel, QrCode};

pub const MM: f32 = 72.0 / 25.4;

/// An sRGB colour as `#rrggbb`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    pub const WHITE: Rgb = Rgb(255, 255, 255);

    /// Parses `#rrggbb`.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 {
            return None;
        }
        let channel = |at: usize| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok();
        Some(Self(channel(0)?, channel(2)?, channel(4)?))
    }

    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    fn pdf(self) -> String {
        let unit = |c: u8| f32::from(c) / 255.0;
        format!(
            "{:.3} {:.3} {:.3}",
            unit(self.0),
            unit(self.1),
            unit(self.2)
        )
    }
}

#[derive(Clone, Debug)]
pub enum Mark {
    Rect {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        color: Rgb,
    },
    /// One line of text; `y` is its baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        color: Rgb,
        text: String,
    },
    /// A QR code with its quiet zone, `size` wide and high.
    Qr {
        x: f32,
        y: f32,
        size: f32,
        payload: String,
    },
}

#[derive(Clone, Debug)]
pub struct Sheet {
    pub width: f32,
    pub height: f32,
    pub marks: Vec<Mark>,
}

/// The dark modules of a QR code (with a four-module quiet zone) as rows of booleans.
pub fn qr_modules(payload: &str) -> Option<Vec<Vec<bool>>> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let side = width + 2 * quiet;
    Some(
        (0..side)
            .map(|row| {
                (0..side)
                    .map(|column| {
                        let inside = (quiet..quiet + width).contains(&row)
                            && (quiet..quiet + width).contains(&column);
                        inside && colors[(row - quiet) * width + (column - quiet)] == Color::Dark
                    })
                    .collect()
            })
            .collect(),
    )
}

/// Runs of dark modules per row: (row, first column, length). Fewer shapes than modules.
fn dark_runs(modules: &[Vec<bool>]) -> Vec<(usize, usize, usize)> {
    let mut runs = Vec::new();
    for (row, cells) in modules.iter().enumerate() {
        let mut column = 0;
        while column < cells.len() {
            if cells[column] {
                let start = column;
                while column < cells.len() && cells[column] {
                    column += 1;
                }
                runs.push((row, start, column - start));
            } else {
                column += 1;
            }
        }
    }
    runs
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn to_svg(sheet: &Sheet) -> String {
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}pt\" height=\"{h}pt\" viewBox=\"0 0 {w} {h}\">",
        w = sheet.width,
        h = sheet.height
    );
    for mark in &sheet.marks {
        match mark {
            Mark::Rect {
                x,
                y,
                width,
                height,
                color,
            } => {
                svg.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\" fill=\"{}\"/>",
                    color.hex()
                ));
            }
            Mark::Text {
                x,
                y,
                size,
                bold,
                color,
                text,
            } => {
                let weight = if *bold { "bold" } else { "normal" };
                svg.push_str(&format!(
                    "<text x=\"{x}\" y=\"{y}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"{size}\" font-weight=\"{weight}\" fill=\"{}\">{}</text>",
                    color.hex(),
                    xml_escape(text)
                ));
            }
            Mark::Qr {
                x,
                y,
                size,
                payload,
            } => {
                let Some(modules) = qr_modules(payload) else {
                    continue;
                };
                let module = size / modules.len() as f32;
                svg.push_str(&format!("<rect x=\"{x}\" y=\"{y}\" width=\"{size}\" height=\"{size}\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\""));
                for (row, column, length) in dark_runs(&modules) {
                    svg.push_str(&format!(
                        "M{:.3} {:.3}h{:.3}v{:.3}h-{:.3}z",
                        x + column as f32 * module,
                        y + row as f32 * module,
                        length as f32 * module,
                        module,
                        length as f32 * module
                    ));
                }
                svg.push_str("\"/>");
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Text for a PDF string in WinAnsiEncoding (Windows-1252): Latin letters with umlauts,
/// ß and € print; anything else becomes `?`.
fn pdf_text(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        let byte = match c {
            '€' => 0x80,
            '–' => 0x96,
            '„' => 0x84,
            '“' => 0x93,
            '\u{a0}'..='\u{ff}' | ' '..='~' => c as u32 as u8,
            _ => b'?',
        };
        if matches!(byte, b'(' | b')' | b'\\') {
            bytes.push(b'\\');
        }
        bytes.push(byte);
    }
    bytes
}

pub fn to_pdf(sheet: &Sheet) -> Vec<u8> {
    let height = sheet.height;
    let mut content: Vec<u8> = Vec::new();
    for mark in &sheet.marks {
        match mark {
            Mark::Rect {
                x,
                y,
                width,
                height: h,
                color,
            } => {
                content.extend(
                    format!(
                        "{} rg {x:.2} {:.2} {width:.2} {h:.2} re f\n",
                        color.pdf(),
                        height - y - h
                    )
                    .bytes(),
                );
            }
            Mark::Text {
                x,
                y,
                size,
                bold,
                color,
                text,
            } => {
                let font = if *bold { "F1" } else { "F2" };
                content.extend(
                    format!(
                        "BT {} rg /{font} {size:.1} Tf {x:.2} {:.2} Td (",
                        color.pdf(),
                        height - y
                    )
                    .bytes(),
                );
                content.extend(pdf_text(text));
                content.extend(b") Tj ET\n");
            }
            Mark::Qr {
                x,
                y,
                size,
                payload,
            } => {
                let Some(modules) = qr_modules(payload) else {
                    continue;
                };
                let module = size / modules.len() as f32;
                content.extend(
                    format!(
                        "1 1 1 rg {x:.2} {:.2} {size:.2} {size:.2} re f\n0 0 0 rg\n",
                        height - y - size
                    )
                    .bytes(),
                );
                for (row, column, length) in dark_runs(&modules) {
                    let top = y + row as f32 * module;
                    content.extend(
                        format!(
                            "{:.3} {:.3} {:.3} {:.3} re\n",
                            x + column as f32 * module,
                            height - top - module,
                            length as f32 * module,
                            module
                        )
                        .bytes(),
                    );
                }
                content.extend(b"f\n");
            }
        }
    }
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {:.2} {:.2}] /Contents 4 0 R /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
            sheet.width, sheet.height
        )
        .into_bytes(),
        [format!("<< /Length {} >>\nstream\n", content.len()).into_bytes(), content, b"\nendstream".to_vec()].concat(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n", index + 1).bytes());
        pdf.extend(object);
        pdf.extend(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    pdf
}

/// The QR code alone as a black-on-white PNG, `pixels_per_module` pixels a module.
pub fn qr_png(payload: &str, pixels_per_module: u32) -> Option<Vec<u8>> {
    let modules = qr_modules(payload)?;
    let scale = pixels_per_module.max(1) as usize;
    let side = modules.len() * scale;
    let mut pixels = Vec::with_capacity(side * side);
    for row in &modules {
        let line: Vec<u8> = row
            .iter()
            .flat_map(|dark| std::iter::repeat_n(if *dark { 0 } else { 255 }, scale))
            .collect();
        for _ in 0..scale {
            pixels.extend_from_slice(&line);
        }
    }
    let mut png = Vec::new();
    {
        let side = u32::try_from(side).ok()?;
        let mut encoder = png::Encoder::new(&mut png, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().ok()?;
        writer.write_image_data(&pixels).ok()?;
    }
    Some(png)
}

/// Splits text into lines of about `width` points at `size` (Helvetica averages about half
/// an em per character).
pub fn wrap(text: &str, width: f32, size: f32) -> Vec<String> {
    let per_line = ((width / (size * 0.55)) as usize).max(8);
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= per_line => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        Sheet {
            width: 100.0,
            height: 100.0,
            marks: vec![
                Mark::Rect {
                    x: 0.0,
                    y: 0.0,
                    width: 100.0,
                    height: 10.0,
                    color: Rgb(140, 47, 27),
                },
                Mark::Text {
                    x: 5.0,
                    y: 8.0,
                    size: 6.0,
                    bold: true,
                    color: Rgb::WHITE,
                    text: "Café (Süß) & 5 €".into(),
                },
                Mark::Qr {
                    x: 10.0,
                    y: 20.0,
                    size: 60.0,
                    payload: "https://example.org/join/1".into(),
                },
            ],
        }
    }

    #[test]
    fn a_pdf_has_a_cross_reference_table_pointing_at_each_object() {
        let pdf = to_pdf(&sheet());
        assert!(pdf.starts_with(b"%PDF-1.4"));
        let marker = b"startxref\n";
        let at = pdf
            .windows(marker.len())
            .rposition(|w| w == marker)
            .unwrap()
            + marker.len();
        let tail = std::str::from_utf8(&pdf[at..]).unwrap();
        let xref_at: usize = tail.lines().next().unwrap().parse().unwrap();
        let table = std::str::from_utf8(&pdf[xref_at..]).unwrap();
        assert!(table.starts_with("xref"));
        for (number, line) in table.lines().skip(3).take(6).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", number + 1).as_bytes()),
                "{line}"
            );
        }
        assert!(
            pdf.windows(4).any(|w| w == b"Caf\xe9"),
            "é in WinAnsiEncoding"
        );
        assert!(
            pdf.windows(5).any(|w| w == b"\\(S\xfc\xdf"),
            "brackets escaped"
        );
    }

    #[test]
    fn the_svg_escapes_text_and_draws_the_qr_code() {
        let svg = to_svg(&sheet());
        assert!(svg.contains("Café (Süß) &amp; 5 €"));
        assert!(svg.contains("<path fill=\"#000000\" d=\"M"));
    }

    #[test]
    fn colours_parse_from_hex_and_text_wraps_at_words() {
        assert_eq!(Rgb::parse("#8c2f1b"), Some(Rgb(140, 47, 27)));
        assert_eq!(Rgb::parse("8c2f1b"), None);
        assert_eq!(
            wrap("Scannen & Gratis-Kaffee sichern", 60.0, 10.0),
            ["Scannen &", "Gratis-Kaffee", "sichern"]
        );
    }

    #[test]
    fn the_png_is_a_png_of_the_code_with_its_quiet_zone() {
        let png = qr_png("SG1:ABCD1234", 4).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
