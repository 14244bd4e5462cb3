//! QR codes of `otpauth://` URIs for authenticator apps to scan: an SVG to inline in the
//! enrollment page and a PNG for API clients. Both keep the 4-module quiet zone the QR
//! specification asks for, without which some phone scanners fail.

use qrcode::QrCode;
use qrcode::render::svg;

/// Pixels per module in the PNG: large enough for a phone camera at arm's length.
const PNG_MODULE_PX: usize = 8;
/// Light modules around the code, as the QR specification requires.
const QUIET_ZONE_MODULES: usize = 4;

/// An `<svg>` element (no XML declaration, so it can be inlined in HTML), at least 200 px
/// wide, black on white with a quiet zone.
pub fn svg(data: &str) -> anyhow::Result<String> {
    let code = QrCode::new(data.as_bytes())?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // The renderer prefixes an XML declaration, which is invalid inside an HTML document.
    let start = image
        .find("<svg")
        .ok_or_else(|| anyhow::anyhow!("QR renderer produced no <svg> element"))?;
    Ok(image[start..].to_owned())
}

/// An 8-bit grayscale PNG, 8 px per module, with a 4-module quiet zone.
pub fn png(data: &str) -> anyhow::Result<Vec<u8>> {
    let code = QrCode::new(data.as_bytes())?;
    let modules = code.width();
    let colors = code.to_colors();
    let side_modules = modules + 2 * QUIET_ZONE_MODULES;
    let side = side_modules * PNG_MODULE_PX;

    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let x0 = (i % modules + QUIET_ZONE_MODULES) * PNG_MODULE_PX;
        let y0 = (i / modules + QUIET_ZONE_MODULES) * PNG_MODULE_PX;
        for y in y0..y0 + PNG_MODULE_PX {
            let row = y * side;
            if let Some(run) = pixels.get_mut(row + x0..row + x0 + PNG_MODULE_PX) {
                run.fill(0);
            }
        }
    }

    let side_px = u32::try_from(side)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side_px, side_px);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://totp/Twofold:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
                       &issuer=Twofold&algorithm=SHA1&digits=6&period=30";

    #[test]
    fn svg_is_an_inline_element_of_useful_size() {
        let image = svg(URI).unwrap();
        assert!(image.starts_with("<svg"), "{}", &image[..40]);
        assert!(image.ends_with("</svg>"));
        assert!(!image.contains("<?xml"));
        let width: u32 = image
            .split("width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(width >= 200, "width {width}");
    }

    #[test]
    fn png_decodes_to_the_expected_size() {
        let bytes = png(URI).unwrap();
        assert!(bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]));

        let modules = QrCode::new(URI.as_bytes()).unwrap().width();
        let side = ((modules + 2 * QUIET_ZONE_MODULES) * PNG_MODULE_PX) as u32;
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (side, side));
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);

        let pixels = &buf[..info.buffer_size()];
        let at = |x: usize, y: usize| pixels[y * side as usize + x];
        let quiet = QUIET_ZONE_MODULES * PNG_MODULE_PX;
        // The quiet zone is white; the top-left finder pattern starts dark right after it.
        assert!(pixels[..quiet * side as usize].iter().all(|&p| p == 255));
        assert_eq!(at(quiet - 1, quiet), 255);
        assert_eq!(at(quiet, quiet), 0);
        assert_eq!(at(quiet + PNG_MODULE_PX - 1, quiet + PNG_MODULE_PX - 1), 0);
        // Second ring of the finder pattern is light.
        assert_eq!(at(quiet + PNG_MODULE_PX, quiet + PNG_MODULE_PX), 255);
    }

    #[test]
    fn data_too_long_for_any_qr_code_is_an_error() {
        let huge = "x".repeat(8000);
        assert!(svg(&huge).is_err());
        assert!(png(&huge).is_err());
    }
}
