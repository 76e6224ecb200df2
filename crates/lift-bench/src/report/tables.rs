//! The report's markdown tables, one function per section. A cell without its number reads
//! "—"; a section without any reads [`NOT_MEASURED`].

use std::fmt::Write as _;

use super::names::{COLD_START, IN_PROCESS, LOOP_MODES, LOOP_SUBJECTS, MEMORY, SOAKS};
use super::{one_decimal, signed, thousands, NOT_MEASURED};
use crate::subjects::{BASELINE, SUBJECTS};
use crate::Results;

/// A column: the metric it shows, its header, how a value reads.
type Column<'a> = (&'a str, &'a str, fn(f64) -> String);

/// The subjects measured in `group`: those of `known` first, in that order, then any other.
pub fn subjects_in(results: &Results, group: &str, known: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = known
        .iter()
        .filter(|s| {
            results
                .measurements
                .iter()
                .any(|m| m.group == group && m.subject == **s)
        })
        .map(|s| (*s).to_owned())
        .collect();
    for m in results.measurements.iter().filter(|m| m.group == group) {
        if !out.contains(&m.subject) {
            out.push(m.subject.clone());
        }
    }
    out
}

/// A table of `group` with one row per subject, or `None` when nothing of it was measured.
fn table(results: &Results, group: &str, known: &[&str], columns: &[Column<'_>]) -> Option<String> {
    let subjects = subjects_in(results, group, known);
    if subjects.is_empty() {
        return None;
    }
    let mut md = String::from("| subject |");
    for (_, header, _) in columns {
        let _ = write!(md, " {header} |");
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(columns.len()));
    md.push('\n');
    for s in &subjects {
        let _ = write!(md, "| `{s}` |");
        for (metric, _, fmt) in columns {
            let cell = results.get(group, s, metric).map_or_else(|| "—".to_owned(), fmt);
            let _ = write!(md, " {cell} |");
        }
        md.push('\n');
    }
    md.push('\n');
    Some(md)
}

fn section(title: &str, intro: &str, body: Option<String>) -> String {
    let mut md = format!("## {title}\n\n");
    if !intro.is_empty() {
        md.push_str(intro);
        md.push_str("\n\n");
    }
    md.push_str(&body.unwrap_or_else(|| format!("_{NOT_MEASURED}._\n\n")));
    md
}

/// The machine and its load while measuring, from the notes every program wrote.
pub fn machine(results: &Results) -> String {
    let mut notes: Vec<&str> = Vec::new();
    for n in &results.notes {
        if !notes.contains(&n.as_str()) {
            notes.push(n);
        }
    }
    let body = (!notes.is_empty()).then(|| {
        let mut md = String::new();
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
        md.push('\n');
        md
    });
    section(
        "Machine and load",
        "Wall-clock numbers move with the machine's load (other work shares its cores); \
         instruction counts (callgrind) are the stable figure.",
        body,
    )
}

fn us_from_ns(ns: f64) -> String {
    format!("{:.2}", ns / 1000.0)
}

/// In process: instructions next to wall time and allocations, and each subject's cost above
/// `lift-bare`.
pub fn in_process(results: &Results) -> String {
    let g = IN_PROCESS;
    let subjects = subjects_in(results, g, SUBJECTS);
    let body = (!subjects.is_empty()).then(|| {
        let base_i = results.get(g, BASELINE, "instructions");
        let base_ns = results.get(g, BASELINE, "ns");
        let mut md = String::from(
            "| subject | instructions | above lift-bare | wall time (µs, median) | above lift-bare (µs) | allocations |\n\
             |---|---:|---:|---:|---:|---:|\n",
        );
        for s in &subjects {
            let i = results.get(g, s, "instructions");
            let ns = results.get(g, s, "ns");
            let comparable = s != BASELINE && s != "lift-sqs-batch-10";
            let above = |v: Option<f64>, base: Option<f64>, fmt: fn(f64) -> String| match (v, base) {
                (Some(v), Some(b)) if comparable => signed(v - b, fmt),
                _ => "—".to_owned(),
            };
            let _ = writeln!(
                md,
                "| `{s}` | {} | {} | {} | {} | {} |",
                i.map_or_else(|| "—".to_owned(), thousands),
                above(i, base_i, thousands),
                ns.map_or_else(|| "—".to_owned(), us_from_ns),
                above(ns, base_ns, us_from_ns),
                results
                    .get(g, s, "allocations")
                    .map_or_else(|| "—".to_owned(), |a| format!("{a:.1}")),
            );
        }
        md.push('\n');
        md
    });
    section(
        "In process: event text → response bytes",
        "API Gateway v2 `GET /hello/{name}` (raw event text in, the response bytes posted to the \
         Runtime API out), the same axum handler behind every subject \
         (`crates/lift-bench/src/subjects.rs`: plain `axum::Json`, so `lift-bare` differs slightly \
         from `cargo bench -p lift --bench dispatch`, whose handler returns `lift::Json`); \
         `lambda_http-axum` is `lambda_http`'s own `Adapter` with the runtime's decode and \
         encode around it; `lift-sqs-batch-10` is a bare SQS batch of ten records. Instructions per invocation from callgrind (difference of two invocation \
         counts), wall time from criterion (`benches/side_by_side.rs`), heap allocations per \
         invocation from a counting allocator. \"—\": no number for that cell in this run.",
        body,
    )
}

/// The loop, one table per mode.
pub fn loop_modes(results: &Results) -> String {
    let columns: &[Column<'_>] = &[
        ("cpu_us_per_invocation", "CPU per invocation (µs)", one_decimal),
        ("system_cpu_us_per_invocation", "of which system (µs)", one_decimal),
        ("invocations_per_s", "invocations/s", thousands),
        ("p50_us", "p50 (µs)", one_decimal),
        ("p99_us", "p99 (µs)", one_decimal),
        ("max_in_flight", "max in flight", thousands),
        ("not_200_pct", "answers other than 200 (%)", one_decimal),
    ];
    let mut md = String::from(
        "## On the Runtime API loop\n\nEach function process driven by lift-testing's Runtime API \
         server; CPU is the function process's own (user + system, from `/proc`) per invocation; its \
         system part is the kernel's work for the process (system calls, page faults, the network \
         stack on what it sends).\n\n",
    );
    for (group, label) in LOOP_MODES {
        let _ = writeln!(md, "### {label} (`{group}`)\n");
        md.push_str(&table(results, group, LOOP_SUBJECTS, columns).unwrap_or_else(|| format!("_{NOT_MEASURED}._\n\n")));
    }
    md
}

/// Instructions and allocations per invocation of each whole function process on the loop
/// (`scripts/loop-instructions.sh`, callgrind): the loop's cost without the machine's load in it.
pub fn loop_instructions(results: &Results) -> String {
    let columns: &[Column<'_>] = &[
        ("instructions_per_invocation", "instructions per invocation", thousands),
        ("allocations_per_invocation", "allocations per invocation", one_decimal),
        ("invocations_counted", "invocations counted", thousands),
    ];
    section(
        "On the loop, counted (callgrind)",
        "The whole function process under callgrind (`scripts/loop-instructions.sh`), one \
         invocation at a time: user-space instructions and heap allocations per invocation, \
         repeatable whatever the machine's load. System calls and cache misses are not in \
         these counts; the CPU times above include them.",
        table(results, "loop-instructions", LOOP_SUBJECTS, columns),
    )
}

/// Cold start and binary size.
pub fn cold_start(results: &Results) -> String {
    let columns: &[Column<'_>] = &[
        ("exec_to_first_poll_us", "exec → first `/next` poll (µs)", thousands),
        ("binary_size_kib", "binary size (KiB)", thousands),
    ];
    section("Cold start", "", table(results, COLD_START, LOOP_SUBJECTS, columns))
}

/// Memory per invocation in flight (Managed Instances).
pub fn memory(results: &Results) -> String {
    let columns: &[Column<'_>] = &[
        ("rss_idle_kib", "RSS idle (KiB)", thousands),
        ("rss_64_in_flight_kib", "RSS, 64 in flight (KiB)", thousands),
        (
            "kib_per_in_flight_invocation",
            "KiB per invocation in flight",
            one_decimal,
        ),
    ];
    section(
        "Memory (Managed Instances)",
        "",
        table(results, MEMORY, LOOP_SUBJECTS, columns),
    )
}

/// The soaks: RSS growth, first and last sample.
pub fn soak(results: &Results) -> String {
    let mut rows = String::new();
    for (group, subject) in SOAKS {
        let series = results
            .series
            .iter()
            .find(|s| s.group == *group && s.subject == *subject);
        let growth = results.get(group, subject, "rss_growth_pct");
        if series.is_none() && growth.is_none() {
            let _ = writeln!(rows, "| `{group}` | `{subject}` | {NOT_MEASURED} | | |");
            continue;
        }
        let (n, first_last) = series
            .and_then(|s| Some((s.points.last()?.0, s.points.first()?.1, s.points.last()?.1)))
            .map_or_else(
                || ("—".to_owned(), "—".to_owned()),
                |(n, a, b)| (thousands(n), format!("{} → {}", thousands(a), thousands(b))),
            );
        let _ = writeln!(
            rows,
            "| `{group}` | `{subject}` | {n} | {first_last} | {} |",
            growth.map_or_else(|| "—".to_owned(), |g| format!("{g:+.1} %"))
        );
    }
    format!(
        "## Soak\n\nRSS sampled along the run; growth as the measuring program computes it \
         (after warm-up).\n\n| soak | subject | invocations | RSS first → last (KiB) | growth |\n\
         |---|---|---:|---:|---:|\n{rows}\n"
    )
}
