//! The per-invocation [`Context`]: the one carrier of invocation state.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::error::Error;
use crate::obs::ObsHandle;
use crate::state::AppState;

#[cfg(feature = "config")]
mod config;

/// Everything Lift knows about the invocation being served.
///
/// A `Context` belongs to exactly one invocation: it is built when the invocation starts and
/// travels with it (in the `http::Request` extensions for HTTP routes, as an argument for
/// record handlers). Nothing in it is read from process-wide state after it is built, so it
/// stays correct when many invocations run at once in one process (Lambda Managed Instances).
///
/// Cloning is one `Arc` clone: every clone is the *same* invocation state, so a tenant set by
/// middleware is what the handler, the logs, the EMF document and the X-Ray subsegment see.
/// The tenant, principal and correlation id are each set at most once per invocation (the
/// first value wins; a different second value is refused), so nothing downstream can swap the
/// identity an earlier layer verified.
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    lambda: lambda_runtime::Context,
    cold_start: bool,
    /// The deadline on tokio's clock, computed once from the Lambda deadline (so the timeout
    /// and retry layers and `remaining()` agree, and paused-clock tests control it).
    deadline: Option<tokio::time::Instant>,
    tenant: OnceLock<Arc<str>>,
    principal: OnceLock<Arc<Principal>>,
    correlation_id: OnceLock<Arc<str>>,
    /// The invocation's observability handle (metrics, late tenant and correlation id).
    obs: OnceLock<ObsHandle>,
    /// The app's shared state (`App::with_state`), set once by the edge.
    state: OnceLock<AppState>,
    /// The HTTP route that served the request, set by the route boundary (no response
    /// extension map to allocate for it).
    route: OnceLock<axum::extract::MatchedPath>,
    /// Typed values attached by middleware or the handler; allocated only when used.
    extensions: Mutex<http::Extensions>,
    /// The dynamic settings in force when the invocation started.
    #[cfg(feature = "config")]
    settings: OnceLock<config::Attached>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.request_id())
            .field("cold_start", &self.cold_start())
            .field("tenant", &self.tenant())
            .field("correlation_id", &self.correlation_id())
            .field("principal", &self.principal().map(|p| &p.subject))
            .finish_non_exhaustive()
    }
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

/// A second, different value for a set-once field of the [`Context`] (tenant, principal,
/// correlation id). The first value stays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlreadySet {
    field: &'static str,
}

impl fmt::Display for AlreadySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the invocation's {} is already set to another value", self.field)
    }
}

impl std::error::Error for AlreadySet {}

/// Process-wide: has any invocation started yet? Only the flag's *value for one invocation*
/// is per-invocation; exactly one invocation per process sees `cold_start == true`.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Claims the cold start for the caller: `true` for the first invocation of the process only.
pub(crate) fn claim_cold_start() -> bool {
    !STARTED.swap(true, Ordering::AcqRel)
}

/// The longest correlation id echoed and logged; a longer one is replaced.
pub const MAX_CORRELATION_ID_LEN: usize = 128;

/// Whether a client-sent correlation id may be echoed in responses and logs: 1 to 128 bytes of
/// visible ASCII (no spaces, controls or non-ASCII that could forge log lines or headers).
pub(crate) fn acceptable_correlation_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CORRELATION_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

fn set_once<T: PartialEq + ?Sized>(
    cell: &OnceLock<Arc<T>>,
    value: Arc<T>,
    field: &'static str,
) -> Result<(), AlreadySet> {
    let stored = cell.get_or_init(|| value.clone());
    if Arc::ptr_eq(stored, &value) || **stored == *value {
        Ok(())
    } else {
        Err(AlreadySet { field })
    }
}

impl Context {
    /// Builds the context of one invocation from the runtime's Lambda context. The deadline is
    /// read once, here.
    pub fn from_lambda(lambda: lambda_runtime::Context, cold_start: bool) -> Self {
        let deadline = (lambda.deadline != 0).then(|| {
            let at = UNIX_EPOCH + Duration::from_millis(lambda.deadline);
            let left = at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
            tokio::time::Instant::now() + left
        });
        let tenant = OnceLock::new();
        if let Some(t) = lambda.tenant_id.as_deref() {
            let _ = tenant.set(Arc::from(t));
        }
        Self {
            inner: Arc::new(Inner {
                lambda,
                cold_start,
                deadline,
                tenant,
                principal: OnceLock::new(),
                correlation_id: OnceLock::new(),
                obs: OnceLock::new(),
                route: OnceLock::new(),
                state: OnceLock::new(),
                extensions: Mutex::new(http::Extensions::new()),
                #[cfg(feature = "config")]
                settings: OnceLock::new(),
            }),
        }
    }

    /// The AWS request id of this invocation.
    pub fn request_id(&self) -> &str {
        &self.inner.lambda.request_id
    }

    /// The ARN of the function being invoked.
    pub fn function_arn(&self) -> &str {
        &self.inner.lambda.invoked_function_arn
    }

