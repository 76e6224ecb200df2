//! Raw event bytes → response bytes through `App`, no middleware: the floor every layer adds to.
//!
//! `cargo bench -p lift --bench dispatch`

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
    g.bench_function("apigw_v2_get_bytes_to_bytes", |b| {
        b.to_async(&rt).iter(|| async {
            let ctx = client.context();
            let out = lift.invoke_with(black_box(&v2), ctx).await.expect("response");
            black_box(out.to_json())
        })
    });
    g.bench_function("sqs_batch_10_bytes_to_bytes", |b| {
        b.to_async(&rt).iter(|| async {
            let ctx = client.context();
            let out = lift.invoke_with(black_box(&sqs), ctx).await.expect("response");
            black_box(out.to_json())
        })
    });
    g.bench_function("context_only", |b| b.iter(|| black_box(client.context())));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
