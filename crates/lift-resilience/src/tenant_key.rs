//! Partitioning by tenant: [`ByTenant`] keys rate limits, bulkheads and breakers by the tenant a
//! request acts for, so one tenant's flood cannot exhaust another tenant's limit.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use crate::key::KeyFn;
use crate::rate_limit::StoreKey;

/// The tenant a request acts for, as a partition key: one `Arc<str>`, cloned (not copied) per
/// call.
///
/// Tenant middleware (Lift's `TenantLayer`) puts it in the request's extensions once it has
/// resolved and validated the tenant; any other service can insert it the same way.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantKey(Arc<str>);

impl TenantKey {
    /// A key for `tenant` (shares the `Arc`, no copy).
    pub fn new(tenant: impl Into<Arc<str>>) -> Self {
        Self(tenant.into())
    }

    /// The tenant id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared tenant id.
    pub fn as_arc(&self) -> &Arc<str> {
        &self.0
    }
}

impl fmt::Debug for TenantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for TenantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for TenantKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for TenantKey {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<Arc<str>> for TenantKey {
    fn from(s: Arc<str>) -> Self {
        Self(s)
    }
}

/// A tenant is its id in a store outside the process (same bytes as the `str`).
impl StoreKey for TenantKey {
    #[inline]
    fn write_key(&self, out: &mut Vec<u8>) {
        self.as_str().write_key(out);
    }
}

/// A request that knows the tenant it acts for.
///
/// Implemented for `http::Request<B>` (the [`TenantKey`] in its extensions); Lift implements it
/// for its record calls (the invocation's tenant).
pub trait TenantOf {
    /// The request's tenant, `None` when no tenant was resolved.
    fn tenant_of(&self) -> Option<TenantKey>;
}

impl<B> TenantOf for http::Request<B> {
    #[inline]
    fn tenant_of(&self) -> Option<TenantKey> {
        self.extensions().get::<TenantKey>().cloned()
    }
}

/// Keys a layer by tenant, for any request type that implements [`TenantOf`]. Name the
/// request type where the layer cannot infer it:
/// `BulkheadLayer::new(8).key::<http::Request<Body>, _>(ByTenant)`,
/// `RateLimitLayer::keyed::<http::Request<Body>, _>(quota, ByTenant, 10_000)`
/// (Lift's `tenant_key as TenantKeyFn` is the same for its HTTP routes).
///
/// The key is `Option<TenantKey>`: every request without a tenant shares the one `None`
/// partition. Refuse those first (Lift's `RequireTenantLayer`) when that partition must not
/// exist. Combine with other keys in a closure, e.g. per tenant *and* route:
/// `|r: &Request<B>| (r.tenant_of(), route_key(r))`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ByTenant;

impl<Req: TenantOf> KeyFn<Req> for ByTenant {
    type Key = Option<TenantKey>;

    #[inline]
    fn key(&self, req: &Req) -> Option<TenantKey> {
        req.tenant_of()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_tenant_in_the_extensions_and_none_without_one() {
        let mut req = http::Request::new(());
        assert_eq!(ByTenant.key(&req), None);
        req.extensions_mut().insert(TenantKey::from("acme"));
        assert_eq!(ByTenant.key(&req).as_ref().map(TenantKey::as_str), Some("acme"));

        let (mut a, mut b) = (Vec::new(), Vec::new());
        TenantKey::from("acme").write_key(&mut a);
        "acme".write_key(&mut b);
        assert_eq!(a, b, "a tenant is stored as its id");
    }
}
