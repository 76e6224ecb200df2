//! Breaker state shared by a fleet of four "processes" (each its own SDK client, store and
//! breaker layer; one table), on moto and on dynalite: a circuit opened in one rejects in the
//! others within the refresh interval; half-open sends exactly one trial call across the
//! fleet; a closed breaker under load writes nothing and reads at most once per interval.

#![allow(clippy::unwrap_used)]

mod breaker_support;
mod common;

use std::time::Duration;

use breaker_support::{config, is_open, Process};
use lift_dynamodb::FleetBreakerStore;
use lift_resilience::circuit_breaker::BreakerState;
use lift_resilience::Open;
use tokio::time::{sleep, Instant};

const INTERVAL: Duration = Duration::from_secs(1);
/// Room for the opener's write and the reader's round trip on a loaded test machine.
const SLACK: Duration = Duration::from_millis(500);

async fn fleet(endpoint: &str, open_for: Duration) -> Vec<Process> {
    let table = common::fresh_table(endpoint).await;
    let fleet: Vec<Process> = (0..4)
        .map(|_| {
            Process::new(endpoint, table.name(), config(open_for), |t| {
                FleetBreakerStore::builder(t, "payments")
                    .refresh_interval(INTERVAL)
                    // A healthy store, however loaded the test machine: two calls slower
                    // than the default 500 ms in a row would hand half-open to local rules
                    // (a second trial), which `breaker_faults.rs` tests on purpose.
                    .call_timeout(Duration::from_secs(5))
                    .build()
            })
        })
        .collect();
    for p in &fleet {
        p.call().await.unwrap();
    }
    fleet
}

