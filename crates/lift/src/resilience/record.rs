//! Record handlers behind tower layers: [`record_layer`], the [`RecordCall`] request its
//! layers see, and the [`HandlerService`] at the bottom.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use lift_resilience::{Deadline, PolledAfterCompletion};
use tower::{Layer, Service};

use super::error_to_lift;
use crate::error::Error;
use crate::records::BoxFuture;

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
    type Future = HandlerFuture;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: RecordCall<I>) -> Self::Future {
        HandlerFuture {
            fut: Some(self.handler.call(call.ctx, call.input)),
        }
    }
}

/// Future of [`HandlerService`]: the handler's own future, its error carried as a
/// [`BoxError`](crate::BoxError). Polled again after it completed, it answers
/// [`PolledAfterCompletion`] without polling the handler's future again.
pub struct HandlerFuture {
    fut: Option<BoxFuture<Result<(), Error>>>,
}

impl std::fmt::Debug for HandlerFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerFuture")
    }
}

impl Future for HandlerFuture {
    type Output = Result<(), crate::BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let Some(fut) = self.fut.as_mut() else {
            return Poll::Ready(Err(Box::new(PolledAfterCompletion)));
        };
        let result = ready!(fut.as_mut().poll(cx));
        self.fut = None;
        Poll::Ready(result.map_err(|e| Box::new(HandlerError(e)) as crate::BoxError))
    }
}

/// A record handler behind tower layers; see [`record_layer`].
pub struct Layered<S, I> {
    service: S,
    _input: std::marker::PhantomData<fn(I)>,
}

impl<S: std::fmt::Debug, I> std::fmt::Debug for Layered<S, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layered").field("service", &self.service).finish()
    }
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
