//! The per-invocation [`Context`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::error::Error;

/// Everything Lift knows about the invocation being served.
///
/// A `Context` belongs to exactly one invocation: it is built when the invocation starts and
/// travels with it (in the `http::Request` extensions for HTTP routes, as an argument for
/// record handlers). Nothing in it is read from process-wide state after it is built, so it
/// stays correct when many invocations run at once in one process (Lambda Managed Instances).
///
/// Cloning is cheap: the Lambda part is shared behind an `Arc`.
#[derive(Clone, Debug)]
pub struct Context {
    lambda: Arc<lambda_runtime::Context>,
    cold_start: bool,
    tenant: Option<Arc<str>>,
    principal: Option<Arc<Principal>>,
    correlation_id: Option<Arc<str>>,
    extensions: http::Extensions,
}

/// The authenticated caller of an invocation, filled in by authentication middleware.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Principal {
    /// Stable identifier of the caller (the JWT `sub`, an IAM ARN, an API key id...).
    pub subject: String,
    /// Scopes or roles granted to the caller.
    pub scopes: Vec<String>,
    /// The verified claims, as JSON.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl Principal {
    /// A principal with a subject and no scopes or claims.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            ..Self::default()
        }
    }
}

/// Process-wide: has any invocation started yet? Only the flag's *value for one invocation*
/// is per-invocation; exactly one invocation per process sees `cold_start == true`.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Claims the cold start for the caller: `true` for the first invocation of the process only.
pub(crate) fn claim_cold_start() -> bool {
    !STARTED.swap(true, Ordering::AcqRel)
}

impl Context {
    /// Builds the context of one invocation from the runtime's Lambda context.
    pub fn from_lambda(lambda: lambda_runtime::Context, cold_start: bool) -> Self {
        Self::from_shared(Arc::new(lambda), cold_start)
    }

    pub(crate) fn from_shared(lambda: Arc<lambda_runtime::Context>, cold_start: bool) -> Self {
        let tenant = lambda.tenant_id.as_deref().map(Arc::from);
        Self {
            lambda,
            cold_start,
            tenant,
            principal: None,
            correlation_id: None,
            extensions: http::Extensions::new(),
        }
    }

    /// The AWS request id of this invocation.
    pub fn request_id(&self) -> &str {
        &self.lambda.request_id
    }

    /// The ARN of the function being invoked.
    pub fn function_arn(&self) -> &str {
        &self.lambda.invoked_function_arn
    }

    /// The X-Ray trace header of *this* invocation (`Root=...;Parent=...;Sampled=...`).
    ///
    /// Never read `_X_AMZN_TRACE_ID` from the environment instead: under concurrency it names
    /// whichever invocation wrote it last.
    pub fn trace_header(&self) -> Option<&str> {
        self.lambda.xray_trace_id.as_deref()
    }

    /// Whether this is the first invocation served by this process.
    pub fn cold_start(&self) -> bool {
        self.cold_start
    }

    /// The invocation deadline as wall-clock time, if the runtime gave one.
    pub fn deadline(&self) -> Option<SystemTime> {
        (self.lambda.deadline != 0).then(|| UNIX_EPOCH + Duration::from_millis(self.lambda.deadline))
    }

    /// Time left before the deadline (zero once it has passed; `None` without a deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline()
            .map(|d| d.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
    }

    /// The correlation id: the request's correlation header (`x-correlation-id` unless
    /// observability names another), else none. Logs fall back to the request id.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// Sets the correlation id.
    pub fn set_correlation_id(&mut self, id: impl Into<Arc<str>>) {
        self.correlation_id = Some(id.into());
    }

    pub(crate) fn set_correlation_from(&mut self, headers: &http::HeaderMap, name: &str) {
        if let Some(v) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
        {
            self.correlation_id = Some(Arc::from(v));
        }
    }

    /// The invocation's metrics (CloudWatch EMF, flushed once when the invocation ends). A
    /// no-op handle when observability is off.
    ///
    /// ```
    /// # fn handler(ctx: lift::Context) {
    /// let _ = ctx.metrics().count("OrdersCreated", 1);
    /// # }
    /// ```
    #[cfg(feature = "observability")]
    pub fn metrics(&self) -> lift_observability::Metrics {
        self.extensions
            .get::<lift_observability::Metrics>()
            .cloned()
            .unwrap_or_else(lift_observability::Metrics::disabled)
    }

    /// The tenant this invocation acts for, once known (Lambda tenant isolation or tenant
    /// middleware).
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// Sets the tenant. Middleware that resolves tenants calls this before the handler runs.
    pub fn set_tenant(&mut self, tenant: impl Into<Arc<str>>) {
        self.tenant = Some(tenant.into());
    }

    /// The authenticated caller, once known.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_deref()
    }

    /// Sets the authenticated caller.
    pub fn set_principal(&mut self, principal: Principal) {
        self.principal = Some(Arc::new(principal));
    }

    /// Typed values attached to this invocation by middleware or the handler.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// Mutable access to the invocation's typed values.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }

    /// The full Lambda context as the runtime delivered it (client context, Cognito
    /// identity, function configuration).
    pub fn lambda(&self) -> &lambda_runtime::Context {
        &self.lambda
    }
}

/// The context of the invocation serving this request.
///
/// Lift puts it in every request's extensions; a handler gets it by naming it as an argument.
impl<S: Send + Sync> FromRequestParts<S> for Context {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Context>()
            .cloned()
            .ok_or_else(|| Error::internal("request context missing: was the router served outside Lift?"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_and_remaining_follow_the_lambda_context() {
        let mut lambda = lambda_runtime::Context::default();
        lambda.request_id = "r-1".into();
        let soon = SystemTime::now() + Duration::from_secs(5);
        lambda.deadline = soon
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let ctx = Context::from_lambda(lambda, false);
        assert_eq!(ctx.request_id(), "r-1");
        let left = ctx.remaining().unwrap_or_default();
        assert!(
            left > Duration::from_secs(3) && left <= Duration::from_secs(5),
            "{left:?}"
        );
    }

    #[test]
    fn a_passed_deadline_leaves_zero() {
        let mut lambda = lambda_runtime::Context::default();
        lambda.deadline = 1;
        let ctx = Context::from_lambda(lambda, false);
        assert_eq!(ctx.remaining(), Some(Duration::ZERO));
    }

    #[test]
    fn tenant_comes_from_lambda_tenant_isolation_and_can_be_overridden() {
        let mut lambda = lambda_runtime::Context::default();
        lambda.tenant_id = Some("acme".into());
        let mut ctx = Context::from_lambda(lambda, true);
        assert_eq!(ctx.tenant(), Some("acme"));
        ctx.set_tenant("globex");
        assert_eq!(ctx.tenant(), Some("globex"));
        assert!(ctx.cold_start());
    }
}
