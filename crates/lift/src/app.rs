//! `App`: the builder, and `Lift`: the built, cloneable function.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::MatchedPath;
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, MethodRouter};
use axum::Router;
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower::{Layer, Service, ServiceExt};

use crate::context::{claim_cold_start, Context};
use crate::detect::{detect, EventKind};
use crate::error::{code, Error, ErrorReport};
use crate::http::convert::{self, Origin};
use crate::output::{Inner, Output};
use crate::records::{
    dynamodb_input, erase, eventbridge_input, identity, kinesis_input, panic_error, sns_input, sqs_input, DynamoDb,
    EventBridge, EventMatch, EventRoutes, FifoMode, Glob, Kinesis, RecordHandler, S3Match, Sns, Sqs,
};

/// The default limit on HTTP request bodies read by extractors: 6 MB, Lambda's own limit on
/// synchronous payloads.
pub const DEFAULT_BODY_LIMIT: usize = 6 * 1024 * 1024;

/// Builds a Lift function: HTTP routes (axum), WebSocket routes, and record/event routes.
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
    #[cfg(feature = "observability")]
    observability: Option<lift_observability::Observability>,
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
            #[cfg(feature = "observability")]
            observability: None,
        }
    }

    /// Turns on logs, EMF metrics and X-Ray tracing for every invocation (each piece as
    /// `observability` was configured; `Observability::from_env()` reads the Powertools and
    /// Lambda variables). The `tracing` subscriber is installed separately
    /// (`Observability::install`), once per process.
    #[cfg(feature = "observability")]
    pub fn observability(mut self, observability: lift_observability::Observability) -> Self {
        self.observability = Some(observability);
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

    /// Applies a tower layer to every HTTP and WebSocket route added so far (axum semantics).
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

    /// Applies a resilience stack (or any fallible tower layer) to every HTTP route added so
    /// far; its errors are answered by [`resilience::error_response`](crate::resilience::error_response)
    /// (503 / 504 / 429 with `Retry-After` and `RateLimit-*` headers). Start from
    /// [`resilience::default_stack`](crate::resilience::default_stack).
    #[cfg(feature = "resilience")]
    pub fn resilience<L>(mut self, layer: L) -> Self
    where
        L: Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: Service<http::Request<Body>, Response = Response> + Clone + Send + Sync + 'static,
        <L::Service as Service<http::Request<Body>>>::Error: Into<crate::BoxError>,
        <L::Service as Service<http::Request<Body>>>::Future: Send + 'static,
    {
        let stack = tower::ServiceBuilder::new()
            .layer(crate::resilience::HandleRejectionsLayer)
            .layer(layer);
        self.router = self.router.layer(stack.clone());
        self.websocket = self.websocket.layer(stack);
        self
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

    /// Handles S3 notifications matching a bucket (`"my-bucket"`) or an [`S3Match`].
    pub fn s3<H>(mut self, matcher: impl Into<S3Match>, handler: H) -> Self
    where
        H: RecordHandler<aws_lambda_events::s3::S3EventRecord>,
    {
        self.events.s3.push((matcher.into(), erase(handler, identity)));
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

    /// Handles events of any shape no other route recognises (direct invocations, Step
    /// Functions tasks...). Without it such events fail with `Lift.unknown_event`.
    pub fn fallback<F, Fut, R, E>(mut self, handler: F) -> Self
    where
        F: Fn(Context, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Serialize,
        E: Into<Error>,
    {
        self.events.fallback = Some(Arc::new(move |ctx, v| {
            let fut = handler(ctx, v);
            Box::pin(async move {
                let r = fut.await.map_err(Into::into)?;
                serde_json::to_value(r).map_err(Error::from)
            })
        }));
        self
    }

    /// Finishes the app: installs the 404/405 fallbacks and the body limit.
    pub fn build(self) -> Lift {
        #[cfg(feature = "observability")]
        let configured = self.observability.as_ref().map(|o| o.correlation_header());
        #[cfg(not(feature = "observability"))]
        let configured: Option<&str> = None;
        let correlation_header = configured
            .and_then(|name| http::HeaderName::from_bytes(name.as_bytes()).ok())
            .unwrap_or(http::HeaderName::from_static(DEFAULT_CORRELATION_HEADER));
        let finish = |r: Router| {
            // `route_layer` refuses a router without routes.
            let r = if r.has_routes() {
                r.route_layer(RouteCaptureLayer)
            } else {
                r
            };
            r.fallback(|| async { Error::not_found() })
                .method_not_allowed_fallback(|| async { Error::method_not_allowed() })
                .layer(DefaultBodyLimit::max(self.body_limit))
                // Converts every handler into its route once, here, instead of on each request.
                .with_state(())
        };
        Lift {
            inner: Arc::new(Shared {
                router: finish(self.router),
                websocket: finish(self.websocket),
                events: self.events,
                correlation_header,
                #[cfg(feature = "observability")]
                observability: self.observability,
            }),
        }
    }

    /// Builds and runs the function: against the Lambda Runtime API when
    /// `AWS_LAMBDA_RUNTIME_API` is set (several invocations at once when
    /// `AWS_LAMBDA_MAX_CONCURRENCY` > 1), else as a local HTTP server on `127.0.0.1:$PORT`
    /// (default 3000).
    pub async fn run(self) -> Result<(), crate::BoxError> {
        self.build().run().await
    }
}

struct Shared {
    router: Router,
    websocket: Router,
    events: EventRoutes,
    /// The correlation header read and echoed, parsed once at build.
    correlation_header: http::HeaderName,
    #[cfg(feature = "observability")]
    observability: Option<lift_observability::Observability>,
}

/// A built Lift function. Cheap to clone; every clone serves the same routes.
#[derive(Clone)]
pub struct Lift {
    inner: Arc<Shared>,
}

impl Lift {
    /// Serves one invocation: `json` is the raw event as Lambda delivered it.
    ///
    /// HTTP events always produce an HTTP response (errors included, as JSON error bodies).
    /// Other events produce their batch response or `null`, or a [`lambda_runtime::Diagnostic`]
    /// (`errorType` `Lift.<code>`) that makes the service retry.
    pub async fn invoke(
        &self,
        json: &str,
        lambda: lambda_runtime::Context,
    ) -> Result<Output, lambda_runtime::Diagnostic> {
        let ctx = Context::from_lambda(lambda, claim_cold_start());
        self.invoke_with(json, ctx).await
    }

    /// Like [`invoke`](Self::invoke) with a context built by the caller (tests, custom runtimes).
    pub async fn invoke_with(&self, json: &str, mut ctx: Context) -> Result<Output, lambda_runtime::Diagnostic> {
        // HTTP events are decoded before the observability scope opens, so the scope knows the
        // correlation id (a request header) from its first log line.
        let prepared = match detect(json) {
            Ok(kind) if kind.is_http() => Prepared::Http(kind, convert::decode(kind, json)),
            Ok(kind) => Prepared::Event(kind),
            Err(e) => Prepared::Malformed(e),
        };
        if let Prepared::Http(_, Ok((_, req))) = &prepared {
            ctx.set_correlation_from(req.headers(), self.correlation_header());
        }
        let scope = self.open_scope(&mut ctx);
        let fut = self.run_guarded(prepared, json, &ctx);
        let result = match &scope {
            Some(scope) => scope.instrument(fut).await,
            None => fut.await,
        };
        if let Some(scope) = scope {
            scope.finish(&result);
        }
        result.map(|(out, _)| out)
    }

    async fn run_guarded(
        &self,
        prepared: Prepared,
        json: &str,
        ctx: &Context,
    ) -> Result<(Output, Route), lambda_runtime::Diagnostic> {
        let fut = self.dispatch(prepared, json, ctx);
        match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(err)) => {
                if err.code() != code::HANDLER_FAILED {
                    tracing::error!(code = err.code(), error = %err, request_id = ctx.request_id(), "invocation failed");
                }
                Err(err.to_diagnostic())
            }
            Err(panic) => {
                let err = panic_error(panic);
                tracing::error!(error = %err, request_id = ctx.request_id(), "invocation panicked");
                Err(err.to_diagnostic())
            }
        }
    }

    async fn dispatch(&self, prepared: Prepared, json: &str, ctx: &Context) -> Result<(Output, Route), Error> {
        let kind = match prepared {
            Prepared::Http(kind, decoded) => return Ok(self.http_event(kind, decoded, ctx).await),
            Prepared::Event(kind) => kind,
            Prepared::Malformed(e) => {
                return Err(Error::bad_request(code::MALFORMED_JSON, "the event is not valid JSON").with_source(e))
            }
        };
        let events = &self.inner.events;
        let out = match kind {
            EventKind::Sqs => events.sqs(ctx, json).await,
            EventKind::Sns => events.sns(ctx, json).await,
            EventKind::S3 => events.s3(ctx, json).await,
            EventKind::EventBridge => events.eventbridge(ctx, json).await,
            EventKind::DynamoDb => events.dynamodb(ctx, json).await,
            EventKind::Kinesis => events.kinesis(ctx, json).await,
            _ => match events.fallback(ctx, json).await {
                Some(r) => r,
                None => Err(Error::bad_request(
                    code::UNKNOWN_EVENT,
                    "the event's shape matches no event source Lift knows and no fallback handler is set",
                )),
            },
        };
        out.map(|o| (o, Route::Source(kind.as_str())))
    }

    async fn http_event(
        &self,
        kind: EventKind,
        decoded: Result<(Origin, http::Request<Body>), Error>,
        ctx: &Context,
    ) -> (Output, Route) {
        let (origin, req) = match decoded {
            Ok(v) => v,
            Err(err) => {
                let origin = match kind {
                    EventKind::ApiGatewayV1 => Origin::ApiGatewayV1,
                    EventKind::Alb => Origin::Alb { multi_value: false },
                    EventKind::WebSocket => Origin::WebSocket,
                    _ => Origin::ApiGatewayV2,
                };
                tracing::warn!(error = %err, "HTTP event could not be decoded");
                let mut res = err.into_response();
                self.finalize(&mut res, ctx);
                return (Output(Inner::Http(convert::encode(origin, res).await)), Route::None);
            }
        };
        let router = if origin == Origin::WebSocket {
            &self.inner.websocket
        } else {
            &self.inner.router
        };
        let mut res = serve(router, req, ctx).await;
        self.finalize(&mut res, ctx);
        let route = res
            .extensions_mut()
            .remove::<MatchedPath>()
            .map_or(Route::None, Route::Http);
        (Output(Inner::Http(convert::encode(origin, res).await)), route)
    }

    /// Serves a plain HTTP request through the HTTP routes (the local server's path), inside
    /// its own observability scope.
    pub async fn serve_http(&self, req: http::Request<Body>, mut ctx: Context) -> Response {
        ctx.set_correlation_from(req.headers(), self.correlation_header());
        let scope = self.open_scope(&mut ctx);
        let fut = async {
            let mut res = serve(&self.inner.router, req, &ctx).await;
            self.finalize(&mut res, &ctx);
            res
        };
        let mut res = match &scope {
            Some(scope) => scope.instrument(fut).await,
            None => fut.await,
        };
        if let Some(scope) = scope {
            let route = res
                .extensions_mut()
                .remove::<MatchedPath>()
                .map_or(Route::None, Route::Http);
            scope.finish_http(
                res.status().as_u16(),
                res.extensions().get::<ErrorCode>().map(|c| &*c.0),
                &route,
            );
        }
        res
    }

    fn correlation_header(&self) -> &str {
        self.inner.correlation_header.as_str()
    }

    /// Opens the invocation's observability scope, if observability is on, and gives the
    /// handler its metrics handle through the context.
    fn open_scope(&self, ctx: &mut Context) -> Option<Scope> {
        #[cfg(feature = "observability")]
        if let Some(obs) = &self.inner.observability {
            let inv = obs.start(lift_observability::InvocationMeta {
                request_id: ctx.request_id(),
                function_arn: ctx.function_arn(),
                trace_header: ctx.trace_header(),
                cold_start: ctx.cold_start(),
                correlation_id: ctx.correlation_id(),
                tenant_id: ctx.tenant(),
            });
            ctx.extensions_mut().insert(inv.metrics());
            return Some(Scope(inv));
        }
        let _ = ctx;
        None
    }

    /// Adds `x-request-id` and echoes the correlation id; renders Lift errors with the
    /// request id.
    fn finalize(&self, res: &mut Response, ctx: &Context) {
        render_error(res, ctx);
        let headers = res.headers_mut();
        if let Ok(v) = http::HeaderValue::from_str(ctx.request_id()) {
            headers.insert(X_REQUEST_ID, v);
        }
        if let Some(v) = ctx.correlation_id().and_then(|id| http::HeaderValue::from_str(id).ok()) {
            headers.insert(self.inner.correlation_header.clone(), v);
        }
    }

    /// Runs the function; see [`App::run`].
    pub async fn run(self) -> Result<(), crate::BoxError> {
        if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
            crate::runtime::run_lambda(self).await
        } else {
            let port = crate::local::port_from_env()?;
            crate::local::serve(self, std::net::SocketAddr::from(([127, 0, 0, 1], port))).await
        }
    }
}

