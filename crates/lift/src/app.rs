//! [`App`]: the builder. Routes (HTTP, WebSocket, records), layers, state and observability
//! are collected here; [`App::build`] turns them into the [`Lift`] function.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::handler::Handler;
use axum::response::IntoResponse;
#[cfg(feature = "resilience")]
use axum::response::Response;
use axum::routing::{any, MethodRouter};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower::{Layer, Service};

use crate::context::Context;
use crate::edge::DEFAULT_CORRELATION_HEADER;
use crate::error::Error;
use crate::function::{Lift, Shared};
use crate::http::convert;
use crate::records::{
    dynamodb_input, erase, eventbridge_input, kinesis_input, s3_input, sns_input, sqs_input, DynamoDb, EventBridge,
    EventMatch, EventRoutes, FifoMode, Glob, Kinesis, RecordHandler, S3Match, Sns, Sqs, S3,
};
use crate::route_boundary::{RouteBoundary, RouteBoundaryLayer};
use crate::state::{AppState, Shared as SharedValue};
use crate::wrapped_router::WrappedRouter;

/// A layer applied at build to both routers (HTTP and WebSocket), whatever the order of the
/// builder calls.
/// A resilience stack, applied with the route boundary inside it (each wrap of a route costs
/// a boxed clone and a boxed future per request, so they share one).
type RouterLayer = Box<dyn Fn(Router, RouteBoundaryLayer) -> Router + Send + Sync>;

/// The default limit on HTTP request bodies read by extractors: 6 MB, Lambda's own limit on
/// synchronous payloads.
pub const DEFAULT_BODY_LIMIT: usize = 6 * 1024 * 1024;

