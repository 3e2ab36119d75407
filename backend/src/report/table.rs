//! Tables that break across pages, repeating their header on each page.
use super::fonts::Weight;
use super::layout::{Align, Composer, Rgb, INK, MUTED, RULE, STRIPE};

const FONT_SIZE: f32 = 8.5;
/// Height of a one-line row; each further line of a wrapped cell adds `LINE_HEIGHT`.
pub const ROW_HEIGHT: f32 = 14.5;
/// A tighter row, for long tables that should fit one page.
pub const COMPACT_ROW_HEIGHT: f32 = 13.0;
const LINE_HEIGHT: f32 = 10.0;
/// Most lines a wrapped cell takes; the last one is cut with "…" if needed.
const MAX_LINES: usize = 2;
const HEADER_HEIGHT: f32 = 17.0;
const PAD: f32 = 4.0;
const SECTION_FILL: Rgb = Rgb(0xe4, 0xeb, 0xf4);

/// A column: its title, width (0 for a share of the width left by the fixed ones) and
/// alignment.
pub struct Column {
    pub title: String,
    pub width: f32,
    pub align: Align,
}

impl Column {
    pub fn new(title: impl Into<String>, width: f32, align: Align) -> Self {
        Column {
            title: title.into(),
            width,
            align,
        }
    }
}

/// One cell: text, colour, weight and an optional status dot before the text.
#[derive(Clone, Debug)]
pub struct Cell {
    pub text: String,
    pub color: Rgb,
    pub weight: Weight,
    pub dot: Option<Rgb>,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            color: INK,
            weight: Weight::Regular,
            dot: None,
        }
    }

    pub fn bold(mut self) -> Self {
        self.weight = Weight::Bold;
        self
    }

    pub fn colored(mut self, color: Rgb) -> Self {
        self.color = color;
        self
    }

    pub fn with_dot(mut self, dot: Rgb) -> Self {
        self.dot = Some(dot);
        self
    }
}

/// A data row, or a section row whose first cell spans the table.
pub enum Row {
    Data(Vec<Cell>),
    Section(String),
}

/// Left edge and width of each column within the composer's content width.
fn column_boxes(c: &Composer, columns: &[Column]) -> Vec<(f32, f32)> {
    let fixed: f32 = columns.iter().map(|col| col.width).sum();
    let flexible = columns.iter().filter(|col| col.width == 0.0).count().max(1);
    let share = ((c.width() - fixed) / flexible as f32).max(20.0);
    let mut x = c.left();
    columns
        .iter()
        .map(|col| {
            let w = if col.width == 0.0 { share } else { col.width };
            let b = (x, w);
            x += w;
            b
        })
        .collect()
}

fn header(c: &mut Composer, columns: &[Column], boxes: &[(f32, f32)]) {
    let y = c.y + HEADER_HEIGHT - 5.0;
    for (col, &(x, w)) in columns.iter().zip(boxes) {
        let title = c.fonts.fit(Weight::Bold, 7.5, &col.title, w - 2.0 * PAD);
        let anchor = anchor(col.align, x, w);
        c.text(anchor, y, 7.5, Weight::Bold, MUTED, col.align, &title);
    }
    let (l, r) = (c.left(), c.right());
    c.hline(l, r, c.y + HEADER_HEIGHT, 0.9, MUTED);
    c.y += HEADER_HEIGHT;
}

fn anchor(align: Align, x: f32, w: f32) -> f32 {
    match align {
        Align::Left => x + PAD,
        Align::Right => x + w - PAD,
        Align::Center => x + w / 2.0,
    }
}

/// The lines of each cell: left-aligned text wraps to its column, numbers (right or
/// centre aligned) stay on one line (dots take room from the text).
fn cell_lines(
    c: &Composer,
    columns: &[Column],
    boxes: &[(f32, f32)],
    cells: &[Cell],
) -> Vec<Vec<String>> {
    columns
        .iter()
        .zip(boxes)
        .zip(cells)
        .map(|((col, &(_, w)), cell)| {
            let room = w - 2.0 * PAD - if cell.dot.is_some() { 9.0 } else { 0.0 };
            if col.align != Align::Left {
                return vec![c.fonts.fit(cell.weight, FONT_SIZE, &cell.text, room)];
            }
            let mut lines = c.fonts.wrap(cell.weight, FONT_SIZE, &cell.text, room);
            if lines.len() > MAX_LINES {
                let rest = lines[MAX_LINES - 1..].join(" ");
                lines.truncate(MAX_LINES - 1);
                lines.push(c.fonts.fit(cell.weight, FONT_SIZE, &rest, room));
            }
            lines
        })
        .collect()
}

fn lines_height(lines: &[Vec<String>], row_height: f32) -> f32 {
    let most = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
    row_height + (most - 1) as f32 * LINE_HEIGHT
}

