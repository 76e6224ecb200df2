//! [`Lift`]: the built function. One invocation's spine: recognise the event, open the
//! observability scope, dispatch (HTTP edge or record routes) behind the invocation's panic
//! boundary, finish the scope with the outcome.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::response::Response;
use futures_util::FutureExt;

use crate::context::{claim_cold_start, Context};
use crate::detect::{read, EventKind};
use crate::edge;
use crate::error::{code, Error};
use crate::http::convert::{self, Origin};
use crate::obs::{Ending, Scope};
use crate::output::{Inner, Output};
use crate::records::EventRoutes;
use crate::state::AppState;
use crate::wrapped_router::WrappedRouter;

/// What [`App::build`](crate::App::build) produces, shared by every clone of the function.
pub(crate) struct Shared {
    pub(crate) router: WrappedRouter,
    pub(crate) websocket: WrappedRouter,
    pub(crate) events: EventRoutes,
    /// The correlation header read and echoed, parsed once at build.
    pub(crate) correlation_header: http::HeaderName,
    pub(crate) state: AppState,
    /// The largest request body (decoded from the event) a route receives; 413 beyond it.
    pub(crate) body_limit: usize,
    /// Added to every HTTP response when absent ([`App::security_headers`](crate::App::security_headers)).
    pub(crate) security_headers: Option<crate::http::SecurityHeaders>,
    /// The Lambda authorizer handler (`App::authorizer`).
    pub(crate) authorizer: Option<crate::authorizer::AuthorizerFn>,
    #[cfg(feature = "observability")]
    pub(crate) observability: Option<lift_observability::Observability>,
    /// Dynamic configuration, snapshot into each invocation's context as it starts.
    #[cfg(feature = "config")]
    pub(crate) config: Option<lift_config::Config>,
}

/// A built Lift function. Cheap to clone; every clone serves the same routes.
#[derive(Clone)]
pub struct Lift {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for Lift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lift").finish_non_exhaustive()
    }
}

/// How long `run` waits at exit for queued log lines to be written.
#[cfg(feature = "observability")]
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// An event after detection (and, for HTTP, decoding).
// Built and moved once per invocation; boxing the HTTP variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Prepared {
    Http(EventKind, Result<(Origin, http::Request<Body>), Error>),
    Event(EventKind),
    Malformed(serde_json::Error),
}

/// What served the invocation, for logs, metrics and traces.
enum Route {
    Http(MatchedPath),
    Source(&'static str),
    None,
}

impl Route {
    fn as_str(&self) -> Option<&str> {
        match self {
            Route::Http(m) => Some(m.as_str()),
            Route::Source(s) => Some(s),
            Route::None => None,
        }
    }

    fn of(ctx: &Context) -> Self {
        ctx.route().cloned().map_or(Route::None, Route::Http)
    }
}

/// A dispatched invocation: its output, what served it and, for a failed HTTP request, the
/// error code its body carries.
struct Served {
    out: Output,
    route: Route,
    error: Option<Cow<'static, str>>,
}

fn ending<'a>(result: &'a Result<Served, lambda_runtime::Diagnostic>) -> Ending<'a> {
    match result {
        Ok(s) => {
            let status = s.out.status();
            Ending {
                status,
                error: status.and_then(|st| edge::summary_error(st, s.error.as_deref())),
                route: s.route.as_str(),
            }
        }
        Err(diag) => Ending {
            status: None,
            error: Some(&diag.error_type),
            route: None,
        },
    }
}

impl Lift {
    pub(crate) fn from_shared(shared: Shared) -> Self {
        Self {
            inner: Arc::new(shared),
        }
    }

    /// Serves one invocation: `json` is the raw event as Lambda delivered it.
    ///
    /// HTTP events always produce an HTTP response (errors included, as JSON error bodies).
    /// Other events produce their batch response or `null`, or a [`lambda_runtime::Diagnostic`]
    /// (`errorType` `Lift.<code>`) that makes the service retry.
    pub async fn invoke(
        &self,
        json: &str,
        lambda: lambda_runtime::Context,
    ) -> Result<Output, lambda_runtime::Diagnostic> {
        self.invoke_with(json, Context::from_lambda(lambda, claim_cold_start()))
            .await
    }