    /// The X-Ray trace header of *this* invocation (`Root=...;Parent=...;Sampled=...`).
    ///
    /// Never read `_X_AMZN_TRACE_ID` from the environment instead: under concurrency it names
    /// whichever invocation wrote it last.
    pub fn trace_header(&self) -> Option<&str> {
        self.inner.lambda.xray_trace_id.as_deref()
    }

    /// Whether this is the first invocation served by this process.
    pub fn cold_start(&self) -> bool {
        self.inner.cold_start
    }

    /// The invocation deadline as wall-clock time, if the runtime gave one.
    pub fn deadline(&self) -> Option<SystemTime> {
        let ms = self.inner.lambda.deadline;
        (ms != 0).then(|| UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// The invocation deadline on tokio's clock (what the timeout and retry layers use).
    pub fn deadline_instant(&self) -> Option<tokio::time::Instant> {
        self.inner.deadline
    }

    /// Time left before the deadline (zero once it has passed; `None` without a deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.inner
            .deadline
            .map(|d| d.saturating_duration_since(tokio::time::Instant::now()))
    }

    /// The correlation id: the request's correlation header (`x-correlation-id` unless
    /// observability names another) when it is acceptable (1 to 128 bytes of visible ASCII),
    /// else whatever the app set; logs fall back to the request id.
    pub fn correlation_id(&self) -> Option<&str> {
        self.inner.correlation_id.get().map(|s| &**s)
    }

    /// Sets the correlation id (once per invocation); it reaches this invocation's later log
    /// lines, its EMF document and the response header. An id a client could use to forge
    /// log lines (over 128 bytes, or outside visible ASCII) is refused.
    pub fn set_correlation_id(&self, id: impl Into<Arc<str>>) -> Result<(), AlreadySet> {
        let id = id.into();
        if !acceptable_correlation_id(&id) {
            return Err(AlreadySet {
                field: "correlation id (refused: over 128 bytes or not visible ASCII)",
            });
        }
        set_once(&self.inner.correlation_id, id.clone(), "correlation id")?;
        if let Some(obs) = self.inner.obs.get() {
            obs.set_correlation_id(&id);
        }
        Ok(())
    }

    /// Reads the correlation id from a request header at the edge. A value that is not
    /// acceptable is dropped (logs then use the request id), never echoed.
    pub(crate) fn set_correlation_from(&self, headers: &http::HeaderMap, name: &http::HeaderName) {
        let value = headers.get(name).and_then(|v| v.to_str().ok());
        match value {
            Some(v) if acceptable_correlation_id(v) => {
                let _ = self.inner.correlation_id.set(Arc::from(v));
            }
            Some(_) => {
                // Replaced by the request id, so the response and the logs still correlate.
                tracing::debug!("correlation id refused: over 128 bytes or not visible ASCII");
                let _ = self.inner.correlation_id.set(Arc::from(self.request_id()));
            }
            None => {}
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
        match self.inner.obs.get() {
            Some(obs) => obs.metrics(),
            None => lift_observability::Metrics::disabled(),
        }
    }

    pub(crate) fn attach_obs(&self, obs: ObsHandle) {
        let _ = self.inner.obs.set(obs);
    }

    /// Records the route serving the invocation's request (the first wins: one request per
    /// invocation).
    pub(crate) fn set_route(&self, route: &axum::extract::MatchedPath) {
        if self.inner.route.get().is_none() {
            let _ = self.inner.route.set(route.clone());
        }
    }

    /// The route that served the invocation's request, once one matched.
    pub(crate) fn route(&self) -> Option<&axum::extract::MatchedPath> {
        self.inner.route.get()
    }

    pub(crate) fn attach_state(&self, state: AppState) {
        let _ = self.inner.state.set(state);
    }

    /// A value shared with every handler through [`App::with_state`](crate::App::with_state).
    pub fn state<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.inner.state.get().and_then(|s| s.get::<T>())
    }

    pub(crate) fn shared_state<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.inner.state.get().and_then(|s| s.get_shared::<T>())
    }

    /// The tenant this invocation acts for, once known (Lambda tenant isolation, or tenant
    /// middleware).
    pub fn tenant(&self) -> Option<&str> {
        self.inner.tenant.get().map(|s| &**s)
    }

    /// Sets the tenant (once per invocation: Lambda's tenant isolation, when present, is
    /// authoritative). It reaches this invocation's later log lines, its EMF document and its
    /// X-Ray annotations.
    pub fn set_tenant(&self, tenant: impl Into<Arc<str>>) -> Result<(), AlreadySet> {
        let tenant = tenant.into();
        set_once(&self.inner.tenant, tenant.clone(), "tenant")?;
        if let Some(obs) = self.inner.obs.get() {
            obs.set_tenant(&tenant);
        }
        Ok(())
    }

    /// The authenticated caller, once known.
    pub fn principal(&self) -> Option<&Principal> {
        self.inner.principal.get().map(|p| &**p)
    }

    /// Sets the authenticated caller (once per invocation).
    pub fn set_principal(&self, principal: Principal) -> Result<(), AlreadySet> {
        set_once(&self.inner.principal, Arc::new(principal), "principal")
    }

