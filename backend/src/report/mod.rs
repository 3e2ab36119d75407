//! The printable QBR report of a quarter (`GET /api/qbr/report`): a summary with the
//! 18 SmartNumbers, their statuses and changes; the quarter's Monthly Business Review
//! columns; and a trend chart per SmartNumber. Laid out here (`layout`, `table`,
//! `chart`) as pages of drawing items, written as PDF by `pdf`. Rendering is pure: the
//! API gathers a [`ReportData`] and hands it over.
mod chart;
pub mod client;
mod fonts;
mod layout;
pub mod logo;
mod pdf;
mod table;

pub use layout::Paper;

use chart::status_color;
use fonts::{Fonts, Weight};
use layout::{Align, Composer, Rgb, INK, MUTED, RULE};
use qbr_shared::api::{SmartNumber, TrendSeries};
use qbr_shared::catalogue::{Category, MetricDef, Unit};
use qbr_shared::format;
use qbr_shared::smartnumbers::SmartCategory;
use qbr_shared::thresholds::{Bands, Status};
use qbr_shared::workbook::is_total_row;
use qbr_shared::{Month, Quarter};
use table::{Cell, Column, Row};

/// One row of the quarter's Monthly Business Review: the three months and the quarter
/// (aggregated by the catalogue's rule).
pub struct ReviewRow {
    pub def: &'static MetricDef,
    pub months: Vec<Option<f64>>,
    pub quarter: Option<f64>,
}

/// Everything a report shows, gathered by the API from the same sources as its JSON
/// endpoints.
pub struct ReportData {
    pub organization: String,
    pub quarter: Quarter,
    /// When the report was made, already in the reader's time zone.
    pub generated_at: String,
    pub months_counted: u32,
    pub numbers: Vec<SmartNumber>,
    pub months: Vec<Month>,
    pub review: Vec<ReviewRow>,
    pub trend_periods: Vec<String>,
    pub trends: Vec<TrendSeries>,
    /// The quarter in words (`insight::summary`): the report's first section.
    pub summary: Vec<String>,
    /// The business health score, 0–100, when a section has numbers to judge.
    pub health_score: Option<f64>,
    /// The goals of the quarter and its year, one sentence each.
    pub goals: Vec<String>,
    /// The quarter's most unusual values, explained (strongest first).
    pub unusual: Vec<String>,
    /// The clients' most unusual months of the quarter, one line per client and month
    /// ("Acme Dental: Reactive hours in Mar 2026: 64.0 h, typical 5.3 h – 37.7 h. Also
    /// unusual: RHEM."), strongest first.
    pub client_unusual: Vec<String>,
    /// While the quarter is in progress: where each number is heading.
    pub forecast: Vec<String>,
}

/// The report laid out in pages, ready to be written.
pub struct Layout {
    pages: Vec<Vec<layout::Item>>,
    bookmarks: Vec<layout::Bookmark>,
    paper: Paper,
    title: String,
}

impl Layout {
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The PDF file.
    pub fn to_pdf(&self) -> anyhow::Result<Vec<u8>> {
        pdf::write(&self.pages, &self.bookmarks, self.paper, &self.title)
    }
}

/// Lays the report out for `paper`.
pub fn lay_out(data: &ReportData, paper: Paper) -> anyhow::Result<Layout> {
    let fonts = Fonts::load()?;
    let (pages, bookmarks) = compose(data, &fonts, paper);
    Ok(Layout {
        pages,
        bookmarks,
        paper,
        title: format!(
            "Quarterly Business Review {} – {}",
            data.quarter.label(),
            data.organization
        ),
    })
}

/// The report as a PDF file.
pub fn render(data: &ReportData, paper: Paper) -> anyhow::Result<Vec<u8>> {
    lay_out(data, paper)?.to_pdf()
}

fn compose(
    data: &ReportData,
    fonts: &Fonts,
    paper: Paper,
) -> (Vec<Vec<layout::Item>>, Vec<layout::Bookmark>) {
    let mut c = Composer::new(fonts, paper);
    title_block(&mut c, data);
    summary_section(&mut c, data);
    smartnumbers_table(&mut c, data);
    status_changes(&mut c, data);
    missing_notes(&mut c, data);
    c.new_page();
    review_table(&mut c, data);
    c.new_page();
    trend_charts(&mut c, data);
    let footer_left = format!("{} · QBR {}", data.organization, data.quarter.label());
    let bookmarks = std::mem::take(&mut c.bookmarks);
    let pages = finish_with_footer(c, &footer_left, &data.generated_at);
    (pages, bookmarks)
}

fn quarter_span(q: Quarter) -> String {
    let [first, _, last] = q.months();
    format!("{} – {} {}", first.long_name(), last.long_name(), q.year())
}