    /// Like [`invoke`](Self::invoke) with a context built by the caller (tests, custom runtimes).
    pub async fn invoke_with(&self, json: &str, ctx: Context) -> Result<Output, lambda_runtime::Diagnostic> {
        self.attach(&ctx);
        // HTTP events are decoded before the observability scope opens, so the scope knows the
        // correlation id (a request header) from its first log line.
        let limit = self.inner.body_limit;
        let prepared = match read(json) {
            Ok((kind, Some(v2))) => Prepared::Http(kind, convert::decode_v2(v2, limit).map(|r| (Origin::of(kind), r))),
            Ok((kind, None)) if kind.is_http() => Prepared::Http(kind, convert::decode(kind, json, limit)),
            Ok((kind, None)) => Prepared::Event(kind),
            Err(e) => Prepared::Malformed(e),
        };
        if let Prepared::Http(_, Ok((_, req))) = &prepared {
            ctx.set_correlation_from(req.headers(), &self.inner.correlation_header);
        }
        let scope = self.open_scope(&ctx);
        let fut = self.run_guarded(prepared, json, &ctx);
        let result = match &scope {
            Some(scope) => scope.instrument(fut).await,
            None => fut.await,
        };
        if let Some(scope) = scope {
            scope.finish(ending(&result));
        }
        result.map(|s| s.out)
    }

    /// Serves a plain HTTP request through the HTTP routes (the local server's path), inside
    /// its own observability scope.
    pub async fn serve_http(&self, req: http::Request<Body>, ctx: Context) -> Response {
        self.attach(&ctx);
        ctx.set_correlation_from(req.headers(), &self.inner.correlation_header);
        let scope = self.open_scope(&ctx);
        let fut = edge::serve(&self.inner.router, req, &ctx, &self.inner.correlation_header);
        let mut res = match &scope {
            Some(scope) => scope.instrument(fut).await,
            None => fut.await,
        };
        self.harden(&mut res);
        if let Some(scope) = scope {
            let status = res.status().as_u16();
            let route = Route::of(&ctx);
            scope.finish(Ending {
                status: Some(status),
                error: edge::summary_error(status, edge::error_code(&res)),
                route: route.as_str(),
            });
        }
        res
    }

    /// Gives the invocation's context the app's state and (with dynamic configuration) the
    /// settings in force as it starts.
    fn attach(&self, ctx: &Context) {
        ctx.attach_state(self.inner.state.clone());
        #[cfg(feature = "config")]
        if let Some(config) = &self.inner.config {
            ctx.attach_settings(config);
        }
    }

    /// Adds the security headers the app set (never over one the response has).
    fn harden(&self, res: &mut Response) {
        if let Some(headers) = &self.inner.security_headers {
            headers.apply(res.headers_mut());
        }
    }

    fn open_scope(&self, ctx: &Context) -> Option<Scope> {
        #[cfg(feature = "observability")]
        let obs = self.inner.observability.as_ref();
        #[cfg(not(feature = "observability"))]
        let obs = None;
        Scope::open(obs, ctx)
    }

