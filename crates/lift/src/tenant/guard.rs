//! [`TenantGuard`]: refusing a resource another tenant owns.

use http::StatusCode;

use super::error::tenant_required;
use crate::context::Context;
use crate::error::{code, Error};

/// Checks that a resource belongs to the invocation's tenant. Implemented for [`Context`].
///
/// ```
/// use lift::tenant::TenantGuard;
/// # async fn load(_id: &str) -> (String, String) { ("acme".into(), "order".into()) }
///
/// async fn get_order(ctx: lift::Context, id: &str) -> Result<String, lift::Error> {
///     let (owner, order) = load(id).await;
///     ctx.ensure_tenant(&owner)?; // 404 when another tenant owns it
///     Ok(order)
/// }
/// ```
///
/// **A resource of another tenant is answered 404 `not_found`, not 403.** A 403 would confirm
/// to the caller that the id exists (in some other tenant), which turns guessable ids into a
/// way to enumerate other tenants' data; the 404 is the answer a missing resource gets, so the
/// two cannot be told apart. The refusal is still visible to operators: one warning line
/// `resource owned by another tenant` (with this invocation's `tenant_id`, never the owner)
/// and the `TenantMismatch` metric in the invocation's EMF document, to alarm on.
/// No tenant at all is 403 `tenant_required`.
pub trait TenantGuard {
    /// `Ok` when the invocation's tenant is `owner`.
    fn ensure_tenant(&self, owner: &str) -> Result<(), Error>;
}

impl TenantGuard for Context {
    fn ensure_tenant(&self, owner: &str) -> Result<(), Error> {
        match self.tenant() {
            Some(t) if t == owner => Ok(()),
            Some(_) => {
                tracing::warn!("resource owned by another tenant");
                #[cfg(feature = "observability")]
                let _ = self.metrics().count("TenantMismatch", 1);
                Err(Error::new(StatusCode::NOT_FOUND, code::NOT_FOUND, "no such resource"))
            }
            None => Err(tenant_required()),
        }
    }
}
