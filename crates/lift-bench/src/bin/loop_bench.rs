//! The Runtime API loop benchmarks of issue 13: each subject (a bare `lambda_runtime` echo on
//! tokio's multi-thread and current-thread runtimes, `lambda_http` + axum, the Lift quick start
//! with its whole stack) runs as its own process against lift-testing's Runtime API server, which
//! sends it API Gateway v2 `GET /hello/loop`.
//!
//! `loop_bench [BIN_DIR] [N] [ROUNDS]` (defaults `target/release`, 4000, 3). Groups:
//!
//! - `loop-sequential`, `loop-concurrent-8`, `loop-concurrent-64`: a fresh process per subject
//!   and round (`AWS_LAMBDA_MAX_CONCURRENCY` 8 or 64 for the concurrent ones), 500 invocations one
//!   at a time to warm up, then N with 1, 8 or 64 kept in flight: `cpu_us_per_invocation` (the
//!   function process's user + system time from `/proc`), `system_cpu_us_per_invocation` (its
//!   system part: system calls, page faults, the network stack), `invocations_per_s`, `p50_us` and
//!   `p99_us` (queued to answered, as the driver sees it), `max_in_flight` (concurrent only),
//!   `not_200_pct` (HTTP answers other than 200: the quick start's default global rate limit,
//!   1,000/s by default, answers 429 beyond it; the benchmark sets `QUICKSTART_RATE_LIMIT_PER_SECOND` far above any rate reached, so this should read 0).
//! - `memory` (from the 64-in-flight process): `rss_idle_kib` after the warm-up,
//!   `rss_64_in_flight_kib` the peak (`VmHWM`, reset after the warm-up) during the 64-in-flight
//!   run, `kib_per_in_flight_invocation` their difference / 64.
//! - `cold-start`: `exec_to_first_poll_us`, spawn to the server receiving the first `/next`,
//!   median of 20 spawns; `binary_size_kib`.
//!
//! Rounds alternate between subjects (the order rotates each round); each number is the median
//! over rounds. Writes `loop.json` to `lift_bench::out_dir()` and prints a table.

#![allow(clippy::print_stdout)] // a measuring tool: its table is its output

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use lift_bench::drive::{self, Function, Subject};
use lift_bench::process::{self, Pid};
use lift_bench::{load_average, out_dir, Results};
use lift_testing::RuntimeApiServer;

const WARM_UP: usize = 500;
const COLD_STARTS: usize = 20;
const GROUP_SEQUENTIAL: &str = "loop-sequential";
const GROUP_MEMORY: &str = "memory";
const GROUP_COLD: &str = "cold-start";

struct Config {
    bin_dir: PathBuf,
    n: usize,
    rounds: usize,
}

fn config() -> Result<Config, String> {
    let mut args = std::env::args().skip(1);
    let bin_dir = PathBuf::from(args.next().unwrap_or_else(|| "target/release".to_owned()));
    let number = |what: &str, v: Option<String>, default: usize| match v {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{what} must be a positive number, got {v:?}")),
    };
    let n = number("N", args.next(), 4000)?;
    let rounds = number("ROUNDS", args.next(), 3)?;
    Ok(Config { bin_dir, n, rounds })
}

