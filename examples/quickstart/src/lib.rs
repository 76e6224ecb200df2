//! The Lift quick start. Its behaviour is a contract the end-to-end tests check:
//!
//! - `GET /hello/{name}` → 200 `{"message": "hello, {name}"}`
//! - `POST /orders` `{"item": 1..=64 chars, "quantity": 1..=1000}` → 201 with an `order_id`;
//!   malformed JSON → 400, a broken rule → 422 naming the field
//! - `POST /orders` with an `Idempotency-Key` runs once per key for an hour: a repeat gets the
//!   same order with `idempotent-replayed: true`, one in flight 409 with `Retry-After`, another
//!   body under the same key 422 `idempotency_key_reused`; with `LIFT_TABLE` across every
//!   process sharing the table (the table not answering within a second: 503
//!   `idempotency_unavailable`); `GET /panic` with a key shows a panic releasing it
//! - SQS messages with an `order_id` are processed once per order id (a redelivery is
//!   acknowledged without running; one in flight elsewhere is reported in `batchItemFailures`)
//! - `GET /health` → 200 `{"status": "ok"}`; unknown path → 404; wrong method → 405
//! - `GET /health/ready` → 200 when ready, else 503, `{"status": "ready"|"not_ready", "checks":
//!   {"table": {"status": "up"|"down"|"timed_out", "latency_ms": ..}}}`: with `LIFT_TABLE` the
//!   table must answer DescribeTable within 1 s (reports kept 2 s); without it, no check
//! - CORS for the origins in `QUICKSTART_CORS_ORIGINS` (comma-separated, default
//!   `https://app.example.com`; `*` for any origin without credentials): preflights answered
//!   before every other layer, CORS headers on every answer to an allowed origin (errors too),
//!   none for other origins; the security-headers preset (HSTS, `nosniff`, `X-Frame-Options:
//!   DENY`, `Referrer-Policy`) on every response
//! - `GET /panic` panics on purpose, to show the panic boundary (500, the process keeps serving)
//! - `GET /flaky?fail=N` shows the circuit breaker: the first call arms a process-wide counter
//!   at N (`&reset=true` re-arms it); while it is above zero each call that reaches the handler
//!   takes one off and fails with 500. After 10 failures the route's circuit opens (503
//!   `circuit_open` with `Retry-After`), other routes unaffected; 5 s later trial calls go
//!   through and, the counter spent, close it again.
//! - every HTTP and WebSocket route runs behind Lift's default resilience stack (rate limit, adaptive load
//!   shedding, bulkhead, a circuit breaker per route, deadline-aware timeout); the process admits
//!   `QUICKSTART_RATE_LIMIT_PER_SECOND` requests per second (default 1000), then answers 429
//! - with observability on (the binary turns it on from the environment), `POST /orders`
//!   counts `OrdersCreated` in the invocation's EMF document, and each invocation writes one
//!   summary log line with its route, status and latency
//! - `GET /quota` → 200 `{"remaining": n}`, at most `QUICKSTART_QUOTA_PER_MINUTE` (default 20)
//!   calls per minute per client (`x-api-key`, else the source IP), then 429 with `Retry-After`;
//!   with `LIFT_TABLE` the quota holds across every process sharing the table, and fails open
//!   (with a log line) when the table does not answer within a second
//! - `LIFT_TABLE` names the fleet table (`LIFT_CREATE_TABLE=true` creates it when missing);
//!   without it everything stays in process
//! - SQS, Kinesis, DynamoDB Streams: a record whose payload has `"fail": true` is reported in
//!   `batchItemFailures`, the rest succeed
//! - SNS, S3, EventBridge and schedules: logged, succeed
//! - WebSocket `$default` echoes the message
//! - tenancy: every HTTP and WebSocket route resolves the tenant from the verified claim
//!   `tenant_id` and Lambda tenant isolation (never from a header); it is in the invocation's
//!   later log lines (`tenant_id`), EMF document and X-Ray annotations; a malformed one is 403
//!   `invalid_tenant`, two that differ 403 `tenant_mismatch`
//! - VPC Lattice (v1 and v2 events) reach the same HTTP routes and get Lattice's response shape;
//!   Kafka records from any topic are logged and succeed, a value that is JSON with
//!   `"fail": true` fails the invocation (the batch is redelivered)
//! - WebSocket `$connect` records the connection with the invocation's tenant and principal
//!   (in `LIFT_TABLE` when set, in memory otherwise; 503 when the table fails), `$disconnect`
//!   removes it; route `broadcast` (`{"action": "broadcast", "message": ...}`) sends
//!   `{"from", "message"}` to every connection of the sender's tenant through the management
//!   API (`https://{domain}/{stage}`, or `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`), answers
//!   `{"sent", "gone", "failed"}` and forgets connections that answer 410 Gone
//! - `LIFT_APPCONFIG=app/env/profile` polls AppConfig (its Lambda extension, port
//!   `AWS_APPCONFIG_EXTENSION_HTTP_PORT`) every `LIFT_CONFIG_POLL_SECONDS` (default 45): a
//!   document `{"quota_per_minute": 5, "log_level": "DEBUG"}` changes `/quota`'s limit and the
//!   log level of invocations that start after it, no restart; `"breaker"`, `"timeout_ms"`,
//!   `"bulkhead_max_concurrent"`, `"shed_random_rate"` and `"shed_max_concurrent"` tune the
//!   resilience stack the same way (each layer keeps its state)
//! - `GET /me` → 200 `{"sub", "tenant"}` (tenant: the claim `tenant_id`, also the invocation's
//!   tenant in its log lines) for a JWT verified with
//!   `QUICKSTART_JWT_SECRET` (HS256) or `QUICKSTART_JWKS_URL` (RS256, ES256), `iss`/`aud` checked
//!   when `QUICKSTART_JWT_ISSUER`/`QUICKSTART_JWT_AUDIENCE` are set, or for the identity an API
//!   Gateway JWT or Lambda authorizer verified; 401 otherwise (always, when neither is set).
//!   API Gateway authorizer events get the same check: REST/WebSocket TOKEN and REQUEST an IAM
//!   policy (Allow for `principalId` = `sub` with `context.tenant_id`, else Deny), HTTP API 2.0
//!   the simple response (`isAuthorized`, `context.tenant_id`)

