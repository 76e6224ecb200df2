//! Runs N API Gateway v2 GETs through an app with or without CORS and security headers, for
//! instruction counting under callgrind (repeatable on a shared machine, unlike wall time):
//!
//! ```sh
//! cargo build --release -p lift --example hygiene_instructions
//! for n in 200 1200; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!   target/release/examples/hygiene_instructions cors_origin $n; done
//! ```
//!
//! Cases: `bare`, `headers` (security headers), `cors_plain` (CORS, no `Origin`),
//! `cors_origin` (CORS, allowed `Origin`), `preflight`, `both` (CORS and headers, allowed
//! `Origin`). The difference of two totals over the difference of N is one invocation's cost.

#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Duration;

use axum::http::{header, HeaderValue, Method};
use axum::routing::get;
use lift::cors::{AllowOrigin, CorsLayer};
use lift::{App, SecurityHeaders};
use lift_testing::{events, TestClient};

const ORIGIN: &str = "https://app.example.com";

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "bare".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list([HeaderValue::from_static(ORIGIN)]))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600));
    let mut app = App::new().route("/hello", get(|| async { "hello" }));
    if matches!(case.as_str(), "cors_plain" | "cors_origin" | "preflight" | "both") {
        app = app.cors(cors);
    }
    if matches!(case.as_str(), "headers" | "both") {
        app = app.security_headers(SecurityHeaders::preset());
    }
    let lift = app.build();
    let lambda_ctx = TestClient::new(lift.clone()).context().lambda().clone();
    let event = match case.as_str() {
        "cors_origin" | "both" => events::apigw_v2("GET", "/hello").header("origin", ORIGIN),
        "preflight" => events::apigw_v2("OPTIONS", "/hello")
            .header("origin", ORIGIN)
            .header("access-control-request-method", "POST"),
        _ => events::apigw_v2("GET", "/hello"),
    }
    .build()
    .to_string();
    rt.block_on(async {
        for _ in 0..n {
            let out = lift
                .invoke(black_box(&event), lambda_ctx.clone())
                .await
                .expect("response");
            black_box(out.to_json());
        }
    });
    println!("{case}: {n} invocations");
}
