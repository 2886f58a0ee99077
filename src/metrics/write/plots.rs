//! SVG plots of a run: throughput over time, the one-way delay CDF and
//! queue occupancy over time, drawn with plotters' SVG backend.
//!
//! Text needs no font: without plotters' `ttf`/`ab_glyph` features its
//! font layer only estimates text extents arithmetically (from the byte
//! length and the size), and the SVG backend writes `<text>` elements that
//! the viewer lays out. Axes are the `axis` module's, whose ticks avoid
//! platform math functions; so equal input gives equal bytes everywhere.
//!
//! Binned series are drawn as steps (each bin's value held across the bin)
//! and CDFs as empirical step functions starting from 0, so a single bin or
//! a single delay value still draws a visible line. Non-finite values break
//! a line instead of reaching the output; empty input draws empty axes with
//! "no data".

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::series::{Cdf, PlotData, Series};
use super::axis::Axis;

/// Size of every plot, in pixels.
const SIZE: (u32, u32) = (800, 480);

/// Line colours in series order (Okabe–Ito, distinguishable with the common
/// colour-vision deficiencies); cycled when there are more series.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(80, 80, 80),
];

/// The font family every text asks the viewer for. plotters passes sizes
/// through divided by 1.24, so size 15 is about 12 px.
const FONT: &str = "sans-serif";

/// Longest series label shown in a legend, in characters.
const MAX_LABEL_CHARS: usize = 32;

/// Headroom above the largest value of a time series, as a factor: a
/// little for one series, more for several, whose legend sits in the top
/// right corner and would otherwise cover the highest values.
const HEADROOM: f64 = 1.05;
/// Headroom for plots with a legend (see [`HEADROOM`]).
const HEADROOM_WITH_LEGEND: f64 = 1.25;

/// An error drawing a plot.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// plotters failed to draw into the SVG string.
    #[error("could not draw {file}: {message}")]
    Draw {
        /// The plot's file name.
        file: &'static str,
        /// plotters' error, as text.
        message: String,
    },
}

/// Renders the run's plots, each as `(file name, SVG document)`:
/// `throughput.svg` (Mbit/s over seconds), `delay-cdf.svg` (fraction of
/// packets over one-way delay in ms) and `queue.svg` (KiB over seconds),
/// and when the run has media sessions `latency.svg` (glass-to-glass ms
/// over seconds) and `buffer.svg` (playout buffer ms over seconds), and
/// when a session reports TCP congestion windows `cwnd.svg` (KiB over
/// seconds); one
/// line per series, in `data`'s order. `title` (the scenario name) starts
/// every caption.
pub fn plots(data: &PlotData, title: &str) -> Result<Vec<(&'static str, String)>, PlotError> {
    let title = svg_text(title);
    let mut specs = vec![
        time_plot(
            "throughput.svg",
            format!("{title}: throughput"),
            "throughput (Mbit/s)",
            &data.throughput_bps,
            1e-6,
        ),
        cdf_plot(format!("{title}: one-way delay"), &data.delay_ms_cdf),
        time_plot(
            "queue.svg",
            format!("{title}: queue occupancy"),
            "queue occupancy (KiB)",
            &data.queue_bytes,
            1.0 / 1024.0,
        ),
    ];
    if !data.latency_ms.is_empty() {
        specs.push(time_plot(
            "latency.svg",
            format!("{title}: glass-to-glass latency"),
            "latency (ms)",
            &data.latency_ms,
            1.0,
        ));
    }
    if !data.buffer_ms.is_empty() {
        specs.push(time_plot(
            "buffer.svg",
            format!("{title}: playout buffer"),
            "buffered media (ms)",
            &data.buffer_ms,
            1.0,
        ));
    }
    if !data.cwnd_kib.is_empty() {
        specs.push(time_plot(
            "cwnd.svg",
            format!("{title}: TCP congestion window"),
            "congestion window (KiB)",
            &data.cwnd_kib,
            1.0,
        ));
    }
    specs
        .iter()
        .map(|spec| Ok((spec.file, render(spec)?)))
        .collect()
}

/// Everything one plot shows.
struct Plot {
    file: &'static str,
    caption: String,
    x_desc: &'static str,
    y_desc: &'static str,
    x: Axis,
    y: Axis,
    lines: Vec<Line>,
    legend_at: SeriesLabelPosition,
}

/// One series: its label and its drawable runs of points.
struct Line {
    label: String,
    segments: Vec<Vec<(f64, f64)>>,
}

impl Line {
    fn points(&self) -> impl Iterator<Item = &(f64, f64)> {
        self.segments.iter().flatten()
    }
}

/// A plot of binned series over time, values multiplied by `scale`.
fn time_plot(
    file: &'static str,
    caption: String,
    y_desc: &'static str,
    series: &[Series],
    scale: f64,
) -> Plot {
    let lines: Vec<Line> = series.iter().map(|s| step_line(s, scale)).collect();
    let (_, x_max) = span(&lines, |p| p.0);
    let (y_min, y_max) = span(&lines, |p| p.1);
    let headroom = if lines.len() > 1 {
        HEADROOM_WITH_LEGEND
    } else {
        HEADROOM
    };
    name_single_series(Plot {
        file,
        caption,
        x_desc: "time (s)",
        y_desc,
        x: Axis::covering(0.0, x_max),
        y: Axis::covering(y_min, y_max * headroom),
        lines,
        legend_at: SeriesLabelPosition::UpperRight,
    })
}

