//! Small-multiple trend charts drawn as vector paths: the threshold zones shaded
//! behind the line (red outside, yellow, green), value axis with round ticks, one dot
//! per period coloured by that period's status, gaps where a period has no value.
use super::fonts::Weight;
use super::layout::{Align, Composer, Item, Rgb, ACCENT, INK, MUTED, RULE};
use qbr_shared::catalogue::Unit;
use qbr_shared::thresholds::{Bands, Status};

const ZONE_RED: Rgb = Rgb(0xfb, 0xec, 0xec);
const ZONE_YELLOW: Rgb = Rgb(0xfc, 0xf4, 0xd8);
const ZONE_GREEN: Rgb = Rgb(0xe4, 0xf3, 0xe6);

/// The colour a status is shown in (dots, table markers).
pub fn status_color(status: Status) -> Rgb {
    match status {
        Status::Green => Rgb(0x2e, 0x7d, 0x32),
        Status::Yellow => Rgb(0xc9, 0x8a, 0x00),
        Status::Red => Rgb(0xc6, 0x28, 0x28),
        Status::None => Rgb(0x9a, 0xa1, 0xab),
    }
}

/// What one chart shows.
pub struct Series<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    pub unit: Unit,
    pub periods: &'a [String],
    pub values: &'a [Option<f64>],
    pub statuses: &'a [Status],
    pub bands: Option<Bands>,
}

/// Round tick values covering `lo..=hi` with about `count` ticks: (first, last, step).
pub fn nice_ticks(lo: f64, hi: f64, count: usize) -> (f64, f64, f64) {
    let (lo, hi) = if hi - lo < 1e-12 {
        let pad = if lo.abs() > 1e-12 {
            lo.abs() * 0.1
        } else {
            1.0
        };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    };
    let rough = (hi - lo) / (count.max(2) - 1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough * 0.999)
        .unwrap_or(10.0 * magnitude);
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

/// A short axis label: "$120k", "$1.2M", "25%", "0.25".
pub fn tick_label(unit: Unit, v: f64, step: f64) -> String {
    // Enough decimals to tell ticks apart: the fewest that make the step whole.
    let decimals = |step: f64| {
        (0..4)
            .find(|d| {
                let scaled = step * 10f64.powi(*d);
                (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
            })
            .unwrap_or(4) as usize
    };
    match unit {
        Unit::Usd => {
            let a = v.abs();
            let sign = if v < 0.0 { "-" } else { "" };
            if a >= 1e6 {
                format!("{sign}${}M", trim(a / 1e6, decimals(step / 1e6).max(1)))
            } else if a >= 1e3 {
                format!("{sign}${}k", trim(a / 1e3, decimals(step / 1e3)))
            } else {
                format!("{sign}${}", trim(a, decimals(step)))
            }
        }
        Unit::Pct => format!("{}%", trim(v * 100.0, decimals(step * 100.0))),
        _ => trim(v, decimals(step)),
    }
}

fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}

/// The value range the axis must show: the data, and the band edges that are not far
/// outside it (a far-away edge would squash the line flat).
fn value_range(values: &[f64], bands: Option<&Bands>) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(lo.abs().max(hi.abs()) * 0.2).max(1e-9);
    let mut range = (lo, hi);
    if let Some(b) = bands {
        for edge in [b.green_min, b.green_max, b.yellow_min, b.yellow_max]
            .into_iter()
            .flatten()
        {
            if edge >= lo - span && edge <= hi + span {
                range = (range.0.min(edge), range.1.max(edge));
            }
        }
    }
    range
}

