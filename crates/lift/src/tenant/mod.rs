//! Tenancy: a tenant you can trust, in every log line, trace and metric of its invocation, in
//! the keys of limits, and in the checks on the data it reaches.
//!
//! ```
//! use axum::routing::get;
//! use lift::resilience::{rate_limit, ResilienceStack};
//! use lift::tenant::{tenant_key, CurrentTenant, RequireTenantLayer, TenantKeyFn, TenantLayer, TenantResolver};
//! use tower::ServiceBuilder;
//!
//! async fn orders(tenant: CurrentTenant) -> String {
//!     format!("orders of {}", tenant.as_str())
//! }
//!
//! let resolver = TenantResolver::new().claim("tenant_id").lambda_isolation();
//! let app = lift::App::new().route("/orders", get(orders)).resilience(
//!     ServiceBuilder::new()
//!         // (authentication first: it sets the principal whose claim names the tenant)
//!         .layer(TenantLayer::new(resolver))
//!         .layer(RequireTenantLayer)
//!         .layer(ResilienceStack::new().rate_limit(
//!             rate_limit::RateLimitLayer::keyed(rate_limit::per_second(100), tenant_key as TenantKeyFn, 10_000),
//!         )),
//! );
//! # let _ = app.build();
//! ```
//!
//! One job per file:
//! - [`TenantResolver`] reads the sources the user lists ([`TenantSource`]: a verified claim,
//!   Lambda tenant isolation, a header only when trusted), checks each value
//!   ([`validate_tenant`]) and that they agree, and sets the context's tenant (set once);
//! - [`TenantLayer`] runs it on HTTP routes and gives the request its
//!   [`TenantKey`](crate::resilience::TenantKey), which [`tenant_key`] (and
//!   [`ByTenant`](crate::resilience::ByTenant) for other request types) keys rate limits,
//!   bulkheads and breakers by;
//!   [`TenantResolver::records`] runs it before a record handler;
//! - [`RequireTenantLayer`] answers 403 `tenant_required` when no tenant was resolved;
//! - [`TenantGuard::ensure_tenant`] and [`CurrentTenant`] refuse another tenant's resource
//!   (404, see [`TenantGuard`] for why);
//! - [`TenantError`] and [`code`] are the refusals and their stable codes.
//!
//! Order on a route: authentication (sets the principal) → [`TenantLayer`] →
//! [`RequireTenantLayer`] → anything keyed by tenant (rate limit, bulkhead, breaker) → handler.
//! See `docs/tenancy.md`.

mod error;
mod extract;
mod guard;
mod id;
#[cfg(feature = "resilience")]
mod key;
mod layer;
mod records;
mod require;
mod resolver;
mod source;

pub use error::{code, tenant_required, TenantError};
pub use extract::CurrentTenant;
pub use guard::TenantGuard;
pub use id::{validate_tenant, InvalidTenant, DEFAULT_MAX_TENANT_LEN};
#[cfg(feature = "resilience")]
pub use key::{tenant_key, TenantKeyFn};
pub use layer::{TenantLayer, TenantService};
pub use records::WithTenant;
pub use require::{RequireTenant, RequireTenantLayer};
pub use resolver::TenantResolver;
pub use source::TenantSource;
