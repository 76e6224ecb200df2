//! CORS for every HTTP route: `tower-http`'s [`CorsLayer`], set with
//! [`App::cors`](crate::App::cors), behind a thin boundary that fixes what a Lambda API needs.
//!
//! ```
//! use std::time::Duration;
//! use lift::cors::{AllowOrigin, CorsLayer};
//! use lift::App;
//! use http::{header, HeaderValue, Method};
//!
//! let cors = CorsLayer::new()
//!     .allow_origin(AllowOrigin::list([HeaderValue::from_static("https://app.example.com")]))
//!     .allow_methods([Method::GET, Method::POST])
//!     .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
//!     .allow_credentials(true)
//!     .max_age(Duration::from_secs(600));
//! let app = App::new().cors(cors);
//! # let _ = app.build();
//! ```
//!
//! # Where it sits
//!
//! Outermost on the HTTP router: outside every route, the resilience stacks (rate limit,
//! shedding, breaker...) and any authentication layer. So
//!
//! - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered
//!   here, before authentication (browsers never send credentials on a preflight) and whether or
//!   not the path has an `OPTIONS` handler; it costs no rate-limit token and no breaker call;
//! - every other answer for an allowed origin carries the CORS headers, the 404, 405, 429 and 503
//!   answers included: without them a browser hides the status from the page and reports a
//!   network error instead.
//!
//! # What Lift adds to `tower-http`
//!
//! - An origin the policy does not allow gets no `Access-Control-*` header at all (`tower-http`
//!   sends the method, header and credential lists to everyone), and its preflight is refused
//!   with 403 `cors_origin_not_allowed`, which says why in the browser's network panel.
//!   `Vary` is kept, so shared caches still key on `Origin`.
//! - An `OPTIONS` request that is not a preflight (no `Origin` or no
//!   `Access-Control-Request-Method`) goes to the routes (an `OPTIONS` handler, else 405)
//!   instead of getting an empty 200.
//!
//! `tower-http` refuses a policy that combines credentials with a wildcard (`*`) origin,
//! methods or headers: it panics when the layer is applied, that is in
//! [`App::build`](crate::App::build), at start.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD,
    ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

pub use tower_http::cors::{
    AllowCredentials, AllowHeaders, AllowMethods, AllowOrigin, AllowPrivateNetwork, Any, CorsLayer, ExposeHeaders,
    MaxAge, Vary,
};

use crate::error::Error;

/// The code of the 403 that refuses a preflight from an origin the policy does not allow.
pub const ORIGIN_NOT_ALLOWED: &str = "cors_origin_not_allowed";

/// The headers a response carries only for an allowed origin.
const CORS_RESPONSE_HEADERS: [http::HeaderName; 5] = [
    ACCESS_CONTROL_ALLOW_CREDENTIALS,
    ACCESS_CONTROL_ALLOW_HEADERS,
    ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_EXPOSE_HEADERS,
    ACCESS_CONTROL_MAX_AGE,
];
const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";
/// `tower-http`'s default `Vary` list, as one static value (no allocation).
const VARY_VALUE: &str = "origin, access-control-request-method, access-control-request-headers";

/// [`CorsLayer`] behind Lift's boundary (see the module docs). Applied by
/// [`App::cors`](crate::App::cors); usable on any axum router or tower service too.
#[derive(Clone, Debug)]
pub struct Cors {
    layer: CorsLayer,
}

impl Cors {
    /// Lift's boundary around `layer`.
    pub fn new(layer: CorsLayer) -> Self {
        Self { layer }
    }
}

impl From<CorsLayer> for Cors {
    fn from(layer: CorsLayer) -> Self {
        Self::new(layer)
    }
}

impl<S> Layer<S> for Cors {
    type Service = CorsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CorsService {
            cors: self.layer.layer(inner),
        }
    }
}

/// The service [`Cors`] builds.
#[derive(Clone, Debug)]
pub struct CorsService<S> {
    cors: tower_http::cors::Cors<S>,
}

/// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(ORIGIN) && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// Marks the routes' answer to a request CORS did not concern: the answer would differ for a
/// request with an `Origin`, so shared caches must key on it (what `tower-http` sends on its
/// own answers).
pub(crate) fn vary_on_origin(res: &mut Response) {
    res.headers_mut().append(VARY, HeaderValue::from_static(VARY_VALUE));
}

impl<S> CorsService<S> {
    /// Whether CORS has anything to do with `req`. Not when it has no `Origin` (curl, server to
    /// server, a same-origin GET), nor for an `OPTIONS` that is not a preflight (which
    /// `tower-http` would wrongly answer as one): those go straight to [`routes`](Self::routes).
    pub(crate) fn concerns(&self, req: &http::Request<Body>) -> bool {
        req.headers().contains_key(ORIGIN)
            && (req.method() != Method::OPTIONS || is_preflight(req.method(), req.headers()))
    }

    /// The service CORS wraps.
    pub(crate) fn routes(&self) -> &S {
        self.cors.get_ref()
    }
}

impl<S> Service<http::Request<Body>> for CorsService<S>
where
    S: Service<http::Request<Body>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = CorsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.cors.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if !self.concerns(&req) {
            // Straight to the routes, without `tower-http`'s per-request header map.
            // (`poll_ready` above readied this very service.)
            let future = self.cors.get_mut().call(req);
            return CorsFuture {
                kind: Kind::Routes { future },
            };
        }
        let preflight = req.method() == Method::OPTIONS;
        CorsFuture {
            kind: Kind::Cors {
                future: self.cors.call(req),
                preflight,
            },
        }
    }
}

pin_project! {
    /// The response future of [`CorsService`].
    pub struct CorsFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        // Through `tower-http`'s CORS.
        Cors {
            #[pin]
            future: tower_http::cors::ResponseFuture<F>,
            preflight: bool,
        },
        // Straight to the routes.
        Routes {
            #[pin]
            future: F,
        },
    }
}

impl<F, E> Future for CorsFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Routes { future } => {
                let mut res = ready!(future.poll(cx))?;
                vary_on_origin(&mut res);
                Poll::Ready(Ok(res))
            }
            KindProj::Cors { future, preflight } => {
                let mut res = ready!(future.poll(cx))?;
                if !res.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
                    // Not an allowed origin (or no origin): no CORS header at all.
                    let headers = res.headers_mut();
                    for name in CORS_RESPONSE_HEADERS {
                        headers.remove(name);
                    }
                    headers.remove(ALLOW_PRIVATE_NETWORK);
                    if *preflight {
                        res = refused_preflight(res);
                    }
                }
                Poll::Ready(Ok(res))
            }
        }
    }
}

/// 403 `cors_origin_not_allowed`, keeping the `Vary` header the preflight answer had.
fn refused_preflight(answer: Response) -> Response {
    let mut res = Error::new(
        StatusCode::FORBIDDEN,
        ORIGIN_NOT_ALLOWED,
        "this origin is not allowed by the API's CORS policy",
    )
    .into_response();
    for (name, value) in answer.headers() {
        res.headers_mut().append(name, value.clone());
    }
    res
}
