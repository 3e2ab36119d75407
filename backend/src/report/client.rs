//! The client-facing QBR report of a quarter (`GET /api/qbr/clients/{id}/report`): what
//! the MSP hands its client — the devices it manages and their change, tickets and
//! hours by month and by category, how tickets were closed, agreement coverage, and the
//! client's numbers. What the MSP earns on the client (rate, cost, margin) appears only
//! in the internal version. Laid out with the organization report's composer.
use super::chart::status_color;
use super::fonts::{Fonts, Weight};
use super::layout::{self, Align, Composer, Item, Paper, INK, MUTED};
use super::logo::Logo;
use super::table::{self, Cell, Column, Row};
use super::Layout;
use qbr_shared::clients::api::{ClientNumberValue, ClientPeriod};
use qbr_shared::clients::{ClientMetric, ClientNumber, ClientUnit};
use qbr_shared::format;
use qbr_shared::thresholds::Status;
use qbr_shared::Quarter;

/// Tickets of one category per month of the quarter.
pub struct CategoryRow {
    /// `board`, `type` or `priority`.
    pub dimension: String,
    pub label: String,
    pub months: [u32; 3],
}

/// Everything the client report shows.
pub struct ClientReportData {
    /// The MSP (the organization).
    pub msp: String,
    /// The MSP's logo, top right of the first page (uploaded on Settings).
    pub logo: Option<Logo>,
    pub client: String,
    pub quarter: Quarter,
    /// When it was made, in the reader's zone.
    pub generated_at: String,
    /// The MSP's own version: rate, cost and margin included.
    pub internal: bool,
    /// The quarter's inputs and numbers, and the previous quarter's inputs.
    pub current: ClientPeriod,
    pub previous: ClientPeriod,
    /// The quarter's three months.
    pub months: Vec<ClientPeriod>,
    pub categories: Vec<CategoryRow>,
}

/// Lays the client report out for `paper`.
pub fn lay_out(data: &ClientReportData, paper: Paper) -> anyhow::Result<Layout> {
    let fonts = Fonts::load()?;
    let mut c = Composer::new(&fonts, paper);
    title(&mut c, data);
    environment(&mut c, data);
    support_table(&mut c, data);
    numbers_table(&mut c, data);
    categories(&mut c, data);
    let footer = format!(
        "{} · prepared by {} · {}",
        data.client,
        data.msp,
        data.quarter.label()
    );
    let bookmarks = std::mem::take(&mut c.bookmarks);
    let pages = super::finish_with_footer(c, &footer, &data.generated_at);
    Ok(Layout {
        pages,
        bookmarks,
        paper,
        title: format!(
            "Quarterly Business Review {} – {}",
            data.quarter.label(),
            data.client
        ),
    })
}

/// The client report as a PDF file.
pub fn render(data: &ClientReportData, paper: Paper) -> anyhow::Result<Vec<u8>> {
    lay_out(data, paper)?.to_pdf()
}

fn input(p: &ClientPeriod, m: ClientMetric) -> Option<f64> {
    p.inputs.iter().find(|i| i.metric == m).map(|i| i.value)
}

/// A value as people read it, by its unit (the SPA's spelling); "—" for none.
fn show(unit: ClientUnit, v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| unit.format(v))
}

