//! The fleet table as a readiness check, against real servers: moto and dynalite up, a table
//! that does not exist, a moto of the test's own killed mid-test, a server that answers late
//! (the check times out), and the cache (DescribeTable calls counted).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod faults;

use std::time::{Duration, Instant};

use lift::health::{CheckStatus, Readiness, ReadinessProbe};
use lift_dynamodb::{FleetTable, NotReady};

/// `Readiness` with the table as its `table` check (lift's `Readiness::table` does the same
/// with lift's `dynamodb` feature; this crate's tests use the closure form to avoid a second
/// copy of this crate).
fn probe(table: &FleetTable, timeout: Duration, cache_for: Duration) -> ReadinessProbe {
    let table = table.clone();
    Readiness::new()
        .timeout(timeout)
        .cache_for(cache_for)
        .check("table", move || {
            let table = table.clone();
            async move { table.ready().await }
        })
        .build()
}

#[tokio::test]
async fn an_existing_table_is_ready_and_a_missing_one_is_not() {
    for (server, endpoint) in common::servers() {
        let table = common::fresh_table(&endpoint).await;
        table.ready().await.unwrap_or_else(|e| panic!("{server}: {e}"));
        let missing = FleetTable::new(common::client(&endpoint), "no-such-table");
        let err = missing.ready().await.unwrap_err();
        assert!(matches!(err, NotReady::Missing(_)), "{server}: {err:?}");
        assert_eq!(err.to_string(), "table `no-such-table` does not exist");
    }
}

#[tokio::test]
async fn through_readiness_up_then_missing_gives_200_then_503() {
    let (_, endpoint) = common::servers().remove(0);
    let table = common::fresh_table(&endpoint).await;
    let probe = probe(&table, Duration::from_secs(2), Duration::ZERO);
    let report = probe.report().await;
    assert!(report.is_ready(), "{report:?}");
    assert_eq!(report.status_code(), 200);
    table
        .client()
        .delete_table()
        .table_name(table.name())
        .send()
        .await
        .unwrap();
    let report = probe.report().await;
    assert_eq!(report.status_code(), 503);
    let check = &report.checks["table"];
    assert_eq!(check.status, CheckStatus::Down);
    assert!(check.error.as_deref().unwrap().contains("does not exist"), "{check:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_moto_makes_it_not_ready_within_the_timeout() {
    let moto = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.tools/venv/bin/moto_server");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let table = FleetTable::new(common::client(&endpoint), "fleet");
    table.create_if_missing(Duration::from_secs(10)).await.unwrap();
    let probe = probe(&table, Duration::from_secs(1), Duration::ZERO);
    assert!(probe.report().await.is_ready());

    server.kill().await.unwrap();
    let asked = Instant::now();
    let report = probe.report().await;
    assert!(
        asked.elapsed() < Duration::from_millis(1500),
        "bounded by the timeout: {:?}",
        asked.elapsed()
    );
    let check = &report.checks["table"];
    assert_ne!(check.status, CheckStatus::Up, "{check:?}");
    if check.status == CheckStatus::Down {
        let error = check.error.as_deref().unwrap();
        assert!(error.contains("cannot be described"), "{error}");
        assert!(!error.contains("127.0.0.1"), "no endpoint in a public answer: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_answers_late_times_out() {
    let (_, endpoint) = common::servers().remove(0);
    let table = common::fresh_table(&endpoint).await;
    let slow = faults::FaultProxy::delaying(&endpoint, Duration::from_secs(5)).await;
    let late = FleetTable::new(common::client(slow.endpoint()), table.name());
    let probe = probe(&late, Duration::from_millis(300), Duration::ZERO);
    let asked = Instant::now();
    let report = probe.report().await;
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(report.checks["table"].status, CheckStatus::TimedOut);
    assert_eq!(report.status_code(), 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_spares_describe_table_calls() {
    let (_, endpoint) = common::servers().remove(0);
    let table = common::fresh_table(&endpoint).await;
    let (counted, trips) = faults::counted(&endpoint, &table);
    let probe = probe(&counted, Duration::from_secs(2), Duration::from_millis(800));
    // Twenty callers at once, then more within the cache time: one DescribeTable.
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let p = probe.clone();
            tokio::spawn(async move { p.report().await.is_ready() })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap());
    }
    for _ in 0..5 {
        assert!(probe.report().await.is_ready());
    }
    assert_eq!(trips.of("DescribeTable"), 1);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(probe.report().await.is_ready());
    assert_eq!(
        trips.of("DescribeTable"),
        2,
        "a new run once the report is older than the cache time"
    );
    assert_eq!(trips.total(), 2, "nothing but DescribeTable");
}
