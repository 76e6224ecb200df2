//! Resilience for Lift routes: `lift-resilience`'s tower layers on the HTTP routes, their
//! rejections answered as Lift errors (503 / 504 / 429 with `Retry-After` and `RateLimit-*`).
//!
//! ```
//! use axum::routing::get;
//! use lift::App;
//!
//! let app = App::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .resilience(lift::resilience::default_stack());
//! # let _ = app.build();
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
pub use lift_resilience::*;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::error::{code, Error};

/// The partition key of a route: its path pattern (`/orders/{id}`), shared with axum without
/// copying. Requests that matched no route have no key.
#[derive(Clone, Debug)]
pub struct RouteKey(MatchedPath);

impl RouteKey {
    /// The route's path pattern.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for RouteKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteKey {}

impl Hash for RouteKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// Keys a request by the route it matched (for breakers, bulkheads and limits per route).
pub fn route_key<B>(req: &http::Request<B>) -> Option<RouteKey> {
    req.extensions().get::<MatchedPath>().cloned().map(RouteKey)
}

/// The key function type of [`route_key`] for HTTP requests.
pub type RouteKeyFn = fn(&http::Request<Body>) -> Option<RouteKey>;

/// The stack [`default_stack`] builds.
pub type DefaultStack = ResilienceStack<
    rate_limit::RateLimitLayer<Global, rate_limit::LocalStore<()>, rate_limit::RateLimitHeaders>,
    load_shed::LoadShedLayer,
    bulkhead::BulkheadLayer,
    circuit_breaker::CircuitBreakerLayer<RouteKeyFn, Option<RouteKey>, HttpClassifier, circuit_breaker::NoFallback>,
    timeout::TimeoutLayer,
    tower::layer::util::Identity,
>;

/// `lift-resilience`'s HTTP defaults ([`ResilienceStack::http`]) reporting to
/// [`MetricsListener`], with one circuit breaker
/// per route, so a failing route cannot open the circuit of healthy ones: rate limit 1000/s
/// (admitted responses carry `RateLimit-Limit/Remaining/Reset`),
/// adaptive (AIMD) load shedding, 64 concurrent calls, breaker on 5xx (last 20 calls, judged
/// from 10, opens at 50 %, 5 s open, 3 trial calls), timeout 30 s or the invocation deadline
/// minus 200 ms.
pub fn default_stack() -> DefaultStack {
    #[cfg(feature = "observability")]
    let listener: std::sync::Arc<dyn ResilienceListener> = std::sync::Arc::new(MetricsListener);
    #[cfg(not(feature = "observability"))]
    let listener: std::sync::Arc<dyn ResilienceListener> = std::sync::Arc::new(NoopListener);
    default_stack_with_listener(listener)
}

/// [`default_stack`] reporting every transition, rejection, shed and retry to `listener`.
pub fn default_stack_with_listener(listener: std::sync::Arc<dyn ResilienceListener>) -> DefaultStack {
    ResilienceStack::http_with_listener(listener.clone())
        .rate_limit(
            rate_limit::RateLimitLayer::new(http_rate_limit())
                .http_headers()
                .listener(listener.clone()),
        )
        .circuit_breaker(
            circuit_breaker::CircuitBreakerLayer::new(http_breaker_config())
                .key(route_key as RouteKeyFn)
                .classifier(HttpClassifier)
                .listener(listener),
        )
}

/// The Lift error for a resilience rejection (status and stable code from the rejection).
pub fn rejection_error(r: &Rejection) -> Error {
    {
        let message = match r.code {
            "circuit_open" => "the service is failing; the circuit is open, retry later",
            "bulkhead_full" => "too many requests in flight; retry later",
            "overloaded" => "the service is overloaded; retry later",
            "timeout" => "the request did not finish in time",
            "rate_limited" => "rate limit exceeded",
            _ => "the request was rejected",
        };
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        Error::new(status, r.code, message)
    }
}

/// Turns an error from a middleware stack into a response: resilience rejections become
/// their 503 / 504 / 429 with `Retry-After` and `RateLimit-*` headers; anything else is a 500
/// whose cause is logged, not sent.
pub fn error_response(err: crate::BoxError) -> Response {
    match rejection(&*err) {
        Some(r) => {
            let mut res = rejection_error(&r).into_response();
            res.headers_mut().extend(r.headers());
            res
        }
        None => Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_ERROR,
            "internal error",
        )
        .with_source(std::io::Error::other(err.to_string()))
        .into_response(),
    }
}

