//! Chart definitions (charming) for SmartNumber trends, with threshold bands, and the
//! drill-down's overlay: the quarter's forecast (a dashed segment with its 80 % band)
//! and unusual values (marked points whose name explains them in the tooltip).
use charming::component::{Axis, Grid, Legend};
use charming::datatype::{CompositeValue, DataPoint};
use charming::element::{
    AreaStyle, AxisLabel, AxisType, ItemStyle, LineStyle, LineStyleType, MarkArea, MarkAreaData,
    Symbol, Tooltip, Trigger,
};
use charming::series::{Line, Scatter};
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

/// Where a period still in progress is expected to end: a dashed segment from the last
/// actual point (`from`, its value `start`) to `expected` at `to`, in a light band from
/// `low` to `high` (values in the number's unit).
pub struct ForecastMark {
    pub from: usize,
    pub start: f64,
    pub to: usize,
    pub expected: f64,
    pub low: f64,
    pub high: f64,
    /// The series' name, read in the tooltip ("Forecast (80 %: 0.28–0.34 h)").
    pub name: String,
}

/// An unusual value: a marked point at label `index`, explained by `text`.
pub struct UnusualMark {
    pub index: usize,
    pub value: f64,
    pub text: String,
}

impl UnusualMark {
    /// The mark of `a` at point `index` of a chart, drawn at `value`.
    pub fn of(a: &qbr_shared::insight::api::Anomaly, index: usize, value: f64) -> UnusualMark {
        UnusualMark {
            index,
            value,
            text: format!("Unusual: {}", a.explanation),
        }
    }
}

/// What a chart draws over its lines.
#[derive(Default)]
pub struct Overlay {
    pub forecast: Option<ForecastMark>,
    pub unusual: Vec<UnusualMark>,
}

/// The forecast's colour (the first line's, from ECharts' palette) and its band's.
const FORECAST_COLOR: &str = "#5470c6";
const FORECAST_BAND: &str = "rgba(84, 112, 198, 0.16)";
const UNUSUAL_COLOR: &str = "#e8590c";

/// A line of `len` points, empty but at `at`.
fn sparse(len: usize, at: &[(usize, f64)]) -> Vec<Option<f64>> {
    let mut v = vec![None; len];
    for (i, x) in at {
        if let Some(slot) = v.get_mut(*i) {
            *slot = Some(*x);
        }
    }
    v
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
    trend_chart_with(labels, unit, series, bands, Overlay::default())
}

/// [`trend_chart`] with an overlay drawn on top (the axis covers it too).
pub fn trend_chart_with(
    labels: &[String],
    unit: Unit,
    series: Vec<SeriesData>,
    bands: Option<&Bands>,
    overlay: Overlay,
) -> Chart {
    let overlay_values: Vec<f64> = overlay
        .forecast
        .iter()
        .flat_map(|f| [f.start, f.expected, f.low, f.high])
        .chain(overlay.unusual.iter().map(|u| u.value))
        .collect();
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .chain(overlay_values)
        .map(|v| scale(unit, v))
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
    if let Some(f) = overlay.forecast {
        let n = labels.len();
        let hidden = || LineStyle::new().opacity(0.0);
        // The band: an invisible base at `low`, and the stretch up to `high` stacked on
        // it and filled. Neither is listed in the tooltip (the forecast's name says it).
        chart = chart
            .series(
                Line::new()
                    .name("80 % low")
                    .stack("forecast-band")
                    .show_symbol(false)
                    .line_style(hidden())
                    .tooltip(Tooltip::new().trigger(Trigger::None))
                    .data(sparse(
                        n,
                        &[(f.from, scale(unit, f.start)), (f.to, scale(unit, f.low))],
                    )),
            )
            .series(
                Line::new()
                    .name("80 % range")
                    .stack("forecast-band")
                    .show_symbol(false)
                    .line_style(hidden())
                    .area_style(AreaStyle::new().color(FORECAST_BAND))
                    .tooltip(Tooltip::new().trigger(Trigger::None))
                    .data(sparse(
                        n,
                        &[
                            (f.from, 0.0),
                            (f.to, scale(unit, f.high) - scale(unit, f.low)),
                        ],
                    )),
            )
            .series(
                Line::new()
                    .name(f.name)
                    .connect_nulls(true)
                    .symbol(Symbol::Circle)
                    .symbol_size(7)
                    .show_symbol(true)
                    .item_style(ItemStyle::new().color(FORECAST_COLOR))
                    .line_style(
                        LineStyle::new()
                            .type_(LineStyleType::Dashed)
                            .width(2)
                            .color(FORECAST_COLOR),
                    )
                    .data(sparse(
                        n,
                        &[
                            (f.from, scale(unit, f.start)),
                            (f.to, scale(unit, f.expected)),
                        ],
                    )),
            );
    }
    // One series per unusual value, named by its explanation: the axis tooltip lists it
    // with the value at its period (and nowhere else).
    for u in overlay.unusual {
        let Some(label) = labels.get(u.index) else {
            continue;
        };
        let point = DataPoint::Value(CompositeValue::Array(vec![
            CompositeValue::String(label.clone()),
            CompositeValue::from(scale(unit, u.value)),
        ]));
        chart = chart.series(
            Scatter::new()
                .name(u.text)
                .symbol(Symbol::Diamond)
                .symbol_size(15)
                .item_style(
                    ItemStyle::new()
                        .color(UNUSUAL_COLOR)
                        .border_color("#ffffff")
                        .border_width(1),
                )
                .data(vec![point]),
        );
    }
    chart
}