/// The first page's header: the title, and the quarter top right; with a logo, the logo
/// takes the top right and the quarter moves down to the client's line.
fn title(c: &mut Composer, data: &ClientReportData) {
    let (l, r) = (c.left(), c.right());
    let top = c.y;
    c.text(
        l,
        top + 20.0,
        20.0,
        Weight::Bold,
        INK,
        Align::Left,
        "Quarterly Business Review",
    );
    let q = data.quarter.label();
    match &data.logo {
        Some(logo) => {
            let (w, h) = logo.size();
            c.push(Item::Image {
                x: r - w,
                y: top,
                w,
                h,
                logo: logo.clone(),
            });
            // Below the logo's box, whatever its height.
            c.y = top + super::logo::HEIGHT + 16.0;
            c.text(r, c.y, 14.0, Weight::Bold, layout::ACCENT, Align::Right, &q);
        }
        None => {
            c.text(
                r,
                top + 20.0,
                20.0,
                Weight::Bold,
                layout::ACCENT,
                Align::Right,
                &q,
            );
            c.y = top + 36.0;
        }
    }
    c.text(l, c.y, 14.0, Weight::Bold, INK, Align::Left, &data.client);
    c.y += 16.0;
    let [first, _, last] = data.quarter.months();
    let sub = format!(
        "Prepared by {} · {} – {} {}{}",
        data.msp,
        first.long_name(),
        last.long_name(),
        data.quarter.year(),
        if data.internal {
            " · internal: includes margins"
        } else {
            ""
        }
    );
    c.text(l, c.y, 9.5, Weight::Regular, MUTED, Align::Left, &sub);
    c.y += 18.0;
}

/// "Endpoints 42 (▲ 3 since Q4 2024)".
fn change_text(unit: ClientUnit, now: Option<f64>, before: Option<f64>, prev: &str) -> String {
    match (now, before) {
        (Some(n), Some(b)) => {
            let d = n - b;
            let arrow = if d > 0.0 {
                "▲"
            } else if d < 0.0 {
                "▼"
            } else {
                "="
            };
            format!("{arrow} {} since {prev}", show(unit, Some(d.abs())))
        }
        _ => format!("no value for {prev}"),
    }
}

fn environment(c: &mut Composer, data: &ClientReportData) {
    c.heading("Your environment", 60.0);
    let prev = data.quarter.prev().label();
    for m in [
        ClientMetric::Endpoints,
        ClientMetric::Seats,
        ClientMetric::AgreementMrr,
    ] {
        if m == ClientMetric::AgreementMrr && !data.internal && input(&data.current, m).is_none() {
            continue;
        }
        let now = input(&data.current, m);
        let before = input(&data.previous, m);
        let y = c.y + 11.0;
        let l = c.left();
        c.text(l, y, 10.0, Weight::Bold, INK, Align::Left, m.label());
        c.text(
            l + 150.0,
            y,
            10.0,
            Weight::Bold,
            INK,
            Align::Right,
            &show(m.unit(), now),
        );
        let change = change_text(m.unit(), now, before, &prev);
        c.text(
            l + 165.0,
            y,
            9.0,
            Weight::Regular,
            MUTED,
            Align::Left,
            &change,
        );
        c.y += 16.0;
    }
    c.paragraph(
        "Endpoints and seats are the quarter's average of each month's last inventory; \
         servers and virtualization hosts are endpoints but not seats.",
        8.0,
        MUTED,
    );
    c.y += 6.0;
}

fn support_table(c: &mut Composer, data: &ClientReportData) {
    c.heading("Support by month", 90.0);
    let mut columns = vec![Column::new("", 0.0, Align::Left)];
    for p in &data.months {
        columns.push(Column::new(
            super::short_month(&p.period),
            74.0,
            Align::Right,
        ));
    }
    columns.push(Column::new(data.quarter.label(), 80.0, Align::Right));
    let metrics = [
        ClientMetric::ReactiveTicketsCreated,
        ClientMetric::ReactiveTicketsClosed,
        ClientMetric::ReactiveHours,
        ClientMetric::ServiceHours,
        ClientMetric::AgreementHours,
    ];
    let mut rows: Vec<Row> = metrics
        .iter()
        .map(|&m| {
            let mut cells = vec![Cell::plain(m.label())];
            cells.extend(
                data.months
                    .iter()
                    .map(|p| Cell::plain(show(m.unit(), input(p, m)))),
            );
            cells.push(Cell::plain(show(m.unit(), input(&data.current, m))).bold());
            Row::Data(cells)
        })
        .collect();
    // Closed for every ticket opened: how the queue kept up.
    let ratio = |p: &ClientPeriod| match (
        input(p, ClientMetric::ReactiveTicketsClosed),
        input(p, ClientMetric::ReactiveTicketsCreated),
    ) {
        (Some(closed), Some(created)) if created > 0.0 => format::pct(closed / created),
        _ => "—".into(),
    };
    let mut cells = vec![Cell::plain("Closed per ticket opened")];
    cells.extend(data.months.iter().map(|p| Cell::plain(ratio(p))));
    cells.push(Cell::plain(ratio(&data.current)).bold());
    rows.push(Row::Data(cells));
    // How fast a reported problem was first answered, on average.
    let response = |p: &ClientPeriod| {
        let first = match (
            input(p, ClientMetric::ResponseHours),
            input(p, ClientMetric::RespondedTickets),
        ) {
            (Some(hours), Some(n)) if n > 0.0 => Some(hours / n),
            _ => None,
        };
        show(ClientUnit::Hours, first)
    };
    let mut cells = vec![Cell::plain("Average first response")];
    cells.extend(data.months.iter().map(|p| Cell::plain(response(p))));
    cells.push(Cell::plain(response(&data.current)).bold());
    rows.push(Row::Data(cells));
    table::draw(c, &columns, &rows, 17.0);
    c.y += 10.0;
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Green => "Green",
        Status::Yellow => "Yellow",
        Status::Red => "Red",
        Status::None => "Not judged",
    }
}

