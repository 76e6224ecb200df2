//! Soak in process (issue 13): N invocations (default 1,000,000) of API Gateway v2
//! `GET /hello/world` through a Lift `App` with the whole stack (the default resilience stack,
//! logs, EMF and X-Ray into `NullSink`s, as `crates/lift/examples/instructions.rs` "full"; the
//! stack's global rate limit raised so that every invocation is answered 200), on a
//! current-thread runtime, each with a fresh invocation context; this process's own `VmRSS`
//! sampled every 10,000.
//!
//! `soak_in_process [N]`. Writes `soak_in_process.json` to `lift_bench::out_dir()`: series
//! `soak-in-process` / `lift-whole-stack` of `(invocations, rss_kib)`, and `rss_growth_pct` from
//! the sample at 20,000 (after warm-up) to the last.

#![allow(clippy::print_stdout)] // a measuring tool: its summary is its output

use std::process::ExitCode;
use std::time::Instant;

use axum::extract::Path;
use axum::routing::get;
use lift::observability::{NullSink, Observability};
use lift::{App, Json};
use lift_bench::process::{self, Pid};
use lift_bench::soak::EVERY;
use lift_bench::{load_average, out_dir};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};

const GROUP: &str = "soak-in-process";
const SUBJECT: &str = "lift-whole-stack";

async fn hello(Path(name): Path<String>) -> Json<Value> {
    Json(json!({ "message": format!("hello, {name}") }))
}

fn main() -> ExitCode {
    lift_bench::main_with_count("soak_in_process", 1_000_000, run)
}

fn run(n: usize) -> Result<(), String> {
    let load_before = load_average();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let observability = Observability::builder()
        .service("soak")
        .log_sink(NullSink)
        .emf_sink(NullSink)
        .xray_sink(NullSink)
        .build()
        .map_err(|e| e.to_string())?;
    let _ = observability.install();
    let lift = App::new()
        .route("/hello/{name}", get(hello))
        // The default stack, its global rate limit raised out of a tight loop's way.
        .resilience(lift_bench::subjects::measured_stack())
        .observability(observability)
        .build();
    let client = TestClient::new(lift);
    let event = events::apigw_v2("GET", "/hello/world")
        .header("accept", "application/json")
        .build()
        .to_string();

    let t0 = Instant::now();
    let points = runtime.block_on(async {
        let mut points = Vec::new();
        for i in 1..=n {
            let out = client.invoke_raw(&event).await.map_err(|d| format!("{d:?}"))?;
            if out.status() != Some(200) {
                return Err(format!(
                    "invocation {i}: unexpected answer {}",
                    String::from_utf8_lossy(&out.to_json())
                ));
            }
            if i % EVERY == 0 {
                let kib = process::rss_kib(Pid::Myself).map_err(|e| e.to_string())?;
                points.push((i as f64, kib as f64));
                eprintln!("{i:>9} invocations: VmRSS {kib} KiB");
            }
        }
        Ok::<_, String>(points)
    })?;
    let elapsed = t0.elapsed();

    let mut results = lift_bench::soak::results(GROUP, SUBJECT, points);
    let growth = results.get(GROUP, SUBJECT, "rss_growth_pct");
    let load = |l: Option<f64>| l.map_or_else(|| "unknown".to_owned(), |l| format!("{l:.2}"));
    results.notes.push(format!(
        "soak-in-process: {n} invocations of the whole stack (default resilience stack with its rate limit raised to 10^9/s, logs, EMF, X-Ray into NullSinks) on a current-thread runtime in {:.1} s ({:.1} µs each), VmRSS every {EVERY}; load average (1 min) {} before, {} after",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / n as f64,
        load(load_before),
        load(load_average()),
    ));
    let path = results
        .write(&out_dir(), "soak_in_process")
        .map_err(|e| e.to_string())?;
    println!(
        "{n} invocations in {:.1} s; RSS growth after warm-up: {}; wrote {}",
        elapsed.as_secs_f64(),
        growth.map_or_else(|| "n/a (too few samples)".to_owned(), |g| format!("{g:+.2} %")),
        path.display()
    );
    Ok(())
}
