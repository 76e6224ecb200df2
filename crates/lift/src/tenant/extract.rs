//! [`CurrentTenant`]: the tenant as a handler argument.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::error::tenant_required;
use super::guard::TenantGuard;
use crate::context::Context;
use crate::error::Error;

/// The invocation's tenant, as an extractor: a handler that names it only runs for a resolved
/// tenant (else 403 `tenant_required`).
///
/// ```
/// use lift::tenant::CurrentTenant;
///
/// async fn orders(tenant: CurrentTenant) -> String {
///     format!("orders of {}", tenant.as_str())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct CurrentTenant {
    id: Arc<str>,
    ctx: Context,
}

impl CurrentTenant {
    /// The tenant id.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The shared tenant id.
    pub fn id(&self) -> &Arc<str> {
        &self.id
    }

    /// `Ok` when `owner` is this tenant; else 404 (see [`TenantGuard`] for why not 403).
    pub fn ensure_owns(&self, owner: &str) -> Result<(), Error> {
        self.ctx.ensure_tenant(owner)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentTenant {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ctx = parts.extensions.get::<Context>().cloned().ok_or_else(tenant_required)?;
        #[cfg(feature = "resilience")]
        if let Some(key) = parts.extensions.get::<lift_resilience::TenantKey>() {
            if ctx.tenant() == Some(key.as_str()) {
                return Ok(Self {
                    id: key.as_arc().clone(),
                    ctx,
                });
            }
        }
        let id = Arc::from(ctx.tenant().ok_or_else(tenant_required)?);
        Ok(Self { id, ctx })
    }
}
