//! Pages as lists of drawing items, and the composer that fills them top to bottom
//! and starts a new page when the next block does not fit. Coordinates are points
//! (1/72 in) from the page's top-left corner, y growing downwards, as in krilla.
use super::fonts::{Fonts, Weight};

/// The paper a report is paginated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paper {
    A4,
    Letter,
}

impl Paper {
    /// Width and height in points.
    pub fn size(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }

    pub fn parse(s: &str) -> Option<Paper> {
        match s.to_ascii_lowercase().as_str() {
            "a4" => Some(Paper::A4),
            "letter" => Some(Paper::Letter),
            _ => None,
        }
    }
}

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const INK: Rgb = Rgb(0x1f, 0x29, 0x37);
pub const MUTED: Rgb = Rgb(0x5b, 0x64, 0x70);
pub const RULE: Rgb = Rgb(0xd0, 0xd5, 0xdc);
pub const STRIPE: Rgb = Rgb(0xf3, 0xf5, 0xf7);
pub const ACCENT: Rgb = Rgb(0x1d, 0x4e, 0x89);

/// Horizontal anchoring of a text at its x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
    Center,
}

/// One thing drawn on a page.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// Text on one line; `x` is its left edge, `y` its baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        color: Rgb,
        text: String,
    },
    /// A filled rectangle.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Rgb,
    },
    /// A stroked open path.
    Line {
        points: Vec<(f32, f32)>,
        width: f32,
        color: Rgb,
        dashed: bool,
    },
    /// A filled circle.
    Dot { x: f32, y: f32, r: f32, fill: Rgb },
    /// The logo, stretched to the box whose top-left corner is `x`, `y`.
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        logo: super::logo::Logo,
    },
}

/// Page margins, in points.
pub const MARGIN_X: f32 = 42.0;
const MARGIN_TOP: f32 = 46.0;
/// Room kept at the bottom for the footer.
const MARGIN_BOTTOM: f32 = 52.0;

/// A heading's place, for the PDF's outline (bookmarks).
#[derive(Clone, Debug, PartialEq)]
pub struct Bookmark {
    pub title: String,
    pub page: usize,
    pub y: f32,
}

/// Fills pages from the top; `y` is where the next block starts.
pub struct Composer<'f> {
    pub fonts: &'f Fonts,
    pub paper: Paper,
    pages: Vec<Vec<Item>>,
    pub y: f32,
    pub bookmarks: Vec<Bookmark>,
}

impl<'f> Composer<'f> {
    pub fn new(fonts: &'f Fonts, paper: Paper) -> Self {
        Composer {
            fonts,
            paper,
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
            bookmarks: Vec::new(),
        }
    }

    pub fn left(&self) -> f32 {
        MARGIN_X
    }

    pub fn right(&self) -> f32 {
        self.paper.size().0 - MARGIN_X
    }

    pub fn width(&self) -> f32 {
        self.right() - self.left()
    }

    /// Lowest y content may reach.
    pub fn bottom(&self) -> f32 {
        self.paper.size().1 - MARGIN_BOTTOM
    }

    #[cfg(test)]
    pub fn top(&self) -> f32 {
        MARGIN_TOP
    }

    #[cfg(test)]
    /// Room left on the current page.
    pub fn room(&self) -> f32 {
        self.bottom() - self.y
    }

    #[cfg(test)]
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Starts a new page unless the current one is still empty.
    pub fn new_page(&mut self) {
        if self.pages.last().is_some_and(|p| !p.is_empty()) {
            self.pages.push(Vec::new());
        }
        self.y = MARGIN_TOP;
    }

    /// Makes sure `height` points fit below `y`; returns true if a page was started.
    pub fn ensure(&mut self, height: f32) -> bool {
        if self.y + height > self.bottom() && self.y > MARGIN_TOP {
            self.new_page();
            true
        } else {
            false
        }
    }

    pub fn push(&mut self, item: Item) {
        if let Some(page) = self.pages.last_mut() {
            page.push(item);
        }
    }

