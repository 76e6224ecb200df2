//! The shared breaker with its table unreachable: a closed port, a server that never answers
//! (a fake), a moto killed mid-test. Breakers keep deciding locally, with bounded latency and
//! no panic.

#![allow(clippy::unwrap_used)]

mod breaker_support;
mod common;

use std::time::Duration;

use breaker_support::{config, is_open, Process};
use lift_dynamodb::{FleetBreakerStore, FleetTable};
use lift_resilience::circuit_breaker::BreakerState;
use tokio::time::{sleep, Instant};

/// Far above a cache read (microseconds), far below a store call.
const BOUND: Duration = Duration::from_millis(100);
const OPEN_FOR: Duration = Duration::from_millis(500);

fn process(endpoint: &str, table: &str) -> Process {
    Process::new(endpoint, table, config(OPEN_FOR), |t| {
        FleetBreakerStore::builder(t, "payments")
            .refresh_interval(Duration::from_millis(200))
            .call_timeout(Duration::from_millis(200))
            .build()
    })
}

async fn timed(p: &Process, worst: &mut Duration) -> Result<(), tower::BoxError> {
    let start = Instant::now();
    let result = p.call().await;
    *worst = (*worst).max(start.elapsed());
    result
}

/// Closed → open → half-open → closed, all by local rules, each call within [`BOUND`].
async fn keeps_working_locally(what: &str, p: &Process) {
    let mut worst = Duration::ZERO;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        timed(p, &mut worst).await.unwrap();
        sleep(Duration::from_millis(5)).await;
    }
    p.fail();
    for _ in 0..4 {
        let _ = timed(p, &mut worst).await;
    }
    assert_eq!(
        p.state(),
        Some(BreakerState::Open),
        "{what}: the breaker did not open locally"
    );
    assert!(is_open(&timed(p, &mut worst).await.unwrap_err()), "{what}");

    sleep(OPEN_FOR).await;
    p.succeed();
    let recovering = Instant::now();
    while p.state() != Some(BreakerState::Closed) {
        assert!(
            recovering.elapsed() < Duration::from_secs(2),
            "{what}: half-open never admitted its trial call: {:?}",
            p.state()
        );
        let _ = timed(p, &mut worst).await;
        sleep(Duration::from_millis(10)).await;
    }
    assert!(worst < BOUND, "{what}: a call took {worst:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_table_on_a_closed_port_breakers_work_locally_within_bounded_latency() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    keeps_working_locally("closed port", &process(&endpoint, "fleet")).await;
}

/// A fake DynamoDB that accepts connections and never answers.
async fn fake_silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    endpoint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_table_that_never_answers_calls_time_out_and_breakers_work_locally() {
    let endpoint = fake_silent_server().await;
    keeps_working_locally("silent server", &process(&endpoint, "fleet")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_moto_is_killed_mid_test_breakers_fall_back_to_local_state() {
    let moto = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.tools/venv/bin/moto_server");
    let port = free_port();
    let mut server = tokio::process::Command::new(moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{moto}: {e} (scripts/test.sh installs it)"));
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "moto did not start");
        sleep(Duration::from_millis(100)).await;
    }
    let table = FleetTable::new(common::client(&endpoint), "fleet");
    table.create_if_missing(Duration::from_secs(10)).await.unwrap();

    let fleet = [process(&endpoint, "fleet"), process(&endpoint, "fleet")];
    // The fleet works: opened in one, open in the other.
    fleet[0].fail();
    for _ in 0..4 {
        let _ = fleet[0].call().await;
    }
    let opened = Instant::now();
    while fleet[1].call().await.is_ok() {
        assert!(
            opened.elapsed() < Duration::from_secs(2),
            "the fleet did not open together"
        );
        sleep(Duration::from_millis(10)).await;
    }

    server.kill().await.unwrap();
    // Both leave the shared open period by local rules and go on working.
    sleep(OPEN_FOR).await;
    for (i, p) in fleet.iter().enumerate() {
        p.succeed();
        let recovering = Instant::now();
        while p.state() != Some(BreakerState::Closed) {
            assert!(
                recovering.elapsed() < Duration::from_secs(2),
                "process {i}: {:?}",
                p.state()
            );
            let _ = p.call().await;
            sleep(Duration::from_millis(10)).await;
        }
        keeps_working_locally(&format!("moto killed, process {i}"), p).await;
    }
}
