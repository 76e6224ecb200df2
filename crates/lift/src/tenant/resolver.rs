//! [`TenantResolver`]: which sources name the tenant, in which order, and the checks every
//! candidate passes before it becomes the invocation's tenant.

use std::borrow::Cow;
use std::sync::Arc;

use http::header::InvalidHeaderName;
use http::{HeaderMap, HeaderName};

use super::error::TenantError;
use super::id::{validate_tenant, InvalidTenant, DEFAULT_MAX_TENANT_LEN};
use super::source::TenantSource;
use crate::context::Context;

/// Resolves the tenant of an invocation from the sources the user lists, in order.
///
/// ```
/// use lift::tenant::TenantResolver;
///
/// let resolver = TenantResolver::new()
///     .claim("custom:tenant_id")        // a verified JWT / authorizer claim
///     .lambda_isolation()               // Lambda tenant isolation
///     .trust_header("x-tenant-id")      // only behind a gateway the client cannot bypass
///     .expect("a valid header name");
/// # let _ = resolver;
/// ```
///
/// Rules, in this order:
/// - every listed source is read; a source that holds nothing is skipped;
/// - every value found must be a valid id ([`validate_tenant`](super::validate_tenant):
///   1 to `max_len` bytes of `A-Z a-z 0-9 . _ : / = + - @`), else [`TenantError::Invalid`];
/// - every value found must be the same tenant, and the same as a tenant the context already
///   holds (Lambda's tenant isolation is in the context from the start, listed or not), else
///   [`TenantError::Mismatch`]: a token for tenant A is never served as tenant B;
/// - the first value found (in the listed order) becomes the tenant, set once in the context.
///
/// Sources that hold nothing leave the tenant unresolved (`Ok(None)`); put
/// [`RequireTenantLayer`](super::RequireTenantLayer) behind the resolver when a route needs one.
///
/// Cloning shares the configuration (one `Arc`).
#[derive(Clone, Debug)]
pub struct TenantResolver {
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    sources: Vec<TenantSource>,
    max_len: usize,
    emf_dimension: bool,
}

impl Default for TenantResolver {
    fn default() -> Self {
        Self::new()
    }
}