fn title_block(c: &mut Composer, data: &ReportData) {
    let (l, r) = (c.left(), c.right());
    c.text(
        l,
        c.y + 20.0,
        20.0,
        Weight::Bold,
        INK,
        Align::Left,
        "Quarterly Business Review",
    );
    c.text(
        r,
        c.y + 20.0,
        20.0,
        Weight::Bold,
        layout::ACCENT,
        Align::Right,
        &data.quarter.label(),
    );
    c.y += 36.0;
    let subtitle = format!("{} · {}", data.organization, quarter_span(data.quarter));
    c.text(l, c.y, 10.5, Weight::Regular, INK, Align::Left, &subtitle);
    c.y += 15.0;
    let counted = format!(
        "{} of 3 months with data · previous quarter {} · generated {}",
        data.months_counted,
        data.quarter.prev().label(),
        data.generated_at
    );
    c.text(l, c.y, 8.0, Weight::Regular, MUTED, Align::Left, &counted);
    c.y += 14.0;
    status_summary(c, &data.numbers);
    c.y += 8.0;
}

/// The quarter in words, with the health score and the goals: what the owners read
/// aloud first.
fn summary_section(c: &mut Composer, data: &ReportData) {
    if data.summary.is_empty() && data.health_score.is_none() {
        return;
    }
    let heading = match data.health_score {
        Some(score) => format!("Summary · health score {score:.0} of 100"),
        None => "Summary".to_string(),
    };
    c.heading(&heading, 60.0);
    if !data.summary.is_empty() {
        c.paragraph(&data.summary.join(" "), 9.5, INK);
    }
    for goal in &data.goals {
        c.y += 2.0;
        c.paragraph(&format!("Goal: {goal}"), 9.0, MUTED);
    }
    for (title, lines) in [
        ("Unusual values", &data.unusual),
        ("Clients' unusual months", &data.client_unusual),
        ("Where the quarter is heading", &data.forecast),
    ] {
        if lines.is_empty() {
            continue;
        }
        c.y += 4.0;
        subheading(c, title);
        for line in lines {
            c.paragraph(&format!("• {line}"), 9.0, INK);
        }
    }
    c.y += 8.0;
}

/// "● 12 green  ● 3 yellow  ● 2 red  ● 1 not judged" as coloured markers.
fn status_summary(c: &mut Composer, numbers: &[SmartNumber]) {
    let mut x = c.left();
    let y = c.y + 8.0;
    for (status, label) in [
        (Status::Green, "green"),
        (Status::Yellow, "yellow"),
        (Status::Red, "red"),
        (Status::None, "not judged"),
    ] {
        let n = numbers.iter().filter(|s| s.status == status).count();
        let text = format!("{n} {label}");
        c.push(layout::Item::Dot {
            x: x + 4.0,
            y: y - 3.0,
            r: 4.0,
            fill: status_color(status),
        });
        c.text(x + 11.0, y, 9.0, Weight::Bold, INK, Align::Left, &text);
        x += 24.0 + c.fonts.width(Weight::Bold, 9.0, &text);
    }
    c.y += 14.0;
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Green => "Green",
        Status::Yellow => "Yellow",
        Status::Red => "Red",
        Status::None => "Not judged",
    }
}

/// The green band as text: "≥ 25%", "95% – 105%", "≤ 0.300", "≤ 0.20 h".
fn green_band(n: &SmartNumber) -> String {
    // Hours without the minutes in brackets: the band column is narrow.
    let edge = |v: f64| match n.unit {
        Unit::Hours => format!("{} h", format::grouped(v, 2)),
        Unit::Pct => format!(
            "{}%",
            format::pct(v).trim_end_matches('%').trim_end_matches(".0")
        ),
        unit => format::value(unit, Some(v)),
    };
    match n.threshold {
        Some(b) if !b.is_empty() => Bands::describe(b.green_min, b.green_max, &edge),
        _ => "no threshold".to_string(),
    }
}

fn change_cell(n: &SmartNumber) -> Cell {
    match n.change {
        None => Cell::plain("—").colored(MUTED),
        Some(delta) => {
            let body = format::change(n.unit, delta);
            // A change too small to show ("0 min", "0.0 pts") gets no arrow and no colour.
            if !body.chars().any(|ch| ch.is_ascii_digit() && ch != '0') {
                return Cell::plain(body).colored(MUTED);
            }
            let arrow = if delta > 0.0 { "▲ " } else { "▼ " };
            let text = format!("{arrow}{body}");
            match n.improved {
                Some(true) => Cell::plain(text).colored(status_color(Status::Green)),
                Some(false) => Cell::plain(text).colored(status_color(Status::Red)),
                None => Cell::plain(text).colored(MUTED),
            }
        }
    }
}

