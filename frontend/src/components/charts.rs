//! Chart definitions (charming) for SmartNumber trends, with threshold bands.
use charming::component::{Axis, Grid, Legend};
use charming::element::{
    AxisLabel, AxisType, ItemStyle, LineStyle, LineStyleType, MarkArea, MarkAreaData, Tooltip,
    Trigger,
};
use charming::series::Line;
use charming::Chart;
use qbr_shared::catalogue::Unit;
use qbr_shared::thresholds::Bands;

/// One line of a chart.
pub struct SeriesData {
    pub name: String,
    pub values: Vec<Option<f64>>,
    /// Dashed (e.g. the previous year's overlay).
    pub dashed: bool,
}

/// Values as drawn: percentages in percent, the rest as they are.
fn scale(unit: Unit, v: f64) -> f64 {
    let v = if unit == Unit::Pct { v * 100.0 } else { v };
    (v * 10_000.0).round() / 10_000.0
}

fn axis_format(unit: Unit) -> &'static str {
    match unit {
        Unit::Pct => "{value}%",
        Unit::Usd => "${value}",
        Unit::Hours => "{value} h",
        Unit::Count | Unit::Ratio => "{value}",
    }
}

/// A line chart over `labels` with one line per series; with `bands`, the green and
/// yellow threshold bands are shaded behind the first series.
pub fn trend_chart(
    labels: &[String],
    unit: Unit,
    series: Vec<SeriesData>,
    bands: Option<&Bands>,
) -> Chart {
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().map(|v| scale(unit, *v)))
        .collect();
    let band_values: Vec<f64> = bands
        .map(|b| {
            [b.green_min, b.green_max, b.yellow_min, b.yellow_max]
                .into_iter()
                .flatten()
                .map(|v| scale(unit, v))
                .collect()
        })
        .unwrap_or_default();
    let lo = all
        .iter()
        .chain(&band_values)
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = all
        .iter()
        .chain(&band_values)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        let pad = ((hi - lo).abs() * 0.1)
            .max(hi.abs().max(lo.abs()) * 0.05)
            .max(1e-6);
        let lo = if lo >= 0.0 && lo - pad < 0.0 {
            0.0
        } else {
            lo - pad
        };
        (lo, hi + pad)
    } else {
        (0.0, 1.0)
    };
    // A "nice" step (1, 2, 2.5 or 5 × 10^k) for about five intervals, and bounds on it,
    // so the axis reads cleanly.
    let raw = ((hi - lo) / 5.0).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|f| f * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let clean = |v: f64| (v * 1e9).round() / 1e9;
    let (lo, hi) = (
        clean((lo / step).floor() * step),
        clean((hi / step).ceil() * step),
    );
    let mut chart = Chart::new()
        .background_color("transparent")
        // No entry animation: a dashboard in a meeting should just show the numbers.
        .animation(false)
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .grid(Grid::new().left(64).right(24).top(36).bottom(32))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels.to_vec()))
        .y_axis(
            Axis::new()
                .type_(AxisType::Value)
                .min(lo)
                .max(hi)
                .interval(step)
                .axis_label(AxisLabel::new().formatter(axis_format(unit))),
        );
    if series.len() > 1 {
        let names: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
        chart = chart.legend(Legend::new().top(0).data(names));
    }
    let mut band_series = None;
    for (i, s) in series.into_iter().enumerate() {
        let mut line = Line::new()
            .name(s.name)
            .connect_nulls(false)
            .symbol_size(7)
            .show_symbol(true)
            .data(
                s.values
                    .iter()
                    .map(|v| v.map(|v| scale(unit, v)))
                    .collect::<Vec<_>>(),
            );
        if s.dashed {
            line = line.line_style(LineStyle::new().type_(LineStyleType::Dashed).opacity(0.7));
        } else {
            line = line.line_style(LineStyle::new().width(2.5));
        }
        if i == 0 {
            if let Some(b) = bands {
                let area = |min: Option<f64>, max: Option<f64>| {
                    (
                        MarkAreaData::new()
                            .y_axis(scale(unit, min.unwrap_or(lo)).max(lo).to_string()),
                        MarkAreaData::new()
                            .y_axis(scale(unit, max.unwrap_or(hi)).min(hi).to_string()),
                    )
                };
                // Open ends reach the axis bounds (already scaled).
                let g = area(b.green_min, b.green_max);
                let y = area(b.yellow_min, b.yellow_max);
                let fix = |d: (MarkAreaData, MarkAreaData), min: Option<f64>, max: Option<f64>| {
                    let a = if min.is_none() {
                        MarkAreaData::new().y_axis(lo.to_string())
                    } else {
                        d.0
                    };
                    let b = if max.is_none() {
                        MarkAreaData::new().y_axis(hi.to_string())
                    } else {
                        d.1
                    };
                    (a, b)
                };
                let y = fix(y, b.yellow_min, b.yellow_max);
                let g = fix(g, b.green_min, b.green_max);
                line = line.mark_area(
                    MarkArea::new()
                        .silent(true)
                        .item_style(ItemStyle::new().color("rgba(234, 179, 8, 0.10)"))
                        .data(vec![y]),
                );
                // A second, invisible series carries the green band on top.
                band_series = Some(
                    Line::new()
                        .name("green band")
                        .data(Vec::<Option<f64>>::new())
                        .mark_area(
                            MarkArea::new()
                                .silent(true)
                                .item_style(ItemStyle::new().color("rgba(34, 197, 94, 0.14)"))
                                .data(vec![g]),
                        ),
                );
            }
        }
        chart = chart.series(line);
    }
    // Added last so the real lines keep the palette's first colours.
    if let Some(b) = band_series {
        chart = chart.series(b);
    }
    chart
}
