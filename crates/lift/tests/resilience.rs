//! Resilience layers on Lift routes and record handlers: rejections become 429 / 503 / 504
//! with their headers, and failed records with their codes.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use lift::resilience::{HandleRejectionsLayer, PolledAfterCompletion};
use lift::BoxError;
use tower::{Layer, Service, ServiceExt};

use axum::routing::get;
use lift::resilience::{
    bulkhead::BulkheadLayer, rate_limit, record_layer, timeout::TimeoutLayer, LoadShedLayer, ResilienceStack,
};
use lift::{App, Context, Error, Sqs};
use lift_testing::{events, TestClient};
use serde_json::Value;

fn body(v: &Value) -> Value {
    serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test]
async fn rate_limited_requests_get_429_with_both_header_sets() {
    let stack = ResilienceStack::new().rate_limit(rate_limit::RateLimitLayer::new(rate_limit::per_second(2)));
    let lift = App::new().route("/x", get(|| async { "ok" })).resilience(stack).build();
    let c = TestClient::new(lift);
    let mut statuses = Vec::new();
    let mut last = Value::Null;
    for _ in 0..4 {
        last = c.invoke_json(events::apigw_v2("GET", "/x").build()).await;
        statuses.push(last["statusCode"].as_u64().unwrap());
    }
    assert_eq!(statuses, vec![200, 200, 429, 429]);
    assert_eq!(body(&last)["error"]["code"], "rate_limited");
    let h = &last["headers"];
    assert!(h["retry-after"].as_str().is_some(), "{last}");
    assert_eq!(h["ratelimit-limit"], "2", "{last}");
    assert_eq!(h["ratelimit-remaining"], "0", "{last}");
    for name in ["limit", "remaining", "reset"] {
        let (std, x) = (&h[format!("ratelimit-{name}")], &h[format!("x-ratelimit-{name}")]);
        assert!(std.is_string() && std == x, "ratelimit-{name}: {last}");
    }
}

#[tokio::test]
async fn admitted_responses_of_the_default_stack_carry_both_rate_limit_header_sets() {
    let lift = App::new()
        .route("/x", get(|| async { "ok" }))
        .resilience(lift::resilience::default_stack())
        .build();
    let res = TestClient::new(lift)
        .invoke_json(events::apigw_v2("GET", "/x").build())
        .await;
    assert_eq!(res["statusCode"], 200, "{res}");
    let h = &res["headers"];
    assert_eq!(
        (&h["ratelimit-limit"], &h["x-ratelimit-limit"]),
        (&"1000".into(), &"1000".into()),
        "{res}"
    );
    assert_eq!(
        (&h["ratelimit-remaining"], &h["x-ratelimit-remaining"]),
        (&"999".into(), &"999".into())
    );
    assert_eq!(h["ratelimit-reset"], h["x-ratelimit-reset"]);
    assert!(h["ratelimit-reset"].is_string(), "{res}");
}

#[tokio::test]
async fn a_shed_request_gets_503_overloaded_with_retry_after() {
    let stack = ResilienceStack::new().load_shed(LoadShedLayer::random(1.0));
    let lift = App::new().route("/x", get(|| async { "ok" })).resilience(stack).build();
    let res = TestClient::new(lift)
        .invoke_json(events::apigw_v2("GET", "/x").build())
        .await;
    assert_eq!(res["statusCode"], 503, "{res}");
    assert_eq!(body(&res)["error"]["code"], lift::resilience::code::OVERLOADED);
    assert_eq!(res["headers"]["retry-after"], "1", "{res}");
}