    /// A typed value attached to this invocation by middleware or the handler (cloned out).
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        let ext = self.inner.extensions.lock().unwrap_or_else(|p| p.into_inner());
        ext.get::<T>().cloned()
    }

    /// Attaches a typed value to this invocation, returning the one it replaces.
    pub fn insert_extension<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        let mut ext = self.inner.extensions.lock().unwrap_or_else(|p| p.into_inner());
        ext.insert(value)
    }

    /// The full Lambda context as the runtime delivered it (client context, Cognito
    /// identity, function configuration).
    pub fn lambda(&self) -> &lambda_runtime::Context {
        &self.inner.lambda
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

    fn lambda_with_deadline_in(left: Duration) -> lambda_runtime::Context {
        let mut lambda = lambda_runtime::Context::default();
        lambda.request_id = "r-1".into();
        lambda.deadline = (SystemTime::now() + left)
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        lambda
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_is_read_once_and_follows_tokios_clock() {
        let ctx = Context::from_lambda(lambda_with_deadline_in(Duration::from_secs(5)), false);
        assert_eq!(ctx.request_id(), "r-1");
        let left = ctx.remaining().unwrap_or_default();
        assert!(
            left > Duration::from_secs(4) && left <= Duration::from_secs(5),
            "{left:?}"
        );
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(ctx.remaining(), Some(left - Duration::from_secs(3)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(ctx.remaining(), Some(Duration::ZERO));
    }

    #[test]
    fn a_passed_deadline_leaves_zero_and_no_deadline_leaves_none() {
        let mut lambda = lambda_runtime::Context::default();
        lambda.deadline = 1;
        assert_eq!(Context::from_lambda(lambda, false).remaining(), Some(Duration::ZERO));
        let none = Context::from_lambda(lambda_runtime::Context::default(), false);
        assert_eq!(none.remaining(), None);
        assert_eq!(none.deadline(), None);
    }

    #[test]
    fn lambda_tenant_isolation_is_authoritative_and_a_tenant_is_set_once() {
        let mut lambda = lambda_runtime::Context::default();
        lambda.tenant_id = Some("acme".into());
        let ctx = Context::from_lambda(lambda, true);
        assert_eq!(ctx.tenant(), Some("acme"));
        assert!(ctx.set_tenant("acme").is_ok(), "the same value again is fine");
        assert!(ctx.set_tenant("globex").is_err());
        assert_eq!(ctx.tenant(), Some("acme"));
        assert!(ctx.cold_start());

        let open = Context::from_lambda(lambda_runtime::Context::default(), false);
        let clone = open.clone();
        assert!(open.set_tenant("globex").is_ok());
        assert_eq!(clone.tenant(), Some("globex"), "clones share the invocation's state");
    }

    #[test]
    fn clones_share_state_instead_of_copying_it() {
        let ctx = Context::from_lambda(lambda_runtime::Context::default(), false);
        let clone = ctx.clone();
        assert!(Arc::ptr_eq(&ctx.inner, &clone.inner));
        clone.insert_extension(7u32);
        assert_eq!(ctx.extension::<u32>(), Some(7));
        assert!(clone.set_principal(Principal::new("user-1")).is_ok());
        assert_eq!(ctx.principal().map(|p| p.subject.as_str()), Some("user-1"));
        assert!(ctx.set_principal(Principal::new("user-2")).is_err());
    }

    #[test]
    fn correlation_ids_that_could_forge_logs_are_refused() {
        assert!(acceptable_correlation_id("abc-123_XYZ.~:/"));
        assert!(!acceptable_correlation_id(""));
        assert!(!acceptable_correlation_id(&"a".repeat(129)));
        assert!(acceptable_correlation_id(&"a".repeat(128)));
        assert!(!acceptable_correlation_id("a b"));
        assert!(!acceptable_correlation_id("é"));
        assert!(!acceptable_correlation_id("a\nb"));

        let ctx = Context::from_lambda(lambda_runtime::Context::default(), false);
        let name = http::HeaderName::from_static("x-correlation-id");
        let mut headers = http::HeaderMap::new();
        headers.insert(&name, http::HeaderValue::from_static("fine-id"));
        ctx.set_correlation_from(&headers, &name);
        assert_eq!(ctx.correlation_id(), Some("fine-id"));

        let ctx = Context::from_lambda(lambda_runtime::Context::default(), false);
        let long = "b".repeat(300);
        headers.insert(&name, http::HeaderValue::from_str(&long).expect("visible ASCII"));
        ctx.set_correlation_from(&headers, &name);
        assert_eq!(
            ctx.correlation_id(),
            Some(ctx.request_id()),
            "replaced by the request id"
        );
        let ctx = Context::from_lambda(lambda_runtime::Context::default(), false);
        assert!(ctx.set_correlation_id("has space").is_err());
        assert!(ctx.set_correlation_id("ok-id").is_ok());
        assert_eq!(ctx.correlation_id(), Some("ok-id"));
    }
}
