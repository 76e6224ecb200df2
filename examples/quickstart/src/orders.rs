//! Orders: `POST /orders` (idempotent on `Idempotency-Key`) and SQS order messages
//! (idempotent on their `order_id` field). The idempotency records live in process, or in the
//! fleet table with `LIFT_TABLE`, so a retry reaching another process is still a replay.

use axum::http::StatusCode;
use axum::routing::{post, MethodRouter};
use lift::dynamodb::idempotency::DynamoIdempotencyStore;
use lift::idempotency::{Idempotency, IdempotencyLayer, Selection};
use lift::{Context, Error, Json, RecordHandler, Sqs, ValidJson};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use validator::Validate;

use crate::settings::Settings;

/// A new order, as posted to `POST /orders`.
#[derive(Debug, Deserialize, Validate)]
pub struct NewOrder {
    /// What is ordered: 1 to 64 characters.
    #[validate(length(min = 1, max = 64))]
    pub item: String,
    /// How many: 1 to 1000.
    #[validate(range(min = 1, max = 1000))]
    pub quantity: u32,
}

/// A created order.
#[derive(Debug, Serialize)]
pub struct Order {
    /// A fresh id.
    pub order_id: String,
    /// What was ordered.
    pub item: String,
    /// How many.
    pub quantity: u32,
}

/// The quick start's idempotency policy: fleet-wide on the table when there is one, else in
/// this process. Records are replayed for an hour; when the table does not answer within a
/// second, the call is refused (503 `idempotency_unavailable`), never run twice silently.
pub(crate) fn policy(settings: &Settings) -> Idempotency {
    match &settings.table {
        Some(table) => Idempotency::new(DynamoIdempotencyStore::new(table)),
        None => Idempotency::in_memory(),
    }
}

/// The layer that makes an HTTP route idempotent on `Idempotency-Key`.
pub(crate) fn idempotent(policy: &Idempotency) -> IdempotencyLayer {
    IdempotencyLayer::new(policy.clone())
}

/// `POST /orders`, idempotent on `Idempotency-Key`.
pub(crate) fn route(policy: &Idempotency) -> MethodRouter {
    post(create_order).layer(idempotent(policy))
}

async fn create_order(ctx: Context, ValidJson(order): ValidJson<NewOrder>) -> (StatusCode, Json<Order>) {
    tracing::info!(item = %order.item, quantity = order.quantity, "creating order");
    // Other invocations run while this one waits (as a real handler would wait on a database).
    tokio::task::yield_now().await;
    if let Err(e) = ctx.metrics().count("OrdersCreated", 1) {
        tracing::warn!(error = %e, "metric refused");
    }
    tracing::info!(item = %order.item, quantity = order.quantity, "order created");
    let order = Order {
        order_id: uuid::Uuid::new_v4().to_string(),
        item: order.item,
        quantity: order.quantity,
    };
    (StatusCode::CREATED, Json(order))
}

/// SQS messages: those with an `order_id` are processed once per order id (a redelivered
/// one is acknowledged without running again; one in flight elsewhere is reported failed and
/// redelivered later); the others run every time.
pub(crate) fn sqs(policy: &Idempotency) -> impl RecordHandler<Sqs<Value>> {
    policy.records("sqs-orders", Selection::fields(["order_id"]), on_sqs)
}

async fn on_sqs(_ctx: Context, msg: Sqs<Value>) -> Result<(), Error> {
    tokio::task::yield_now().await;
    if crate::wants_failure(&msg.body) {
        return Err(crate::fail("SQS message"));
    }
    tracing::info!(
        message_id = msg.meta.message_id().unwrap_or(""),
        order_id = msg
            .body
            .get("order_id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(""),
        "SQS message processed"
    );
    Ok(())
}
