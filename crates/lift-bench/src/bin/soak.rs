//! Soak through the Runtime API (issue 13): the quick start binary (`target/release/quickstart`,
//! whole stack on) serves N invocations (default 200,000) of API Gateway v2 `GET /hello/loop`
//! from lift-testing's Runtime API server, started with `AWS_LAMBDA_MAX_CONCURRENCY=8` and 8 kept
//! in flight; the function process's `VmRSS` is sampled every 10,000.
//!
//! `soak [N]`. Writes `soak.json` to `lift_bench::out_dir()`: series `soak-runtime-api` /
//! `lift-quickstart` of `(invocations, rss_kib)`, and `rss_growth_pct` from the sample at 20,000
//! (after warm-up) to the last.

#![allow(clippy::print_stdout)] // a measuring tool: its summary is its output

use std::net::UdpSocket;
use std::path::Path;
use std::process::ExitCode;

use lift_bench::drive::{self, Function};
use lift_bench::process::{self, Pid};
use lift_bench::soak::EVERY;
use lift_bench::{load_average, out_dir, Results};
use lift_testing::RuntimeApiServer;

const GROUP: &str = "soak-runtime-api";
const SUBJECT: &str = "lift-quickstart";
const IN_FLIGHT: usize = 8;

fn main() -> ExitCode {
    lift_bench::main_with_count("soak", 200_000, run)
}

fn run(n: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let results = runtime.block_on(soak(n))?;
    let path = results.write(&out_dir(), "soak").map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}

async fn soak(n: usize) -> Result<Results, String> {
    let load_before = load_average();
    let subject = drive::subjects(Path::new("target/release"))
        .into_iter()
        .find(|s| s.name == SUBJECT)
        .ok_or("no quick start subject")?;
    let xray = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let xray = xray.local_addr().map_err(|e| e.to_string())?.to_string();
    let server = RuntimeApiServer::start().await.map_err(|e| e.to_string())?;
    let mut function = Function::spawn(&subject, &server, Some(IN_FLIGHT as u32), &xray).map_err(|e| e.to_string())?;
    let pid = Pid::Of(function.pid());
    let event = drive::event();

    drive::drive(&server, &event, 1, 1, Some(subject.answer), |_| {}).await?;
    let mut points = Vec::new();
    let mut failure = None;
    let run = drive::drive(&server, &event, n, IN_FLIGHT, None, |done| {
        if done % EVERY == 0 {
            match process::rss_kib(pid) {
                Ok(kib) => {
                    points.push((done as f64, kib as f64));
                    eprintln!("{done:>9} invocations: VmRSS {kib} KiB");
                }
                Err(e) => failure = Some(e),
            }
        }
    })
    .await?;
    if let Some(e) = failure {
        return Err(format!("reading the quick start's RSS: {e}"));
    }
    if !function.is_running() {
        return Err("the quick start exited during the soak".to_owned());
    }

    let mut results = lift_bench::soak::results(GROUP, SUBJECT, points);
    let growth = results.get(GROUP, SUBJECT, "rss_growth_pct");
    let load = |l: Option<f64>| l.map_or_else(|| "unknown".to_owned(), |l| format!("{l:.2}"));
    results.notes.push(format!(
        "soak-runtime-api: {n} invocations of {} (AWS_LAMBDA_MAX_CONCURRENCY={IN_FLIGHT}, {IN_FLIGHT} in flight) in {:.1} s ({:.0}/s, {:.1} % answered other than 200, rate limit set out of the way by QUICKSTART_RATE_LIMIT_PER_SECOND), max in flight {}), VmRSS every {EVERY}; load average (1 min) {} before, {} after",
        subject.binary.display(),
        run.elapsed.as_secs_f64(),
        run.per_second(),
        run.not_200_pct(),
        server.max_in_flight(),
        load(load_before),
        load(load_average()),
    ));
    println!(
        "{n} invocations in {:.1} s ({:.1} % not 200); RSS growth after warm-up: {}",
        run.elapsed.as_secs_f64(),
        run.not_200_pct(),
        growth.map_or_else(|| "n/a (too few samples)".to_owned(), |g| format!("{g:+.2} %"))
    );
    Ok(results)
}
