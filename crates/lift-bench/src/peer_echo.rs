//! Peer of the loop benchmarks: the bare `lambda_runtime` function a Rust user writes without
//! Lift, answering each event with the event itself (the `peer_echo` and `peer_echo_mimalloc`
//! binaries).
//!
//! `PEER_TOKIO_RUNTIME=multi_thread` (default: what `#[tokio::main]` gives) or
//! `current_thread` picks the tokio runtime. With `AWS_LAMBDA_MAX_CONCURRENCY` > 1 it runs
//! `lambda_runtime`'s concurrent mode (`run_concurrent`, one `/next` poller per slot), as Lift
//! does on Managed Instances; otherwise `lambda_runtime::run`, one invocation at a time.

use std::process::ExitCode;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

/// Runs the echo; `name` prefixes an error (the binary's name).
pub fn main(name: &str) -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let runtime = match std::env::var("PEER_TOKIO_RUNTIME").as_deref() {
        Ok("multi_thread") | Err(_) => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
        Ok("current_thread") => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
        Ok(other) => {
            return Err(format!("PEER_TOKIO_RUNTIME={other:?}: expected multi_thread or current_thread").into())
        }
    };
    runtime.block_on(async {
        if max_concurrency() > 1 {
            lambda_runtime::run_concurrent(service_fn(echo)).await
        } else {
            lambda_runtime::run(service_fn(echo)).await
        }
    })
}

/// `AWS_LAMBDA_MAX_CONCURRENCY`, 1 when unset or not a number (as `lambda_runtime` reads it).
fn max_concurrency() -> u32 {
    std::env::var("AWS_LAMBDA_MAX_CONCURRENCY")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
}
