//! The HTTP edge: where a request meets the router and the response leaves it.
//!
//! In: the invocation's [`Context`] and deadline go into the request's extensions. Out: Lift
//! errors are rendered with the request id (and server errors logged with their route and
//! cause), the router's bare 404 becomes Lift's JSON 404, and every response carries
//! `x-request-id` and the correlation id.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::MatchedPath;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use crate::context::Context;
use crate::error::{Error, ErrorReport};
use crate::wrapped_router::WrappedRouter;

const X_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// The correlation header read (and echoed) when observability does not name another.
pub const DEFAULT_CORRELATION_HEADER: &str = "x-correlation-id";

/// The stable code of an error response, kept for the invocation's summary and EMF.
#[derive(Clone, Debug)]
pub(crate) struct ErrorCode(pub(crate) Cow<'static, str>);

/// Serves one request: puts the context and deadline in the request, calls the router behind a
/// last panic boundary (routes have their own, see `route_boundary`; this one catches panics in
/// layers around them), and finalizes the response.
pub(crate) async fn serve(
    router: &WrappedRouter,
    mut req: http::Request<Body>,
    ctx: &Context,
    correlation: &http::HeaderName,
) -> Response {
    #[cfg(feature = "resilience")]
    if let Some(at) = ctx.deadline_instant() {
        // What the timeout and retry layers read: this invocation's own deadline.
        req.extensions_mut().insert(lift_resilience::InvocationDeadline(at));
    }
    req.extensions_mut().insert(ctx.clone());
    let mut res = match AssertUnwindSafe(router.serve(req)).catch_unwind().await {
        Ok(res) => res,
        Err(payload) => crate::route_boundary::panic_response(payload),
    };
    finalize(&mut res, ctx, correlation);
    res
}

/// Renders errors, maps the router's bare 404, adds `x-request-id` and echoes the
/// correlation id.
pub(crate) fn finalize(res: &mut Response, ctx: &Context, correlation: &http::HeaderName) {
    if is_bare_not_found(res, ctx) {
        // Keep the headers layers outside the routes added (CORS on a 404, for one).
        let kept = std::mem::take(res.headers_mut());
        *res = Error::not_found().into_response();
        let own: Vec<http::HeaderName> = res.headers().keys().cloned().collect();
        for (name, value) in &kept {
            if !own.contains(name) {
                res.headers_mut().append(name, value.clone());
            }
        }
    }
    render_error(res, ctx);
    let headers = res.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(ctx.request_id()) {
        headers.insert(X_REQUEST_ID, v);
    }
    if let Some(v) = ctx.correlation_id().and_then(|id| http::HeaderValue::from_str(id).ok()) {
        headers.insert(correlation.clone(), v);
    }
}

/// The router's own answer when no route matched and no fallback was set: an empty 404 that
/// no route produced. (A fallback brought in with `merge` or `fallback` answers instead and is
/// left alone; an empty 404 carries no information worth keeping either way.)
fn is_bare_not_found(res: &Response, ctx: &Context) -> bool {
    res.status() == http::StatusCode::NOT_FOUND
        && ctx.route().is_none()
        && res.extensions().get::<ErrorReport>().is_none()
        && res.body().size_hint().exact() == Some(0)
}

/// Re-renders a Lift error body with the invocation's request id and logs its private cause.
fn render_error(res: &mut Response, ctx: &Context) {
    let Some(ErrorReport(err)) = res.extensions_mut().remove::<ErrorReport>() else {
        return;
    };
    if err.status().is_server_error() {
        let route = ctx.route().map(MatchedPath::as_str);
        tracing::error!(
            code = err.code(),
            route,
            error = %err,
            request_id = ctx.request_id(),
            "request failed"
        );
    }
    res.extensions_mut().insert(ErrorCode(err.code_cow()));
    *res.body_mut() = Body::from(err.body_json(Some(ctx.request_id())));
    res.headers_mut().remove(http::header::CONTENT_LENGTH);
}

/// The stable code of a finished response that failed, if Lift rendered one.
pub(crate) fn error_code(res: &Response) -> Option<&str> {
    res.extensions().get::<ErrorCode>().map(|c| &*c.0)
}

/// What a failed HTTP invocation reports as its error in the summary and EMF: the rendered
/// error's code, or `server_error` for a 5xx the handler built itself.
pub(crate) fn summary_error(status: u16, code: Option<&str>) -> Option<&str> {
    (status >= 500).then(|| code.unwrap_or("server_error"))
}

/// A request that could not be decoded from its event: rendered like any other error.
pub(crate) fn undecodable(err: Error, ctx: &Context, correlation: &http::HeaderName) -> Response {
    tracing::warn!(code = err.code(), error = %err, "HTTP event could not be decoded");
    let mut res = err.into_response();
    finalize(&mut res, ctx, correlation);
    res
}