/// Draws the chart in the box (`x`, `y`, `w`, `h`).
pub fn draw(c: &mut Composer, (x, y, w, h): (f32, f32, f32, f32), s: &Series) {
    let title = c.fonts.fit(Weight::Bold, 8.5, s.title, w);
    c.text(x, y + 9.0, 8.5, Weight::Bold, INK, Align::Left, &title);
    let subtitle = c.fonts.fit(Weight::Regular, 7.0, s.subtitle, w);
    c.text(
        x,
        y + 19.0,
        7.0,
        Weight::Regular,
        MUTED,
        Align::Left,
        &subtitle,
    );
    let (x0, x1) = (x + 38.0, x + w - 6.0);
    let (top, bottom) = (y + 27.0, y + h - 14.0);
    let present: Vec<f64> = s.values.iter().flatten().copied().collect();
    if present.is_empty() {
        c.rect(x0, top, x1 - x0, bottom - top, Rgb(0xf6, 0xf7, 0xf9));
        c.text(
            (x0 + x1) / 2.0,
            (top + bottom) / 2.0,
            8.0,
            Weight::Regular,
            MUTED,
            Align::Center,
            "No data",
        );
        return;
    }
    let (lo, hi) = value_range(&present, s.bands.as_ref());
    let (lo, hi, step) = nice_ticks(lo, hi, 4);
    let to_y = |v: f64| bottom - ((v - lo) / (hi - lo)) as f32 * (bottom - top);
    zones(c, (x0, x1, top, bottom), s.bands.as_ref(), &to_y);
    // Grid and value labels.
    let mut tick = lo;
    while tick <= hi + step * 0.5 {
        let ty = to_y(tick);
        c.hline(x0, x1, ty, 0.4, RULE);
        c.text(
            x0 - 3.0,
            ty + 2.5,
            6.5,
            Weight::Regular,
            MUTED,
            Align::Right,
            &tick_label(s.unit, tick, step),
        );
        tick += step;
    }
    let n = s.periods.len().max(1);
    let slot = (x1 - x0) / n as f32;
    let to_x = |i: usize| x0 + slot * (i as f32 + 0.5);
    line(c, s.values, &to_x, &to_y);
    for (i, v) in s.values.iter().enumerate() {
        if let Some(v) = v {
            let status = s.statuses.get(i).copied().unwrap_or(Status::None);
            c.push(Item::Dot {
                x: to_x(i),
                y: to_y(*v),
                r: 2.4,
                fill: status_color(status),
            });
        }
    }
    // Period labels, thinned so they never overlap.
    let every = if slot < 26.0 { 2 } else { 1 };
    for (i, p) in s.periods.iter().enumerate() {
        if (n - 1 - i).is_multiple_of(every) {
            c.text(
                to_x(i),
                bottom + 9.0,
                6.5,
                Weight::Regular,
                MUTED,
                Align::Center,
                &short_period(p),
            );
        }
    }
}

/// The plot's background: red outside the yellow band, yellow, then green.
fn zones(
    c: &mut Composer,
    (x0, x1, top, bottom): (f32, f32, f32, f32),
    bands: Option<&Bands>,
    to_y: &dyn Fn(f64) -> f32,
) {
    let Some(b) = bands.filter(|b| !b.is_empty()) else {
        c.rect(x0, top, x1 - x0, bottom - top, Rgb(0xf6, 0xf7, 0xf9));
        return;
    };
    c.rect(x0, top, x1 - x0, bottom - top, ZONE_RED);
    let mut band = |min: Option<f64>, max: Option<f64>, fill: Rgb| {
        let y_top = max.map_or(top, |v| to_y(v).clamp(top, bottom));
        let y_bottom = min.map_or(bottom, |v| to_y(v).clamp(top, bottom));
        if y_bottom > y_top {
            c.rect(x0, y_top, x1 - x0, y_bottom - y_top, fill);
        }
    };
    band(b.yellow_min, b.yellow_max, ZONE_YELLOW);
    band(b.green_min, b.green_max, ZONE_GREEN);
}

/// The series as polylines, broken where a period has no value.
fn line(
    c: &mut Composer,
    values: &[Option<f64>],
    to_x: &dyn Fn(usize) -> f32,
    to_y: &dyn Fn(f64) -> f32,
) {
    let mut run: Vec<(f32, f32)> = Vec::new();
    let flush = |run: &mut Vec<(f32, f32)>, c: &mut Composer| {
        if run.len() > 1 {
            c.push(Item::Line {
                points: std::mem::take(run),
                width: 1.3,
                color: ACCENT,
                dashed: false,
            });
        }
        run.clear();
    };
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => run.push((to_x(i), to_y(*v))),
            None => flush(&mut run, c),
        }
    }
    flush(&mut run, c);
}

