//! The tenant as the partition key of HTTP routes' limits, bulkheads and breakers.

use axum::body::Body;
use lift_resilience::{TenantKey, TenantOf};

/// Keys a request by its tenant (the [`TenantKey`] that [`TenantLayer`](super::TenantLayer)
/// gave it; `None` without a tenant): one tenant's flood cannot exhaust another's limit.
///
/// ```
/// use lift::resilience::{bulkhead::BulkheadLayer, rate_limit};
/// use lift::tenant::{tenant_key, TenantKeyFn};
///
/// let per_tenant = rate_limit::RateLimitLayer::keyed(rate_limit::per_second(50), tenant_key as TenantKeyFn, 10_000);
/// let bulkhead = BulkheadLayer::new(8).key(tenant_key as TenantKeyFn);
/// # let _ = (per_tenant, bulkhead);
/// ```
///
/// For other request types (record calls, your own) use
/// [`ByTenant`](crate::resilience::ByTenant), naming the request type:
/// `.key::<RecordCall<Sqs<Job>>, _>(ByTenant)`.
#[inline]
pub fn tenant_key(req: &http::Request<Body>) -> Option<TenantKey> {
    req.tenant_of()
}

/// The key function type of [`tenant_key`].
pub type TenantKeyFn = fn(&http::Request<Body>) -> Option<TenantKey>;
