//! The builder's promises: resilience wraps every route whatever the order of the calls, a
//! merged fallback survives `build`, handler panics count for the route's circuit breaker and
//! are logged as one line, state reaches HTTP and record handlers.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use axum::routing::get;
use axum::Router;
use lift::observability::{CaptureSink, Observability};
use lift::resilience::{rate_limit, ResilienceStack};
use lift::{App, Context, Error, Sqs, State};
use lift_testing::{events, TestClient};
use serde_json::Value;

fn body(out: &Value) -> Value {
    serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// Observability into capture sinks, its subscriber set on this thread, and a runtime on this
/// thread to run invocations in.
struct Observed {
    logs: CaptureSink,
    emf: CaptureSink,
    xray: CaptureSink,
    obs: Observability,
    rt: tokio::runtime::Runtime,
    _guard: tracing::dispatcher::DefaultGuard,
}

fn observed() -> Observed {
    let (logs, emf, xray) = (CaptureSink::new(), CaptureSink::new(), CaptureSink::new());
    let obs = Observability::builder()
        .service("svc")
        .log_sink(logs.clone())
        .emf_sink(emf.clone())
        .xray_sink(xray.clone())
        .build()
        .unwrap();
    let guard = tracing::dispatcher::set_default(&tracing::Dispatch::new(obs.subscriber()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    Observed {
        logs,
        emf,
        xray,
        obs,
        rt,
        _guard: guard,
    }
}

/// The EMF document that carries metric `name`.
fn emf_doc_with(emf: &CaptureSink, name: &str) -> Value {
    emf.json_lines()
        .unwrap()
        .into_iter()
        .find(|d| d.get(name).is_some())
        .unwrap_or_else(|| panic!("no EMF document with {name}"))
}

fn one_per_second() -> ResilienceStack<
    rate_limit::RateLimitLayer<lift::resilience::Global, rate_limit::LocalStore<()>>,
    tower::layer::util::Identity,
    tower::layer::util::Identity,
    tower::layer::util::Identity,
    tower::layer::util::Identity,
    tower::layer::util::Identity,
> {
    ResilienceStack::new().rate_limit(rate_limit::RateLimitLayer::new(rate_limit::per_second(1)))
}

#[tokio::test]
async fn resilience_wraps_routes_added_after_it_and_websocket_routes() {
    let lift = App::new()
        .resilience(one_per_second())
        .route("/late", get(|| async { "ok" }))
        .websocket("$default", |body: String| async move { body })
        .build();
    let c = TestClient::new(lift);
    let first = c.invoke_json(events::apigw_v2("GET", "/late").build()).await;
    let second = c.invoke_json(events::apigw_v2("GET", "/late").build()).await;
    assert_eq!(first["statusCode"], 200, "{first}");
    assert_eq!(
        second["statusCode"], 429,
        "a route added after .resilience() is limited: {second}"
    );
    assert_eq!(body(&second)["error"]["code"], "rate_limited");

    let ws = c.invoke_json(events::websocket("$default", "conn-1", Some("hi"))).await;
    assert_eq!(
        ws["statusCode"], 429,
        "WebSocket routes share the stack (one limit): {ws}"
    );
}

#[tokio::test]
async fn a_fallback_brought_in_by_merge_is_kept_and_the_default_404_is_json() {
    let merged = Router::new().fallback(|| async { (http::StatusCode::IM_A_TEAPOT, "custom fallback") });
    let c = TestClient::new(App::new().route("/x", get(|| async { "x" })).merge(merged).build());
    let out = c.invoke_json(events::apigw_v2("GET", "/nope").build()).await;
    assert_eq!(out["statusCode"], 418, "{out}");
    assert_eq!(out["body"], "custom fallback");

    let c = TestClient::new(App::new().route("/x", get(|| async { "x" })).build());
    let out = c.invoke_json(events::apigw_v2("GET", "/nope").build()).await;
    assert_eq!(out["statusCode"], 404, "{out}");
    let b = body(&out);
    assert_eq!(b["error"]["code"], "not_found");
    assert!(b["error"]["request_id"].is_string(), "{b}");

    let c = TestClient::new(
        App::new()
            .route("/x", get(|| async { "x" }))
            .fallback(|| async { "app fallback" })
            .build(),
    );
    let out = c.invoke_json(events::apigw_v2("GET", "/nope").build()).await;
    assert_eq!(out["statusCode"], 200);
    assert_eq!(out["body"], "app fallback");
}

#[tokio::test]
async fn handler_panics_count_as_failures_for_the_routes_circuit_breaker() {
    let lift = App::new()
        .route("/panic", get(|| async { panic!("on purpose") as &str }))
        .route("/ok", get(|| async { "ok" }))
        .resilience(lift::resilience::default_stack())
        .build();
    let c = TestClient::new(lift);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let out = c.invoke_json(events::apigw_v2("GET", "/panic").build()).await;
        statuses.push(out["statusCode"].as_u64().unwrap());
    }
    // The default breaker judges from 10 calls and opens at 50 % failures.
    assert_eq!(&statuses[..10], &[500; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], &[503, 503], "the breaker opened: {statuses:?}");
    let out = c.invoke_json(events::apigw_v2("GET", "/panic").build()).await;
    assert_eq!(body(&out)["error"]["code"], "circuit_open");
    let ok = c.invoke_json(events::apigw_v2("GET", "/ok").build()).await;
    assert_eq!(ok["statusCode"], 200, "other routes keep their own breaker");
}

#[test]
fn a_panic_is_logged_as_one_line_with_code_route_and_request_id() {
    let Observed {
        logs, obs, rt, _guard, ..
    } = observed();
    let lift = App::new()
        .route("/boom", get(|| async { panic!("secret detail in a panic") as &str }))
        .observability(obs)
        .build();
    let out = rt.block_on(TestClient::new(lift).invoke_json(events::apigw_v2("GET", "/boom").build()));
    let b = body(&out);
    assert_eq!(b["error"]["code"], "panic");
    assert!(
        !out.to_string().contains("secret detail"),
        "the panic message is not sent: {out}"
    );
    let rid = b["error"]["request_id"].as_str().unwrap();
    let lines = logs.json_lines().unwrap();
    let panics: Vec<&Value> = lines.iter().filter(|l| l["code"] == "panic").collect();
    assert_eq!(panics.len(), 1, "{lines:#?}");
    let line = panics[0];
    assert_eq!(line["route"], "/boom", "{line}");
    assert_eq!(line["function_request_id"], rid, "{line}");
    assert_eq!(line["level"], "ERROR");
    assert!(!line.to_string().contains(".rs:"), "no source paths: {line}");
    let summary = lines.iter().find(|l| l.get("status").is_some()).unwrap();
    assert_eq!(summary["error"], "panic", "the summary names the code: {summary}");
}

struct Greeting(&'static str);

#[tokio::test]
async fn state_reaches_http_and_record_handlers_without_copies() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let lift = App::new()
        .with_state(Greeting("hello"))
        .route("/greet", get(|State(g): State<Greeting>| async move { g.0 }))
        .sqs("*", move |ctx: Context, _m: Sqs<Value>| {
            let s = s2.clone();
            async move {
                s.lock().unwrap().push(ctx.state::<Greeting>().map(|g| g.0));
                Ok::<_, Error>(())
            }
        })
        .route("/missing", get(|State(_): State<u64>| async { "never" }))
        .build();
    let c = TestClient::new(lift);
    let out = c.invoke_json(events::apigw_v2("GET", "/greet").build()).await;
    assert_eq!(out["body"], "hello");
    c.invoke_json(events::sqs("q").message("{}").build()).await;
    assert_eq!(*seen.lock().unwrap(), vec![Some("hello")]);
    let out = c.invoke_json(events::apigw_v2("GET", "/missing").build()).await;
    assert_eq!(out["statusCode"], 500);
    assert!(
        !out["body"].as_str().unwrap().contains("u64"),
        "no Rust type in the body: {out}"
    );
}

#[test]
fn a_tenant_and_correlation_id_set_through_the_context_reach_logs_emf_and_xray() {
    let Observed {
        logs,
        emf,
        xray,
        obs,
        rt,
        _guard,
    } = observed();
    let lift = App::new()
        .route(
            "/who",
            get(|ctx: Context| async move {
                tracing::info!("before");
                ctx.set_tenant("acme").unwrap();
                ctx.set_correlation_id("corr-42").unwrap();
                tracing::info!("after");
                ctx.metrics().count("Seen", 1).unwrap();
                "ok"
            }),
        )
        .observability(obs)
        .build();
    let out = rt.block_on(TestClient::new(lift).invoke_json(events::apigw_v2("GET", "/who").build()));
    assert_eq!(out["statusCode"], 200, "{out}");
    let lines = logs.json_lines().unwrap();
    let before = lines.iter().find(|l| l["message"] == "before").unwrap();
    let after = lines.iter().find(|l| l["message"] == "after").unwrap();
    assert!(before.get("tenant_id").is_none(), "{before}");
    assert_eq!(after["tenant_id"], "acme", "{after}");
    assert_eq!(after["correlation_id"], "corr-42", "{after}");
    let summary = lines.iter().find(|l| l.get("status").is_some()).unwrap();
    assert_eq!(summary["tenant_id"], "acme", "{summary}");
    let doc = emf_doc_with(&emf, "Seen");
    assert_eq!(doc["tenant_id"], "acme", "{doc}");
    let datagrams = xray.lines().join("\n");
    assert!(datagrams.contains(r#""tenant_id":"acme""#), "{datagrams}");
}

#[test]
fn a_failed_requests_error_code_reaches_the_summary_on_the_lambda_path() {
    let Observed {
        logs,
        emf,
        obs,
        rt,
        _guard,
        ..
    } = observed();
    let lift = App::new()
        .route(
            "/down",
            get(|| async { Err::<&str, _>(Error::new(http::StatusCode::BAD_GATEWAY, "upstream_down", "upstream")) }),
        )
        .observability(obs)
        .build();
    let out = rt.block_on(TestClient::new(lift).invoke_json(events::apigw_v2("GET", "/down").build()));
    assert_eq!(out["statusCode"], 502);
    let lines = logs.json_lines().unwrap();
    let summary = lines.iter().find(|l| l.get("status").is_some()).unwrap();
    assert_eq!(summary["error"], "upstream_down", "{summary}");
    let doc = emf_doc_with(&emf, "Errors");
    assert_eq!(doc["error"], "upstream_down", "{doc}");
}
