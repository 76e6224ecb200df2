//! Three quick-start processes sharing one table on moto, as three Lambda environments would:
//! `/quota`'s limit holds across them, `/flaky` opened in one is open in the others, and the
//! quota fails open within a second when the store goes away.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{error_code, Server};

fn moto() -> String {
    std::env::var("LIFT_TEST_MOTO_ENDPOINT")
        .expect("LIFT_TEST_MOTO_ENDPOINT is not set: run the tests with `bash scripts/test.sh`")
}

fn table_name() -> String {
    format!("quickstart-fleet-{}", fastrand::u64(..))
}

async fn fleet(endpoint: &str, table: &str, n: usize) -> Vec<Server> {
    fleet_with_stdout(endpoint, table, n, Stdio::null).await
}

async fn fleet_with_stdout(endpoint: &str, table: &str, n: usize, stdout: fn() -> Stdio) -> Vec<Server> {
    let mut servers = Vec::new();
    for _ in 0..n {
        let vars = [
            ("LIFT_TABLE", table),
            ("LIFT_CREATE_TABLE", "true"),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
            ("QUICKSTART_QUOTA_PER_MINUTE", "20"),
        ];
        servers.push(Server::start(&vars, stdout(), Stdio::null()).await);
    }
    servers
}

/// Waits until at least 10 s are left in the current wall-clock minute, so the per-minute
/// window this test counts in is not crossed mid-test.
async fn clear_of_minute_boundary() {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() % 60_000)
        .unwrap_or(0) as u64;
    if ms > 50_000 {
        tokio::time::sleep(std::time::Duration::from_millis(60_000 - ms + 100)).await;
    }
}

async fn quota(server: &Server, key: &str) -> u16 {
    server
        .request(&format!("GET /quota HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\n\r\n"))
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_holds_across_three_processes_sharing_the_table() {
    let servers = fleet(&moto(), &table_name(), 3).await;
    clear_of_minute_boundary().await;
    let key = format!("client-{}", fastrand::u64(..));
    let mut ok = 0;
    let mut limited = 0;
    for i in 0..30 {
        match quota(&servers[i % 3], &key).await {
            200 => ok += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, limited), (20, 10), "20 per minute across the fleet");
    // Another client has its own quota.
    assert_eq!(quota(&servers[1], "someone-else").await, 200);
    for s in servers {
        assert!(s.terminate().await.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_opened_in_one_process_is_open_in_the_others_within_two_seconds() {
    let servers = fleet(&moto(), &table_name(), 3).await;
    // The other two have served /flaky before (as live processes of a fleet have), then go quiet.
    for s in &servers[1..] {
        assert_eq!(s.get("/flaky").await.0, 200);
    }
    // Open /flaky's circuit in the first process.
    let mut opened = false;
    for _ in 0..40 {
        let (status, body) = servers[0].get("/flaky?fail=100").await;
        if status == 503 && error_code(&body) == "circuit_open" {
            opened = true;
            break;
        }
    }
    assert!(opened, "the circuit opened in the first process");
    // Quiet for 2 s, then one request to each of the others: each answers 503 at once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for s in &servers[1..] {
        let (status, body) = s.get("/flaky").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(error_code(&body), "circuit_open");
    }
    for s in servers {
        assert!(s.terminate().await.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_fails_open_within_a_second_when_the_store_is_gone() {
    // A moto of this test's own, to kill mid-run.
    let (mut moto, endpoint) = common::own_moto().await;
    let mut servers = fleet_with_stdout(&endpoint, &table_name(), 1, Stdio::piped).await;
    let mut server = servers.remove(0);
    let mut stdout = server.child.stdout.take().unwrap();
    assert_eq!(quota(&server, "k").await, 200);
    moto.kill().await.unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(quota(&server, "k").await, 200, "fails open");
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }
    assert!(server.terminate().await.success());
    let mut out = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut out)
        .await
        .unwrap();
    let said = out
        .lines()
        .filter(|l| l.contains("rate-limit store unavailable"))
        .count();
    assert_eq!(said, 1, "one log line says so (once per window): {out}");
}