/// The HTTP edge: puts the context in the request, calls the router behind a panic boundary,
/// and renders Lift errors with the request id.
async fn serve(router: &Router, mut req: http::Request<Body>, ctx: &Context) -> Response {
    #[cfg(feature = "resilience")]
    if let Some(left) = ctx.remaining() {
        // What the timeout and retry layers read: this invocation's own deadline.
        req.extensions_mut()
            .insert(lift_resilience::InvocationDeadline(tokio::time::Instant::now() + left));
    }
    req.extensions_mut().insert(ctx.clone());
    let call = router.clone().oneshot(req);
    let res = match AssertUnwindSafe(call).catch_unwind().await {
        Ok(Ok(res)) => res,
        Ok(Err(never)) => match never {},
        Err(panic) => {
            // Clients see a plain internal error; the panic message is logged by `finalize`.
            let cause = panic_error(panic);
            Error::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL_ERROR,
                "internal error",
            )
            .with_source(std::io::Error::other(cause.to_string()))
            .into_response()
        }
    };
    res
}

/// Re-renders a Lift error body with the invocation's request id and logs its private cause.
fn render_error(res: &mut Response, ctx: &Context) {
    let Some(ErrorReport(err)) = res.extensions_mut().remove::<ErrorReport>() else {
        return;
    };
    if err.status().is_server_error() {
        tracing::error!(code = err.code(), error = %err, request_id = ctx.request_id(), "request failed");
    }
    res.extensions_mut().insert(ErrorCode(err.code_cow()));
    *res.body_mut() = Body::from(err.body_json(Some(ctx.request_id())));
    res.headers_mut().remove(http::header::CONTENT_LENGTH);
}

