//! CPU per call on the idempotent path, in process (in-memory store): `POST /orders` event
//! bytes → response bytes without the layer, with it on a fresh key (claim, run, store the
//! response), and with it on a repeated key (replay). Also the function API alone.
//!
//! `cargo bench -p lift --bench idempotency -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used)] // benches: a failed unwrap is a failed run
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::routing::post;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lift::idempotency::{Idempotency, IdempotencyLayer, Key};
use lift::{App, Json};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};

async fn create(Json(order): Json<Value>) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(json!({"order_id": "o-1", "item": order["item"]})),
    )
}

fn event(key: Option<&str>) -> String {
    let mut e = events::apigw_v2("POST", "/orders");
    if let Some(k) = key {
        e = e.header("idempotency-key", k);
    }
    e.json(&json!({"item": "book", "quantity": 2})).build().to_string()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let plain = App::new().route("/orders", post(create)).build();
    let policy = Idempotency::in_memory();
    let idem = App::new()
        .route("/orders", post(create).layer(IdempotencyLayer::new(policy.clone())))
        .build();
    let lambda_ctx = TestClient::new(plain.clone()).context().lambda().clone();

    let mut g = c.benchmark_group("idempotency");
    g.throughput(Throughput::Elements(1));
    let no_key = event(None);
    g.bench_function("post_without_layer", |b| {
        b.to_async(&rt).iter(|| async {
            let out = plain.invoke(black_box(&no_key), lambda_ctx.clone()).await.unwrap();
            black_box(out.to_json())
        })
    });
    // A fresh key per call: the events are built up front, outside the measured part.
    let fresh: Vec<String> = (0..200_000).map(|i| event(Some(&format!("key-{i}")))).collect();
    let next = AtomicU64::new(0);
    g.bench_function("post_first_call", |b| {
        b.to_async(&rt).iter(|| async {
            let i = next.fetch_add(1, Ordering::Relaxed) as usize % fresh.len();
            let out = idem.invoke(black_box(&fresh[i]), lambda_ctx.clone()).await.unwrap();
            black_box(out.to_json())
        })
    });
    let repeat = event(Some("same-key"));
    g.bench_function("post_replay", |b| {
        b.to_async(&rt).iter(|| async {
            let out = idem.invoke(black_box(&repeat), lambda_ctx.clone()).await.unwrap();
            black_box(out.to_json())
        })
    });
    let ctx = TestClient::new(plain.clone()).context();
    let n = AtomicU64::new(0);
    g.bench_function("run_first_call", |b| {
        b.to_async(&rt).iter(|| async {
            let key = Key::new(n.fetch_add(1, Ordering::Relaxed).to_be_bytes());
            let v: u64 = policy
                .run(&ctx, "bench", key, || async { Ok::<_, lift::Error>(7) })
                .await
                .unwrap();
            black_box(v)
        })
    });
    g.bench_function("run_replay", |b| {
        b.to_async(&rt).iter(|| async {
            let v: u64 = policy
                .run(&ctx, "bench", Key::new("same"), || async { Ok::<_, lift::Error>(7) })
                .await
                .unwrap();
            black_box(v)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