fn smartnumbers_table(c: &mut Composer, data: &ReportData) {
    c.heading("SmartNumbers", 60.0);
    let columns = [
        Column::new("#", 20.0, Align::Right),
        Column::new("SmartNumber", 0.0, Align::Left),
        Column::new(data.quarter.label(), 80.0, Align::Right),
        Column::new(data.quarter.prev().label(), 74.0, Align::Right),
        Column::new("Change", 56.0, Align::Right),
        Column::new("Status", 64.0, Align::Left),
        Column::new("Green band", 68.0, Align::Right),
    ];
    let mut rows = Vec::new();
    for category in SmartCategory::ALL {
        rows.push(Row::Section(category.label().to_string()));
        for (i, n) in data
            .numbers
            .iter()
            .enumerate()
            .filter(|(_, n)| n.category == category)
        {
            rows.push(Row::Data(vec![
                Cell::plain(format!("{}", i + 1)).colored(MUTED),
                Cell::plain(n.label.clone()),
                Cell::plain(format::value(n.unit, n.value)).bold(),
                Cell::plain(format::value(n.unit, n.previous.value)).colored(MUTED),
                change_cell(n),
                Cell::plain(status_word(n.status)).with_dot(status_color(n.status)),
                Cell::plain(green_band(n)).colored(MUTED),
            ]));
        }
    }
    table::draw(c, &columns, &rows, table::ROW_HEIGHT);
}

/// A small bold title for a list under the SmartNumbers table, kept with what follows.
fn subheading(c: &mut Composer, text: &str) {
    c.ensure(30.0);
    c.y += 6.0;
    let l = c.left();
    c.text(l, c.y + 9.0, 9.5, Weight::Bold, INK, Align::Left, text);
    c.y += 14.0;
}

/// Numbers whose status moved since the previous quarter, worst news first.
fn status_changes(c: &mut Composer, data: &ReportData) {
    let mut moved: Vec<(usize, &SmartNumber)> = data
        .numbers
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            n.status != Status::None
                && n.previous.status != Status::None
                && n.status != n.previous.status
        })
        .collect();
    if moved.is_empty() {
        return;
    }
    moved.sort_by_key(|(i, n)| (!n.status.is_worse_than(n.previous.status), *i));
    subheading(
        c,
        &format!("Status changes since {}", data.quarter.prev().label()),
    );
    let l = c.left();
    for (i, n) in moved {
        let verb = if n.status.is_worse_than(n.previous.status) {
            "worse"
        } else {
            "better"
        };
        let text = format!(
            "#{} {}: {} → {} ({verb})",
            i + 1,
            n.label,
            status_word(n.previous.status),
            status_word(n.status)
        );
        c.ensure(13.0);
        c.push(layout::Item::Dot {
            x: l + 4.0,
            y: c.y + 6.0,
            r: 3.0,
            fill: status_color(n.status),
        });
        let text = c.fonts.fit(Weight::Regular, 8.5, &text, c.width() - 12.0);
        c.text(
            l + 12.0,
            c.y + 9.0,
            8.5,
            Weight::Regular,
            INK,
            Align::Left,
            &text,
        );
        c.y += 13.0;
    }
}

/// Why numbers are N/A: "#5 Net Profit %: needs Total Revenue".
fn missing_notes(c: &mut Composer, data: &ReportData) {
    let notes: Vec<String> = data
        .numbers
        .iter()
        .enumerate()
        .filter(|(_, n)| n.value.is_none())
        .map(|(i, n)| {
            format!(
                "#{} {}: {}",
                i + 1,
                n.label,
                n.null_reason.as_deref().unwrap_or("no data for the period")
            )
        })
        .collect();
    if notes.is_empty() {
        return;
    }
    subheading(c, "Not available");
    for note in notes {
        c.paragraph(&note, 8.5, MUTED);
    }
}

