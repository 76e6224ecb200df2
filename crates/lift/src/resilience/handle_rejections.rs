//! The layer that answers a route's middleware errors with [`error_response`].

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use axum::response::Response;
use lift_resilience::PolledAfterCompletion;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::error_response;

/// Layer that answers a service's errors with [`error_response`], so fallible middleware can sit
/// on axum routes (which need `Error = Infallible`).
#[derive(Clone, Copy, Debug, Default)]
pub struct HandleRejectionsLayer;

impl<S> Layer<S> for HandleRejectionsLayer {
    type Service = HandleRejections<S>;
    fn layer(&self, inner: S) -> Self::Service {
        HandleRejections::new(inner)
    }
}

/// See [`HandleRejectionsLayer`].
///
/// Always ready once the inner service has answered `poll_ready`: an inner readiness error is
/// kept and answered, as its error response, by the next `call` (which then does not call the
/// inner service); while the inner service is not ready, neither is this one.
#[derive(Debug)]
pub struct HandleRejections<S> {
    inner: S,
    /// A readiness error, answered by the next `call` without calling `inner`.
    not_ready: Option<crate::BoxError>,
}

impl<S> HandleRejections<S> {
    /// `inner`, its errors answered with [`error_response`].
    pub fn new(inner: S) -> Self {
        Self { inner, not_ready: None }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming this one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone> Clone for HandleRejections<S> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone())
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
        let state = match self.not_ready.take() {
            Some(e) => State::Rejected {
                response: Some(error_response(e)),
            },
            None => State::Inner {
                inner: self.inner.call(req),
            },
        };
        HandleRejectionsFuture { state }
    }
}

pin_project! {
    /// Future of [`HandleRejections`].
    ///
    /// Polled again after it completed, it answers a 500 internal-error response made from
    /// [`PolledAfterCompletion`], as `lift-resilience`'s futures answer that error (its error
    /// type is `Infallible`); it never polls the inner future again.
    pub struct HandleRejectionsFuture<F> {
        #[pin]
        state: State<F>,
    }
}

impl<F> std::fmt::Debug for HandleRejectionsFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandleRejectionsFuture")
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] inner: F },
        Rejected { response: Option<Response> },
        // Completed: the inner future is gone.
        Done,
    }
}

impl<F, E> Future for HandleRejectionsFuture<F>
where
    F: Future<Output = Result<Response, E>>,
    E: Into<crate::BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        let response = match state.as_mut().project() {
            StateProj::Inner { inner } => match ready!(inner.poll(cx)) {
                Ok(res) => res,
                Err(e) => error_response(e.into()),
            },
            StateProj::Rejected { response } => response.take().unwrap_or_else(polled_after_completion),
            StateProj::Done => polled_after_completion(),
        };
        state.set(State::Done);
        Poll::Ready(Ok(response))
    }
}

#[cold]
fn polled_after_completion() -> Response {
    error_response(Box::new(PolledAfterCompletion))
}
