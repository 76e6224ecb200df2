//! The in-process subjects (`lift_bench::subjects`) for instruction and allocation counting.
//!
//! ```sh
//! cargo build --release -p lift-bench --examples
//! # N invocations of one subject (after one checked invocation), e.g. under callgrind:
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/side_by_side lift-bare 1000
//! # every subject: instructions (callgrind at two N, when valgrind is installed), allocations
//! # (`count_allocs`, built next to this example) and criterion's median wall time if present;
//! # writes target/bench/in_process.json:
//! target/release/examples/side_by_side measure [N1 N2]
//! ```
//!
//! Instructions per invocation are `(total(N2) − total(N1)) / (N2 − N1)`: the set-up (building
//! the app, installing the subscriber) cancels out. Wall times come from the criterion run of
//! `benches/side_by_side.rs` (`target/criterion/in-process/<subject>/new/estimates.json`, median);
//! with `LIFT_BENCH_RUN_START` (seconds since the epoch) set, estimates older than that are not
//! this run's and are left out.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, SystemTime};

use lift_bench::subjects::{Subject, GROUP, SUBJECTS};
use lift_bench::{load_average, out_dir, Results};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("measure") => {
            let n1 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
            let n2 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1200);
            measure(n1, n2)
        }
        Some(name) => {
            let n = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
            run(name, n)
        }
        None => Err("usage: side_by_side SUBJECT N | side_by_side measure [N1 N2]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("side_by_side: {e}");
            ExitCode::FAILURE
        }
    }
}

/// N invocations of one subject, after one checked invocation.
fn run(name: &str, n: u64) -> Result<(), String> {
    let (rt, mut subject) = Subject::checked(name)?;
    rt.block_on(async {
        for _ in 0..n {
            black_box(subject.invoke().await?);
        }
        Ok::<_, String>(())
    })?;
    println!("{name}: {n} invocations");
    Ok(())
}

/// Instructions, allocations and wall time of every subject into `in_process.json`.
fn measure(n1: u64, n2: u64) -> Result<(), String> {
    if n2 <= n1 {
        return Err(format!("N2 ({n2}) must be larger than N1 ({n1})"));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let counter = exe.with_file_name("count_allocs");
    let valgrind = Command::new("valgrind").arg("--version").output().ok();
    let mut results = Results::default();
    let load_before = load_average();
    match &valgrind {
        Some(v) => results.notes.push(format!(
            "in-process: instructions from {} (callgrind), (total({n2}) − total({n1})) / {}",
            String::from_utf8_lossy(&v.stdout).trim(),
            n2 - n1
        )),
        None => results
            .notes
            .push("in-process: valgrind not installed, instructions not measured".to_owned()),
    }
    results.notes.push(
        "in-process: every subject runs with the system allocator (glibc malloc), so the peers compare alike; the quick start can opt into mimalloc (its `mimalloc` feature), and `scripts/instructions.sh` counts Lift's cases with both"
            .to_owned(),
    );
    let since = std::env::var("LIFT_BENCH_RUN_START")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
    let criterion = target_dir(&exe).join("criterion").join(GROUP);

    for name in SUBJECTS {
        if valgrind.is_some() {
            let a = callgrind_total(&exe, name, n1)?;
            let b = callgrind_total(&exe, name, n2)?;
            let per = (b as f64 - a as f64) / (n2 - n1) as f64;
            println!("{name}: {per:.0} instructions per invocation");
            results.push(GROUP, name, "instructions", per.round());
        }
        if counter.exists() {
            let allocs = count_allocs(&counter, name)?;
            println!("{name}: {allocs:.2} allocations per invocation");
            results.push(GROUP, name, "allocations", allocs);
        } else {
            eprintln!("{} not built: allocations not measured", counter.display());
        }
        match criterion_median_ns(&criterion.join(name).join("new").join("estimates.json"), since) {
            Some(ns) => {
                println!("{name}: {ns:.0} ns per invocation (criterion median)");
                results.push(GROUP, name, "ns", ns);
            }
            None => println!("{name}: no criterion estimate from this run"),
        }
    }
    if let (Some(a), Some(b)) = (load_before, load_average()) {
        results.notes.push(format!(
            "in-process instruction/allocation counting: load average {a:.2} before, {b:.2} after"
        ));
    }
    let path = results.write(&out_dir(), "in_process").map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}

/// `target/` from `target/<profile>/examples/<exe>`, else `$CARGO_TARGET_DIR`, else `target`.
fn target_dir(exe: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    exe.ancestors()
        .nth(3)
        .filter(|d| d.join("criterion").exists())
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

/// Instructions callgrind collected over the whole process: set-up plus `n` invocations.
fn callgrind_total(exe: &Path, name: &str, n: u64) -> Result<u64, String> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .arg(name)
        .arg(n.to_string())
        .output()
        .map_err(|e| format!("valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("callgrind {name} {n}: {}\n{stderr}", out.status));
    }
    stderr
        .lines()
        .find_map(|l| l.split_once("Collected :").map(|(_, v)| v.trim().parse::<u64>()))
        .and_then(Result::ok)
        .ok_or_else(|| format!("callgrind {name} {n}: no `Collected` line in\n{stderr}"))
}

/// Allocations per invocation, from the `count_allocs` example (a counting global allocator).
fn count_allocs(counter: &Path, name: &str) -> Result<f64, String> {
    let out = Command::new(counter)
        .arg(name)
        .output()
        .map_err(|e| format!("{}: {e}", counter.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "count_allocs {name}: {}\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("allocations_per_invocation ")?.trim().parse().ok())
        .ok_or_else(|| format!("count_allocs {name}: no result in {stdout:?}"))
}

/// The median point estimate (ns) criterion wrote, if written since `since`.
fn criterion_median_ns(path: &Path, since: Option<SystemTime>) -> Option<f64> {
    if let Some(since) = since {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
        if modified < since {
            return None;
        }
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v.get("median")?.get("point_estimate")?.as_f64()
}
