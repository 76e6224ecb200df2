//! `Authorization`, `Cookie`, `Set-Cookie`, `x-api-key` (and `Proxy-Authorization`) never reach
//! a log line at any level: real requests at TRACE through the real `lambda_runtime` loop
//! (lift-testing's Runtime API server) and the local server, a handler that answers
//! `Set-Cookie` and logs the credentials under their header names, logs captured whole.
//!
//! One test in this binary: it sets the Lambda variables `lambda_runtime` reads from the
//! process environment.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use axum::http::{header, HeaderMap};
use axum::routing::get;
use lift::observability::{CaptureSink, LevelFilter, Observability};
use lift::App;
use lift_testing::{events, RuntimeApiServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const AUTHORIZATION: &str = "Bearer tok-3f9a1c";
const COOKIE: &str = "sid=cookie-77e2b0";
const API_KEY: &str = "apikey-51d8aa";
const PROXY: &str = "Basic cHJveHktc2VjcmV0";
const SET_COOKIE: &str = "sid=fresh-9c04d1; HttpOnly; Secure";
/// Parts of the values a partial leak would show.
const NEEDLES: [&str; 6] = [
    "tok-3f9a1c",
    "cookie-77e2b0",
    "apikey-51d8aa",
    "cHJveHktc2VjcmV0",
    "fresh-9c04d1",
    "HttpOnly",
];

/// Logs the credentials under their header names at every level, as a careless handler
/// would, and answers a session cookie.
async fn login(headers: HeaderMap) -> ([(header::HeaderName, &'static str); 1], &'static str) {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (auth, cookie, key, proxy) = (
        get("authorization"),
        get("cookie"),
        get("x-api-key"),
        get("proxy-authorization"),
    );
    tracing::trace!(authorization = %auth, cookie = %cookie, "x-api-key" = %key, "trace line");
    tracing::debug!(Authorization = %auth, Cookie = %cookie, "debug line");
    tracing::info!(x_api_key = %key, proxy_authorization = %proxy, "info line");
    tracing::warn!(set_cookie = SET_COOKIE, "warn line");
    tracing::error!("Set-Cookie" = SET_COOKIE, "error line");
    ([(header::SET_COOKIE, SET_COOKIE)], "welcome")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_reach_a_log_line_at_trace() {
    let logs = CaptureSink::new();
    let obs = Observability::builder()
        .log_level(LevelFilter::TRACE)
        .log_sink(logs.clone())
        .metrics(false)
        .build()
        .unwrap();
    let function = App::new().route("/login", get(login)).observability(obs).build();

    // The real runtime loop: lambda_runtime logs the raw event at TRACE.
    let api = RuntimeApiServer::start().await.unwrap();
    std::env::set_var("AWS_LAMBDA_RUNTIME_API", api.endpoint());
    std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "secrets");
    std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
    let runtime = tokio::spawn(lift::run_lambda(function.clone()));
    for source in ["v1", "v2", "alb"] {
        let event = match source {
            "v1" => events::apigw_v1("GET", "/login"),
            "v2" => events::apigw_v2("GET", "/login"),
            _ => events::alb("GET", "/login"),
        }
        .header("Authorization", AUTHORIZATION)
        .header("Cookie", COOKIE)
        .header("X-Api-Key", API_KEY)
        .header("Proxy-Authorization", PROXY)
        .build();
        let out = api.invoke(event.to_string()).outcome(Duration::from_secs(20)).await;
        let json = out.json().unwrap();
        assert!(
            json.to_string().contains("fresh-9c04d1"),
            "{source}: the answer carries Set-Cookie: {json}"
        );
    }
    runtime.abort();

    // The local server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lift::local::serve_listener(
        function,
        listener,
        lift::local::LocalConfig::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /login HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTHORIZATION}\r\nCookie: {COOKIE}\r\nx-api-key: {API_KEY}\r\nProxy-Authorization: {PROXY}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.to_ascii_lowercase().contains("set-cookie: sid=fresh-9c04d1"),
        "{answer}"
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();

    let lines = logs.lines();
    // The control: the handler's lines at every level were written (four invocations, five each).
    for level in ["trace line", "debug line", "info line", "warn line", "error line"] {
        let n = lines.iter().filter(|l| l.contains(level)).count();
        assert_eq!(n, 4, "{level}: {n} lines");
    }
    assert!(
        lines.iter().any(|l| l.contains(lift::observability::REDACTED)),
        "values are replaced, fields kept"
    );
    for line in &lines {
        for needle in NEEDLES {
            assert!(!line.contains(needle), "{needle:?} in {line}");
        }
    }
}
