//! The report on hand-made results. Every number here is TEST DATA, made up to exercise the
//! tables, targets and plots; none of it is a measurement.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;

use lift_bench::report::{self, files, targets, NOT_MEASURED};
use lift_bench::{Results, Series};

/// A fresh directory for one test's images.
fn img_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("report-test")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Test data: in process only.
fn in_process_only() -> Results {
    let mut r = Results::default();
    let g = "in-process";
    for (subject, instructions, ns, allocs) in [
        ("lambda_http-axum", 85_000.0, 11_000.0, 60.0),
        ("lift-bare", 38_000.0, 6_000.0, 30.0),
        ("lift-rate-limit", 39_000.0, 6_200.0, 31.0),
        ("lift-whole-stack", 44_000.0, 8_500.0, 34.0),
        ("lift-sqs-batch-10", 160_000.0, 20_000.0, 90.0),
    ] {
        r.push(g, subject, "instructions", instructions);
        r.push(g, subject, "ns", ns);
        r.push(g, subject, "allocations", allocs);
    }
    r.notes
        .push("test data: load average 1.00 before, 2.00 after".to_owned());
    r
}

/// Test data: every group the report knows.
fn everything() -> Results {
    let mut r = in_process_only();
    for (group, scale) in [
        ("loop-sequential", 1.0),
        ("loop-concurrent-8", 0.8),
        ("loop-concurrent-64", 0.7),
    ] {
        for (subject, cpu, per_s) in [
            ("echo-multi-thread", 200.0, 3_600.0),
            ("echo-current-thread", 130.0, 4_500.0),
            ("lambda_http-axum", 250.0, 3_300.0),
            ("lift-quickstart", 140.0, 4_000.0),
        ] {
            r.push(group, subject, "cpu_us_per_invocation", cpu * scale);
            r.push(group, subject, "system_cpu_us_per_invocation", cpu * scale / 4.0);
            r.push(group, subject, "invocations_per_s", per_s / scale);
            r.push(group, subject, "p50_us", 250.0);
            r.push(group, subject, "p99_us", 900.0);
            r.push(group, subject, "max_in_flight", 8.0);
            r.push(group, subject, "not_200_pct", 0.0);
        }
    }
    r.push(
        "loop-instructions",
        "lift-quickstart",
        "instructions_per_invocation",
        190_000.0,
    );
    r.push(
        "loop-instructions",
        "lift-quickstart",
        "allocations_per_invocation",
        130.0,
    );
    r.push("cold-start", "echo-multi-thread", "exec_to_first_poll_us", 3_000.0);
    r.push("cold-start", "echo-current-thread", "exec_to_first_poll_us", 2_800.0);
    r.push("cold-start", "lift-quickstart", "exec_to_first_poll_us", 3_800.0);
    r.push("cold-start", "lift-quickstart", "binary_size_kib", 9_000.0);
    r.push("memory", "lift-quickstart", "rss_idle_kib", 6_000.0);
    r.push("memory", "lift-quickstart", "rss_64_in_flight_kib", 7_000.0);
    r.push("memory", "lift-quickstart", "kib_per_in_flight_invocation", 15.6);
    r.series.push(Series {
        group: "soak-runtime-api".to_owned(),
        subject: "lift-quickstart".to_owned(),
        points: (0..=20)
            .map(|i| (f64::from(i) * 10_000.0, 6_000.0 + f64::from(i)))
            .collect(),
    });
    r.push("soak-runtime-api", "lift-quickstart", "rss_growth_pct", 0.3);
    r.series.push(Series {
        group: "soak-in-process".to_owned(),
        subject: "lift-whole-stack".to_owned(),
        points: (0..=100)
            .map(|i| (f64::from(i) * 10_000.0, 4_000.0 + f64::from(i) * 4.0))
            .collect(),
    });
    r.push("soak-in-process", "lift-whole-stack", "rss_growth_pct", 9.0);
    r
}

fn status_of(r: &Results, what_contains: &str) -> targets::Status {
    targets::evaluate(r)
        .into_iter()
        .find(|t| t.what.contains(what_contains))
        .unwrap_or_else(|| panic!("no target {what_contains:?}"))
        .status
}

