//! What CORS and the security headers add to one API Gateway v2 GET (raw event bytes to
//! response bytes, no other middleware): next to the bare GET of the same app.
//!
//! `cargo bench -p lift --bench hygiene`

#![allow(clippy::unwrap_used)] // benches: a failed unwrap is a failed run
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use axum::http::{header, HeaderValue, Method};
use axum::routing::get;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lift::cors::{AllowOrigin, CorsLayer};
use lift::{App, Lift, SecurityHeaders};
use lift_testing::{events, TestClient};

const ORIGIN: &str = "https://app.example.com";

fn app(cors: bool, headers: bool) -> Lift {
    let mut app = App::new().route("/hello", get(|| async { "hello" }));
    if cors {
        app = app.cors(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list([HeaderValue::from_static(ORIGIN)]))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .allow_credentials(true)
                .max_age(Duration::from_secs(600)),
        );
    }
    if headers {
        app = app.security_headers(SecurityHeaders::preset());
    }
    app.build()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let get_plain = events::apigw_v2("GET", "/hello").build().to_string();
    let get_origin = events::apigw_v2("GET", "/hello")
        .header("origin", ORIGIN)
        .build()
        .to_string();
    let preflight = events::apigw_v2("OPTIONS", "/hello")
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .build()
        .to_string();
    let lambda_ctx = TestClient::new(app(false, false)).context().lambda().clone();

    let mut g = c.benchmark_group("hygiene");
    g.throughput(Throughput::Elements(1));
    let cases = [
        ("bare_get", app(false, false), &get_plain),
        ("security_headers_get", app(false, true), &get_plain),
        ("cors_get_without_origin", app(true, false), &get_plain),
        ("cors_get_allowed_origin", app(true, false), &get_origin),
        ("cors_preflight", app(true, false), &preflight),
        ("cors_and_headers_get_allowed_origin", app(true, true), &get_origin),
    ];
    for (name, lift, event) in cases {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let out = lift
                    .invoke(black_box(event), lambda_ctx.clone())
                    .await
                    .expect("response");
                black_box(out.to_json())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
