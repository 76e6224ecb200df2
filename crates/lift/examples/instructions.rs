//! Runs N invocations of one benchmark case, for instruction counting under callgrind (which,
//! unlike wall-clock time, is repeatable on a shared machine):
//!
//! ```sh
//! cargo build --release -p lift --example instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/instructions v2 1000
//! ```
//!
//! Run it with two values of N; the difference of the totals divided by the difference of N is
//! the cost of one invocation without the set-up. `scripts/instructions.sh` does that.

#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;

use axum::routing::get;
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

pub(crate) fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "v2".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let app = App::new().route("/hello/{name}", get(hello)).sqs("*", record);
    let app = match case.as_str() {
        "full" => {
            let obs = lift::observability::Observability::builder()
                .service("bench")
                .log_sink(lift::observability::NullSink)
                .emf_sink(lift::observability::NullSink)
                .xray_sink(lift::observability::NullSink)
                .build()
                .expect("observability");
            let _ = obs.install();
            app.resilience(lift::resilience::default_stack()).observability(obs)
        }
        _ => app,
    };
    let lift = app.build();
    let lambda_ctx = TestClient::new(lift.clone()).context().lambda().clone();
    let event = match case.as_str() {
        "sqs" => {
            let mut batch = events::sqs("orders");
            for i in 0..10 {
                batch = batch.message(json!({"order": i, "item": "book"}).to_string());
            }
            batch.build().to_string()
        }
        "v1" => events::apigw_v1("GET", "/hello/world")
            .header("accept", "application/json")
            .build()
            .to_string(),
        _ => events::apigw_v2("GET", "/hello/world")
            .header("accept", "application/json")
            .build()
            .to_string(),
    };
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
