//! Writes laid-out pages as a PDF with krilla: text in the embedded (subset) fonts,
//! rectangles, lines and dots as vector paths, the logo as an image.
use super::fonts::{Fonts, Weight};
use super::layout::{Bookmark, Item, Paper, Rgb};
use krilla::color::rgb;
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

fn color(c: Rgb) -> rgb::Color {
    rgb::Color::new(c.0, c.1, c.2)
}

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: color(c).into(),
        ..Fill::default()
    }
}

/// Bezier approximation of a circle (the usual 0.5523 control distance).
fn circle(x: f32, y: f32, r: f32) -> Option<krilla::geom::Path> {
    const K: f32 = 0.552_284_7;
    let k = K * r;
    let mut p = PathBuilder::new();
    p.move_to(x + r, y);
    p.cubic_to(x + r, y + k, x + k, y + r, x, y + r);
    p.cubic_to(x - k, y + r, x - r, y + k, x - r, y);
    p.cubic_to(x - r, y - k, x - k, y - r, x, y - r);
    p.cubic_to(x + k, y - r, x + r, y - k, x + r, y);
    p.close();
    p.finish()
}

struct Faces {
    regular: Font,
    bold: Font,
}

fn draw_item(surface: &mut Surface, faces: &Faces, item: &Item) -> anyhow::Result<()> {
    match item {
        Item::Text {
            x,
            y,
            size,
            weight,
            color: c,
            text,
        } => {
            surface.set_stroke(None);
            surface.set_fill(Some(fill(*c)));
            let font = match weight {
                Weight::Regular => faces.regular.clone(),
                Weight::Bold => faces.bold.clone(),
            };
            surface.draw_text(
                Point::from_xy(*x, *y),
                font,
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Item::Rect {
            x,
            y,
            w,
            h,
            fill: c,
        } => {
            let mut p = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                p.push_rect(r);
            }
            if let Some(path) = p.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*c)));
                surface.draw_path(&path);
            }
        }
        Item::Line {
            points,
            width,
            color: c,
            dashed,
        } => {
            let mut p = PathBuilder::new();
            for (i, (x, y)) in points.iter().enumerate() {
                if i == 0 {
                    p.move_to(*x, *y);
                } else {
                    p.line_to(*x, *y);
                }
            }
            if let Some(path) = p.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: color(*c).into(),
                    width: *width,
                    dash: dashed.then(|| StrokeDash {
                        array: vec![3.0, 2.0],
                        offset: 0.0,
                    }),
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
            }
        }
        Item::Dot { x, y, r, fill: c } => {
            if let Some(path) = circle(*x, *y, *r) {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*c)));
                surface.draw_path(&path);
            }
        }
        Item::Image { x, y, w, h, logo } => {
            let image = logo.to_krilla().map_err(|e| anyhow::anyhow!("logo: {e}"))?;
            if let Some(size) = Size::from_wh(*w, *h) {
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_image(image, size);
                surface.pop();
            }
        }
    }
    Ok(())
}

/// The PDF file of `pages`, with `title` in its metadata and the bookmarks as its
/// outline.
pub fn write(
    pages: &[Vec<Item>],
    bookmarks: &[Bookmark],
    paper: Paper,
    title: &str,
) -> anyhow::Result<Vec<u8>> {
    let font = |w: Weight| {
        Font::new(Fonts::data(w).into(), 0).ok_or_else(|| anyhow::anyhow!("font unreadable"))
    };
    let faces = Faces {
        regular: font(Weight::Regular)?,
        bold: font(Weight::Bold)?,
    };
    let (w, h) = paper.size();
    let settings = || PageSettings::from_wh(w, h).ok_or_else(|| anyhow::anyhow!("bad page size"));
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .creator("QBR Dashboard".to_string())
            .language("en".to_string()),
    );
    let mut outline = Outline::new();
    for b in bookmarks.iter().filter(|b| b.page < pages.len()) {
        let target = XyzDestination::new(b.page, Point::from_xy(0.0, b.y));
        outline.push_child(OutlineNode::new(b.title.clone(), target));
    }
    document.set_outline(outline);
    for items in pages {
        let mut page = document.start_page_with(settings()?);
        let mut surface = page.surface();
        for item in items {
            draw_item(&mut surface, &faces, item)?;
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| anyhow::anyhow!("PDF: {e:?}"))
}