#[tokio::test(start_paused = true)]
async fn the_invocation_deadline_bounds_the_route_and_answers_504() {
    let stack =
        ResilienceStack::new().timeout(TimeoutLayer::new(Duration::from_secs(60)).margin(Duration::from_millis(100)));
    let lift = App::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .resilience(stack)
        .build();
    // The invocation has 400 ms left: the deadline (not the configured 60 s) fires.
    let c = TestClient::new(lift).timeout(Duration::from_millis(400));
    let started = tokio::time::Instant::now();
    let res = c.invoke_json(events::apigw_v2("GET", "/slow").build()).await;
    assert_eq!(res["statusCode"], 504, "{res}");
    assert_eq!(body(&res)["error"]["code"], "timeout");
    // On tokio's clock: the deadline (400 ms, less the time the event took to arrive) minus
    // the 100 ms margin, not the handler's 30 s nor the configured 60 s.
    let took = started.elapsed();
    assert!(
        took > Duration::from_millis(100) && took <= Duration::from_millis(300),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn record_handlers_behind_layers_fail_records_with_the_rejection_code() {
    async fn slow(_ctx: Context, _m: Sqs<Value>) -> Result<(), Error> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }
    async fn refuse(_ctx: Context, _m: Sqs<Value>) -> Result<(), Error> {
        Err(Error::bad_request("nope", "refused"))
    }
    let lift = App::new()
        .sqs(
            "slow",
            record_layer(
                slow,
                TimeoutLayer::new(Duration::from_millis(10)).margin(Duration::ZERO),
            ),
        )
        .sqs("refuse", record_layer(refuse, BulkheadLayer::new(1)))
        .build();
    let c = TestClient::new(lift);
    let out = c
        .invoke_json(events::sqs("slow").message("{}").message("{}").build())
        .await;
    assert_eq!(out["batchItemFailures"].as_array().unwrap().len(), 2, "{out}");
    let out = c.invoke_json(events::sqs("refuse").message("{}").build()).await;
    assert_eq!(out["batchItemFailures"][0]["itemIdentifier"], "msg-0", "{out}");
}

#[tokio::test]
async fn rejections_are_counted_in_the_invocation_metrics() {
    use lift::observability::{CaptureSink, Observability};
    let emf = CaptureSink::new();
    let obs = Observability::builder()
        .service("svc")
        .log_sink(CaptureSink::new())
        .emf_sink(emf.clone())
        .build()
        .unwrap();
    let stack = ResilienceStack::new().rate_limit(
        rate_limit::RateLimitLayer::new(rate_limit::per_second(1)).listener(lift::resilience::MetricsListener),
    );
    let lift = App::new()
        .route("/x", get(|| async { "ok" }))
        .resilience(stack)
        .observability(obs)
        .build();
    let c = TestClient::new(lift);
    let first = c.invoke_json(events::apigw_v2("GET", "/x").build()).await;
    let second = c.invoke_json(events::apigw_v2("GET", "/x").build()).await;
    assert_eq!(
        (first["statusCode"].as_u64(), second["statusCode"].as_u64()),
        (Some(200), Some(429))
    );
    let docs = emf.json_lines().unwrap();
    let limited: Vec<&Value> = docs.iter().filter(|d| d.get("RateLimited").is_some()).collect();
    assert_eq!(limited.len(), 1, "{docs:?}");
    assert_eq!(limited[0]["RateLimited"], 1);
    assert_eq!(limited[0]["status"], 429);
}

/// An inner service whose readiness the test sets: not ready (remembering the waker), ready,
/// or failing.
#[derive(Clone, Default)]
struct Gate(Arc<Mutex<(u8, Option<Waker>, usize)>>);

const NOT_READY: u8 = 0;
const READY: u8 = 1;
const FAILING: u8 = 2;

impl Gate {
    fn set(&self, state: u8) {
        let mut g = self.0.lock().unwrap();
        g.0 = state;
        if let Some(w) = g.1.take() {
            w.wake();
        }
    }

    fn calls(&self) -> usize {
        self.0.lock().unwrap().2
    }
}

impl Service<()> for Gate {
    type Response = Response;
    type Error = BoxError;
    type Future = std::future::Ready<Result<Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        let mut g = self.0.lock().unwrap();
        match g.0 {
            NOT_READY => {
                g.1 = Some(cx.waker().clone());
                Poll::Pending
            }
            READY => Poll::Ready(Ok(())),
            _ => Poll::Ready(Err(Box::new(lift::resilience::BulkheadFull::new(1, Duration::ZERO)))),
        }
    }

    fn call(&mut self, _req: ()) -> Self::Future {
        self.0.lock().unwrap().2 += 1;
        std::future::ready(Ok("ok".into_response()))
    }
}

struct Woken(AtomicBool);

impl std::task::Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn handle_rejections_readiness_follows_the_inner_service_and_answers_its_errors() {
    let gate = Gate::default();
    let mut svc = HandleRejectionsLayer.layer(gate.clone());
    let woken = Arc::new(Woken(AtomicBool::new(false)));
    let waker = Waker::from(woken.clone());
    let mut cx = TaskContext::from_waker(&waker);

