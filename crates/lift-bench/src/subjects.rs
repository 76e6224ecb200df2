//! The in-process subjects of the side-by-side benchmark: raw event text in, response bytes out,
//! the same axum handler behind each.
//!
//! * `lambda_http-axum`: the axum `Router` behind `lambda_http`'s own [`Adapter`], as a Rust user
//!   writes a function without Lift. Per invocation it does what `lambda_runtime` and the adapter
//!   do between the Runtime API's body and its response body: the runtime's decode of the event
//!   (`serde_path_to_error` over `serde_json`) into [`LambdaRequest`], the adapter's conversion to
//!   an `http::Request`, the router, the conversion back into its `LambdaResponse` and its
//!   serialisation (`serde_json::to_vec`, as the runtime posts it).
//! * `lift-bare`: the router on [`lift::App`] with nothing else.
//! * `lift-rate-limit` … `lift-timeout`: one layer of [`default_stack`] alone (the others replaced
//!   by [`Identity`]), with its default settings but the rate limit's ([`measured_stack`]).
//! * `lift-logs`, `lift-emf`, `lift-xray`: one observability signal alone, into [`NullSink`].
//! * `lift-whole-stack`: the default resilience stack ([`measured_stack`]) and all three
//!   signals.
//! * `lift-sqs-batch-10`: a bare SQS batch of ten records (the second decode target).
//!
//! A subject with observability installs its subscriber process-wide, so at most one such subject
//! can be built per process ([`BuildError::SubscriberTaken`]): the benchmark programs run each
//! subject in its own process.

use std::fmt;
use std::future::poll_fn;
use std::hint::black_box;

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use lambda_http::request::LambdaRequest;
use lambda_http::Adapter;
use lift::deps::lambda_runtime::{self, LambdaEvent};
use lift::observability::{NullSink, Observability, ObservabilityBuilder};
use lift::resilience::default_stack;
use lift::{App, Context, Lift, Sqs};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};
use tower::layer::util::Identity;
use tower::Service;

/// The criterion group and results group of these subjects.
pub const GROUP: &str = "in-process";

/// Every subject, in the order tables and plots list them.
pub const SUBJECTS: &[&str] = &[
    "lambda_http-axum",
    "lift-bare",
    "lift-rate-limit",
    "lift-load-shed",
    "lift-bulkhead",
    "lift-breaker",
    "lift-timeout",
    "lift-logs",
    "lift-emf",
    "lift-xray",
    "lift-whole-stack",
    "lift-sqs-batch-10",
];

/// The subject every other Lift subject's cost is measured above.
pub const BASELINE: &str = "lift-bare";

/// Why a subject could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// The name is not one of [`SUBJECTS`].
    Unknown(String),
    /// Another subject (or anything else) already installed a process-wide tracing subscriber.
    SubscriberTaken(String),
    /// The observability configuration was rejected.
    Observability(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(name) => write!(f, "unknown subject {name:?}; subjects: {}", SUBJECTS.join(", ")),
            Self::SubscriberTaken(name) => write!(
                f,
                "{name}: a tracing subscriber is already installed in this process; run each subject in its own process"
            ),
            Self::Observability(e) => write!(f, "observability: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// The handler behind every HTTP subject: plain axum, nothing Lift-specific.
async fn hello(Path(name): Path<String>) -> Json<Value> {
    Json(json!({ "message": format!("hello, {name}") }))
}

async fn record(_ctx: Context, msg: Sqs<Value>) -> Result<(), lift::Error> {
    black_box(&msg.body);
    Ok(())
}

/// [`default_stack`] with its process-wide rate limit refilling out of a benchmark's way: the
/// default's burst of 1,000 (so its headers carry the same small numbers as in production,
/// which cost no allocation), refilled every nanosecond instead of every millisecond. A
/// benchmark loops far faster than 1,000 invocations a second, and measured must be the cost of
/// an admitted request, not of a 429; the limiter still decides every invocation.
pub fn measured_stack() -> lift::resilience::DefaultStack {
    use lift::resilience::rate_limit::{Quota, RateLimitLayer};
    use std::num::NonZeroU32;
    let burst = NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(std::time::Duration::from_nanos(1))
        .map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst));
    default_stack().rate_limit(
        RateLimitLayer::new(quota)
            .http_headers()
            .listener(std::sync::Arc::new(lift::resilience::MetricsListener)),
    )
}

/// The API Gateway v2 (HTTP API) `GET /hello/world` event every HTTP subject serves.
pub fn get_event() -> String {
    events::apigw_v2("GET", "/hello/world")
        .header("accept", "application/json")
        .build()
        .to_string()
}

/// The SQS batch of ten JSON records of `lift-sqs-batch-10`.
pub fn sqs_event() -> String {
    let mut batch = events::sqs("orders");
    for i in 0..10 {
        batch = batch.message(json!({"order": i, "item": "book"}).to_string());
    }
    batch.build().to_string()
}

fn router() -> Router {
    Router::new().route("/hello/{name}", get(hello))
}

enum Kind {
    Lift(Lift),
    LambdaHttp(Adapter<'static, axum::response::Response, Router>),
}

/// One built subject: its function, its event, and the Lambda context cloned per invocation (the
/// runtime builds one per invocation from the `/next` response's headers).
pub struct Subject {
    name: &'static str,
    kind: Kind,
    event: String,
    lambda: lambda_runtime::Context,
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn observability(
    name: &str,
    on: impl FnOnce(ObservabilityBuilder) -> ObservabilityBuilder,
) -> Result<Observability, BuildError> {
    let obs = on(Observability::builder().service("bench"))
        .build()
        .map_err(|e| BuildError::Observability(e.to_string()))?;
    obs.install()
        .map_err(|_| BuildError::SubscriberTaken(name.to_owned()))?;
    Ok(obs)
}

impl Subject {
    /// A current-thread runtime and the subject called `name` on it, its answer checked once:
    /// how the measuring programs (`side_by_side measure`, `count_allocs`) start.
    pub fn checked(name: &str) -> Result<(tokio::runtime::Runtime, Self), String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let mut subject = Subject::build(name).map_err(|e| e.to_string())?;
        rt.block_on(subject.check())?;
        Ok((rt, subject))
    }