fn numbers_table(c: &mut Composer, data: &ClientReportData) {
    c.heading("Service numbers", 80.0);
    let columns = [
        Column::new("", 0.0, Align::Left),
        Column::new(data.quarter.label(), 90.0, Align::Right),
        Column::new(data.quarter.prev().label(), 90.0, Align::Right),
        Column::new("Status", 80.0, Align::Left),
    ];
    let shown = |n: &&ClientNumberValue| data.internal || !n.number.is_internal();
    let rows: Vec<Row> = data
        .current
        .numbers
        .iter()
        .filter(shown)
        .map(|n| {
            let unit = n.number.unit();
            Row::Data(vec![
                Cell::plain(n.number.label()),
                Cell::plain(show(unit, n.value)).bold(),
                Cell::plain(show(unit, n.previous)).colored(MUTED),
                Cell::plain(status_word(n.status)).with_dot(status_color(n.status)),
            ])
        })
        .collect();
    table::draw(c, &columns, &rows, 17.0);
    let coverage = data
        .current
        .numbers
        .iter()
        .find(|n| n.number == ClientNumber::AgreementCoverage)
        .and_then(|n| n.value);
    c.y += 6.0;
    let note = match coverage {
        Some(v) => format!(
            "{} of the service hours were covered by your agreement; the rest were billed \
             or done outside it.",
            format::pct(v)
        ),
        None => "No service hours were recorded this quarter.".to_string(),
    };
    c.paragraph(&note, 9.0, INK);
    c.y += 8.0;
}

fn categories(c: &mut Composer, data: &ClientReportData) {
    for (dimension, heading) in [
        ("board", "Tickets by board"),
        ("type", "Tickets by type"),
        ("priority", "Tickets by priority"),
    ] {
        let rows: Vec<&CategoryRow> = data
            .categories
            .iter()
            .filter(|r| r.dimension == dimension)
            .collect();
        if rows.is_empty() {
            continue;
        }
        c.heading(heading, 60.0);
        let mut columns = vec![Column::new("", 0.0, Align::Left)];
        for p in &data.months {
            columns.push(Column::new(
                super::short_month(&p.period),
                74.0,
                Align::Right,
            ));
        }
        columns.push(Column::new(data.quarter.label(), 80.0, Align::Right));
        let table_rows: Vec<Row> = rows
            .iter()
            .map(|r| {
                let mut cells = vec![Cell::plain(r.label.clone())];
                cells.extend(r.months.iter().map(|n| Cell::plain(n.to_string())));
                cells.push(Cell::plain(r.months.iter().sum::<u32>().to_string()).bold());
                Row::Data(cells)
            })
            .collect();
        table::draw(c, &columns, &table_rows, 16.0);
        c.y += 8.0;
    }
}
