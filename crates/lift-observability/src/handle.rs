//! A cheap, shareable handle on one invocation, for code that learns its ids late.

use std::fmt;
use std::sync::Arc;

use crate::invocation::Shared;
use crate::Metrics;

/// A handle on one invocation ([`crate::Invocation::handle`]): `Clone` (one `Arc` clone),
/// `Send + Sync`, never bound to another invocation. The core keeps it in the request's context
/// so that middleware can set the tenant or the correlation id once it knows them.
///
/// An id set through it reaches every later log line of the invocation (including the summary
/// line), its EMF document properties and its X-Ray annotations. Setting an id again replaces
/// it. Until an id is set late, log lines use the ids rendered at start without taking a lock.
#[derive(Clone)]
pub struct InvocationHandle {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for InvocationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvocationHandle")
            .field("request_id", &self.shared.request_id())
            .finish_non_exhaustive()
    }
}

impl InvocationHandle {
    /// The invocation's metrics (a disabled handle when metrics are off).
    pub fn metrics(&self) -> Metrics {
        Metrics::new(self.shared.obs.metrics.then(|| self.shared.clone()))
    }

    /// Sets (or replaces) the tenant: `tenant_id` in log lines, EMF and X-Ray annotations.
    pub fn set_tenant(&self, tenant: &str) {
        self.shared.set_tenant(tenant);
    }

    /// Sets (or replaces) the correlation id: `correlation_id` in log lines, EMF and X-Ray
    /// annotations.
    pub fn set_correlation_id(&self, id: &str) {
        self.shared.set_correlation_id(id);
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        self.shared.request_id()
    }
}