    /// Builds the subject called `name` (one of [`SUBJECTS`]). Subjects with observability
    /// install its subscriber process-wide.
    pub fn build(name: &str) -> Result<Self, BuildError> {
        let name: &'static str = SUBJECTS
            .iter()
            .find(|s| **s == name)
            .ok_or_else(|| BuildError::Unknown(name.to_owned()))?;
        let app = || App::new().route("/hello/{name}", get(hello));
        let lift = match name {
            "lambda_http-axum" => None,
            "lift-bare" => Some(app()),
            "lift-rate-limit" => Some(
                app().resilience(
                    measured_stack()
                        .load_shed(Identity::new())
                        .bulkhead(Identity::new())
                        .circuit_breaker(Identity::new())
                        .timeout(Identity::new()),
                ),
            ),
            "lift-load-shed" => Some(
                app().resilience(
                    default_stack()
                        .rate_limit(Identity::new())
                        .bulkhead(Identity::new())
                        .circuit_breaker(Identity::new())
                        .timeout(Identity::new()),
                ),
            ),
            "lift-bulkhead" => Some(
                app().resilience(
                    default_stack()
                        .rate_limit(Identity::new())
                        .load_shed(Identity::new())
                        .circuit_breaker(Identity::new())
                        .timeout(Identity::new()),
                ),
            ),
            "lift-breaker" => Some(
                app().resilience(
                    default_stack()
                        .rate_limit(Identity::new())
                        .load_shed(Identity::new())
                        .bulkhead(Identity::new())
                        .timeout(Identity::new()),
                ),
            ),
            "lift-timeout" => Some(
                app().resilience(
                    default_stack()
                        .rate_limit(Identity::new())
                        .load_shed(Identity::new())
                        .bulkhead(Identity::new())
                        .circuit_breaker(Identity::new()),
                ),
            ),
            "lift-logs" => Some(app().observability(observability(name, |b| {
                b.logs(true).metrics(false).tracing(false).log_sink(NullSink)
            })?)),
            "lift-emf" => Some(app().observability(observability(name, |b| {
                b.logs(false).metrics(true).tracing(false).emf_sink(NullSink)
            })?)),
            "lift-xray" => Some(app().observability(observability(name, |b| {
                b.logs(false).metrics(false).tracing(true).xray_sink(NullSink)
            })?)),
            "lift-whole-stack" => {
                let obs = observability(name, |b| b.log_sink(NullSink).emf_sink(NullSink).xray_sink(NullSink))?;
                Some(app().resilience(measured_stack()).observability(obs))
            }
            "lift-sqs-batch-10" => Some(App::new().sqs("*", record)),
            _ => return Err(BuildError::Unknown(name.to_owned())),
        };
        let lambda_app = App::new().build();
        let lambda = TestClient::new(lambda_app).context().lambda().clone();
        let event = if name == "lift-sqs-batch-10" {
            sqs_event()
        } else {
            get_event()
        };
        let kind = match lift {
            Some(app) => Kind::Lift(app.build()),
            None => Kind::LambdaHttp(Adapter::from(router())),
        };
        Ok(Self {
            name,
            kind,
            event,
            lambda,
        })
    }

    /// The subject's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Serves one invocation of the subject's event: its response as the bytes posted to the
    /// Runtime API. An error (which no subject produces on its own event) is the error's text.
    pub async fn invoke(&mut self) -> Result<Vec<u8>, String> {
        let event = black_box(&self.event);
        match &mut self.kind {
            Kind::Lift(lift) => lift
                .invoke(event, self.lambda.clone())
                .await
                .map(|out| out.to_json())
                .map_err(|d| format!("{}: {}", d.error_type, d.error_message)),
            Kind::LambdaHttp(adapter) => {
                let jd = &mut serde_json::Deserializer::from_slice(event.as_bytes());
                let payload: LambdaRequest = serde_path_to_error::deserialize(jd).map_err(|e| e.to_string())?;
                poll_fn(|cx| adapter.poll_ready(cx))
                    .await
                    .map_err(|e| -> String { match e {} })?;
                let response = adapter
                    .call(LambdaEvent::new(payload, self.lambda.clone()))
                    .await
                    .map_err(|e| -> String { match e {} })?;
                serde_json::to_vec(&response).map_err(|e| e.to_string())
            }
        }
    }

    /// One invocation, checked: an HTTP subject must answer 200 with the greeting, the SQS
    /// subject with no failed record. For a benchmark's set-up, so a broken subject is never
    /// timed.
    pub async fn check(&mut self) -> Result<(), String> {
        let out = self.invoke().await?;
        let v: Value = serde_json::from_slice(&out).map_err(|e| format!("{}: response is not JSON: {e}", self.name))?;
        let ok = if self.name == "lift-sqs-batch-10" {
            v.get("batchItemFailures")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
        } else {
            v.get("statusCode").and_then(Value::as_u64) == Some(200)
                && v.get("body")
                    .and_then(Value::as_str)
                    .is_some_and(|b| b.contains("hello, world"))
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{}: unexpected response {v}", self.name))
        }
    }
}