    /// The invocation's panic boundary (record handlers and routes have their own, closer
    /// ones; this one catches whatever escapes them).
    async fn run_guarded(
        &self,
        prepared: Prepared,
        json: &str,
        ctx: &Context,
    ) -> Result<Served, lambda_runtime::Diagnostic> {
        let fut = self.dispatch(prepared, json, ctx);
        match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(err)) => {
                if err.code() != code::HANDLER_FAILED {
                    tracing::error!(code = err.code(), error = %err, request_id = ctx.request_id(), "invocation failed");
                }
                Err(err.to_diagnostic())
            }
            Err(payload) => {
                let err = crate::panic::error(payload);
                tracing::error!(code = err.code(), error = %err, request_id = ctx.request_id(), "invocation panicked");
                Err(err.to_diagnostic())
            }
        }
    }

    async fn dispatch(&self, prepared: Prepared, json: &str, ctx: &Context) -> Result<Served, Error> {
        let kind = match prepared {
            Prepared::Http(kind, decoded) => return Ok(self.http_event(kind, decoded, ctx).await),
            Prepared::Event(kind) => kind,
            Prepared::Malformed(e) => {
                return Err(Error::bad_request(code::MALFORMED_JSON, "the event is not valid JSON").with_source(e))
            }
        };
        // Authorizer events go to `App::authorizer`; without one, to the event fallback.
        if let (EventKind::Authorizer, Some(h)) = (kind, &self.inner.authorizer) {
            let out = crate::authorizer::serve(h, ctx, json).await?;
            return Ok(Served {
                out,
                route: Route::Source(kind.as_str()),
                error: None,
            });
        }
        let events = &self.inner.events;
        let out = match kind {
            EventKind::Sqs => events.sqs(ctx, json).await,
            EventKind::Sns => events.sns(ctx, json).await,
            EventKind::S3 => events.s3(ctx, json).await,
            EventKind::EventBridge => events.eventbridge(ctx, json).await,
            EventKind::DynamoDb => events.dynamodb(ctx, json).await,
            EventKind::Kinesis => events.kinesis(ctx, json).await,
            EventKind::Kafka => events.kafka(ctx, json).await,
            _ => match events.other(ctx, json).await {
                Some(r) => r,
                None => Err(Error::bad_request(
                    code::UNKNOWN_EVENT,
                    "the event's shape matches no event source Lift knows and no event fallback is set",
                )),
            },
        };
        out.map(|out| Served {
            out,
            route: Route::Source(kind.as_str()),
            error: None,
        })
    }

    /// An HTTP-shaped event: through the edge to the router its origin names, and back into
    /// the response shape of that origin.
    async fn http_event(
        &self,
        kind: EventKind,
        decoded: Result<(Origin, http::Request<Body>), Error>,
        ctx: &Context,
    ) -> Served {
        let corr = &self.inner.correlation_header;
        let (origin, mut res) = match decoded {
            Ok((origin, req)) => {
                let router = if origin == Origin::WebSocket {
                    &self.inner.websocket
                } else {
                    &self.inner.router
                };
                (origin, edge::serve(router, req, ctx, corr).await)
            }
            Err(err) => (Origin::of(kind), edge::undecodable(err, ctx, corr)),
        };
        self.harden(&mut res);
        let route = Route::of(ctx);
        let error = res.extensions_mut().remove::<edge::ErrorCode>().map(|c| c.0);
        Served {
            out: Output(Inner::Http(convert::encode(origin, res).await)),
            route,
            error,
        }
    }

    /// Runs the function; see [`App::run`](crate::App::run). The local server returns on
    /// Ctrl-C or SIGTERM after its in-flight requests finish; queued log lines are flushed
    /// before this returns.
    pub async fn run(self) -> Result<(), crate::BoxError> {
        crate::panic::install_hook();
        let result = if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
            crate::runtime::run_lambda(self.clone()).await
        } else {
            match crate::local::LocalConfig::from_env() {
                Ok(config) => {
                    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], config.port));
                    let shutdown = crate::local::shutdown_signal();
                    crate::local::serve_with_shutdown(self.clone(), addr, config, shutdown).await
                }
                Err(e) => Err(Box::new(crate::init::ConfigError(e.to_string())) as crate::BoxError),
            }
        };
        self.flush();
        result
    }

    /// Writes the log lines still queued (off Lambda, logs go through a bounded queue).
    fn flush(&self) {
        #[cfg(feature = "observability")]
        if let Some(obs) = &self.inner.observability {
            if !obs.flush(FLUSH_TIMEOUT) {
                tracing::warn!("log lines still queued at exit could not all be written");
            }
        }
    }
}
