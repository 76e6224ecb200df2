//! [`TenantLayer`]: the resolver as tower middleware on HTTP routes.

use std::task::{Context as TaskContext, Poll};

use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, Ready};
use tower::{Layer, Service};

use super::resolver::TenantResolver;
use crate::context::Context;
use crate::error::Error;

/// Resolves each request's tenant with a [`TenantResolver`] and makes it the invocation's
/// (context, logs, EMF, X-Ray), and the request's [`TenantKey`](crate::resilience::TenantKey)
/// extension that [`ByTenant`](crate::resilience::ByTenant) keys limits by. A refused tenant is
/// answered here (400 / 403 `invalid_tenant`, 403 `tenant_mismatch`) and the route is not
/// called. A request without a tenant goes on; add [`RequireTenantLayer`](super::RequireTenantLayer)
/// when it must not.
///
/// Place it after authentication (which sets the principal) and before anything keyed by
/// tenant; see the [module docs](super).
#[derive(Clone, Debug)]
pub struct TenantLayer {
    resolver: TenantResolver,
}

impl TenantLayer {
    /// The layer of `resolver`.
    pub fn new(resolver: TenantResolver) -> Self {
        Self { resolver }
    }
}

impl<S> Layer<S> for TenantLayer {
    type Service = TenantService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TenantService {
            inner,
            resolver: self.resolver.clone(),
        }
    }
}

/// See [`TenantLayer`].
#[derive(Clone, Debug)]
pub struct TenantService<S> {
    inner: S,
    resolver: TenantResolver,
}

impl<S, B> Service<http::Request<B>> for TenantService<S>
where
    S: Service<http::Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // Outside Lift (no context) there is no invocation to give a tenant to.
        let Some(ctx) = req.extensions().get::<Context>() else {
            return Either::Right(self.inner.call(req));
        };
        match self.resolver.apply(ctx, Some(req.headers())) {
            #[cfg(feature = "resilience")]
            Ok(Some(tenant)) => {
                req.extensions_mut().insert(lift_resilience::TenantKey::new(tenant));
            }
            Ok(_) => {}
            Err(e) => {
                // The value itself may be hostile: the line names the rule and the source only.
                tracing::warn!(error = %e, "tenant refused");
                let res = Error::from(e).into_response();
                return Either::Left(futures_util::future::ready(Ok(res)));
            }
        }
        Either::Right(self.inner.call(req))
    }
}
