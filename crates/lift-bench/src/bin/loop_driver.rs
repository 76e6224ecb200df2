//! Drives one loop subject until killed, for counting under a profiler
//! (`scripts/loop-instructions.sh` runs the subject under callgrind through a wrapper script).
//!
//! `loop_driver SUBJECT PROGRAM [IN_FLIGHT]`: `SUBJECT` names one of
//! [`lift_bench::drive::subjects`] (for its environment), `PROGRAM` is what to start in its
//! place (the wrapper). One invocation at a time by default; with `IN_FLIGHT` above 1, that many
//! at once and `AWS_LAMBDA_MAX_CONCURRENCY` set to it, as `loop_bench`'s concurrent groups run.
//! Each answer is checked as `loop_bench` checks it.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lift_bench::drive::{self, Function};
use lift_testing::RuntimeApiServer;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loop_driver: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loop_driver: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (Some(name), Some(program)) = (args.next(), args.next()) else {
        return Err("usage: loop_driver SUBJECT PROGRAM [IN_FLIGHT]".into());
    };
    let mut subject = drive::subjects(Path::new("."))
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("no subject named {name:?}"))?;
    subject.binary = PathBuf::from(program);
    let in_flight = match args.next() {
        None => 1,
        Some(n) => n
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("IN_FLIGHT must be a positive number, got {n:?}"))?,
    };
    let concurrency = (in_flight > 1).then_some(in_flight);
    let server = RuntimeApiServer::start().await.map_err(|e| e.to_string())?;
    let xray = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let xray = xray.local_addr().map_err(|e| e.to_string())?.to_string();
    let _function = Function::spawn(&subject, &server, concurrency, &xray).map_err(|e| e.to_string())?;
    let event = drive::event();
    drive::drive(&server, &event, 1, 1, Some(subject.answer), |_| {}).await?;
    loop {
        drive::drive(
            &server,
            &event,
            10_000,
            in_flight as usize,
            Some(subject.answer),
            |_| {},
        )
        .await?;
    }
}
