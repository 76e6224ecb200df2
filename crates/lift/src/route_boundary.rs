//! The innermost layer of every HTTP route: a handler panic becomes a 500 that the layers
//! around the route (the circuit breaker, the summary) see as a failure, and the matched route
//! is recorded in the invocation's [`Context`] so the edge can report which route served the
//! request.
//!
//! It shares one wrap of each route with the innermost resilience stack (`App::build`): each
//! wrap of an axum route costs a boxed clone of the service and a boxed future per request.
//!
//! Written here rather than taken from `tower-http`'s `CatchPanic`: that one re-boxes every
//! response body (an allocation per request) and cannot tag the response with the route.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::context::Context;
use crate::error::{code, Error};

/// See the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RouteBoundaryLayer {
    room: usize,
}

impl RouteBoundaryLayer {
    /// A boundary that makes room in each response for the headers of the layers outside it:
    /// a dozen (rate limit, security, CORS, request id) when there are any, none for a bare
    /// app, whose response map would otherwise grow for nothing.
    pub(crate) fn new(outer_layers: bool) -> Self {
        Self {
            room: if outer_layers { RESPONSE_HEADERS } else { 0 },
        }
    }
}

impl<S> Layer<S> for RouteBoundaryLayer {
    type Service = RouteBoundary<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RouteBoundary { inner, room: self.room }
    }
}

/// A route behind Lift's panic boundary: what a resilience stack
/// ([`App::resilience`](crate::App::resilience)) wraps. Built by Lift, never by hand.
#[derive(Clone, Debug)]
pub struct RouteBoundary<S> {
    inner: S,
    room: usize,
}

/// The response of a route whose handler panicked: a 500 `panic` whose cause (the panic
/// message) is logged by the edge and never sent.
pub(crate) fn panic_response(payload: Box<dyn std::any::Any + Send>) -> Response {
    let message = crate::panic::message(&*payload);
    Error::new(http::StatusCode::INTERNAL_SERVER_ERROR, code::PANIC, "internal error")
        .with_source(std::io::Error::other(message))
        .into_response()
}

/// Headers a response is given room for as it leaves the handler.
const RESPONSE_HEADERS: usize = 12;

fn polled_after_completion() -> Response {
    Error::internal("polled after completion").into_response()
}

impl<S> Service<http::Request<Body>> for RouteBoundary<S>
where
    S: Service<http::Request<Body>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RouteBoundaryFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // The invocation's context carries the route to the edge's summary (a request served
        // outside Lift's edge has no context, and nobody reads its route).
        if let (Some(route), Some(ctx)) = (req.extensions().get::<MatchedPath>(), req.extensions().get::<Context>()) {
            ctx.set_route(route);
        }
        let state = match catch_unwind(AssertUnwindSafe(|| self.inner.call(req))) {
            Ok(inner) => State::Running { inner },
            Err(payload) => State::Panicked {
                response: Some(panic_response(payload)),
            },
        };
        RouteBoundaryFuture { state, room: self.room }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`RouteBoundary`].
    pub struct RouteBoundaryFuture<F> {
        #[pin]
        state: State<F>,
        room: usize,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F> {
        Running { #[pin] inner: F },
        Panicked { response: Option<Response> },
        Done,
    }
}

impl<F, E> Future for RouteBoundaryFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let mut res = match this.state.as_mut().project() {
            StateProj::Running { inner } => match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                Ok(poll) => ready!(poll),
                Err(payload) => Ok(panic_response(payload)),
            },
            StateProj::Panicked { response } => Ok(response.take().unwrap_or_else(polled_after_completion)),
            // Polled after completion: an internal error, never a hang or a panic (the rule
            // every future of lift-resilience follows too).
            StateProj::Done => Ok(polled_after_completion()),
        };
        // The inner future is dropped as soon as it is done.
        this.state.set(State::Done);
        if let Ok(res) = &mut res {
            // Room for the outer layers' headers now is one growth of the map instead of one
            // per doubling.
            if *this.room > 0 {
                res.headers_mut().reserve(*this.room);
            }
        }
        Poll::Ready(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_becomes_a_500_with_the_panic_code() {
        let svc = RouteBoundaryLayer::default().layer(tower::service_fn(|_req: http::Request<Body>| async {
            if true {
                panic!("boom");
            }
            Ok::<Response, std::convert::Infallible>(Response::new(Body::empty()))
        }));
        let res = svc.oneshot(http::Request::new(Body::empty())).await;
        let res = res.unwrap_or_else(|never| match never {});
        assert_eq!(res.status(), 500);
        let report = res.extensions().get::<crate::error::ErrorReport>();
        assert_eq!(report.map(|r| r.0.code()), Some(code::PANIC));
    }

    #[tokio::test]
    async fn polled_after_completion_it_answers_500_instead_of_hanging() {
        let svc = RouteBoundaryLayer::default().layer(tower::service_fn(|_req: http::Request<Body>| async {
            Ok::<Response, std::convert::Infallible>(Response::new(Body::empty()))
        }));
        let mut svc = svc;
        let mut fut = std::pin::pin!(svc.call(http::Request::new(Body::empty())));
        let waker = futures_util::task::noop_waker();
        let mut cx = TaskContext::from_waker(&waker);
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(res)) => assert_eq!(res.status(), 200),
            other => panic!("first poll: {:?}", other.map(|r| r.map(|r| r.status()))),
        }
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(res)) => assert_eq!(res.status(), 500),
            other => panic!("second poll: {:?}", other.map(|r| r.map(|r| r.status()))),
        }
    }

    #[tokio::test]
    async fn a_panic_in_call_itself_is_caught_too() {
        #[derive(Clone)]
        struct PanicsInCall;
        impl Service<http::Request<Body>> for PanicsInCall {
            type Response = Response;
            type Error = std::convert::Infallible;
            type Future = std::future::Ready<Result<Response, std::convert::Infallible>>;
            fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: http::Request<Body>) -> Self::Future {
                panic!("in call")
            }
        }
        let res = RouteBoundaryLayer::default()
            .layer(PanicsInCall)
            .oneshot(http::Request::new(Body::empty()))
            .await
            .unwrap_or_else(|never| match never {});
        assert_eq!(res.status(), 500);
    }
}