fn review_table(c: &mut Composer, data: &ReportData) {
    c.heading(
        &format!("Monthly Business Review · {}", data.quarter.label()),
        60.0,
    );
    let mut columns = vec![Column::new("Metric", 0.0, Align::Left)];
    for m in &data.months {
        columns.push(Column::new(m.label(), 78.0, Align::Right));
    }
    columns.push(Column::new(data.quarter.label(), 86.0, Align::Right));
    let mut rows = Vec::new();
    for category in Category::ALL {
        let in_section: Vec<&ReviewRow> = data
            .review
            .iter()
            .filter(|r| r.def.category == category)
            .collect();
        if in_section.is_empty() {
            continue;
        }
        rows.push(Row::Section(category.label().to_string()));
        for r in in_section {
            let total = is_total_row(r.def.key) || r.def.key == "net_profit";
            let cell = |v: Option<f64>| {
                let text = v
                    .map(|v| format::value(r.def.unit, Some(v)))
                    .unwrap_or_default();
                if total {
                    Cell::plain(text).bold()
                } else {
                    Cell::plain(text)
                }
            };
            let mut cells = vec![if total {
                Cell::plain(r.def.label).bold()
            } else {
                Cell::plain(r.def.label)
            }];
            cells.extend(r.months.iter().map(|v| cell(*v)));
            cells.push(cell(r.quarter).bold());
            rows.push(Row::Data(cells));
        }
    }
    table::draw(c, &columns, &rows, table::COMPACT_ROW_HEIGHT);
    c.paragraph(
        "Empty cells have no value (never zero). The quarter column sums flows, averages counts and takes the last value of balances, as the catalogue says; derived rows are computed from those.",
        7.5,
        MUTED,
    );
}

/// The period's status colour key under the trend heading.
fn legend(c: &mut Composer) {
    let mut x = c.left();
    let y = c.y + 8.0;
    for (fill, label) in [
        (Rgb(0xe4, 0xf3, 0xe6), "green band"),
        (Rgb(0xfc, 0xf4, 0xd8), "yellow band"),
        (Rgb(0xfb, 0xec, 0xec), "red"),
    ] {
        c.rect(x, y - 7.0, 14.0, 8.0, fill);
        c.text(x + 18.0, y, 7.5, Weight::Regular, MUTED, Align::Left, label);
        x += 30.0 + c.fonts.width(Weight::Regular, 7.5, label);
    }
    c.text(
        x,
        y,
        7.5,
        Weight::Regular,
        MUTED,
        Align::Left,
        "· dots show each quarter's status",
    );
    c.y += 16.0;
}

fn trend_charts(c: &mut Composer, data: &ReportData) {
    let span = match (data.trend_periods.first(), data.trend_periods.last()) {
        (Some(a), Some(b)) => format!("{} – {}", chart::short_period(a), chart::short_period(b)),
        _ => String::new(),
    };
    c.heading(
        &format!(
            "Trends · last {} quarters ({span})",
            data.trend_periods.len()
        ),
        200.0,
    );
    legend(c);
    const COLUMNS: usize = 3;
    const GUTTER: f32 = 14.0;
    const CHART_HEIGHT: f32 = 150.0;
    let w = (c.width() - GUTTER * (COLUMNS as f32 - 1.0)) / COLUMNS as f32;
    for (row, chunk) in data.trends.chunks(COLUMNS).enumerate() {
        if c.ensure(CHART_HEIGHT) {
            legend(c);
        }
        for (col, series) in chunk.iter().enumerate() {
            let i = row * COLUMNS + col;
            let number = data.numbers.iter().find(|n| n.key == series.key);
            let title = format!("#{} {}", i + 1, series.label);
            let subtitle = number.map_or_else(String::new, |n| {
                format!(
                    "{}: {} · green {}",
                    data.quarter.label(),
                    format::value(n.unit, n.value),
                    green_band(n)
                )
            });
            let x = c.left() + col as f32 * (w + GUTTER);
            chart::draw(
                c,
                (x, c.y, w, CHART_HEIGHT - 12.0),
                &chart::Series {
                    title: &title,
                    subtitle: &subtitle,
                    unit: series.unit,
                    periods: &data.trend_periods,
                    values: &series.values,
                    statuses: &series.statuses,
                    bands: series.threshold,
                },
            );
        }
        c.y += CHART_HEIGHT;
    }
}

/// "Jan 2025" for `2025-01` (the text itself when it is no month).
fn short_month(p: &str) -> String {
    p.parse::<Month>()
        .map_or_else(|_| p.to_string(), Month::label)
}

/// The pages, each with the footer: `left` text, the generation time, "Page n of N".
fn finish_with_footer(c: Composer, left: &str, generated_at: &str) -> Vec<Vec<layout::Item>> {
    let generated = format!("Generated {generated_at}");
    c.finish(|c, page, total| {
        let y = c.paper.size().1 - 28.0;
        let (l, r) = (c.left(), c.right());
        let (size, weight) = (7.5, Weight::Regular);
        c.hline(l, r, y - 10.0, 0.5, RULE);
        c.text(l, y, size, weight, MUTED, Align::Left, left);
        c.text(
            (l + r) / 2.0,
            y,
            size,
            weight,
            MUTED,
            Align::Center,
            &generated,
        );
        let n = format!("Page {page} of {total}");
        c.text(r, y, size, weight, MUTED, Align::Right, &n);
    })
}