    /// Text anchored at `x` by `align`, baseline at `y`.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        color: Rgb,
        align: Align,
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        let w = self.fonts.width(weight, size, text);
        let x = match align {
            Align::Left => x,
            Align::Right => x - w,
            Align::Center => x - w / 2.0,
        };
        self.push(Item::Text {
            x,
            y,
            size,
            weight,
            color,
            text: text.to_string(),
        });
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Rgb) {
        self.push(Item::Rect { x, y, w, h, fill });
    }

    pub fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Rgb) {
        self.push(Item::Line {
            points: vec![(x1, y), (x2, y)],
            width,
            color,
            dashed: false,
        });
    }

    /// A heading with a rule under it, kept on the same page as `keep_with` points of
    /// what follows it, and bookmarked.
    pub fn heading(&mut self, text: &str, keep_with: f32) {
        self.ensure(26.0 + keep_with);
        self.bookmarks.push(Bookmark {
            title: text.to_string(),
            page: self.pages.len() - 1,
            y: self.y,
        });
        let y = self.y + 14.0;
        let (left, right) = (self.left(), self.right());
        self.text(left, y, 13.0, Weight::Bold, ACCENT, Align::Left, text);
        self.hline(left, right, y + 5.0, 0.8, ACCENT);
        self.y = y + 14.0;
    }

    /// A paragraph wrapped to the content width.
    pub fn paragraph(&mut self, text: &str, size: f32, color: Rgb) {
        let lines = self.fonts.wrap(Weight::Regular, size, text, self.width());
        let line_height = size * 1.35;
        for line in lines {
            self.ensure(line_height);
            let (x, y) = (self.left(), self.y + size);
            self.text(x, y, size, Weight::Regular, color, Align::Left, &line);
            self.y += line_height;
        }
    }

    /// The pages, each with the footer `footer(page_number, page_count)` drawn into it.
    pub fn finish(mut self, footer: impl Fn(&mut Composer, usize, usize)) -> Vec<Vec<Item>> {
        if self.pages.len() > 1 && self.pages.last().is_some_and(Vec::is_empty) {
            self.pages.pop();
        }
        let pages = std::mem::take(&mut self.pages);
        let total = pages.len();
        let mut out = Vec::with_capacity(total);
        for (i, items) in pages.into_iter().enumerate() {
            self.pages = vec![items];
            footer(&mut self, i + 1, total);
            out.append(&mut self.pages);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn blocks_that_do_not_fit_start_a_new_page() {
        let fonts = Fonts::load().unwrap();
        let mut c = Composer::new(&fonts, Paper::Letter);
        assert!(!c.ensure(100.0));
        c.rect(c.left(), c.y, 10.0, 100.0, INK);
        c.y += 100.0;
        let room = c.room();
        assert!(!c.ensure(room));
        assert!(c.ensure(room + 1.0));
        assert_eq!(c.page_count(), 2);
        assert_eq!(c.y, c.top());
        // An empty page is never left behind.
        c.new_page();
        assert_eq!(c.page_count(), 2);
    }

    #[test]
    fn a_paper_has_its_size_and_footers_see_the_page_count() {
        assert_eq!(Paper::parse("A4"), Some(Paper::A4));
        assert_eq!(Paper::parse("letter").unwrap().size(), (612.0, 792.0));
        assert_eq!(Paper::parse("legal"), None);
        let fonts = Fonts::load().unwrap();
        let mut c = Composer::new(&fonts, Paper::A4);
        c.paragraph(&"word ".repeat(3000), 10.0, INK);
        let n = c.page_count();
        assert!(n >= 2);
        let pages = c.finish(|c, i, total| {
            c.text(
                0.0,
                0.0,
                8.0,
                Weight::Regular,
                MUTED,
                Align::Left,
                &format!("{i}/{total}"),
            );
        });
        assert_eq!(pages.len(), n);
        let last = pages.last().unwrap().last().unwrap();
        assert!(matches!(last, Item::Text { text, .. } if *text == format!("{n}/{n}")));
        // Nothing is drawn below the bottom margin.
        let bottom = Paper::A4.size().1 - MARGIN_BOTTOM;
        for page in &pages {
            for item in &page[..page.len() - 1] {
                if let Item::Text { y, .. } = item {
                    assert!(*y <= bottom, "{y} > {bottom}");
                }
            }
        }
    }

    #[test]
    fn right_aligned_text_ends_at_its_anchor() {
        let fonts = Fonts::load().unwrap();
        let mut c = Composer::new(&fonts, Paper::A4);
        c.text(
            200.0,
            50.0,
            9.0,
            Weight::Regular,
            INK,
            Align::Right,
            "$1,234",
        );
        let w = fonts.width(Weight::Regular, 9.0, "$1,234");
        let pages = c.finish(|_, _, _| {});
        let Item::Text { x, .. } = &pages[0][0] else {
            panic!("not text")
        };
        assert!((x + w - 200.0).abs() < 0.001);
    }
}
