//! Readiness with custom checks: the answer's shape, timeouts, caching and single flight
//! (tokio's paused clock), and the routes through `App`. The DynamoDB table check runs against
//! moto in `lift-dynamodb/tests/readiness.rs`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use lift::health::{self, CheckStatus, Readiness};
use lift::App;
use lift_testing::events;
use lift_testing::TestClient;
use serde_json::Value;

/// A check that counts its runs, waits `delay`, then passes or fails.
fn counted(runs: &Arc<AtomicUsize>, delay: Duration, pass: bool) -> impl lift::health::Check {
    let runs = runs.clone();
    move || {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            if pass {
                Ok(())
            } else {
                Err("connection refused")
            }
        }
    }
}

async fn get_json(client: &TestClient, path: &str) -> (u64, Value, Value) {
    let out = client.invoke_json(events::apigw_v2("GET", path).build()).await;
    let body = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    (out["statusCode"].as_u64().unwrap(), body, out["headers"].clone())
}

#[tokio::test]
async fn ready_answers_200_with_each_checks_status_and_latency() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = App::new()
        .route("/health", get(health::live))
        .readiness(
            Readiness::new()
                .check("db", counted(&runs, Duration::from_millis(5), true))
                .check("cache", counted(&runs, Duration::ZERO, true)),
        )
        .build();
    let client = TestClient::new(app);
    let (status, body, headers) = get_json(&client, "/health/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["db"]["status"], "up");
    assert!(body["checks"]["db"]["latency_ms"].as_f64().unwrap() >= 5.0, "{body}");
    assert_eq!(body["checks"]["cache"]["status"], "up");
    assert!(body["checks"]["db"].get("error").is_none());
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["content-type"], "application/json");

    let (status, body, _) = get_json(&client, "/health").await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
}

#[tokio::test]
async fn a_failing_check_makes_it_503_with_the_same_shape_naming_the_failure() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = App::new()
        .readiness(
            Readiness::new()
                .check("db", counted(&runs, Duration::ZERO, false))
                .check("cache", counted(&runs, Duration::ZERO, true)),
        )
        .build();
    let (status, body, _) = get_json(&TestClient::new(app), "/health/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["db"]["status"], "down");
    assert_eq!(body["checks"]["db"]["error"], "connection refused");
    assert!(body["checks"]["db"]["latency_ms"].is_number());
    assert_eq!(body["checks"]["cache"]["status"], "up");
}

#[tokio::test(start_paused = true)]
async fn a_slow_check_times_out_and_is_cancelled() {
    let runs = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let done = finished.clone();
    let probe = Readiness::new()
        .timeout(Duration::from_millis(200))
        .check("slow", move || {
            let done = done.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(30)).await;
                done.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::io::Error>(())
            }
        })
        .check_with_timeout(
            "patient",
            Duration::from_secs(5),
            counted(&runs, Duration::from_secs(1), true),
        )
        .build();
    let started = tokio::time::Instant::now();
    let report = probe.report().await;
    let took = started.elapsed();
    assert!(!report.is_ready());
    assert_eq!(report.status_code(), 503);
    let slow = &report.checks["slow"];
    assert_eq!(slow.status, CheckStatus::TimedOut);
    assert!(slow.latency >= Duration::from_millis(200) && slow.latency < Duration::from_millis(300));
    assert_eq!(
        report.checks["patient"].status,
        CheckStatus::Up,
        "its own, longer timeout"
    );
    // Checks run at once: the run took the longest one (1 s), not the sum.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_millis(1200),
        "{took:?}"
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the timed-out check was dropped, not left running"
    );
}

#[tokio::test(start_paused = true)]
async fn reports_are_cached_and_concurrent_callers_share_one_run() {
    let runs = Arc::new(AtomicUsize::new(0));
    let probe = Readiness::new()
        .cache_for(Duration::from_secs(3))
        .check("db", counted(&runs, Duration::from_millis(100), true))
        .build();
    // Fifty callers at once while the first run is in flight: one run.
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let p = probe.clone();
            tokio::spawn(async move { p.report().await })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap().is_ready());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Within the cache time: still one run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    probe.report().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // After it: a new run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    probe.report().await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_failure_is_cached_too_and_recovery_shows_after_the_cache_time() {
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = healthy.clone();
    let probe = Readiness::new()
        .cache_for(Duration::from_secs(2))
        .check("db", move || {
            let up = h.load(Ordering::SeqCst);
            async move {
                if up {
                    Ok(())
                } else {
                    Err("down")
                }
            }
        })
        .build();
    assert!(!probe.report().await.is_ready());
    healthy.store(true, Ordering::SeqCst);
    assert!(!probe.report().await.is_ready(), "cached");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(probe.report().await.is_ready());
}

#[tokio::test]
async fn no_check_is_ready_and_the_path_can_move() {
    let app = App::new().readiness(Readiness::new().path("/ready")).build();
    let client = TestClient::new(app);
    let (status, body, _) = get_json(&client, "/ready").await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"status": "ready", "checks": {}}));
    let (status, _, _) = get_json(&client, "/health/ready").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_check_registered_twice_keeps_the_last() {
    let runs = Arc::new(AtomicUsize::new(0));
    let probe = Readiness::new()
        .check("db", counted(&runs, Duration::ZERO, false))
        .check("db", counted(&runs, Duration::ZERO, true))
        .build();
    let report = probe.report().await;
    assert!(report.is_ready());
    assert_eq!(report.checks.len(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