#[allow(clippy::too_many_arguments)]
fn data_row(
    c: &mut Composer,
    columns: &[Column],
    boxes: &[(f32, f32)],
    cells: &[Cell],
    lines: &[Vec<String>],
    height: f32,
    row_height: f32,
    odd: bool,
) {
    if odd {
        let (l, w) = (c.left(), c.width());
        c.rect(l, c.y, w, height, STRIPE);
    }
    let first_baseline = c.y + row_height - 4.5;
    for (((col, &(x, w)), cell), cell_lines) in columns.iter().zip(boxes).zip(cells).zip(lines) {
        let mut anchor = anchor(col.align, x, w);
        if let Some(dot) = cell.dot {
            // The dot sits at the cell's left edge; left-aligned text moves past it.
            if col.align == Align::Left {
                anchor += 9.0;
            }
            c.push(super::layout::Item::Dot {
                x: x + PAD + 3.0,
                y: c.y + row_height / 2.0,
                r: 3.0,
                fill: dot,
            });
        }
        for (i, line) in cell_lines.iter().enumerate() {
            let baseline = first_baseline + i as f32 * LINE_HEIGHT;
            c.text(
                anchor,
                baseline,
                FONT_SIZE,
                cell.weight,
                cell.color,
                col.align,
                line,
            );
        }
    }
    c.y += height;
}

fn section_row(c: &mut Composer, title: &str, row_height: f32) {
    let (l, w) = (c.left(), c.width());
    c.rect(l, c.y + 1.0, w, row_height - 1.0, SECTION_FILL);
    let baseline = c.y + row_height - 4.5;
    c.text(
        l + PAD,
        baseline,
        FONT_SIZE,
        Weight::Bold,
        INK,
        Align::Left,
        title,
    );
    c.y += row_height;
}

/// Draws the table from the composer's `y` with rows `row_height` high (more for
/// wrapped cells), breaking pages between rows, repeating the header, and never leaving
/// a section row alone at the bottom of a page.
pub fn draw(c: &mut Composer, columns: &[Column], rows: &[Row], row_height: f32) {
    let boxes = column_boxes(c, columns);
    let heights: Vec<f32> = rows
        .iter()
        .map(|row| match row {
            Row::Data(cells) => lines_height(&cell_lines(c, columns, &boxes, cells), row_height),
            Row::Section(_) => row_height,
        })
        .collect();
    c.ensure(HEADER_HEIGHT + 2.0 * row_height);
    header(c, columns, &boxes);
    let mut odd = false;
    for (i, row) in rows.iter().enumerate() {
        let keep = match row {
            // A section row keeps its first data row with it.
            Row::Section(_) => heights[i] + heights.get(i + 1).copied().unwrap_or(0.0),
            Row::Data(_) => heights[i],
        };
        if c.ensure(keep) {
            header(c, columns, &boxes);
            odd = false;
        }
        match row {
            Row::Data(cells) => {
                let lines = cell_lines(c, columns, &boxes, cells);
                data_row(
                    c, columns, &boxes, cells, &lines, heights[i], row_height, odd,
                );
                odd = !odd;
            }
            Row::Section(title) => {
                section_row(c, title, row_height);
                odd = false;
            }
        }
    }
    let (l, r) = (c.left(), c.right());
    c.hline(l, r, c.y, 0.6, RULE);
    c.y += 6.0;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::fonts::Fonts;
    use super::super::layout::{Item, Paper};
    use super::*;

    fn texts(page: &[Item]) -> Vec<String> {
        page.iter()
            .filter_map(|i| match i {
                Item::Text { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn long_tables_repeat_their_header_on_every_page() {
        let fonts = Fonts::load().unwrap();
        let mut c = Composer::new(&fonts, Paper::Letter);
        let columns = [
            Column::new("Metric", 0.0, Align::Left),
            Column::new("Value", 80.0, Align::Right),
        ];
        let mut rows = Vec::new();
        for s in 0..10 {
            rows.push(Row::Section(format!("Section {s}")));
            for r in 0..12 {
                rows.push(Row::Data(vec![
                    Cell::plain(format!("row {s}.{r}")),
                    Cell::plain(format!("{r}")),
                ]));
            }
        }
        draw(&mut c, &columns, &rows, ROW_HEIGHT);
        let pages = c.finish(|_, _, _| {});
        assert!(pages.len() >= 3, "{}", pages.len());
        let mut seen = 0;
        for page in &pages {
            let t = texts(page);
            assert_eq!(t[0], "Metric", "every page starts with the header");
            // A section title is never the last row of a page.
            let last_row = t
                .iter()
                .rev()
                .find(|s| s.starts_with("row") || s.starts_with("Section"));
            assert!(
                last_row.is_some_and(|s| s.starts_with("row")),
                "{last_row:?}"
            );
            seen += t.iter().filter(|s| s.starts_with("row")).count();
        }
        assert_eq!(seen, 120, "every row is drawn exactly once");
    }

    #[test]
    fn cells_are_cut_to_their_column() {
        let fonts = Fonts::load().unwrap();
        let mut c = Composer::new(&fonts, Paper::A4);
        let columns = [Column::new("Name", 60.0, Align::Left)];
        let rows = [Row::Data(vec![Cell::plain(
            "A label far too long for a sixty point column",
        )])];
        draw(&mut c, &columns, &rows, ROW_HEIGHT);
        let pages = c.finish(|_, _, _| {});
        let t = texts(&pages[0]);
        // Header, then at most two lines, the second cut with an ellipsis.
        assert_eq!(t.len(), 1 + MAX_LINES, "{t:?}");
        assert!(t[2].ends_with('…'), "{t:?}");
        for line in &t[1..] {
            assert!(fonts.width(Weight::Regular, FONT_SIZE, line) <= 60.0 - 2.0 * PAD);
        }
    }
}