fn main() -> ExitCode {
    let run = || -> Result<(), String> {
        let config = config().map_err(|e| format!("{e}\nusage: loop_bench [BIN_DIR] [N] [ROUNDS]"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let results = runtime.block_on(measure(&config))?;
        print_table(&results);
        let path = results.write(&out_dir(), "loop").map_err(|e| e.to_string())?;
        println!("wrote {}", path.display());
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loop_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One process's numbers for one mode and round.
struct Measured {
    cpu_us_per_invocation: f64,
    system_cpu_us_per_invocation: f64,
    run: drive::Run,
    max_in_flight: usize,
    rss_idle_kib: u64,
    rss_peak_kib: u64,
}

/// Per-round values of each `(group, subject, metric)`, reduced to medians at the end.
#[derive(Default)]
struct Samples(BTreeMap<(String, &'static str, &'static str), Vec<f64>>);

impl Samples {
    fn add(&mut self, group: &str, subject: &'static str, metric: &'static str, value: f64) {
        self.0
            .entry((group.to_owned(), subject, metric))
            .or_default()
            .push(value);
    }
}

async fn measure(config: &Config) -> Result<Results, String> {
    let load_before = load_average();
    let subjects = drive::subjects(&config.bin_dir);
    for s in &subjects {
        if !s.binary.is_file() {
            return Err(format!(
                "{} is missing: cargo build --release -p lift-bench -p quickstart",
                s.binary.display()
            ));
        }
    }
    // Segments the quick start sends to the X-Ray daemon land here, unread (the kernel drops
    // what overflows): the whole stack runs, as on Lambda, with no daemon to wait for.
    let xray = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let xray = xray.local_addr().map_err(|e| e.to_string())?.to_string();
    let mut samples = Samples::default();
    let mut peak_reset = true;

    for round in 0..config.rounds {
        let mut order = subjects.clone();
        order.rotate_left(round % subjects.len());
        for (group, concurrency, in_flight) in [
            (GROUP_SEQUENTIAL.to_owned(), None, 1),
            ("loop-concurrent-8".to_owned(), Some(8), 8),
            ("loop-concurrent-64".to_owned(), Some(64), 64),
        ] {
            for s in &order {
                eprintln!("round {}/{}: {group} {}", round + 1, config.rounds, s.name);
                let m = run_once(s, concurrency, in_flight, config.n, &xray).await?;
                samples.add(&group, s.name, "cpu_us_per_invocation", m.cpu_us_per_invocation);
                samples.add(
                    &group,
                    s.name,
                    "system_cpu_us_per_invocation",
                    m.system_cpu_us_per_invocation,
                );
                samples.add(&group, s.name, "invocations_per_s", m.run.per_second());
                samples.add(&group, s.name, "p50_us", m.run.percentile_us(50.0));
                samples.add(&group, s.name, "p99_us", m.run.percentile_us(99.0));
                if m.run.not_200 > 0 {
                    eprintln!("  note: {:.1} % of the answers were not 200", m.run.not_200_pct());
                }
                samples.add(&group, s.name, "not_200_pct", m.run.not_200_pct());
                if in_flight > 1 {
                    if m.max_in_flight < in_flight {
                        eprintln!("  warning: at most {} of {in_flight} were in flight", m.max_in_flight);
                    }
                    samples.add(&group, s.name, "max_in_flight", m.max_in_flight as f64);
                }
                if in_flight == 64 {
                    peak_reset &= m.rss_peak_kib > 0;
                    let (idle, peak) = (m.rss_idle_kib as f64, m.rss_peak_kib as f64);
                    samples.add(GROUP_MEMORY, s.name, "rss_idle_kib", idle);
                    samples.add(GROUP_MEMORY, s.name, "rss_64_in_flight_kib", peak);
                    samples.add(
                        GROUP_MEMORY,
                        s.name,
                        "kib_per_in_flight_invocation",
                        (peak - idle) / 64.0,
                    );
                }
            }
        }
    }

    eprintln!("cold start: {COLD_STARTS} spawns of each subject");
    for i in 0..COLD_STARTS {
        let mut order = subjects.clone();
        order.rotate_left(i % subjects.len());
        for s in &order {
            let us = cold_start(s, &xray).await?;
            samples.add(GROUP_COLD, s.name, "exec_to_first_poll_us", us);
        }
    }

    let mut results = Results::default();
    for ((group, subject, metric), values) in &samples.0 {
        results.push(group, subject, metric, drive::median(values));
    }
    for s in &subjects {
        let size = std::fs::metadata(&s.binary).map_err(|e| e.to_string())?.len();
        results.push(GROUP_COLD, s.name, "binary_size_kib", size as f64 / 1024.0);
    }
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = |l: Option<f64>| l.map_or_else(|| "unknown".to_owned(), |l| format!("{l:.2}"));
    let profile = config
        .bin_dir
        .file_name()
        .map_or_else(|| "unknown".to_owned(), |p| p.to_string_lossy().into_owned());
    results.notes.extend([
        format!(
            "loop: load average (1 min) {} before, {} after; {nproc} CPUs",
            load(load_before),
            load(load_average())
        ),
        format!(
            "loop: N = {} per run after {WARM_UP} warm-up invocations, {} rounds (medians), subject order rotating; cold start median of {COLD_STARTS} spawns",
            config.n, config.rounds
        ),
        format!(
            "loop: binaries from {} (build profile `{profile}`): {}",
            config.bin_dir.display(),
            subjects
                .iter()
                .map(|s| format!("{} = {} ({})", s.name, s.binary.display(), elf_kind(&s.binary)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "loop: driver = lift-testing's Runtime API server and the invocations on one current-thread tokio runtime, on the same machine as the function".to_owned(),
        format!(
            "memory: rss_64_in_flight_kib is the peak RSS (VmHWM{}) of the AWS_LAMBDA_MAX_CONCURRENCY=64 process during its 64-in-flight run (the quick start has no slow route to hold 64 at once while sampling VmRSS); rss_idle_kib is the same process's VmRSS after its one-at-a-time warm-up",
            if peak_reset { ", reset after the warm-up" } else { " since start: resetting it failed" }
        ),
    ]);
    Ok(results)
}

/// Runs `subject` fresh: warm-up one at a time, then `n` invocations with `in_flight` at once.
async fn run_once(
    subject: &Subject,
    concurrency: Option<u32>,
    in_flight: usize,
    n: usize,
    xray: &str,
) -> Result<Measured, String> {
    let err = |e: std::io::Error| format!("{}: {e}", subject.name);
    let server = RuntimeApiServer::start().await.map_err(err)?;
    let mut function = Function::spawn(subject, &server, concurrency, xray).map_err(err)?;
    let pid = Pid::Of(function.pid());
    let event = drive::event();
    // The first answer is checked in full; the rest must be responses.
    drive::drive(&server, &event, 1, 1, Some(subject.answer), |_| {}).await?;
    drive::drive(&server, &event, WARM_UP - 1, 1, None, |_| {}).await?;
    let rss_idle_kib = process::rss_kib(pid).map_err(err)?;
    let peak_reset = process::reset_peak_rss(pid).is_ok();
    let cpu0 = process::cpu_time(pid).map_err(err)?;
    let run = drive::drive(&server, &event, n, in_flight, None, |_| {}).await?;
    let cpu = process::cpu_time(pid).map_err(err)? - cpu0;
    let rss_peak_kib = if peak_reset {
        process::peak_rss_kib(pid).map_err(err)?
    } else {
        0
    };
    if !function.is_running() {
        return Err(format!("{} exited during the run", subject.name));
    }
    Ok(Measured {
        cpu_us_per_invocation: cpu.total().as_secs_f64() * 1e6 / n as f64,
        system_cpu_us_per_invocation: cpu.system.as_secs_f64() * 1e6 / n as f64,
        run,
        max_in_flight: server.max_in_flight(),
        rss_idle_kib,
        rss_peak_kib,
    })
}

/// Spawn to the server receiving the first `GET .../invocation/next`, in µs.
async fn cold_start(subject: &Subject, xray: &str) -> Result<f64, String> {
    let server = RuntimeApiServer::start().await.map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let _function = Function::spawn(subject, &server, None, xray).map_err(|e| e.to_string())?;
    let first = server
        .first_poll(Duration::from_secs(10))
        .await
        .ok_or_else(|| format!("{}: no /next poll within 10 s of spawning", subject.name))?;
    Ok((first - t0).as_secs_f64() * 1e6)
}

/// Whether an executable is position-independent (ELF `e_type` `ET_DYN`, a PIE) or not
/// (`ET_EXEC`, what scripts/build-lambda.sh builds): the loader's relocation work at exec, and
/// so the cold start, depends on it.
fn elf_kind(binary: &std::path::Path) -> &'static str {
    let mut header = [0u8; 18];
    let read = std::fs::File::open(binary).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
    match (read, u16::from_le_bytes([header[16], header[17]])) {
        (Ok(()), 2) => "position-dependent",
        (Ok(()), 3) => "PIE",
        _ => "not an ELF executable",
    }
}

fn print_table(results: &Results) {
    let mut groups: Vec<&str> = Vec::new();
    for m in &results.measurements {
        if !groups.contains(&m.group.as_str()) {
            groups.push(&m.group);
        }
    }
    for group in groups {
        let rows: Vec<_> = results.measurements.iter().filter(|m| m.group == group).collect();
        let mut metrics: Vec<&str> = Vec::new();
        let mut subjects: Vec<&str> = Vec::new();
        for m in &rows {
            if !metrics.contains(&m.metric.as_str()) {
                metrics.push(&m.metric);
            }
            if !subjects.contains(&m.subject.as_str()) {
                subjects.push(&m.subject);
            }
        }
        println!("\n{group}");
        print!("{:<22}", "subject");
        for metric in &metrics {
            print!(" {metric:>28}");
        }
        println!();
        for subject in subjects {
            print!("{subject:<22}");
            for metric in &metrics {
                match results.get(group, subject, metric) {
                    Some(v) if v.abs() >= 100.0 => print!(" {v:>28.0}"),
                    Some(v) => print!(" {v:>28.1}"),
                    None => print!(" {:>28}", "-"),
                }
            }
            println!();
        }
    }
    for note in &results.notes {
        println!("note: {note}");
    }
}