#[test]
fn full_results_give_tables_targets_and_every_plot() {
    let r = everything();
    let dir = img_dir("full");
    let md = report::generate(&r, &dir, "img").unwrap();

    // In process: instructions next to wall time and allocations, cost above lift-bare.
    assert!(
        md.contains("| `lift-whole-stack` | 44,000 | +6,000 | 8.50 | +2.50 | 34.0 |"),
        "{md}"
    );
    assert!(
        md.contains("| `lambda_http-axum` | 85,000 | +47,000 | 11.00 | +5.00 | 60.0 |"),
        "{md}"
    );
    assert!(md.contains("| `lift-bare` | 38,000 | — | 6.00 | — | 30.0 |"), "{md}");
    // Loop, cold start, memory, soak tables.
    assert!(
        md.contains("| `lift-quickstart` | 140.0 | 35.0 | 4,000 | 250.0 | 900.0 | 8 | 0.0 |"),
        "{md}"
    );
    assert!(md.contains("| `lift-quickstart` | 3,800 | 9,000 |"), "{md}");
    assert!(md.contains("| `lift-quickstart` | 190,000 | 130.0 | — |"), "{md}");
    assert!(md.contains("| `lift-quickstart` | 6,000 | 7,000 | 15.6 |"), "{md}");
    assert!(
        md.contains("| `soak-in-process` | `lift-whole-stack` | 1,000,000 | 4,000 → 4,400 | +9.0 % |"),
        "{md}"
    );
    assert!(md.contains("test data: load average 1.00 before, 2.00 after"));
    assert!(!md.contains(NOT_MEASURED), "{md}");

    // Targets, computed from the numbers above.
    use targets::Status::{Met, NotMet, Reported};
    assert_eq!(status_of(&r, "against `echo-multi-thread`"), Met); // 140 < 200
    assert_eq!(
        status_of(
            &r,
            "CPU per invocation, `lift-quickstart` against `echo-current-thread`"
        ),
        Met
    ); // 140 ≤ 143
    assert_eq!(status_of(&r, "invocations/s"), Met); // 4000 ≥ 3600
    assert_eq!(status_of(&r, "Bare GET"), Met); // 38k ≤ 40k
    assert_eq!(status_of(&r, "SQS batch"), NotMet); // 160k > 150k
    assert_eq!(status_of(&r, "above bare in process, instructions"), Met); // 6k ≤ 8k
    assert_eq!(status_of(&r, "above bare in process, wall time"), NotMet); // 2.5 µs > 2 µs
    assert_eq!(status_of(&r, "allocations"), Met); // 34 − 30 ≤ 5
    assert_eq!(status_of(&r, "Soak in process"), NotMet); // 9 % > 5 %
    assert_eq!(status_of(&r, "Soak through the Runtime API"), Met);
    assert_eq!(status_of(&r, "Cold start"), NotMet); // 3800 > 1.1 × 2800 (the faster echo)
    assert_eq!(status_of(&r, "Managed Instances"), Reported);
    assert!(
        md.contains("| Whole stack above bare in process, wall time | ≤ 2 µs | 2.50 µs | **not met** |"),
        "{md}"
    );
    assert!(md.contains("7 met, 4 not met, 0 not measured."), "{md}");

    // Every plot drawn, linked, and showing its subjects.
    for (file, needle) in [
        (files::COST_PER_LAYER, "lift-whole-stack"),
        (files::LOOP_CPU, "lift-quickstart"),
        (files::LOOP_THROUGHPUT, "echo-current-thread"),
        (files::SOAK_RSS, "soak-in-process"),
    ] {
        let svg = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(svg.starts_with("<svg"), "{file}");
        assert!(svg.contains(needle), "{file} lacks {needle}");
        assert!(md.contains(&format!("](img/{file})")), "{file} not linked");
    }
}

