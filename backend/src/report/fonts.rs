//! The report's two faces (DejaVu Sans Condensed, regular and bold, compiled into the
//! binary so a report looks the same on every server) and text measurement.
//!
//! Widths come from rustybuzz, the shaper krilla itself uses to lay out `draw_text`, so
//! right-aligned numbers end exactly where the layout says they do.
use rustybuzz::{Face, UnicodeBuffer};

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed-Bold.ttf");

/// Which face a piece of text is set in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// The faces, parsed once per report.
pub struct Fonts {
    regular: Face<'static>,
    bold: Face<'static>,
}

impl Fonts {
    pub fn load() -> anyhow::Result<Self> {
        let parse = |data: &'static [u8], name: &str| {
            Face::from_slice(data, 0).ok_or_else(|| anyhow::anyhow!("font {name} unreadable"))
        };
        Ok(Fonts {
            regular: parse(REGULAR, "regular")?,
            bold: parse(BOLD, "bold")?,
        })
    }

    /// The font file of a weight, for the PDF writer.
    pub fn data(weight: Weight) -> &'static [u8] {
        match weight {
            Weight::Regular => REGULAR,
            Weight::Bold => BOLD,
        }
    }

    fn face(&self, weight: Weight) -> &Face<'static> {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Advance width of `text` set at `size` points, in points.
    pub fn width(&self, weight: Weight, size: f32, text: &str) -> f32 {
        if text.is_empty() {
            return 0.0;
        }
        let face = self.face(weight);
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(face, &[], buffer);
        let units: i64 = shaped
            .glyph_positions()
            .iter()
            .map(|p| i64::from(p.x_advance))
            .sum();
        units as f32 * size / face.units_per_em() as f32
    }

    /// `text`, cut and ended with "…" if needed so that it is at most `max` points wide.
    pub fn fit(&self, weight: Weight, size: f32, text: &str, max: f32) -> String {
        if self.width(weight, size, text) <= max {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        // Longest prefix that fits with the ellipsis: binary search on the char count.
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let candidate: String = chars[..mid].iter().collect::<String>() + "…";
            if self.width(weight, size, &candidate) <= max {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let kept: String = chars[..lo].iter().collect();
        format!("{}…", kept.trim_end())
    }

    /// Splits `text` into lines at most `max` points wide, breaking between words
    /// (a word longer than a line is cut with `fit`).
    pub fn wrap(&self, weight: Weight, size: f32, text: &str, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(weight, size, &candidate) <= max {
                line = candidate;
            } else {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                line = self.fit(weight, size, word, max);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn widths_grow_with_text_and_size_and_weight() {
        let f = Fonts::load().unwrap();
        let a = f.width(Weight::Regular, 10.0, "1,234");
        assert!(a > 10.0 && a < 40.0, "{a}");
        assert!((f.width(Weight::Regular, 20.0, "1,234") - 2.0 * a).abs() < 0.01);
        assert!(f.width(Weight::Bold, 10.0, "Revenue") > f.width(Weight::Regular, 10.0, "Revenue"));
        assert_eq!(f.width(Weight::Regular, 10.0, ""), 0.0);
        // Digits share one width, so right-aligned columns line up.
        assert_eq!(
            f.width(Weight::Regular, 9.0, "111"),
            f.width(Weight::Regular, 9.0, "888")
        );
    }

    #[test]
    fn fit_and_wrap_respect_the_width() {
        let f = Fonts::load().unwrap();
        let long = "Reactive Hours per Endpoint per Month and a lot more words";
        let cut = f.fit(Weight::Regular, 9.0, long, 80.0);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(f.width(Weight::Regular, 9.0, &cut) <= 80.0);
        assert_eq!(f.fit(Weight::Regular, 9.0, "short", 80.0), "short");
        let lines = f.wrap(Weight::Regular, 9.0, long, 100.0);
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(lines
            .iter()
            .all(|l| f.width(Weight::Regular, 9.0, l) <= 100.0));
        assert_eq!(lines.join(" "), long);
    }
}
