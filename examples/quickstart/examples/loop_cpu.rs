//! CPU per invocation of the quick start binary on the Runtime API loop: lift-testing's Runtime
//! API server drives the real binary one invocation at a time (API Gateway v2 `GET
//! /hello/{name}`, the whole stack on), and the function process's own CPU (user + system, from
//! `/proc/<pid>/stat`) is read around the measured invocations.
//!
//! `cargo run --release -p quickstart --example loop_cpu -- [BINARY] [N]` (default
//! `target/release/quickstart`, 4,000). Set `LIFT_TOKIO_RUNTIME` to compare runtimes.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a measuring tool: a failure ends it

use std::process::Stdio;
use std::time::{Duration, Instant};

use lift_testing::{events, RuntimeApiServer};

/// The process's user + system CPU time, from `/proc/<pid>/stat` (clock ticks of 10 ms).
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the state field.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args.next().unwrap_or_else(|| "target/release/quickstart".to_owned());
    let n: u32 = args.next().map_or(4000, |s| s.parse().unwrap());
    let server = RuntimeApiServer::start().await.unwrap();
    let mut child = tokio::process::Command::new(&binary)
        .env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/quickstart")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let event = events::apigw_v2("GET", "/hello/loop").build().to_string();
    let run = |count: u32| {
        let server = &server;
        let event = &event;
        async move {
            for _ in 0..count {
                let outcome = server.invoke(event.clone()).outcome(Duration::from_secs(10)).await;
                assert!(outcome.json().is_some(), "an answer");
            }
        }
    };
    run(500).await; // warm-up
    let (cpu0, t0) = (cpu(pid), Instant::now());
    run(n).await;
    let (cpu1, elapsed) = (cpu(pid), t0.elapsed());
    let per = (cpu1 - cpu0).as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "{n} invocations: {per:.0} µs CPU each (function process), {:.0} invocations/s",
        f64::from(n) / elapsed.as_secs_f64()
    );
    child.kill().await.unwrap();
}
