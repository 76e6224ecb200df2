//! Tenancy for record handlers: [`WithTenant`] resolves before the handler runs, and record
//! calls are keyed by tenant for [`ByTenant`](crate::resilience::ByTenant).

use super::error::tenant_required;
use super::resolver::TenantResolver;
use crate::context::Context;
use crate::error::Error;
use crate::records::BoxFuture;

/// A record handler behind a [`TenantResolver`] (built by [`TenantResolver::records`]): the
/// tenant is resolved from the claim and Lambda sources (records have no headers) and set in
/// the context before the handler runs; a refused tenant fails the record with its code
/// (`invalid_tenant`, `tenant_mismatch`, and `tenant_required` when required), so batch
/// sources report it and the service redelivers it.
#[derive(Clone, Debug)]
pub struct WithTenant<H> {
    handler: H,
    resolver: TenantResolver,
    required: bool,
}

impl<H> WithTenant<H> {
    /// Fails records for which no tenant is resolved (`tenant_required`).
    pub fn require_tenant(mut self) -> Self {
        self.required = true;
        self
    }
}

impl TenantResolver {
    /// Wraps a record handler: see [`WithTenant`]. Put resilience inside it
    /// (`resolver.records(record_layer(handler, limit_by_tenant))`) so limits see the tenant.
    pub fn records<H>(&self, handler: H) -> WithTenant<H> {
        WithTenant {
            handler,
            resolver: self.clone(),
            required: false,
        }
    }
}

impl<H, I> crate::RecordHandler<I> for WithTenant<H>
where
    H: crate::RecordHandler<I>,
{
    fn call(&self, ctx: Context, input: I) -> BoxFuture<Result<(), Error>> {
        let refused = |e: Error| -> BoxFuture<Result<(), Error>> { Box::pin(std::future::ready(Err(e))) };
        match self.resolver.apply(&ctx, None) {
            Ok(Some(_tenant)) => {
                #[cfg(feature = "resilience")]
                ctx.insert_extension(lift_resilience::TenantKey::new(_tenant));
            }
            Ok(None) if self.required => return refused(tenant_required()),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "tenant refused");
                return refused(Error::from(e));
            }
        }
        self.handler.call(ctx, input)
    }
}

/// A record call's tenant: the invocation's.
#[cfg(feature = "resilience")]
impl<I> lift_resilience::TenantOf for crate::resilience::RecordCall<I> {
    fn tenant_of(&self) -> Option<lift_resilience::TenantKey> {
        self.ctx
            .extension::<lift_resilience::TenantKey>()
            .or_else(|| self.ctx.tenant().map(lift_resilience::TenantKey::from))
    }
}