/// Maps a record handler's middleware error to the record's failure (rejections keep their
/// code, so logs say why the record was not processed).
pub fn error_to_lift(err: crate::BoxError) -> Error {
    match rejection(&*err) {
        Some(r) => rejection_error(&r),
        None => Error::from(std::io::Error::other(err.to_string())),
    }
}

/// Layer that answers a service's errors with [`error_response`], so fallible middleware can sit
/// on axum routes (which need `Error = Infallible`).
#[derive(Clone, Copy, Debug, Default)]
pub struct HandleRejectionsLayer;

impl<S> Layer<S> for HandleRejectionsLayer {
    type Service = HandleRejections<S>;
    fn layer(&self, inner: S) -> Self::Service {
        HandleRejections { inner, not_ready: None }
    }
}

/// See [`HandleRejectionsLayer`].
#[derive(Debug)]
pub struct HandleRejections<S> {
    inner: S,
    /// A readiness error, answered by the next `call` without calling `inner`.
    not_ready: Option<crate::BoxError>,
}

impl<S: Clone> Clone for HandleRejections<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            not_ready: None,
        }
    }
}

impl<S, Req> Service<Req> for HandleRejections<S>
where
    S: Service<Req, Response = Response>,
    S::Error: Into<crate::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = HandleRejectionsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        if self.not_ready.is_none() {
            if let Err(e) = ready!(self.inner.poll_ready(cx)) {
                self.not_ready = Some(e.into());
            }
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.not_ready.take() {
            Some(e) => HandleRejectionsFuture {
                state: State::Rejected {
                    response: Some(error_response(e)),
                },
            },
            None => HandleRejectionsFuture {
                state: State::Inner {
                    inner: self.inner.call(req),
                },
            },
        }
    }
}

pin_project! {
    /// Future of [`HandleRejections`].
    pub struct HandleRejectionsFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] inner: F },
        Rejected { response: Option<Response> },
    }
}

impl<F, E> Future for HandleRejectionsFuture<F>
where
    F: Future<Output = Result<Response, E>>,
    E: Into<crate::BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { inner } => Poll::Ready(Ok(match ready!(inner.poll(cx)) {
                Ok(res) => res,
                Err(e) => error_response(e.into()),
            })),
            StateProj::Rejected { response } => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| Error::internal("polled after completion").into_response()))),
        }
    }
}

/// One record handler call as a tower request: the invocation's context and the handler's
/// input. Its [`Deadline`] is the invocation's.
#[derive(Debug)]
pub struct RecordCall<I> {
    /// The invocation's context.
    pub ctx: crate::Context,
    /// What the handler receives (`Sqs<T>`, `Kinesis<T>`, ...).
    pub input: I,
    deadline: Option<tokio::time::Instant>,
}

impl<I> RecordCall<I> {
    /// A call, with the deadline taken from the context.
    pub fn new(ctx: crate::Context, input: I) -> Self {
        let deadline = ctx.remaining().map(|left| tokio::time::Instant::now() + left);
        Self { ctx, input, deadline }
    }
}

impl<I> Deadline for RecordCall<I> {
    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.deadline
    }

    fn set_deadline(&mut self, at: tokio::time::Instant) {
        self.deadline = Some(at);
    }
}

/// A handler's own error carried through tower middleware (which needs `std::error::Error`).
#[derive(Debug)]
struct HandlerError(Error);

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for HandlerError {}

/// A record handler as a tower service of [`RecordCall`]s.
#[derive(Clone, Debug)]
pub struct HandlerService<H, I> {
    handler: H,
    _input: std::marker::PhantomData<fn(I)>,
}

impl<H: crate::RecordHandler<I>, I> Service<RecordCall<I>> for HandlerService<H, I> {
    type Response = ();
    type Error = crate::BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<(), crate::BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: RecordCall<I>) -> Self::Future {
        let fut = self.handler.call(call.ctx, call.input);
        Box::pin(async move { fut.await.map_err(|e| Box::new(HandlerError(e)) as crate::BoxError) })
    }
}

