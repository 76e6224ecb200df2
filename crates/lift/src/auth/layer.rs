//! [`AuthLayer`]: authentication (and scope checks) in front of HTTP routes.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::api_gateway::verified_principal;
use super::{AuthError, JwtVerifier, TokenSource};
use crate::context::{Context, Principal};
use crate::http::RequestContext;

/// Authenticates each request before the route runs, and sets the invocation's
/// [`Principal`] (read it with the [`Auth`](crate::auth::Auth) extractor or
/// [`Context::principal`]).
///
/// - With a [`JwtVerifier`]: the bearer token (`Authorization`, any case; optionally a
///   cookie) is verified; a bad or missing one is answered 401 with `WWW-Authenticate` and a
///   stable code, before the handler runs.
/// - With [`trust_api_gateway`](Self::trust_api_gateway): claims API Gateway already verified
///   (JWT or Lambda authorizer, Cognito, IAM, in the event's request context) are taken as the
///   principal without re-verification; requests without them fall back to the token.
/// - [`require_scope`](Self::require_scope): 403 `insufficient_scope` unless the principal
///   has every listed scope or role.
///
/// Attach it to one route (`get(h).route_layer(layer)`), to all routes
/// ([`App::layer`](crate::App::layer)), or to a WebSocket handler
/// (`App::websocket("$connect", handler.layer(layer))`).
///
/// ```
/// use axum::routing::get;
/// use lift::auth::{Algorithm, Auth, AuthLayer, JwtVerifier, Key};
///
/// async fn me(auth: Auth) -> String {
///     auth.subject.clone()
/// }
///
/// # fn main() -> Result<(), lift::auth::AuthConfigError> {
/// let verifier = JwtVerifier::builder()
///     .key(Key::hmac(b"a secret of at least 32 bytes, please", &[Algorithm::HS256])?)
///     .build()?;
/// let app = lift::App::new()
///     .route("/me", get(me).route_layer(AuthLayer::new(verifier.clone()).trust_api_gateway()))
///     .route("/orders", get(me).route_layer(AuthLayer::new(verifier).require_scope("orders:read")));
/// # let _ = app; Ok(()) }
/// ```
#[derive(Clone)]
pub struct AuthLayer {
    config: Arc<Config>,
}

struct Config {
    verifier: Option<JwtVerifier>,
    source: TokenSource,
    trust_api_gateway: bool,
    required_scopes: Vec<String>,
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer")
            .field("verifier", &self.config.verifier)
            .field("trust_api_gateway", &self.config.trust_api_gateway)
            .field("required_scopes", &self.config.required_scopes)
            .finish_non_exhaustive()
    }
}

impl AuthLayer {
    /// Verifies bearer tokens with `verifier`.
    pub fn new(verifier: JwtVerifier) -> Self {
        Self::with(Some(verifier), false)
    }

    /// Trusts only what API Gateway verified (no token verification here): requests without
    /// an API Gateway identity get 401 `missing_token`.
    pub fn api_gateway() -> Self {
        Self::with(None, true)
    }

    /// Refuses every request with 401 `auth_not_configured` (a protected route whose keys
    /// are not configured stays closed rather than open).
    pub fn deny_all() -> Self {
        Self::with(None, false)
    }

    fn with(verifier: Option<JwtVerifier>, trust_api_gateway: bool) -> Self {
        Self {
            config: Arc::new(Config {
                verifier,
                source: TokenSource::header(),
                trust_api_gateway,
                required_scopes: Vec::new(),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        match Arc::get_mut(&mut self.config) {
            Some(c) => f(c),
            None => {
                let c = &*self.config;
                let mut copy = Config {
                    verifier: c.verifier.clone(),
                    source: c.source.clone(),
                    trust_api_gateway: c.trust_api_gateway,
                    required_scopes: c.required_scopes.clone(),
                };
                f(&mut copy);
                self.config = Arc::new(copy);
            }
        }
        self
    }

    /// Also accepts the identity API Gateway verified (see
    /// [`verified_principal`](crate::auth::verified_principal)), before looking for a token.
    pub fn trust_api_gateway(self) -> Self {
        self.edit(|c| c.trust_api_gateway = true)
    }

    /// Also reads the token from the cookie `name` when there is no bearer header.
    pub fn cookie(self, name: &str) -> Self {
        let source = TokenSource::header_or_cookie(name);
        self.edit(|c| c.source = source)
    }

    /// Requires a scope or role (403 `insufficient_scope` without it). Call again to require
    /// several (all of them).
    pub fn require_scope(self, scope: impl Into<String>) -> Self {
        let scope = scope.into();
        self.edit(|c| c.required_scopes.push(scope))
    }
}

impl Config {
    async fn authenticate(&self, req: &http::request::Parts) -> Result<Principal, AuthError> {
        if self.trust_api_gateway {
            if let Some(p) = req.extensions.get::<RequestContext>().and_then(verified_principal) {
                return Ok(p);
            }
        }
        let Some(verifier) = &self.verifier else {
            return Err(if self.trust_api_gateway {
                AuthError::MissingToken
            } else {
                AuthError::NotConfigured
            });
        };
        let token = self.source.extract(&req.headers)?;
        verifier.verify(token).await
    }

    fn authorize(&self, p: &Principal) -> Result<(), AuthError> {
        match self.required_scopes.iter().find(|s| !p.scopes.contains(s)) {
            Some(missing) => Err(AuthError::InsufficientScope(missing.clone().into())),
            None => Ok(()),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps a route in.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

impl<S> Service<http::Request<Body>> for AuthService<S>
where
    S: Service<http::Request<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    // Boxed: verification may await a key set fetch. One allocation per authenticated
    // request, next to a signature check that costs far more.
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // The clone that was driven to readiness serves this request (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = self.config.clone();
        Box::pin(async move {
            // Parts, not the request, are borrowed across the await: the body is not `Sync`.
            let (mut parts, body) = req.into_parts();
            let principal = match config.authenticate(&parts).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!(code = e.code(), "request not authenticated");
                    return Ok(e.into_response());
                }
            };
            if let Err(e) = config.authorize(&principal) {
                tracing::debug!(code = e.code(), subject = %principal.subject, "request not authorized");
                return Ok(e.into_response());
            }
            match parts.extensions.get::<Context>() {
                Some(ctx) => {
                    if ctx.set_principal(principal).is_err() {
                        return Ok(AuthError::PrincipalConflict.into_response());
                    }
                }
                // Served outside Lift (a bare axum router in a test): the extractor reads it here.
                None => {
                    parts.extensions.insert(Arc::new(principal));
                }
            }
            match inner.call(http::Request::from_parts(parts, body)).await {
                Ok(res) => Ok(res.into_response()),
                Err(never) => match never {},
            }
        })
    }
}