/// Drives failures through `fleet[0]` until it opens, then polls the others until each
/// rejects; answers how long the last one took.
async fn open_in_one_and_wait_for_the_others(server: &str, fleet: &[Process]) -> Duration {
    fleet[0].fail();
    for _ in 0..4 {
        let _ = fleet[0].call().await;
    }
    assert_eq!(fleet[0].state(), Some(BreakerState::Open), "{server}");
    let opened = Instant::now();
    for (i, p) in fleet.iter().enumerate().skip(1) {
        loop {
            match p.call().await {
                Err(e) if is_open(&e) => {
                    let open = e.downcast_ref::<Open>().unwrap();
                    assert_eq!(open.state(), BreakerState::Open, "{server}: process {i}");
                    break;
                }
                Ok(()) => {}
                Err(e) => panic!("{server}: process {i}: {e}"),
            }
            assert!(
                opened.elapsed() < Duration::from_secs(2),
                "{server}: process {i} still admits calls 2 s after the circuit opened elsewhere"
            );
            sleep(Duration::from_millis(10)).await;
        }
    }
    opened.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_opened_in_one_process_rejects_in_the_other_three_within_the_interval() {
    for (server, endpoint) in common::servers() {
        let fleet = fleet(&endpoint, Duration::from_secs(30)).await;
        let took = open_in_one_and_wait_for_the_others(server, &fleet).await;
        assert!(took <= INTERVAL + SLACK, "{server}: the fleet took {took:?} to open");
        // They share the opener's open period, not a fresh one of their own.
        let err = fleet[3].call().await.unwrap_err();
        let left = err.downcast_ref::<Open>().unwrap().retry_after().unwrap();
        assert!(
            left <= Duration::from_secs(30) - took + SLACK,
            "{server}: {left:?} left"
        );
        let calls = fleet[1].calls();
        for _ in 0..10 {
            assert!(is_open(&fleet[1].call().await.unwrap_err()), "{server}");
        }
        assert_eq!(fleet[1].calls(), calls, "{server}: an opened process kept calling");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_half_open_exactly_one_trial_call_runs_across_the_fleet_and_its_success_closes_all() {
    for (server, endpoint) in common::servers() {
        let open_for = Duration::from_secs(2);
        let fleet = fleet(&endpoint, open_for).await;
        open_in_one_and_wait_for_the_others(server, &fleet).await;

        // Every call that reaches a service now waits, so a second probe could not hide.
        for p in &fleet {
            p.hold();
        }
        let before: Vec<usize> = fleet.iter().map(Process::calls).collect();
        // Hammer all four through the end of the open period and two refresh intervals more.
        let until = Instant::now() + open_for + 2 * INTERVAL;
        let mut pending = Vec::new();
        while Instant::now() < until {
            for p in &fleet {
                pending.push(p.spawn_call());
            }
            sleep(Duration::from_millis(5)).await;
        }
        let trials: Vec<usize> = fleet.iter().zip(&before).map(|(p, b)| p.calls() - b).collect();
        assert_eq!(
            trials.iter().sum::<usize>(),
            1,
            "{server}: trial calls per process {trials:?}"
        );
        let states: Vec<_> = fleet.iter().map(Process::state).collect();
        assert!(
            states.iter().all(|s| *s == Some(BreakerState::HalfOpen)),
            "{server}: all wait in half-open for the probe: {states:?}"
        );

        // The probe succeeds: every process closes within an interval, without a trial of its own.
        let released = Instant::now();
        for p in &fleet {
            p.succeed();
            p.release();
        }
        for (i, p) in fleet.iter().enumerate() {
            while p.state() != Some(BreakerState::Closed) {
                assert!(
                    released.elapsed() < INTERVAL + INTERVAL + SLACK,
                    "{server}: process {i} still {:?}",
                    p.state()
                );
                let _ = p.call().await;
                sleep(Duration::from_millis(10)).await;
            }
        }
        let mut admitted = 0;
        for call in pending {
            match call.await.unwrap() {
                Ok(()) => admitted += 1,
                Err(e) => assert!(is_open(&e), "{server}: {e}"),
            }
        }
        assert_eq!(admitted, 1, "{server}: calls admitted during half-open");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_probe_opens_the_whole_fleet_again_after_one_trial_call() {
    for (server, endpoint) in common::servers() {
        let open_for = Duration::from_secs(3);
        let fleet = fleet(&endpoint, open_for).await;
        let took = open_in_one_and_wait_for_the_others(server, &fleet).await;
        let opened = Instant::now() - took;
        for p in &fleet {
            p.fail();
        }
        let before: Vec<usize> = fleet.iter().map(Process::calls).collect();
        // Through the end of the open period and two intervals more: the failed probe's new
        // open period (3 s) outlasts it.
        while Instant::now() < opened + open_for + 2 * INTERVAL {
            for p in &fleet {
                let _ = p.call().await;
            }
            sleep(Duration::from_millis(5)).await;
        }
        let trials: Vec<usize> = fleet.iter().zip(&before).map(|(p, b)| p.calls() - b).collect();
        assert_eq!(
            trials.iter().sum::<usize>(),
            1,
            "{server}: trial calls per process {trials:?}"
        );
        let states: Vec<_> = fleet.iter().map(Process::state).collect();
        assert!(
            states.iter().all(|s| *s == Some(BreakerState::Open)),
            "{server}: the probe failed, so every process is open again: {states:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_breaker_under_load_writes_nothing_and_reads_at_most_once_per_interval() {
    for (server, endpoint) in common::servers() {
        let fleet = fleet(&endpoint, Duration::from_secs(30)).await;
        let start = Instant::now();
        let mut calls = 0;
        while start.elapsed() < 3 * INTERVAL {
            for p in &fleet {
                p.call().await.unwrap();
                calls += 1;
            }
            tokio::task::yield_now().await;
        }
        let elapsed = start.elapsed();
        // Reads start at most once per interval, the first at the first call (in `fleet`).
        let max_reads = (elapsed.as_millis() / INTERVAL.as_millis()) as usize + 2;
        assert!(calls > 400, "{server}: only {calls} calls");
        for (i, p) in fleet.iter().enumerate() {
            let (reads, writes) = (p.requests.reads(), p.requests.writes());
            assert_eq!(writes, 0, "{server}: process {i} wrote while closed");
            assert!(
                (2..=max_reads).contains(&reads),
                "{server}: process {i} read {reads} times in {elapsed:?} (at most {max_reads})"
            );
        }
    }
}