/// A record handler behind tower layers; see [`record_layer`].
pub struct Layered<S, I> {
    service: S,
    _input: std::marker::PhantomData<fn(I)>,
}

impl<S: Clone, I> Clone for Layered<S, I> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            _input: std::marker::PhantomData,
        }
    }
}

/// Puts a record handler behind a tower layer (a breaker per downstream, a bulkhead, a rate
/// limit, a timeout...). A rejection fails the record with its code (`circuit_open`,
/// `rate_limited`...), so batch sources report it and the service redelivers it.
///
/// ```
/// use lift::{App, Context, Error, Sqs};
/// use lift::resilience::{record_layer, bulkhead::BulkheadLayer};
///
/// async fn handle(_ctx: Context, _msg: Sqs<serde_json::Value>) -> Result<(), Error> { Ok(()) }
///
/// let app = App::new().sqs("orders", record_layer(handle, BulkheadLayer::new(4)));
/// # let _ = app.build();
/// ```
pub fn record_layer<I, H, L>(handler: H, layer: L) -> Layered<L::Service, I>
where
    H: crate::RecordHandler<I>,
    L: Layer<HandlerService<H, I>>,
{
    Layered {
        service: layer.layer(HandlerService {
            handler,
            _input: std::marker::PhantomData,
        }),
        _input: std::marker::PhantomData,
    }
}

impl<S, I> crate::RecordHandler<I> for Layered<S, I>
where
    S: Service<RecordCall<I>, Response = ()> + Clone + Send + Sync + 'static,
    S::Error: Into<crate::BoxError>,
    S::Future: Send + 'static,
    I: Send + 'static,
{
    fn call(&self, ctx: crate::Context, input: I) -> crate::records::BoxFuture<Result<(), Error>> {
        use tower::ServiceExt;
        let fut = self.service.clone().oneshot(RecordCall::new(ctx, input));
        Box::pin(async move {
            fut.await.map_err(|e| {
                let e: crate::BoxError = e.into();
                match e.downcast::<HandlerError>() {
                    Ok(h) => h.0,
                    Err(other) => error_to_lift(other),
                }
            })
        })
    }
}

#[cfg(feature = "observability")]
tokio::task_local! {
    /// The metrics of the invocation whose future is being polled.
    pub(crate) static INVOCATION_METRICS: lift_observability::Metrics;
}

/// Counts resilience events in the current invocation's EMF document: `CircuitBreakerTransitions`,
/// `CircuitBreakerRejections`, `BulkheadRejections`, `LoadShed`, `Retries`, `RetriesAbandoned`,
/// `Timeouts`, `RateLimited`, and the adaptive limit as `ConcurrencyLimit`. Outside an observed
/// invocation it does nothing. (Every event is also logged by `lift-resilience` through
/// `tracing`, so it appears in the invocation's log lines.)
#[cfg(feature = "observability")]
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsListener;

#[cfg(feature = "observability")]
impl ResilienceListener for MetricsListener {
    fn on_event(&self, event: &ResilienceEvent<'_>) {
        let _ = INVOCATION_METRICS.try_with(|m| {
            let counted = match event {
                ResilienceEvent::BreakerTransition { .. } => "CircuitBreakerTransitions",
                ResilienceEvent::BreakerRejected { .. } => "CircuitBreakerRejections",
                ResilienceEvent::BulkheadRejected { .. } => "BulkheadRejections",
                ResilienceEvent::Shed { .. } => "LoadShed",
                ResilienceEvent::Retry { .. } => "Retries",
                ResilienceEvent::RetryAbandoned { .. } => "RetriesAbandoned",
                ResilienceEvent::TimedOut { .. } => "Timeouts",
                ResilienceEvent::RateLimited { .. } => "RateLimited",
                ResilienceEvent::LimitChanged { to, .. } => {
                    let _ = m.value("ConcurrencyLimit", *to as f64, lift_observability::Unit::Count);
                    return;
                }
                #[allow(unreachable_patterns)]
                _ => return,
            };
            let _ = m.count(counted, 1);
        });
    }
}
