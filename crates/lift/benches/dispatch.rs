//! Raw event bytes → response bytes through `App`, no middleware: the floor every layer adds to.
//!
//! `cargo bench -p lift --bench dispatch`
//!
//! The Lambda context is built once and cloned per iteration (as the runtime builds one per
//! invocation from its headers), so the numbers are Lift's own cost.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![allow(missing_docs)]

use std::hint::black_box;

use axum::routing::get;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lift::{App, Context, Json, Sqs};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};

async fn hello(axum::extract::Path(name): axum::extract::Path<String>) -> Json<Value> {
    Json(json!({ "message": format!("hello, {name}") }))
}

async fn record(_ctx: Context, msg: Sqs<Value>) -> Result<(), lift::Error> {
    black_box(&msg.body);
    Ok(())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let lift = App::new().route("/hello/{name}", get(hello)).sqs("*", record).build();
    let client = TestClient::new(lift.clone());

    let v2 = events::apigw_v2("GET", "/hello/world")
        .header("accept", "application/json")
        .build()
        .to_string();
    let mut batch = events::sqs("orders");
    for i in 0..10 {
        batch = batch.message(json!({"order": i, "item": "book"}).to_string());
    }
    let sqs = batch.build().to_string();

    let mut g = c.benchmark_group("dispatch");
    g.throughput(Throughput::Elements(1));
    let lambda_ctx = client.context().lambda().clone();
    g.bench_function("apigw_v2_get_bytes_to_bytes", |b| {
        b.to_async(&rt).iter(|| async {
            let out = lift.invoke(black_box(&v2), lambda_ctx.clone()).await.expect("response");
            black_box(out.to_json())
        })
    });
    g.bench_function("sqs_batch_10_bytes_to_bytes", |b| {
        b.to_async(&rt).iter(|| async {
            let out = lift
                .invoke(black_box(&sqs), lambda_ctx.clone())
                .await
                .expect("response");
            black_box(out.to_json())
        })
    });
    // The same GET from VPC Lattice (v2), and a 10-record Kafka batch.
    let lattice_lift = App::new()
        .route("/hello/{name}", get(hello))
        .kafka("*", |_ctx: Context, _rec: lift::Kafka<Value>| async {
            Ok::<_, lift::Error>(())
        })
        .build();
    let lattice = events::vpc_lattice_v2("GET", "/hello/world")
        .header("accept", "application/json")
        .build()
        .to_string();
    let mut kafka = events::kafka();
    for i in 0..10 {
        kafka = kafka.record("orders", json!({"order": i, "item": "book"}).to_string().as_bytes());
    }
    let kafka = kafka.build().to_string();
    g.bench_function("lattice_v2_get_bytes_to_bytes", |b| {
        b.to_async(&rt).iter(|| async {
            let out = lattice_lift
                .invoke(black_box(&lattice), lambda_ctx.clone())
                .await
                .expect("response");
            black_box(out.to_json())
        })
    });
    g.bench_function("kafka_batch_10_bytes_to_bytes", |b| {
        b.to_async(&rt).iter(|| async {
            let out = lattice_lift
                .invoke(black_box(&kafka), lambda_ctx.clone())
                .await
                .expect("response");
            black_box(out.to_json())
        })
    });
    // The same GET through the whole stack: default resilience layers and observability
    // (one log line, one EMF flush, one X-Ray subsegment) into sinks that discard, so the
    // difference to the bare GET is the stack's own cost.
    let obs = lift::observability::Observability::builder()
        .service("bench")
        .log_sink(lift::observability::NullSink)
        .emf_sink(lift::observability::NullSink)
        .xray_sink(lift::observability::NullSink)
        .build()
        .expect("observability");
    let _ = obs.install();
    let full = App::new()
        .route("/hello/{name}", get(hello))
        .resilience(lift::resilience::default_stack())
        .observability(obs)
        .build();
    g.bench_function("apigw_v2_get_full_stack", |b| {
        b.to_async(&rt).iter(|| async {
            let out = full.invoke(black_box(&v2), lambda_ctx.clone()).await.expect("response");
            black_box(out.to_json())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