/// "2025-Q1" → "Q1 '25", "2025-03" → "Mar '25".
pub fn short_period(p: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Some((year, rest)) = p.split_once('-') else {
        return p.to_string();
    };
    let yy = year.get(2..).unwrap_or(year);
    if rest.starts_with('Q') {
        format!("{rest} '{yy}")
    } else {
        rest.parse::<usize>()
            .ok()
            .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
            .map_or_else(|| p.to_string(), |m| format!("{m} '{yy}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::fonts::Fonts;
    use super::super::layout::Paper;
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_data() {
        let (lo, hi, step) = nice_ticks(0.23, 0.61, 4);
        assert_eq!(step, 0.2);
        assert!(lo <= 0.23 && hi >= 0.61);
        assert!((lo - 0.2).abs() < 1e-9 && (hi - 0.8).abs() < 1e-9);
        let (lo, hi, step) = nice_ticks(120_000.0, 180_000.0, 4);
        assert_eq!((lo, hi, step), (120_000.0, 180_000.0, 20_000.0));
        // A flat series still gets an axis.
        let (lo, hi, _) = nice_ticks(5.0, 5.0, 4);
        assert!(lo < 5.0 && hi > 5.0);
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(tick_label(Unit::Usd, 120_000.0, 20_000.0), "$120k");
        assert_eq!(tick_label(Unit::Usd, 1_250_000.0, 250_000.0), "$1.25M");
        assert_eq!(tick_label(Unit::Usd, -5_000.0, 5_000.0), "-$5k");
        assert_eq!(tick_label(Unit::Pct, 0.25, 0.05), "25%");
        assert_eq!(tick_label(Unit::Pct, 0.025, 0.005), "2.5%");
        assert_eq!(tick_label(Unit::Ratio, 0.4, 0.2), "0.4");
        assert_eq!(tick_label(Unit::Count, 0.0, 0.2), "0");
        assert_eq!(short_period("2025-Q1"), "Q1 '25");
        assert_eq!(short_period("2025-03"), "Mar '25");
    }

    #[test]
    fn far_band_edges_do_not_flatten_the_line() {
        let b = Bands {
            green_min: Some(0.3),
            green_max: None,
            yellow_min: Some(0.2),
            yellow_max: None,
        };
        assert_eq!(value_range(&[0.25, 0.35], Some(&b)), (0.2, 0.35));
        let far = Bands {
            green_min: Some(1e9),
            ..b
        };
        assert_eq!(value_range(&[0.25, 0.35], Some(&far)), (0.2, 0.35));
    }

    #[test]
    fn gaps_break_the_line_and_dots_take_the_status_colour() {
        let fonts = Fonts::load().unwrap();
        let mut c = Composer::new(&fonts, Paper::A4);
        let periods: Vec<String> = ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3"]
            .map(String::from)
            .to_vec();
        let s = Series {
            title: "#1 Reactive Tickets per Endpoint",
            subtitle: "green ≤ 0.3",
            unit: Unit::Ratio,
            periods: &periods,
            values: &[Some(0.2), Some(0.25), None, Some(0.4), Some(0.5)],
            statuses: &[
                Status::Green,
                Status::Green,
                Status::None,
                Status::Yellow,
                Status::Red,
            ],
            bands: Some(Bands {
                green_min: None,
                green_max: Some(0.3),
                yellow_min: None,
                yellow_max: Some(0.45),
            }),
        };
        draw(&mut c, (50.0, 50.0, 160.0, 120.0), &s);
        let page = &c.finish(|_, _, _| {})[0];
        let lines: Vec<usize> = page
            .iter()
            .filter_map(|i| match i {
                Item::Line { points, color, .. } if *color == ACCENT => Some(points.len()),
                _ => None,
            })
            .collect();
        assert_eq!(lines, vec![2, 2]);
        let dots: Vec<Rgb> = page
            .iter()
            .filter_map(|i| match i {
                Item::Dot { fill, .. } => Some(*fill),
                _ => None,
            })
            .collect();
        assert_eq!(dots.len(), 4);
        assert_eq!(dots[3], status_color(Status::Red));
        // Everything stays inside the chart's box.
        for i in page {
            if let Item::Text { x, y, .. } | Item::Dot { x, y, .. } = i {
                assert!(
                    (50.0..=210.0).contains(x) && (50.0..=170.0).contains(y),
                    "{i:?}"
                );
            }
        }
    }
}