const X_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// The correlation header read (and echoed) when observability does not name another.
pub const DEFAULT_CORRELATION_HEADER: &str = "x-correlation-id";

/// The stable code of an error response, kept for the invocation's summary.
#[derive(Clone, Debug)]
struct ErrorCode(std::borrow::Cow<'static, str>);

/// An event after detection (and, for HTTP, decoding).
// Built and moved once per invocation; boxing the HTTP variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Prepared {
    Http(EventKind, Result<(Origin, http::Request<Body>), Error>),
    Event(EventKind),
    Malformed(serde_json::Error),
}

/// What served the invocation, for logs, metrics and traces.
enum Route {
    Http(MatchedPath),
    Source(&'static str),
    None,
}

impl Route {
    #[cfg_attr(not(feature = "observability"), allow(dead_code))]
    fn as_str(&self) -> Option<&str> {
        match self {
            Route::Http(m) => Some(m.as_str()),
            Route::Source(s) => Some(s),
            Route::None => None,
        }
    }
}

/// One invocation's observability scope.
#[cfg(feature = "observability")]
struct Scope(lift_observability::Invocation);

#[cfg(feature = "observability")]
impl Scope {
    fn instrument<F: std::future::Future>(&self, fut: F) -> impl std::future::Future<Output = F::Output> {
        let fut = self.0.instrument(fut);
        #[cfg(feature = "resilience")]
        let fut = crate::resilience::INVOCATION_METRICS.scope(self.0.metrics(), fut);
        fut
    }