impl TenantResolver {
    /// A resolver with no source yet (resolves only a tenant already in the context), ids of at
    /// most [`DEFAULT_MAX_TENANT_LEN`] bytes, no EMF dimension.
    pub fn new() -> Self {
        Self {
            config: Arc::new(Config {
                sources: Vec::new(),
                max_len: DEFAULT_MAX_TENANT_LEN,
                emf_dimension: false,
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// Adds a source: the claim `name` of the verified [`Principal`](crate::Principal)
    /// (`tenant_id`, `custom:tenant_id`). A string, or an integer (written in decimal).
    pub fn claim(self, name: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        self.edit(|c| c.sources.push(TenantSource::Claim(name)))
    }

    /// Adds a source: Lambda tenant isolation (the tenant id Lambda invoked this execution
    /// environment for).
    pub fn lambda_isolation(self) -> Self {
        self.edit(|c| c.sources.push(TenantSource::LambdaIsolation))
    }

    /// Adds a source: the request header `name`, which you trust because a gateway the client
    /// cannot bypass sets it (API Gateway mapping, a proxy that strips the client's copy).
    /// Without this call no header is ever read. Several values of the header must agree.
    pub fn trust_header(self, name: &str) -> Result<Self, InvalidHeaderName> {
        let name = HeaderName::from_bytes(name.as_bytes())?;
        Ok(self.edit(|c| c.sources.push(TenantSource::TrustedHeader(name))))
    }

    /// The longest id accepted, in bytes (default [`DEFAULT_MAX_TENANT_LEN`]).
    pub fn max_len(self, bytes: usize) -> Self {
        self.edit(|c| c.max_len = bytes)
    }

    /// Also adds `tenant_id` as an EMF *dimension* of the invocation's metrics (it is always
    /// a property). Each tenant then makes its own CloudWatch metric series, billed per
    /// series: only for a bounded number of tenants.
    pub fn emf_dimension(self, on: bool) -> Self {
        self.edit(|c| c.emf_dimension = on)
    }

    /// The sources, in the order they are read.
    pub fn sources(&self) -> &[TenantSource] {
        &self.config.sources
    }

    /// Reads the sources (without touching the context): the tenant they name, if any.
    /// `headers` is `None` for records (header sources are then skipped).
    pub fn resolve(&self, ctx: &Context, headers: Option<&HeaderMap>) -> Result<Option<Arc<str>>, TenantError> {
        let max = self.config.max_len;
        let mut found: Option<Arc<str>> = None;
        let mut agree = |source: &TenantSource, value: Result<&str, InvalidTenant>| -> Result<(), TenantError> {
            let value = value
                .and_then(|v| validate_tenant(v, max).map(|()| v))
                .map_err(|reason| TenantError::Invalid {
                    source: source.describe(),
                    reason,
                    client_supplied: source.client_supplied(),
                })?;
            match &found {
                None => found = Some(Arc::from(value)),
                Some(f) if **f == *value => {}
                Some(_) => {
                    return Err(TenantError::Mismatch {
                        source: source.describe(),
                    })
                }
            }
            Ok(())
        };
        for source in &self.config.sources {
            match source {
                TenantSource::Claim(name) => {
                    let Some(v) = ctx.principal().and_then(|p| p.claims.get(&**name)) else {
                        continue;
                    };
                    let v = claim_text(v);
                    agree(source, v.as_deref().map_err(|e| *e))?;
                }
                TenantSource::LambdaIsolation => {
                    if let Some(t) = ctx.lambda().tenant_id.as_deref() {
                        agree(source, Ok(t))?;
                    }
                }
                TenantSource::TrustedHeader(name) => {
                    let Some(headers) = headers else { continue };
                    for v in headers.get_all(name) {
                        agree(source, v.to_str().map_err(|_| InvalidTenant::BadCharacter))?;
                    }
                }
            }
        }
        Ok(found)
    }

    /// Resolves the tenant and makes it the invocation's: set once in the context (so it
    /// reaches the invocation's later log lines, its EMF document and its X-Ray annotations),
    /// and added as an EMF dimension when asked. A tenant already in the context (Lambda's
    /// isolation, an earlier layer) must agree; it is validated like the others.
    pub fn apply(&self, ctx: &Context, headers: Option<&HeaderMap>) -> Result<Option<Arc<str>>, TenantError> {
        let resolved = self.resolve(ctx, headers)?;
        let tenant = match (resolved, ctx.tenant()) {
            (Some(t), Some(held)) if *t == *held => t,
            (Some(_), Some(_)) => {
                return Err(TenantError::Mismatch {
                    source: "the invocation's tenant".to_owned(),
                })
            }
            (Some(t), None) => {
                ctx.set_tenant(t.clone()).map_err(|_| TenantError::Mismatch {
                    source: "the invocation's tenant".to_owned(),
                })?;
                t
            }
            (None, Some(held)) => {
                validate_tenant(held, self.config.max_len).map_err(|reason| TenantError::Invalid {
                    source: "the invocation's tenant".to_owned(),
                    reason,
                    client_supplied: false,
                })?;
                Arc::from(held)
            }
            (None, None) => return Ok(None),
        };
        #[cfg(feature = "observability")]
        if self.config.emf_dimension {
            if let Err(e) = ctx.metrics().dimension("tenant_id", &tenant) {
                tracing::debug!(error = %e, "tenant_id dimension refused");
            }
        }
        Ok(Some(tenant))
    }
}

/// A claim as tenant text: strings as they are, integers in decimal.
fn claim_text(v: &serde_json::Value) -> Result<Cow<'_, str>, InvalidTenant> {
    match v {
        serde_json::Value::String(s) => Ok(Cow::Borrowed(s)),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Cow::Owned(n.to_string())),
        _ => Err(InvalidTenant::NotAString),
    }
}
