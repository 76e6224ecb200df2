//! Issue 13's targets, each computed from the run's numbers: met, not met, or not measured (a
//! target whose numbers are missing is never counted as met).

use std::fmt::Write as _;

use super::names::{COLD_START, IN_PROCESS, MEMORY, SOAK_IN_PROCESS, SOAK_RUNTIME_API};
use super::thousands;
use crate::Results;

/// A target's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The numbers meet the target.
    Met,
    /// The numbers miss it.
    NotMet,
    /// A number it needs is missing from this run.
    NotMeasured,
    /// A figure the issue asks to report, with no threshold.
    Reported,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Self::Met => "**met**",
            Self::NotMet => "**not met**",
            Self::NotMeasured => "not measured",
            Self::Reported => "reported",
        }
    }
}

/// One target of the issue and how this run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// What is measured.
    pub what: &'static str,
    /// The goal, as the issue states it.
    pub goal: &'static str,
    /// The measured value(s), when measured.
    pub measured: Option<String>,
    /// The verdict.
    pub status: Status,
}

fn target(what: &'static str, goal: &'static str, check: Option<(String, bool)>) -> Target {
    match check {
        Some((measured, ok)) => Target {
            what,
            goal,
            measured: Some(measured),
            status: if ok { Status::Met } else { Status::NotMet },
        },
        None => Target {
            what,
            goal,
            measured: None,
            status: Status::NotMeasured,
        },
    }
}