fn cdf_plot(caption: String, cdfs: &[Cdf]) -> Plot {
    let lines: Vec<Line> = cdfs.iter().map(cdf_line).collect();
    let (x_min, x_max) = span(&lines, |p| p.0);
    name_single_series(Plot {
        file: "delay-cdf.svg",
        caption,
        x_desc: "one-way delay (ms)",
        y_desc: "fraction of packets",
        x: Axis::covering(x_min, x_max),
        y: Axis::covering(0.0, 1.0),
        lines,
        legend_at: SeriesLabelPosition::LowerRight,
    })
}

/// Names a single series in the caption, since only several get a legend.
fn name_single_series(mut spec: Plot) -> Plot {
    if let [line] = spec.lines.as_slice() {
        spec.caption = format!("{} ({})", spec.caption, line.label);
    }
    spec
}

/// The smallest and largest `coord` over every point, both widened to
/// include 0.
fn span(lines: &[Line], coord: impl Fn(&(f64, f64)) -> f64) -> (f64, f64) {
    let values = lines.iter().flat_map(Line::points).map(coord);
    values.fold((0.0, 0.0), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Each bin's value held from its start to its end; a non-finite value
/// ends the current segment.
fn step_line(series: &Series, scale: f64) -> Line {
    let bin = series.bin.as_secs_f64();
    let mut segments = vec![Vec::new()];
    for (i, value) in series.values.iter().enumerate() {
        let y = value * scale;
        let (start, end) = (i as f64 * bin, (i + 1) as f64 * bin);
        let current = segments.last_mut().expect("segments is never empty");
        if y.is_finite() && end.is_finite() {
            current.extend([(start, y), (end, y)]);
        } else if !current.is_empty() {
            segments.push(Vec::new());
        }
    }
    segments.retain(|s| !s.is_empty());
    Line {
        label: legend_label(&series.label),
        segments,
    }
}

/// The empirical CDF: up from 0 at the first value, then across to each
/// next value and up to its fraction. Non-finite points are skipped.
fn cdf_line(cdf: &Cdf) -> Line {
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(cdf.points.len() * 2 + 1);
    let mut below = 0.0;
    for &(x, fraction) in &cdf.points {
        if !(x.is_finite() && fraction.is_finite()) {
            continue;
        }
        points.extend([(x, below), (x, fraction)]);
        below = fraction;
    }
    Line {
        label: legend_label(&cdf.label),
        segments: if points.is_empty() {
            Vec::new()
        } else {
            vec![points]
        },
    }
}

/// `s` safe for SVG text: characters XML forbids and line breaks become
/// spaces (plotters escapes `<>&"'` itself).
fn svg_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => ' ',
            c => c,
        })
        .collect()
}

fn legend_label(label: &str) -> String {
    let label = svg_text(label);
    if label.chars().count() <= MAX_LABEL_CHARS {
        return label;
    }
    let mut short: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
    short.push('…');
    short
}

fn render(spec: &Plot) -> Result<String, PlotError> {
    let mut svg = String::new();
    draw(spec, &mut svg).map_err(|message| PlotError::Draw {
        file: spec.file,
        message,
    })?;
    Ok(svg)
}

fn draw(spec: &Plot, svg: &mut String) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&spec.caption, (FONT, 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(spec.x.clone(), spec.y.clone())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(spec.x_desc)
        .y_desc(spec.y_desc)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;

    for (i, line) in spec.lines.iter().enumerate() {
        let style = PALETTE[i % PALETTE.len()].stroke_width(2);
        let key = move |(x, y): (i32, i32)| PathElement::new(vec![(x, y), (x + 20, y)], style);
        let label = if line.segments.is_empty() {
            format!("{} (no data)", line.label)
        } else {
            line.label.clone()
        };
        // Draw every segment; the legend entry hangs off the first draw.
        let mut segments = line.segments.iter();
        let first = segments.next().map(Vec::as_slice).unwrap_or(&[]);
        chart
            .draw_series(LineSeries::new(first.iter().copied(), style))
            .map_err(err)?
            .label(label)
            .legend(key);
        for segment in segments {
            chart
                .draw_series(LineSeries::new(segment.iter().copied(), style))
                .map_err(err)?;
        }
    }
    if spec.lines.len() > 1 {
        chart
            .configure_series_labels()
            .position(spec.legend_at.clone())
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font((FONT, 15))
            .draw()
            .map_err(err)?;
    }
    if spec.lines.iter().all(|line| line.segments.is_empty()) {
        let centre = (
            (spec.x.lo() + spec.x.hi()) / 2.0,
            (spec.y.lo() + spec.y.hi()) / 2.0,
        );
        let style = (FONT, 20)
            .into_text_style(&root)
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart
            .plotting_area()
            .draw(&Text::new("no data", centre, style))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
#[path = "plots/tests.rs"]
mod tests;