#[test]
fn missing_groups_read_not_measured_and_leave_no_plot() {
    let r = in_process_only();
    let dir = img_dir("missing");
    // A plot left over from an earlier run must not stay linked or on disk.
    std::fs::write(dir.join(files::LOOP_CPU), "<svg>old</svg>").unwrap();
    let md = report::generate(&r, &dir, "img").unwrap();

    for section in [
        "### sequential",
        "### 8 in flight",
        "### 64 in flight",
        "## Cold start",
        "## Memory",
    ] {
        let after = &md[md.find(section).unwrap()..];
        let body = after.split("\n#").next().unwrap();
        assert!(body.contains(NOT_MEASURED), "{section}: {body}");
    }
    assert!(
        md.contains(&format!("| `soak-runtime-api` | `lift-quickstart` | {NOT_MEASURED} |")),
        "{md}"
    );
    assert!(md.contains(&format!(
        "_Plot (CPU per invocation on the loop, by mode): {NOT_MEASURED}._"
    )));
    assert!(md.contains(&format!("_Plot (RSS over the soak): {NOT_MEASURED}._")));
    assert!(dir.join(files::COST_PER_LAYER).exists());
    assert!(!dir.join(files::LOOP_CPU).exists(), "stale plot kept");
    assert!(!dir.join(files::LOOP_THROUGHPUT).exists());
    assert!(!dir.join(files::SOAK_RSS).exists());

    use targets::Status::{Met, NotMeasured};
    assert_eq!(status_of(&r, "invocations/s"), NotMeasured);
    assert_eq!(status_of(&r, "Cold start"), NotMeasured);
    assert_eq!(status_of(&r, "Soak in process"), NotMeasured);
    assert_eq!(status_of(&r, "Bare GET"), Met);
    assert!(md.contains("| Loop, one at a time: invocations/s, `lift-quickstart` against `echo-multi-thread` | ≥ | — | not measured |"), "{md}");
}

#[test]
fn no_results_at_all_measure_nothing() {
    let r = Results::default();
    let dir = img_dir("empty");
    let md = report::generate(&r, &dir, "img").unwrap();
    assert!(md.contains("## In process: event text → response bytes"));
    assert!(md.contains("0 met, 0 not met, 14 not measured."), "{md}");
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "no plot without numbers"
    );
    // Nothing but "not measured" and dashes where numbers would be.
    for t in targets::evaluate(&r) {
        assert!(t.measured.is_none(), "{t:?}");
    }
}

#[test]
fn splice_keeps_the_history_and_replaces_only_the_generated_section() {
    let hand = "# Benchmarks\n\nMeasured on this machine.\n\n## Dispatch\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
    let once = report::splice(hand, "first run\n");
    assert!(once.starts_with("# Benchmarks\n\n<!-- bench:begin -->\nfirst run\n<!-- bench:end -->\n\n## History\n\n"));
    assert!(once.ends_with("Measured on this machine.\n\n## Dispatch\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"));

    let twice = report::splice(&once, "second run\n");
    assert!(twice.contains("<!-- bench:begin -->\nsecond run\n<!-- bench:end -->"));
    assert!(!twice.contains("first run"));
    assert_eq!(twice.matches("## History").count(), 1);
    assert_eq!(twice.replace("second run", "first run"), once);
}

#[test]
fn one_bar_is_a_plot_too() {
    let mut r = Results::default();
    r.push("in-process", "lift-bare", "instructions", 38_000.0);
    r.push("in-process", "lift-whole-stack", "instructions", 44_000.0);
    let dir = img_dir("one-bar");
    let md = report::generate(&r, &dir, "img").unwrap();
    let svg = std::fs::read_to_string(dir.join(files::COST_PER_LAYER)).unwrap();
    assert!(svg.contains("lift-whole-stack"));
    assert!(
        md.contains("| `lift-whole-stack` | 44,000 | +6,000 | — | — | — |"),
        "{md}"
    );
}

#[test]
fn loop_targets_say_when_the_quick_start_answered_other_than_200() {
    let mut r = everything();
    r.push("loop-sequential", "lift-quickstart", "not_200_pct", 12.5);
    // `Results::get` returns the first match: drop the 0.0 of `everything`.
    r.measurements.retain(|m| {
        !(m.group == "loop-sequential" && m.subject == "lift-quickstart" && m.metric == "not_200_pct" && m.value == 0.0)
    });
    let t = targets::evaluate(&r);
    let cpu = t
        .iter()
        .find(|t| t.what.contains("against `echo-multi-thread`"))
        .unwrap();
    assert_eq!(
        cpu.measured.as_deref(),
        Some("140.0 µs against 200.0 µs (12.5 % of its answers not 200)")
    );
}
