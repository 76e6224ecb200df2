//! [`RequireTenantLayer`]: routes that only serve a resolved tenant.

use std::task::{Context as TaskContext, Poll};

use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, Ready};
use tower::{Layer, Service};

use super::error::tenant_required;
use crate::context::Context;

/// Answers 403 `tenant_required` to a request whose invocation has no tenant (put it behind
/// [`TenantLayer`](super::TenantLayer)); the route is not called.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequireTenantLayer;

impl<S> Layer<S> for RequireTenantLayer {
    type Service = RequireTenant<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireTenant { inner }
    }
}

/// See [`RequireTenantLayer`].
#[derive(Clone, Debug)]
pub struct RequireTenant<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for RequireTenant<S>
where
    S: Service<http::Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let has_tenant = req
            .extensions()
            .get::<Context>()
            .is_some_and(|ctx| ctx.tenant().is_some());
        if has_tenant {
            Either::Right(self.inner.call(req))
        } else {
            let res = tenant_required().into_response();
            Either::Left(futures_util::future::ready(Ok(res)))
        }
    }
}