    assert!(svc.poll_ready(&mut cx).is_pending(), "inner not ready, layer ready");
    gate.set(READY);
    assert!(woken.0.load(Ordering::SeqCst), "inner ready, waiting task not woken");
    assert!(matches!(svc.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    assert_eq!(svc.call(()).await.unwrap().status(), 200);

    // A readiness error: the layer is ready, and the next call answers it without calling in.
    gate.set(FAILING);
    assert!(matches!(svc.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    let res = svc.call(()).await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(
        gate.calls(),
        1,
        "the inner service was called after its readiness error"
    );
    assert_eq!(svc.get_ref().calls(), 1);
}

/// Drives `fut` to completion, then polls it again: the answer must be a 500 internal error.
async fn answers_500_when_polled_again<F>(fut: F) -> Response
where
    F: Future<Output = Result<Response, std::convert::Infallible>>,
{
    let mut fut = pin!(fut);
    let first = poll_fn(|cx| fut.as_mut().poll(cx)).await.unwrap();
    for again in 1..=2 {
        match fut.as_mut().poll(&mut TaskContext::from_waker(Waker::noop())) {
            Poll::Ready(Ok(res)) => {
                assert_eq!(res.status(), 500, "poll {again} after completion");
                let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["error"]["code"], "internal_error", "{v}");
            }
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => panic!("poll {again} after completion: Pending"),
        }
    }
    first
}

#[tokio::test]
async fn handle_rejections_future_answers_500_when_polled_after_completion() {
    // The inner future is an `async` block: polled again, it would panic.
    let inner = tower::service_fn(|fail: bool| async move {
        if fail {
            Err::<Response, BoxError>(Box::new(lift::resilience::Overloaded::new(
                lift::resilience::load_shed::ShedReason::Random,
            )))
        } else {
            Ok("ok".into_response())
        }
    });
    let mut svc = HandleRejectionsLayer.layer(inner);
    let ok = answers_500_when_polled_again(svc.ready().await.unwrap().call(false)).await;
    assert_eq!(ok.status(), 200);
    let shed = answers_500_when_polled_again(svc.ready().await.unwrap().call(true)).await;
    assert_eq!(shed.status(), 503);

    // The state that answers a readiness error.
    let gate = Gate::default();
    gate.set(FAILING);
    let mut svc = HandleRejectionsLayer.layer(gate);
    let rejected = answers_500_when_polled_again(svc.ready().await.unwrap().call(())).await;
    assert_eq!(rejected.status(), 503);
}

/// Polls the record handler's future again after it completed and records what it answered.
#[derive(Clone)]
struct PollAgain<S> {
    inner: S,
    seen: Arc<Mutex<Vec<String>>>,
}

impl<S, R> Service<R> for PollAgain<S>
where
    S: Service<R, Response = (), Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = ();
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let mut fut = Box::pin(self.inner.call(req));
        let seen = self.seen.clone();
        Box::pin(async move {
            let first = fut.as_mut().await;
            let again = fut.as_mut().poll(&mut TaskContext::from_waker(Waker::noop()));
            let again = match again {
                Poll::Ready(Err(e)) if e.is::<PolledAfterCompletion>() => "polled after completion".to_owned(),
                Poll::Ready(other) => format!("{other:?}"),
                Poll::Pending => "pending".to_owned(),
            };
            seen.lock().unwrap().push(again);
            first
        })
    }
}

#[tokio::test]
async fn record_handler_future_answers_polled_after_completion() {
    async fn handle(_ctx: Context, m: Sqs<Value>) -> Result<(), Error> {
        match m.body.as_str() {
            Some("fail") => Err(Error::bad_request("nope", "refused")),
            _ => Ok(()),
        }
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let layer = tower::layer::layer_fn(move |inner| PollAgain {
        inner,
        seen: s2.clone(),
    });
    let lift = App::new().sqs("q", record_layer(handle, layer)).build();
    let out = TestClient::new(lift)
        .invoke_json(events::sqs("q").message("\"ok\"").message("\"fail\"").build())
        .await;
    assert_eq!(out["batchItemFailures"][0]["itemIdentifier"], "msg-1", "{out}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["polled after completion".to_owned(); 2],
        "both records' futures, success and failure"
    );
}

#[tokio::test]
async fn error_response_gives_each_rejection_its_status_code_and_headers() {
    use lift::resilience::{
        circuit_breaker::BreakerState, code, error_response, load_shed::ShedReason, rate_limit::Decision,
        timeout::TimeoutLimit, BulkheadFull, Elapsed, Open, Overloaded, RateLimited,
    };
    let limited = Decision::new(false, 5, 0, Duration::from_secs(2), Some(Duration::from_millis(200)));
    let cases: Vec<(BoxError, u16, &str, &[&str])> = vec![
        (
            Box::new(Open::new(BreakerState::ForcedOpen, None)),
            503,
            code::CIRCUIT_OPEN,
            &["retry-after"],
        ),
        (
            Box::new(BulkheadFull::new(1, Duration::ZERO)),
            503,
            code::BULKHEAD_FULL,
            &["retry-after"],
        ),
        (
            Box::new(Overloaded::new(ShedReason::Random)),
            503,
            code::OVERLOADED,
            &["retry-after"],
        ),
        (
            Box::new(Elapsed::new(TimeoutLimit::Deadline, Duration::ZERO)),
            504,
            code::TIMEOUT,
            &[],
        ),
        (
            Box::new(RateLimited::new(limited)),
            429,
            code::RATE_LIMITED,
            &[
                "retry-after",
                "ratelimit-limit",
                "ratelimit-remaining",
                "ratelimit-reset",
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
            ],
        ),
    ];
    assert_eq!(cases.len(), 5);
    for (err, status, code, expected) in cases {
        let res = error_response(err);
        assert_eq!(res.status(), status, "{code}");
        let mut names: Vec<&str> = res
            .headers()
            .keys()
            .map(|k| k.as_str())
            .filter(|k| k.contains("ratelimit") || *k == "retry-after")
            .collect();
        names.sort_unstable();
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(names, expected, "{code}");
        let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], code);
    }
}
