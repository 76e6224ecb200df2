//! The observability scope of one invocation: opened at the start, made current around every
//! poll of the invocation's future, finished with the invocation's outcome.
//!
//! Without the `observability` feature the types here are uninhabited and every call site
//! compiles to nothing.

use crate::context::Context;

/// How an invocation ended, as the summary line, EMF and X-Ray report it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ending<'a> {
    /// HTTP status, for HTTP invocations.
    pub(crate) status: Option<u16>,
    /// The stable error code of a failed invocation (`Lift.<code>` for events, the error
    /// body's code for HTTP).
    pub(crate) error: Option<&'a str>,
    /// The matched route or the event source.
    pub(crate) route: Option<&'a str>,
}

#[cfg(feature = "observability")]
mod enabled {
    use super::{Context, Ending};

    /// The context's handle on its invocation's observability state: metrics, and a tenant or
    /// correlation id learnt after the start. One `Arc` clone.
    #[derive(Clone, Debug)]
    pub(crate) struct ObsHandle(lift_observability::InvocationHandle);

    impl ObsHandle {
        pub(crate) fn metrics(&self) -> lift_observability::Metrics {
            self.0.metrics()
        }

        pub(crate) fn set_tenant(&self, tenant: &str) {
            self.0.set_tenant(tenant);
        }

        pub(crate) fn set_correlation_id(&self, id: &str) {
            self.0.set_correlation_id(id);
        }
    }

    /// One invocation's observability scope.
    pub(crate) struct Scope(lift_observability::Invocation);

    impl Scope {
        /// Opens the scope when observability is on, and attaches its handle to the context.
        pub(crate) fn open(obs: Option<&lift_observability::Observability>, ctx: &Context) -> Option<Self> {
            let obs = obs?;
            let meta = lift_observability::InvocationMeta {
                request_id: ctx.request_id(),
                function_arn: ctx.function_arn(),
                trace_header: ctx.trace_header(),
                cold_start: ctx.cold_start(),
                correlation_id: ctx.correlation_id(),
                tenant_id: ctx.tenant(),
            };
            #[cfg(feature = "config")]
            let inv = obs.start_with(meta, ctx.level_override());
            #[cfg(not(feature = "config"))]
            let inv = obs.start(meta);
            ctx.attach_obs(ObsHandle(inv.handle()));
            #[cfg(feature = "config")]
            ctx.report_config_errors();
            Some(Self(inv))
        }

        /// Makes the invocation current around every poll of `fut`: the one mechanism by which
        /// log lines, spans and resilience events find their invocation.
        pub(crate) fn instrument<F: std::future::Future>(
            &self,
            fut: F,
        ) -> impl std::future::Future<Output = F::Output> {
            self.0.instrument(fut)
        }

        pub(crate) fn finish(self, end: Ending<'_>) {
            self.0.finish(lift_observability::Outcome {
                status: end.status,
                error: end.error,
                route: end.route,
            });
        }
    }
}

#[cfg(not(feature = "observability"))]
mod enabled {
    use super::{Context, Ending};

    /// Without observability there is no handle.
    #[derive(Clone, Debug)]
    pub(crate) enum ObsHandle {}

    impl ObsHandle {
        pub(crate) fn set_tenant(&self, _: &str) {
            match *self {}
        }

        pub(crate) fn set_correlation_id(&self, _: &str) {
            match *self {}
        }
    }

    /// Without observability there is no scope; these keep the call sites uniform.
    pub(crate) enum Scope {}

    impl Scope {
        pub(crate) fn open(_: Option<&()>, _: &Context) -> Option<Self> {
            None
        }

        pub(crate) fn instrument<F: std::future::Future>(&self, _fut: F) -> F {
            match *self {}
        }

        pub(crate) fn finish(self, _: Ending<'_>) {
            match self {}
        }
    }
}

pub(crate) use enabled::{ObsHandle, Scope};
