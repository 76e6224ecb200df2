//! The report's SVG plots, drawn with `plotters` (SVG backend only: text is left to the
//! viewer's fonts). Each function returns whether it drew: `false` when the run has none of its
//! numbers, and then it writes nothing.

use std::io;
use std::path::Path;

use plotters::prelude::*;

use super::names::{IN_PROCESS, LOOP_MODES, LOOP_SUBJECTS, SOAKS};
use super::thousands;
use crate::subjects::{BASELINE, SUBJECTS};
use crate::Results;

/// One bar: its label, value and series (colour, legend entry).
struct Bar {
    label: String,
    value: f64,
    series: usize,
}

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("plot: {e}"))
}

/// Horizontal bars, one row per bar, top to bottom in the given order; a legend when there is
/// more than one series name.
fn hbars(path: &Path, title: &str, x_desc: &str, bars: &[Bar], series: &[&str]) -> io::Result<()> {
    let n = u32::try_from(bars.len()).map_err(err)?.max(1);
    // A segmented range includes its end: `0..top` is n rows (two for one bar: a range of one
    // value is degenerate), bar i in row top - i, from the top down.
    let top = (n - 1).max(1);
    let label_width = bars.iter().map(|b| b.label.chars().count()).max().unwrap_or(10) as u32 * 7 + 16;
    let height = 110 + 26 * n.max(4);
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (lo, hi) = bars
        .iter()
        .fold((0.0f64, 0.0f64), |(lo, hi), b| (lo.min(b.value), hi.max(b.value)));
    // Room on the right for the legend, so it never covers a bar.
    let pad = (hi - lo).max(1.0) * if series.len() > 1 { 0.45 } else { 0.08 };
    let x_range = if lo < 0.0 { lo - pad } else { 0.0 }..hi + pad;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d(x_range, (0..top).into_segmented())
        .map_err(err)?;
    let labels: Vec<&str> = bars.iter().map(|b| b.label.as_str()).collect();
    let label_of = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(j) if top - j < n => labels[(top - j) as usize].to_owned(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&label_of)
        .x_label_formatter(&|v| thousands(*v))
        .x_desc(x_desc)
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let palette = |i: usize| Palette99::pick(i).to_rgba();
    for (s, name) in series.iter().enumerate().chain((series.is_empty()).then_some((0, &""))) {
        let rows: Vec<(u32, f64)> = bars
            .iter()
            .enumerate()
            .filter(|(_, b)| b.series == s)
            .map(|(i, b)| (top - i as u32, b.value))
            .collect();
        // Drawn in order (a histogram series would collect them in a hash map first), so the
        // same numbers give the same file.
        let drawn = chart
            .draw_series(rows.into_iter().map(|(row, v)| {
                let mut bar = Rectangle::new(
                    [(0.0, SegmentValue::Exact(row)), (v, SegmentValue::Exact(row + 1))],
                    palette(s).filled(),
                );
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .map_err(err)?;
        if series.len() > 1 {
            drawn
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], palette(s).filled()));
        }
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// (a) Instructions per invocation above `lift-bare`, per subject (in process).
pub fn cost_per_layer(results: &Results, path: &Path) -> io::Result<bool> {
    let Some(base) = results.get(IN_PROCESS, BASELINE, "instructions") else {
        return Ok(false);
    };
    let bars: Vec<Bar> = SUBJECTS
        .iter()
        .filter(|s| **s != BASELINE && **s != "lift-sqs-batch-10")
        .filter_map(|s| {
            Some(Bar {
                label: (*s).to_owned(),
                value: results.get(IN_PROCESS, s, "instructions")? - base,
                series: 0,
            })
        })
        .collect();
    if bars.is_empty() {
        return Ok(false);
    }
    hbars(
        path,
        "In process: instructions per invocation above lift-bare",
        "instructions above lift-bare (callgrind)",
        &bars,
        &[],
    )?;
    Ok(true)
}

fn loop_bars(results: &Results, metric: &str) -> Vec<Bar> {
    let mut bars = Vec::new();
    for (group, label) in LOOP_MODES {
        for (series, s) in LOOP_SUBJECTS.iter().enumerate() {
            if let Some(value) = results.get(group, s, metric) {
                bars.push(Bar {
                    label: format!("{label} · {s}"),
                    value,
                    series,
                });
            }
        }
    }
    bars
}

/// (b) CPU µs per invocation on the loop, by mode.
pub fn loop_cpu(results: &Results, path: &Path) -> io::Result<bool> {
    let bars = loop_bars(results, "cpu_us_per_invocation");
    if bars.is_empty() {
        return Ok(false);
    }
    hbars(
        path,
        "Runtime API loop: CPU per invocation, by mode",
        "CPU µs per invocation (function process, user + system)",
        &bars,
        LOOP_SUBJECTS,
    )?;
    Ok(true)
}

/// (c) Invocations per second on the loop, by mode.
pub fn loop_throughput(results: &Results, path: &Path) -> io::Result<bool> {
    let bars = loop_bars(results, "invocations_per_s");
    if bars.is_empty() {
        return Ok(false);
    }
    hbars(
        path,
        "Runtime API loop: invocations per second, by mode",
        "invocations per second",
        &bars,
        LOOP_SUBJECTS,
    )?;
    Ok(true)
}

/// (d) RSS over the soaks, one line per soak.
pub fn soak_rss(results: &Results, path: &Path) -> io::Result<bool> {
    let lines: Vec<(String, &[(f64, f64)])> = SOAKS
        .iter()
        .filter_map(|(group, subject)| {
            let s = results
                .series
                .iter()
                .find(|s| s.group == *group && s.subject == *subject && !s.points.is_empty())?;
            Some((format!("{group} · {subject}"), s.points.as_slice()))
        })
        .collect();
    if lines.is_empty() {
        return Ok(false);
    }
    let points = lines.iter().flat_map(|(_, p)| p.iter());
    let (x_max, y_hi) = points.fold((0.0f64, 0.0f64), |(x, hi), (px, py)| (x.max(*px), hi.max(*py)));
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("RSS over the soak", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        // From zero: growth reads at its true scale, a flat line looks flat.
        .build_cartesian_2d(0.0..x_max.max(1.0), 0.0..(y_hi * 1.25).max(1.0))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("invocations")
        .y_desc("RSS (KiB)")
        .x_label_formatter(&|v| format!("{:.0}k", v / 1000.0))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(true)
}
