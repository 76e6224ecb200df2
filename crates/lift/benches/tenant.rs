//! The tenant resolver's cost per request.
//!
//! `cargo bench -p lift --bench tenant`
//!
//! - `apply_*`: `TenantResolver::apply` alone on a fresh invocation context (built in the
//!   untimed setup): read the sources, validate, set the tenant once.
//! - `get_*`: a whole API Gateway v2 GET through Lift with observability on (discarding
//!   sinks), behind a stand-in for authentication that sets a principal with ten claims;
//!   once without and once with the tenant layer: the difference is the layer's cost,
//!   including the late `tenant_id` in the logs, EMF document and X-Ray annotations.

#![allow(clippy::unwrap_used)] // benches: a failed unwrap is a failed bench
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::routing::get;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use lift::tenant::{TenantLayer, TenantResolver};
use lift::{App, Context, Principal};
use lift_testing::{events, TestClient};
use serde_json::{json, Map, Value};

fn claims() -> Map<String, Value> {
    let v = json!({
        "sub": "user-1", "iss": "https://issuer.example.com", "aud": "api", "exp": 4_000_000_000u64,
        "iat": 1_700_000_000u64, "scope": "orders:read orders:write", "email": "a@example.com",
        "custom:tenant_id": "acme-corp", "cognito:groups": ["admins"], "jti": "abc-123",
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

async fn stand_in_auth(req: Request, next: Next) -> Response {
    if let Some(ctx) = req.extensions().get::<Context>() {
        let mut p = Principal::new("user-1");
        p.claims = claims();
        let _ = ctx.set_principal(p);
    }
    next.run(req).await
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = TestClient::new(App::new().build());
    let mut g = c.benchmark_group("tenant");
    g.throughput(Throughput::Elements(1));

    let by_claim = TenantResolver::new().claim("custom:tenant_id").lambda_isolation();
    let principal = {
        let mut p = Principal::new("user-1");
        p.claims = claims();
        p
    };
    g.bench_function("apply_claim", |b| {
        b.iter_batched(
            || {
                let ctx = client.context();
                ctx.set_principal(principal.clone()).unwrap();
                ctx
            },
            |ctx| {
                let t = by_claim.apply(&ctx, None).unwrap();
                (ctx, t) // dropped outside the timing
            },
            BatchSize::SmallInput,
        )
    });
    let by_lambda = TenantResolver::new().lambda_isolation();
    let mut lambda = client.context().lambda().clone();
    lambda.tenant_id = Some("acme-corp".to_owned());
    g.bench_function("apply_lambda_isolation", |b| {
        b.iter_batched(
            || Context::from_lambda(lambda.clone(), false),
            |ctx| {
                let t = by_lambda.apply(&ctx, None).unwrap();
                (ctx, t)
            },
            BatchSize::SmallInput,
        )
    });
    let header = TenantResolver::new().trust_header("x-tenant-id").unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("x-tenant-id", http::HeaderValue::from_static("acme-corp"));
    g.bench_function("apply_trusted_header", |b| {
        b.iter_batched(
            || client.context(),
            |ctx| {
                let t = header.apply(&ctx, Some(&headers)).unwrap();
                (ctx, t)
            },
            BatchSize::SmallInput,
        )
    });

    let obs = lift::observability::Observability::builder()
        .service("bench")
        .log_sink(lift::observability::NullSink)
        .emf_sink(lift::observability::NullSink)
        .xray_sink(lift::observability::NullSink)
        .build()
        .unwrap();
    let _ = obs.install();
    let hello = || {
        get(|ctx: Context| async move {
            black_box(ctx.tenant().map(Arc::<str>::from))
                .map_or(0, |t| t.len())
                .to_string()
        })
    };
    let without = App::new()
        .route("/hello", hello())
        .resilience(from_fn(stand_in_auth))
        .observability(obs.clone())
        .build();
    let obs2 = obs.clone();
    let with = App::new()
        .route("/hello", hello())
        .resilience(TenantLayer::new(by_claim.clone()))
        .resilience(from_fn(stand_in_auth))
        .observability(obs)
        .build();
    // The layer whose claim no principal holds: its plumbing without a tenant to publish.
    let idle = App::new()
        .route("/hello", hello())
        .resilience(TenantLayer::new(TenantResolver::new().claim("absent")))
        .resilience(from_fn(stand_in_auth))
        .observability(obs2)
        .build();
    let event = events::apigw_v2("GET", "/hello").build().to_string();
    let lambda_ctx = client.context().lambda().clone();
    for (name, lift) in [
        ("get_without_tenant_layer", &without),
        ("get_tenant_layer_no_tenant", &idle),
        ("get_with_tenant_layer", &with),
    ] {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let out = lift.invoke(black_box(&event), lambda_ctx.clone()).await.unwrap();
                black_box(out.to_json())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