/// Every target, in the order.
pub fn evaluate(r: &Results) -> Vec<Target> {
    let ip = |s: &str, m: &str| r.get(IN_PROCESS, s, m);
    let seq = |s: &str, m: &str| r.get("loop-sequential", s, m);
    let mut out = Vec::new();

    // A quick start answering 429 beyond its rate limit does less work per invocation: say so.
    let caveat = match seq("lift-quickstart", "not_200_pct") {
        Some(p) if p > 0.0 => format!(" ({p:.1} % of its answers not 200)"),
        _ => String::new(),
    };
    let cpu = (
        seq("lift-quickstart", "cpu_us_per_invocation"),
        seq("echo-multi-thread", "cpu_us_per_invocation"),
        seq("echo-current-thread", "cpu_us_per_invocation"),
    );
    out.push(target(
        "Loop, one at a time: CPU per invocation, `lift-quickstart` against `echo-multi-thread`",
        "less",
        match cpu {
            (Some(l), Some(e), _) => Some((format!("{l:.1} µs against {e:.1} µs{caveat}"), l < e)),
            _ => None,
        },
    ));
    out.push(target(
        "Loop, one at a time: CPU per invocation, `lift-quickstart` against `echo-current-thread`",
        "≤ 1.1×",
        match cpu {
            (Some(l), _, Some(e)) if e > 0.0 => Some((
                format!("{l:.1} µs against {e:.1} µs ({:.2}×){caveat}", l / e),
                l <= 1.1 * e,
            )),
            _ => None,
        },
    ));
    out.push(target(
        "Loop, one at a time: invocations/s, `lift-quickstart` against `echo-multi-thread`",
        "≥",
        match (
            seq("lift-quickstart", "invocations_per_s"),
            seq("echo-multi-thread", "invocations_per_s"),
        ) {
            (Some(l), Some(e)) => Some((format!("{} against {}{caveat}", thousands(l), thousands(e)), l >= e)),
            _ => None,
        },
    ));
    out.push(target(
        "Bare GET in process (`lift-bare`), instructions",
        "≤ 40,000",
        ip("lift-bare", "instructions").map(|v| (thousands(v), v <= 40_000.0)),
    ));
    out.push(target(
        "SQS batch of 10 in process (`lift-sqs-batch-10`), instructions",
        "≤ 150,000",
        ip("lift-sqs-batch-10", "instructions").map(|v| (thousands(v), v <= 150_000.0)),
    ));
    out.push(target(
        "Whole stack above bare in process, instructions",
        "≤ 8,000",
        match (ip("lift-whole-stack", "instructions"), ip("lift-bare", "instructions")) {
            (Some(w), Some(b)) => Some((thousands(w - b), w - b <= 8_000.0)),
            _ => None,
        },
    ));
    out.push(target(
        "Whole stack above bare in process, wall time",
        "≤ 2 µs",
        match (ip("lift-whole-stack", "ns"), ip("lift-bare", "ns")) {
            (Some(w), Some(b)) => Some((format!("{:.2} µs", (w - b) / 1000.0), w - b <= 2_000.0)),
            _ => None,
        },
    ));
    // The stack's own allocations: the event's decode and the handler allocate in every
    // subject, so a total of 5 is no stack's to meet.
    out.push(target(
        "Whole stack above bare in process, allocations per invocation",
        "≤ 5",
        match (ip("lift-whole-stack", "allocations"), ip("lift-bare", "allocations")) {
            (Some(w), Some(b)) => Some((format!("{:+.1} ({w:.1} against {b:.1})", w - b), w - b <= 5.0)),
            _ => None,
        },
    ));
    for (group, subject, what) in [
        (
            SOAK_IN_PROCESS,
            "lift-whole-stack",
            "Soak in process (`lift-whole-stack`), RSS growth",
        ),
        (
            SOAK_RUNTIME_API,
            "lift-quickstart",
            "Soak through the Runtime API (`lift-quickstart`), RSS growth",
        ),
    ] {
        out.push(target(
            what,
            "≤ 5 %",
            r.get(group, subject, "rss_growth_pct")
                .map(|g| (format!("{g:+.1} %"), g <= 5.0)),
        ));
    }
    // The bare echo that starts fastest: the stricter comparison.
    let echo = ["echo-multi-thread", "echo-current-thread"]
        .into_iter()
        .filter_map(|s| Some((s, r.get(COLD_START, s, "exec_to_first_poll_us")?)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    out.push(target(
        "Cold start, exec → first `/next` poll: `lift-quickstart` against the faster bare echo",
        "≤ 1.1×",
        match (r.get(COLD_START, "lift-quickstart", "exec_to_first_poll_us"), echo) {
            (Some(l), Some((name, e))) if e > 0.0 => Some((
                format!(
                    "{} µs against {} µs (`{name}`, {:.2}×)",
                    thousands(l),
                    thousands(e),
                    l / e
                ),
                l <= 1.1 * e,
            )),
            _ => None,
        },
    ));
    let mut reported = |what: &'static str, value: Option<String>| {
        out.push(Target {
            what,
            goal: "reported",
            status: if value.is_some() {
                Status::Reported
            } else {
                Status::NotMeasured
            },
            measured: value,
        });
    };
    reported(
        "Binary size (`lift-quickstart`)",
        r.get(COLD_START, "lift-quickstart", "binary_size_kib")
            .map(|v| format!("{} KiB", thousands(v))),
    );
    reported(
        "Managed Instances: memory per invocation in flight at 64 (`lift-quickstart`)",
        r.get(MEMORY, "lift-quickstart", "kib_per_in_flight_invocation")
            .map(|v| format!("{v:.1} KiB")),
    );
    reported(
        "Concurrent loop (8 and 64 in flight): p50 / p99 per invocation (`lift-quickstart`)",
        match (
            r.get("loop-concurrent-8", "lift-quickstart", "p50_us"),
            r.get("loop-concurrent-8", "lift-quickstart", "p99_us"),
            r.get("loop-concurrent-64", "lift-quickstart", "p50_us"),
            r.get("loop-concurrent-64", "lift-quickstart", "p99_us"),
        ) {
            (Some(a), Some(b), Some(c), Some(d)) => Some(format!("8: {a:.0} / {b:.0} µs; 64: {c:.0} / {d:.0} µs")),
            _ => None,
        },
    );
    out
}

/// The "Targets" section: every target with its measured value and verdict.
pub fn section(results: &Results) -> String {
    let targets = evaluate(results);
    let count = |s: Status| targets.iter().filter(|t| t.status == s).count();
    let mut md = format!(
        "## Targets (issue 13)\n\n{} met, {} not met, {} not measured.\n\n\
         | target | goal | measured | status |\n|---|---|---|---|\n",
        count(Status::Met),
        count(Status::NotMet),
        count(Status::NotMeasured),
    );
    for t in &targets {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            t.what,
            t.goal,
            t.measured.as_deref().unwrap_or("—"),
            t.status.label()
        );
    }
    md.push('\n');
    md
}
