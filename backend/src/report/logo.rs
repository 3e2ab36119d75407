//! The MSP's logo in a report's header: its image as uploaded (checked then, see
//! `service::logo`), the box it is drawn in, and the image as krilla embeds it.
use qbr_shared::api::LogoFormat;
use std::sync::Arc;

/// A logo to draw: the file's bytes and its size in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Logo {
    pub format: LogoFormat,
    pub image: Arc<Vec<u8>>,
    pub width: u32,
    pub height: u32,
}

/// A logo is drawn this tall, in points (less when it is very wide, see `MAX_WIDTH`).
pub const HEIGHT: f32 = 32.0;
/// A wordmark of 20:1 would take the whole header at 32 pt: it is shrunk to this width.
pub const MAX_WIDTH: f32 = 200.0;

impl Logo {
    /// Width and height of its box in points: `HEIGHT` tall with its aspect ratio kept,
    /// shrunk (ratio kept) to at most `MAX_WIDTH` wide.
    pub fn size(&self) -> (f32, f32) {
        let ratio = self.width.max(1) as f32 / self.height.max(1) as f32;
        let w = HEIGHT * ratio;
        if w > MAX_WIDTH {
            (MAX_WIDTH, MAX_WIDTH / ratio)
        } else {
            (w, HEIGHT)
        }
    }

    /// The image as krilla embeds it; an error when krilla can't read its header.
    pub(super) fn to_krilla(&self) -> Result<krilla::image::Image, String> {
        let data = krilla::Data::from(self.image.clone());
        match self.format {
            LogoFormat::Png => krilla::image::Image::from_png(data, true),
            LogoFormat::Jpeg => krilla::image::Image::from_jpeg(data, true),
        }
    }
}

/// Whether the PDF writer accepts `bytes` as a `format` image (the uploads check it, so
/// a stored logo never fails a report).
pub fn embeddable(format: LogoFormat, bytes: &[u8]) -> Result<(), String> {
    let logo = Logo {
        format,
        image: Arc::new(bytes.to_vec()),
        width: 1,
        height: 1,
    };
    logo.to_krilla().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logo(width: u32, height: u32) -> Logo {
        Logo {
            format: LogoFormat::Png,
            image: Arc::new(Vec::new()),
            width,
            height,
        }
    }

    #[test]
    fn the_box_keeps_the_aspect_ratio() {
        assert_eq!(logo(64, 32).size(), (64.0, 32.0));
        assert_eq!(logo(100, 100).size(), (32.0, 32.0));
        // 40:1 is shrunk to the widest box, still 40:1.
        assert_eq!(logo(4000, 100).size(), (200.0, 5.0));
    }
}
