//! The quick start's tenancy: every HTTP and WebSocket route resolves the caller's tenant from
//! the verified claim `tenant_id` (once authentication has set the principal) and from Lambda
//! tenant isolation. Headers are never trusted here: a client's `x-tenant-id` names nothing.
//!
//! The tenant is optional (routes without one keep working); when present it is validated,
//! must agree between the two sources (else 403 `tenant_mismatch`; a malformed one is 403
//! `invalid_tenant`), and is in every later log line of the invocation (`tenant_id`), its EMF
//! document and its X-Ray annotations.

use lift::tenant::{TenantLayer, TenantResolver};
use lift::App;

/// The resolver: the claim `tenant_id`, then Lambda tenant isolation.
pub(crate) fn resolver() -> TenantResolver {
    TenantResolver::new().claim("tenant_id").lambda_isolation()
}

/// Wraps every route of `app` in the tenant layer. Call it after the resilience stack is
/// added: a stack added later wraps the earlier ones, so anything keyed by tenant sees it, and
/// authentication (which sets the principal) must be added after this, to wrap it in turn.
pub(crate) fn resolve_tenants(app: App) -> App {
    app.resilience(TenantLayer::new(resolver()))
}