mod auth;
pub mod config;
mod health;
mod hygiene;
mod orders;
mod quota;
mod settings;
mod sources;
mod tenancy;
mod websocket;

use std::sync::atomic::{AtomicI64, Ordering};

pub use hygiene::{CorsOrigins, DEFAULT_CORS_ORIGINS};
pub use orders::{NewOrder, Order};
pub use settings::{Settings, DEFAULT_QUOTA_PER_MINUTE, DEFAULT_RATE_LIMIT_PER_SECOND};

use axum::routing::get;
use lift::{App, Context, DynamoDb, Error, EventBridge, Json, Kinesis, Path, Query, S3Match, Sns, WebSocket, S3};
use serde::Deserialize;
use serde_json::{json, Value};

async fn hello(Path(name): Path<String>) -> Json<Value> {
    Json(json!({ "message": format!("hello, {name}") }))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn panic_route() -> &'static str {
    panic!("the /panic route panics on purpose")
}

/// Failures left for `/flaky`; -1 until armed.
static FLAKY_LEFT: AtomicI64 = AtomicI64::new(-1);

#[derive(Debug, Deserialize)]
struct FlakyQuery {
    fail: Option<i64>,
    #[serde(default)]
    reset: bool,
}

async fn flaky(Query(q): Query<FlakyQuery>) -> Result<Json<Value>, Error> {
    if let Some(n) = q.fail {
        if q.reset {
            FLAKY_LEFT.store(n.max(0), Ordering::SeqCst);
        } else {
            let _ = FLAKY_LEFT.compare_exchange(-1, n.max(0), Ordering::SeqCst, Ordering::SeqCst);
        }
    }
    let before = FLAKY_LEFT.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| (left > 0).then(|| left - 1));
    match before {
        Ok(left) => Err(Error::internal(format!(
            "flaky: failing on purpose, {} failure(s) left",
            left - 1
        ))),
        Err(_) => Ok(Json(json!({ "status": "ok" }))),
    }
}

fn wants_failure(v: &Value) -> bool {
    v.get("fail").and_then(Value::as_bool).unwrap_or(false)
}

fn fail(what: &str) -> Error {
    Error::bad_request("record_refused", format!("{what} asked to fail"))
}

async fn on_kinesis(_ctx: Context, rec: Kinesis<Value>) -> Result<(), Error> {
    if wants_failure(&rec.body) {
        return Err(fail("Kinesis record"));
    }
    tracing::info!(sequence_number = %rec.meta.kinesis.sequence_number, "Kinesis record processed");
    Ok(())
}

async fn on_dynamodb(_ctx: Context, rec: DynamoDb<Value>) -> Result<(), Error> {
    if rec.body.as_ref().is_some_and(wants_failure) {
        return Err(fail("DynamoDB record"));
    }
    tracing::info!(event = %rec.meta.event_name, "DynamoDB record processed");
    Ok(())
}

async fn on_sns(_ctx: Context, msg: Sns<String>) -> Result<(), Error> {
    tracing::info!(topic = %msg.meta.topic_arn, message_id = %msg.meta.message_id, "SNS notification received");
    Ok(())
}

async fn on_s3(_ctx: Context, obj: S3) -> Result<(), Error> {
    tracing::info!(bucket = %obj.bucket, key = %obj.key, event = %obj.event_name, "S3 notification received");
    Ok(())
}