/// Builds a Lift function: HTTP routes (axum), WebSocket routes, and record/event routes.
///
/// - HTTP routes follow axum (`route`, `merge`, `nest`, `fallback`, `layer`); WebSocket routes
///   are keyed by API Gateway route key.
/// - Record routes of one source are tried in the order they were added; the first whose
///   pattern matches serves the record (put specific patterns before `"*"`).
/// - [`resilience`](Self::resilience) wraps every HTTP and WebSocket route, whenever it is
///   called; [`with_state`](Self::with_state) shares values with every handler.
///
/// ```
/// use lift::{App, Context, Json, Sqs};
/// use axum::routing::get;
///
/// async fn hello() -> Json<serde_json::Value> {
///     Json(serde_json::json!({"message": "hello"}))
/// }
///
/// async fn order(_ctx: Context, msg: Sqs<serde_json::Value>) -> Result<(), lift::Error> {
///     println!("{}", msg.body);
///     Ok(())
/// }
///
/// let app = App::new().route("/hello", get(hello)).sqs("orders", order);
/// let function = app.build();
/// # let _ = function;
/// ```
pub struct App {
    router: Router,
    websocket: Router,
    events: EventRoutes,
    body_limit: usize,
    /// Resilience stacks, applied at build around every route (first call innermost).
    route_stacks: Vec<RouterLayer>,
    state: http::Extensions,
    authorizer: Option<crate::authorizer::AuthorizerFn>,
    #[cfg(feature = "observability")]
    observability: Option<lift_observability::Observability>,
    /// CORS, outermost on the HTTP routes ([`App::cors`]).
    cors: Option<crate::cors::Cors>,
    /// Added to every HTTP response at the edge ([`App::security_headers`]).
    security_headers: Option<crate::SecurityHeaders>,
    #[cfg(feature = "config")]
    config: Option<lift_config::Config>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("body_limit", &self.body_limit)
            .field("resilience_stacks", &self.route_stacks.len())
            .finish_non_exhaustive()
    }
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl App {
    /// An app with no routes.
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            websocket: Router::new(),
            events: EventRoutes::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            route_stacks: Vec::new(),
            state: http::Extensions::new(),
            authorizer: None,
            #[cfg(feature = "observability")]
            observability: None,
            cors: None,
            security_headers: None,
            #[cfg(feature = "config")]
            config: None,
        }
    }

    /// Shares a value with every handler: HTTP handlers extract it with
    /// [`State<T>`](crate::State), record handlers read it with
    /// [`Context::state`](crate::Context::state). One value per type; it is built once and
    /// shared behind an `Arc` (never cloned per request). Registering a type again replaces it.
    pub fn with_state<T: Any + Send + Sync>(mut self, value: T) -> Self {
        self.state.insert(SharedValue(Arc::new(value)));
        self
    }

    /// Turns on logs, EMF metrics and X-Ray tracing for every invocation (each piece as
    /// `observability` was configured; `Observability::from_env()` reads the Powertools and
    /// Lambda variables).
    ///
    /// When no global `tracing` subscriber is set yet, this installs `observability`'s; when
    /// another one is already set (yours, composed with `Observability::layers`), it is kept,
    /// and a warning says so if that subscriber does not include Lift's layer.
    #[cfg(feature = "observability")]
    pub fn observability(mut self, observability: lift_observability::Observability) -> Self {
        if !tracing::dispatcher::has_been_set() {
            // A concurrent install wins the race; either way a subscriber is in place.
            let _ = observability.install();
        }
        if !lift_observability::Observability::in_current_subscriber() {
            tracing::warn!(
                "the tracing subscriber in force has no Lift observability layer: handlers' log lines \
                 will not be written as Lift's JSON lines; compose it with Observability::layers"
            );
        }
        self.observability = Some(observability);
        self
    }

    /// Dynamic configuration: each invocation takes the settings in force as it starts (one
    /// atomic load) and keeps them to its end: [`Context::settings`](crate::Context::settings),
    /// [`Context::flag`](crate::Context::flag), and its log level and DEBUG sample rate (when
    /// the observability was built with `dynamic_level(true)`). Polling errors since the last
    /// invocation are counted as `ConfigErrors` in its EMF document.
    #[cfg(feature = "config")]
    pub fn config(mut self, config: lift_config::Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Adds an HTTP route (axum path syntax: `/hello/{name}`, `/files/{*rest}`).
    pub fn route(mut self, path: &str, method_router: MethodRouter) -> Self {
        self.router = self.router.route(path, method_router);
        self
    }

    /// Merges an axum router's routes into the HTTP routes.
    pub fn merge(mut self, router: Router) -> Self {
        self.router = self.router.merge(router);
        self
    }

    /// Nests an axum router under a path prefix.
    pub fn nest(mut self, path: &str, router: Router) -> Self {
        self.router = self.router.nest(path, router);
        self
    }

    /// Sets the HTTP fallback: the handler for requests no route matches (axum semantics).
    /// Without one, Lift answers 404 `not_found` as JSON. A fallback brought in by
    /// [`merge`](Self::merge) is kept as well.
    pub fn fallback<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<T, ()>,
        T: 'static,
    {
        self.router = self.router.fallback(handler);
        self
    }

    /// Applies a tower layer to every HTTP and WebSocket route added so far (axum semantics:
    /// routes added after this call are not wrapped). For resilience, use
    /// [`resilience`](Self::resilience), which wraps every route whatever the order.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: Service<http::Request<Body>, Error = Infallible> + Clone + Send + Sync + 'static,
        <L::Service as Service<http::Request<Body>>>::Response: IntoResponse + 'static,
        <L::Service as Service<http::Request<Body>>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer.clone());
        self.websocket = self.websocket.layer(layer);
        self
    }

    /// Applies a resilience stack (or any fallible tower layer) around every HTTP and WebSocket
    /// route, including routes added after this call (it is applied at [`build`](Self::build));
    /// its errors are answered by [`resilience::error_response`](crate::resilience::error_response)
    /// (503 / 504 / 429 with `Retry-After` and `RateLimit-*` headers). Start from
    /// [`resilience::default_stack`](crate::resilience::default_stack). A handler panic is a
    /// failure the stack sees (a 500), so it counts for the route's circuit breaker.
    ///
    /// The stack wraps each route behind Lift's panic boundary ([`RouteBoundary`]), in one
    /// wrap with it (each axum wrap costs a boxed clone and a boxed future per request): any
    /// layer generic over the service it wraps fits, as tower's and Lift's do.
    #[cfg(feature = "resilience")]
    pub fn resilience<L>(mut self, layer: L) -> Self
    where
        L: Layer<RouteBoundary<axum::routing::Route>> + Clone + Send + Sync + 'static,
        L::Service: Service<http::Request<Body>, Response = Response> + Clone + Send + Sync + 'static,
        <L::Service as Service<http::Request<Body>>>::Error: Into<crate::BoxError>,
        <L::Service as Service<http::Request<Body>>>::Future: Send + 'static,
    {
        let stack = tower::ServiceBuilder::new()
            .layer(crate::resilience::HandleRejectionsLayer)
            .layer(layer);
        // One wrap of each route (and of the fallback, which gets the stack too) for the stack
        // and a boundary inside it.
        self.route_stacks
            .push(Box::new(move |r: Router, boundary: RouteBoundaryLayer| {
                r.layer(stack.clone().layer(boundary))
            }));
        self
    }

    /// Answers CORS for every HTTP route with `tower-http`'s [`CorsLayer`](crate::cors::CorsLayer)
    /// (origins, methods, headers, credentials, max-age), whatever the order of the builder
    /// calls. It sits outermost, outside authentication and the resilience stacks: preflights
    /// are answered before them (for any path, with or without an `OPTIONS` handler) and every
    /// answer to an allowed origin carries the CORS headers, errors included; an origin the
    /// policy does not allow gets none. See [`cors`](crate::cors). Calling it again replaces the
    /// policy.
    pub fn cors(mut self, cors: impl Into<crate::cors::Cors>) -> Self {
        self.cors = Some(cors.into());
        self
    }

    /// Adds `headers` to every HTTP response (handler answers, Lift's errors, preflights) when
    /// the response does not already have them; start from
    /// [`SecurityHeaders::preset`](crate::SecurityHeaders::preset).
    pub fn security_headers(mut self, headers: crate::SecurityHeaders) -> Self {
        self.security_headers = Some(headers);
        self
    }

    /// Serves `readiness` at its path (default `GET /health/ready`): 200 when every check
    /// passes, else 503, each check's status and latency in the body. Liveness is
    /// [`health::live`](crate::health::live), mounted where you want it. See
    /// [`health`](crate::health). Like [`route`](Self::route), it panics at start when the path
    /// already has a `GET` route.
    pub fn readiness(self, readiness: crate::health::Readiness) -> Self {
        let probe = readiness.build();
        let path = probe.path().to_owned();
        self.route(&path, axum::routing::get(move || probe.clone().respond()))
    }

    /// The largest HTTP request body an extractor reads (413 `payload_too_large` beyond it).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Adds a WebSocket route for an API Gateway route key (`$connect`, `$disconnect`,
    /// `$default`, or a custom key). The handler is an axum handler; extract
    /// [`WebSocket`](crate::WebSocket) for the connection id, and the message with
    /// [`Json`](crate::Json) or `String`.
    pub fn websocket<H, T>(mut self, route_key: &str, handler: H) -> Self
    where
        H: Handler<T, ()>,
        T: 'static,
    {
        self.websocket = self.websocket.route(&convert::websocket_path(route_key), any(handler));
        self
    }

    /// Handles SQS messages from queues matching `queue` (name, ARN or glob). The body is
    /// decoded as JSON into `T` (plain text into `String`). Failures are reported per message.
    pub fn sqs<T, H>(mut self, queue: impl Into<Glob>, handler: H) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        H: RecordHandler<Sqs<T>>,
    {
        self.events.sqs.push((queue.into(), erase(handler, sqs_input::<T>)));
        self
    }

    /// How FIFO queue batches stop after a failure (default: the whole rest of the batch).
    pub fn sqs_fifo_mode(mut self, mode: FifoMode) -> Self {
        self.events.fifo_mode = mode;
        self
    }

    /// Handles SNS notifications from topics matching `topic` (name, ARN or glob).
    pub fn sns<T, H>(mut self, topic: impl Into<Glob>, handler: H) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        H: RecordHandler<Sns<T>>,
    {
        self.events.sns.push((topic.into(), erase(handler, sns_input::<T>)));
        self
    }

    /// Handles S3 notifications matching a bucket (`"my-bucket"`) or an [`S3Match`]. The
    /// handler gets an [`S3`] message: the object (bucket, URL-decoded key, size, event) as its
    /// body and the notification record as its metadata.
    pub fn s3<H>(mut self, matcher: impl Into<S3Match>, handler: H) -> Self
    where
        H: RecordHandler<S3>,
    {
        self.events.s3.push((matcher.into(), erase(handler, s3_input)));
        self
    }

    /// Handles EventBridge events matching a source (`"com.acme.orders"`) or an [`EventMatch`];
    /// `detail` is decoded into `T`.
    pub fn eventbridge<T, H>(mut self, matcher: impl Into<EventMatch>, handler: H) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        H: RecordHandler<EventBridge<T>>,
    {
        self.events
            .eventbridge
            .push((matcher.into(), erase(handler, eventbridge_input::<T>)));
        self
    }

    /// Handles scheduled events (EventBridge rules and EventBridge Scheduler, `detail-type`
    /// `Scheduled Event`).
    pub fn schedule<H>(mut self, handler: H) -> Self
    where
        H: RecordHandler<EventBridge<serde_json::Value>>,
    {
        for source in ["aws.events", "aws.scheduler"] {
            let m = EventMatch::source(source).detail_type("Scheduled Event");
            self.events
                .eventbridge
                .push((m, erase(handler.clone(), eventbridge_input::<serde_json::Value>)));
        }
        self
    }

    /// Handles DynamoDB Streams records from tables matching `table`; `NewImage` is decoded
    /// into `T`. Failures are reported per record.
    pub fn dynamodb<T, H>(mut self, table: impl Into<Glob>, handler: H) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        H: RecordHandler<DynamoDb<T>>,
    {
        self.events
            .dynamodb
            .push((table.into(), erase(handler, dynamodb_input::<T>)));
        self
    }

    /// Handles Kinesis records from streams matching `stream`; `data` is decoded into `T`.
    /// Failures are reported per record.
    pub fn kinesis<T, H>(mut self, stream: impl Into<Glob>, handler: H) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        H: RecordHandler<Kinesis<T>>,
    {
        self.events
            .kinesis
            .push((stream.into(), erase(handler, kinesis_input::<T>)));
        self
    }

    /// Handles Kafka records (Amazon MSK and self-managed clusters) from topics matching `topic`
    /// (name or glob); the base64 value is decoded into `T`, the key and headers are in
    /// [`KafkaMeta`](crate::KafkaMeta). Kafka cannot report single records: the first failure
    /// (including a record no route matches) fails the invocation and the batch is redelivered.
    pub fn kafka<T, H>(mut self, topic: impl Into<Glob>, handler: H) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        H: RecordHandler<crate::records::Kafka<T>>,
    {
        self.events
            .kafka
            .push((topic.into(), erase(handler, crate::records::kafka_input::<T>)));
        self
    }

    /// Handles events of any shape no other route recognises (direct invocations, Step
    /// Functions tasks, custom payloads): the handler gets the event as JSON and its result is
    /// the invocation's response. Without it such events fail with `Lift.unknown_event`. (Not
    /// the HTTP fallback: that one is [`fallback`](Self::fallback).)
    pub fn event_fallback<F, Fut, R, E>(mut self, handler: F) -> Self
    where
        F: Fn(Context, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Serialize,
        E: Into<Error>,
    {
        self.events.other = Some(Arc::new(move |ctx, v| {
            let fut = handler(ctx, v);
            Box::pin(async move {
                let r = fut.await.map_err(Into::into)?;
                serde_json::to_value(r).map_err(Error::from)
            })
        }));
        self
    }

    /// Answers API Gateway Lambda authorizer events (`TOKEN` and `REQUEST`; REST, WebSocket,
    /// HTTP API payload 1.0 and 2.0) with `handler`. Its
    /// [`AuthorizerResponse`](crate::authorizer::AuthorizerResponse) is rendered as the event's
    /// API expects: an IAM policy with `principalId` and `context`, or HTTP API 2.0's simple
    /// response. Without an authorizer, such events go to the
    /// [`event_fallback`](Self::event_fallback). See [`authorizer`](crate::authorizer).
    pub fn authorizer<F, Fut, E>(mut self, handler: F) -> Self
    where
        F: Fn(Context, crate::authorizer::AuthorizerRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<crate::authorizer::AuthorizerResponse, E>> + Send + 'static,
        E: Into<Error>,
    {
        self.authorizer = Some(crate::authorizer::erase(handler));
        self
    }

    /// Finishes the app: wraps every route in its panic boundary and the resilience stacks,
    /// installs the 405 fallback and the body limit, and converts each handler into its route
    /// once, here, instead of on each request.
    pub fn build(self) -> Lift {
        #[cfg(feature = "observability")]
        let configured = self.observability.as_ref().map(|o| o.correlation_header());
        #[cfg(not(feature = "observability"))]
        let configured: Option<&str> = None;
        let correlation_header = configured
            .and_then(|name| http::HeaderName::from_bytes(name.as_bytes()).ok())
            .unwrap_or(http::HeaderName::from_static(DEFAULT_CORRELATION_HEADER));
        let stacks = &self.route_stacks;
        let body_limit = self.body_limit;
        #[cfg(feature = "observability")]
        let observed = self.observability.is_some();
        #[cfg(not(feature = "observability"))]
        let observed = false;
        let boundary = RouteBoundaryLayer::new(
            !stacks.is_empty() || observed || self.cors.is_some() || self.security_headers.is_some(),
        );
        let finish = |mut r: Router| {
            if stacks.is_empty() && r.has_routes() {
                // `route_layer` refuses a router without routes.
                r = r.route_layer(boundary);
            }
            // The innermost stack's boundary makes the header room; the outer ones only turn a
            // panic in the stacks between them into the same 500.
            for (i, stack) in stacks.iter().enumerate() {
                r = stack(
                    r,
                    if i == 0 {
                        boundary
                    } else {
                        RouteBoundaryLayer::default()
                    },
                );
            }
            // No `fallback` here: it would replace one brought in by `merge`. The router's bare
            // 404 is rendered as Lift's JSON 404 at the edge instead.
            // The body limit wraps the whole router (`WrappedRouter`), not each route.
            r.method_not_allowed_fallback(|| async { Error::method_not_allowed() })
                .with_state(())
        };
        Lift::from_shared(Shared {
            router: WrappedRouter::new(finish(self.router), body_limit, self.cors),
            websocket: WrappedRouter::new(finish(self.websocket), body_limit, None),
            events: self.events,
            correlation_header,
            state: AppState::from_extensions(self.state),
            body_limit,
            security_headers: self.security_headers,
            authorizer: self.authorizer,
            #[cfg(feature = "observability")]
            observability: self.observability,
            #[cfg(feature = "config")]
            config: self.config,
        })
    }

    /// Builds and runs the function: against the Lambda Runtime API when
    /// `AWS_LAMBDA_RUNTIME_API` is set (several invocations at once when
    /// `AWS_LAMBDA_MAX_CONCURRENCY` > 1), else as a local HTTP server on `127.0.0.1:$PORT`
    /// (default 3000).
    pub async fn run(self) -> Result<(), crate::BoxError> {
        self.build().run().await
    }
}