    fn finish(self, result: &Result<(Output, Route), lambda_runtime::Diagnostic>) {
        use lift_observability::Outcome;
        match result {
            Ok((out, route)) => {
                let error = match out.status() {
                    Some(s) if s >= 500 => Some("server_error"),
                    _ => None,
                };
                self.0.finish(Outcome {
                    status: out.status(),
                    error,
                    route: route.as_str(),
                });
            }
            Err(diag) => self.0.finish(Outcome {
                status: None,
                error: Some(&diag.error_type),
                route: None,
            }),
        }
    }

    fn finish_http(self, status: u16, code: Option<&str>, route: &Route) {
        let error = if status >= 500 {
            code.or(Some("server_error"))
        } else {
            None
        };
        self.0.finish(lift_observability::Outcome {
            status: Some(status),
            error,
            route: route.as_str(),
        });
    }
}

/// Without observability there is no scope; these keep the call sites uniform.
#[cfg(not(feature = "observability"))]
struct Scope(std::convert::Infallible);

#[cfg(not(feature = "observability"))]
impl Scope {
    fn instrument<F: std::future::Future>(&self, _fut: F) -> F {
        match self.0 {}
    }
    fn finish(self, _: &Result<(Output, Route), lambda_runtime::Diagnostic>) {
        match self.0 {}
    }
    fn finish_http(self, _: u16, _: Option<&str>, _: &Route) {
        match self.0 {}
    }
}

/// Copies the matched route pattern into the response, so the edge can report which route
/// served the request (an `Arc` clone, no copy of the path).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RouteCaptureLayer;

impl<S> Layer<S> for RouteCaptureLayer {
    type Service = RouteCapture<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RouteCapture { inner }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct RouteCapture<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for RouteCapture<S>
where
    S: Service<http::Request<Body>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RouteCaptureFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let route = req.extensions().get::<MatchedPath>().cloned();
        RouteCaptureFuture {
            inner: self.inner.call(req),
            route,
        }
    }
}

pin_project_lite::pin_project! {
    pub(crate) struct RouteCaptureFuture<F> {
        #[pin]
        inner: F,
        route: Option<MatchedPath>,
    }
}

impl<F, E> std::future::Future for RouteCaptureFuture<F>
where
    F: std::future::Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let mut res = std::task::ready!(this.inner.poll(cx));
        if let (Ok(res), Some(route)) = (&mut res, this.route.take()) {
            res.extensions_mut().insert(route);
        }
        std::task::Poll::Ready(res)
    }
}
