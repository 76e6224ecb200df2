//! Side-by-side benchmarks of Lift and the functions a Rust user writes without it, measured in
//! one run by `scripts/bench.sh`, which regenerates `docs/benchmarks.md`.
//!
//! Every measuring program writes its numbers as a [`Results`] file under `target/bench/`; the
//! report reads them all back, so a table or plot only ever shows numbers from the same run.

pub mod report;
pub mod subjects;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod drive;
pub mod peer_echo;
pub mod process;
pub mod soak;

/// One measured number: `subject` (what ran, e.g. `quickstart` or `echo-current-thread`) in a
/// `group` (the benchmark, e.g. `loop-sequential`), `metric` (e.g. `cpu_us_per_invocation`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Measurement {
    /// The benchmark this number belongs to.
    pub group: String,
    /// What was measured: a binary, a configuration, a layer.
    pub subject: String,
    /// The quantity, snake_case with its unit at the end (`_us`, `_per_s`, `_kib`, `_instructions`).
    pub metric: String,
    /// The value, in the metric's unit.
    pub value: f64,
}

/// A series of points, for plots over time or count (RSS over a soak).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Series {
    /// The benchmark this series belongs to.
    pub group: String,
    /// What was measured.
    pub subject: String,
    /// `(x, y)` points, x ascending.
    pub points: Vec<(f64, f64)>,
}

/// The numbers one measuring program wrote, with the machine's state while it ran.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Results {
    /// Single numbers.
    pub measurements: Vec<Measurement>,
    /// Series for plots.
    pub series: Vec<Series>,
    /// Free-form facts about the run (load average before and after, CPU count, versions).
    pub notes: Vec<String>,
}

impl Results {
    /// Adds one number.
    pub fn push(&mut self, group: &str, subject: &str, metric: &str, value: f64) {
        self.measurements.push(Measurement {
            group: group.to_owned(),
            subject: subject.to_owned(),
            metric: metric.to_owned(),
            value,
        });
    }

    /// The number for `(group, subject, metric)`, if measured.
    pub fn get(&self, group: &str, subject: &str, metric: &str) -> Option<f64> {
        self.measurements
            .iter()
            .find(|m| m.group == group && m.subject == subject && m.metric == metric)
            .map(|m| m.value)
    }

    /// Writes these results as `dir/<name>.json`.
    pub fn write(&self, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(self)?)?;
        Ok(path)
    }

    /// Reads every `*.json` in `dir` into one set of results (file order: by name).
    pub fn read_all(dir: &Path) -> std::io::Result<Self> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        let mut all = Self::default();
        for path in paths {
            let one: Self = serde_json::from_slice(&std::fs::read(&path)?)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
            all.measurements.extend(one.measurements);
            all.series.extend(one.series);
            all.notes.extend(one.notes);
        }
        Ok(all)
    }
}

/// The directory measuring programs write to: `$LIFT_BENCH_OUT`, else `target/bench`.
pub fn out_dir() -> PathBuf {
    std::env::var_os("LIFT_BENCH_OUT").map_or_else(|| PathBuf::from("target/bench"), PathBuf::from)
}

/// The machine's 1-minute load average, from `/proc/loadavg` (`None` off Linux).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The `main` of a measuring program that takes one optional count, `NAME [N]`: runs `run(N)`
/// (`default` without an argument) and reports an error as `NAME: error` with a failing exit.
pub fn main_with_count(
    name: &str,
    default: usize,
    run: impl FnOnce(usize) -> Result<(), String>,
) -> std::process::ExitCode {
    let result = match std::env::args().nth(1).map(|n| n.parse::<usize>()) {
        None => run(default),
        Some(Ok(n)) if n > 0 => run(n),
        Some(_) => Err(format!("usage: {name} [N] (N a positive number of invocations)")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