async fn on_event(_ctx: Context, ev: EventBridge<Value>) -> Result<(), Error> {
    tracing::info!(source = %ev.meta.source, detail_type = %ev.meta.detail_type, "EventBridge event received");
    Ok(())
}

async fn on_schedule(_ctx: Context, ev: EventBridge<Value>) -> Result<(), Error> {
    tracing::info!(resources = ?ev.meta.resources, "scheduled event received");
    Ok(())
}

async fn ws_default(ws: WebSocket, body: String) -> Json<Value> {
    Json(json!({ "connection_id": ws.connection_id, "echo": body }))
}

/// Lift's default resilience stack, its per-route circuit breaker sharing its state through
/// the fleet table when there is one (a circuit opened in one process is open in every other
/// within about a second; one trial call runs across the fleet in half-open). With
/// `LIFT_APPCONFIG`, the breaker's thresholds and wait (`"breaker"`), the shedder's random rate
/// and cap (`"shed_random_rate"`, `"shed_max_concurrent"`), the bulkhead's size
/// (`"bulkhead_max_concurrent"`) and the timeout (`"timeout_ms"`) follow the document; each
/// layer keeps its state across a change.
fn with_resilience(app: App, settings: &Settings) -> App {
    use lift::config::{breaker_tuning, bulkhead_tuning, load_shed_tuning, timeout_tuning};
    use lift::resilience::circuit_breaker::{BreakerStore, CircuitBreakerLayer, LocalStore};
    use lift::resilience::{http_breaker_config, route_key, HttpClassifier, MetricsListener, RouteKey, RouteKeyFn};
    use std::sync::Arc;
    let store: Arc<dyn BreakerStore<Option<RouteKey>>> = match &settings.table {
        Some(table) => Arc::new(lift::dynamodb::FleetBreakerStore::new(table.clone(), "quickstart")),
        None => Arc::new(LocalStore),
    };
    let breaker = CircuitBreakerLayer::new(http_breaker_config())
        .key(route_key as RouteKeyFn)
        .classifier(HttpClassifier)
        .listener(MetricsListener)
        .store(store);
    // The process-wide limit at the configured rate, with the default stack's headers and
    // metrics.
    let rate_limit = lift::resilience::rate_limit::RateLimitLayer::new(lift::resilience::rate_limit::per_second(
        settings.rate_limit_per_second,
    ))
    .http_headers()
    .listener(Arc::new(MetricsListener));
    let stack = lift::resilience::default_stack().rate_limit(rate_limit);
    let Some(config) = &settings.config else {
        return app.resilience(stack.circuit_breaker(breaker));
    };
    let doc = config.settings();
    app.resilience(
        stack
            .circuit_breaker(breaker.tuning(breaker_tuning(doc.clone())))
            .map_load_shed(|l| l.tuning(load_shed_tuning(doc.clone())))
            .map_bulkhead(|b| b.tuning(bulkhead_tuning(doc.clone())))
            .map_timeout(|t| t.tuning(timeout_tuning(doc.clone()))),
    )
}

/// The quick-start app with its embedded defaults: every limit and breaker in process.
pub fn app() -> App {
    app_with(Settings::default())
}

/// The quick-start app with `settings` (see [`Settings::from_env`]).
pub fn app_with(settings: Settings) -> App {
    let idempotency = orders::policy(&settings);
    let app = App::new()
        .route("/hello/{name}", get(hello))
        .route("/orders", orders::route(&idempotency))
        .route("/health", get(health))
        .route("/panic", get(panic_route).layer(orders::idempotent(&idempotency)))
        .route("/flaky", get(flaky))
        .route("/quota", quota::route(&settings))
        .readiness(health::readiness(&settings))
        .route("/me", auth::me_route(settings.jwt.as_ref()))
        .authorizer({
            let jwt = settings.jwt.clone();
            move |_ctx: Context, req| auth::authorize(jwt.clone(), req)
        })
        .websocket("$default", ws_default)
        .sqs("*", orders::sqs(&idempotency))
        .kinesis("*", on_kinesis)
        .dynamodb("*", on_dynamodb)
        .sns("*", on_sns)
        .s3(S3Match::any(), on_s3)
        .schedule(on_schedule)
        .eventbridge("*", on_event);
    let app = sources::register(app);
    let app = websocket::routes(app, &settings);
    // CORS sits outermost and the security headers are added at the edge, whatever the order.
    let app = hygiene::apply(app, &settings.cors_origins);
    let app = match &settings.config {
        Some(config) => app.config(config.clone()),
        None => app,
    };
    // Applied at build around every HTTP and WebSocket route, whatever the order of calls.
    let app = with_resilience(app, &settings);
    // Added after the resilience stack, so it wraps it (limits can key by tenant).
    tenancy::resolve_tenants(app)
}
