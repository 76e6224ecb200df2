//! The router with what every request passes (the body limit, CORS) applied once around it.
//!
//! axum's `Router::layer` wraps each route and fallback in one more boxed service, which the
//! router clones (an allocation) and whose future it boxes (another) on every request. The body
//! limit and CORS concern every request alike, so they wrap the router itself instead: the same
//! requests see them, at the cost of none of those per-request allocations.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use axum::Router;
use tower::{Layer, ServiceExt};

use crate::http::cors::{vary_on_origin, Cors, CorsService};

/// The router behind its body limit (the limit axum's body extractors read).
type Limited = <DefaultBodyLimit as Layer<Router>>::Service;

/// See the module docs.
#[derive(Clone)]
pub(crate) enum WrappedRouter {
    Plain(Limited),
    /// Boxed: its `tower-http` configuration is cloned only for requests CORS concerns.
    Cors(Box<CorsService<Limited>>),
}

impl WrappedRouter {
    pub(crate) fn new(router: Router, body_limit: usize, cors: Option<Cors>) -> Self {
        let limited = DefaultBodyLimit::max(body_limit).layer(router);
        match cors {
            Some(cors) => WrappedRouter::Cors(Box::new(cors.layer(limited))),
            None => WrappedRouter::Plain(limited),
        }
    }

    /// Serves one request (the router's `Router` clone is a reference count).
    pub(crate) async fn serve(&self, req: http::Request<Body>) -> Response {
        let served: Result<Response, Infallible> = match self {
            WrappedRouter::Cors(cors) if !cors.concerns(&req) => {
                let res = cors.routes().clone().oneshot(req).await;
                res.map(|mut res| {
                    vary_on_origin(&mut res);
                    res
                })
            }
            WrappedRouter::Cors(cors) => (**cors).clone().oneshot(req).await,
            WrappedRouter::Plain(router) => router.clone().oneshot(req).await,
        };
        match served {
            Ok(res) => res,
            Err(never) => match never {},
        }
    }
}
