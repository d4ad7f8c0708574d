//! What the examples share: where their images go, a line chart in SVG, a progress bar.
//!
//! Not an example itself (Cargo builds `examples/*.rs` and `examples/*/main.rs` only); each example
//! that draws includes it with `mod common;`.

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use plotters::prelude::*;
use std::error::Error;
use std::path::PathBuf;

/// `<target dir>/examples/<file>`, the directory created if need be: the example's binary is
/// `<target dir>/<profile>/examples/<name>`, so its images land beside the build, never in the
/// repository. Falls back to `target/examples/` under the working directory.
pub fn output_path(file: &str) -> PathBuf {
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("examples");
    std::fs::create_dir_all(&dir).expect("create the directory for the example's images");
    dir.join(file)
}

/// One line of a [`line_chart`].
pub struct Series {
    /// The legend's text.
    pub label: String,
    /// `(x, y)` points, in order of `x`.
    pub points: Vec<(f64, f64)>,
    /// The colour: an index into [`COLOURS`].
    pub colour: usize,
    /// Dashed instead of solid.
    pub dashed: bool,
}

/// Line colours, told apart in print too: blue, red, green, black, orange, purple.
pub const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(0, 0, 0),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
];

/// Draws `series` as lines on one pair of axes, with a legend, into the SVG file `path`.
/// `log_y` puts the y axis on a logarithmic scale (every y must then be positive).
pub fn line_chart(
    path: &std::path::Path,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    series: &[Series],
    log_y: bool,
) -> Result<(), Box<dyn Error>> {
    let points = || series.iter().flat_map(|s| s.points.iter().copied());
    let (x_min, x_max) = bounds(points().map(|(x, _)| x));
    let (y_min, y_max) = bounds(points().map(|(_, y)| y));
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root);
    chart
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64);
    if log_y {
        // From a power of ten, so that at least one decade is labelled; room above for the legend.
        let y_range = 0.99 * 10f64.powf(y_min.log10().floor())..(y_max * 2.0);
        let mut chart = chart.build_cartesian_2d(x_min..x_max, y_range.log_scale())?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| tidy(*x))
            .y_label_formatter(&|y| tidy(*y))
            .max_light_lines(4)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()?;
        draw(&mut chart, series)?;
    } else {
        // Room above the data for the legend.
        let span = y_max - y_min;
        let mut chart =
            chart.build_cartesian_2d(x_min..x_max, y_min - 0.05 * span..y_max + 0.35 * span)?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| tidy(*x))
            .y_label_formatter(&|y| tidy(*y))
            .max_light_lines(4)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()?;
        draw(&mut chart, series)?;
    }
    root.present()?;
    Ok(())
}

/// A progress bar for `len` steps of `unit` (`"it"`, `"epochs"`): elapsed time, the bar, the
/// rate, the time left and a message (the example's running loss). It draws only on a terminal.
pub fn progress_bar(len: u64, prefix: &str, unit: &'static str) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{prefix:>8} [{elapsed_precise}] {wide_bar} {pos}/{len} {rate:>12} eta {eta:>3}  {msg}",
    )
    .expect("a valid progress-bar template")
    .with_key(
        "rate",
        move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let rate = state.per_sec();
            let _ = if rate < 10.0 {
                write!(w, "{rate:.1} {unit}/s")
            } else {
                write!(w, "{rate:.0} {unit}/s")
            };
        },
    );
    ProgressBar::new(len)
        .with_style(style)
        .with_prefix(prefix.to_string())
}

/// An axis label: `v` to 3 significant digits, without trailing zeros or a minus sign on zero.
fn tidy(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            v.to_string()
        };
    }
    let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if min < max {
        (min, max)
    } else {
        (min - 1.0, max + 1.0)
    }
}

/// Draws every series, then the legend.
fn draw<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    series: &[Series],
) -> Result<(), Box<dyn Error>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for s in series {
        let style = COLOURS[s.colour % COLOURS.len()].stroke_width(2);
        let points = s.points.iter().copied();
        let annotation = if s.dashed {
            chart.draw_series(DashedLineSeries::new(points, 8, 5, style))?
        } else {
            chart.draw_series(LineSeries::new(points, style))?
        };
        // The legend's sample: two segments, with a gap between them if the line is dashed.
        let gap = if s.dashed { 6 } else { 0 };
        annotation.label(&s.label).legend(move |(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new([(0, 0), (9, 0)], style)
                + PathElement::new([(9 + gap, 0), (24, 0)], style)
        });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
