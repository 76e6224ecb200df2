//! What an invocation reads from dynamic configuration: its settings snapshot, feature flags,
//! parameters and secrets.

use std::sync::{Arc, OnceLock};

use lift_config::{Config, Parameters, Settings};

use super::Context;
use crate::error::Error;

/// The settings in force when the invocation started, and the polling errors it reports.
pub(crate) struct Attached {
    settings: Arc<Settings>,
    /// Counted as `ConfigErrors` in the invocation's metrics (with observability).
    #[cfg_attr(not(feature = "observability"), allow(dead_code))]
    errors_to_report: u64,
}

/// The parameters cache used when the app registered none (`App::with_state(Parameters)`):
/// one per process, from the environment.
static DEFAULT_PARAMETERS: OnceLock<Result<Parameters, String>> = OnceLock::new();

impl Context {
    /// Takes the settings in force (one atomic load and an `Arc` clone): this invocation reads
    /// them, and only them, to its end, so a swap mid-invocation never mixes two documents.
    pub(crate) fn attach_settings(&self, config: &Config) {
        let _ = self.inner.settings.set(Attached {
            settings: config.snapshot(),
            errors_to_report: config.stats().take_unreported_errors(),
        });
    }

    /// The dynamic settings in force when this invocation started (`None` when the app has no
    /// [`App::config`](crate::App::config)). The app's own part is
    /// `ctx.settings().and_then(|s| s.app::<MySettings>())`.
    pub fn settings(&self) -> Option<&Settings> {
        self.inner.settings.get().map(|a| &*a.settings)
    }

    /// Whether the feature flag `name` is on for this invocation's tenant (see
    /// [`lift_config::Flags`]: on, off, listed tenants, or a stable percentage of tenants).
    /// Off when the flag is unknown or the app has no configuration. Read the tenant first:
    /// set it (tenant middleware) before asking.
    pub fn flag(&self, name: &str) -> bool {
        self.settings().is_some_and(|s| s.flag(name, self.tenant()))
    }

    /// The SSM parameter `name` (decrypted), through the Parameters and Secrets Lambda
    /// extension, cached for `POWERTOOLS_PARAMETERS_MAX_AGE` seconds (default 5) across
    /// invocations. The cache is the app's [`Parameters`] when it registered one with
    /// [`App::with_state`](crate::App::with_state), else one per process from the environment.
    /// A failure is a 500 whose cause is logged, not sent.
    pub async fn parameter(&self, name: &str) -> Result<Arc<str>, Error> {
        self.parameters()?
            .parameter(name)
            .await
            .map_err(|e| Error::internal(e.to_string()))
    }

    /// The Secrets Manager secret `id`'s string, like [`parameter`](Self::parameter).
    pub async fn secret(&self, id: &str) -> Result<Arc<str>, Error> {
        self.parameters()?
            .secret(id)
            .await
            .map_err(|e| Error::internal(e.to_string()))
    }

    fn parameters(&self) -> Result<&Parameters, Error> {
        if let Some(p) = self.state::<Parameters>() {
            return Ok(p);
        }
        DEFAULT_PARAMETERS
            .get_or_init(Parameters::from_env)
            .as_ref()
            .map_err(|e| Error::internal(format!("parameters: {e}")))
    }

    /// This invocation's log level and DEBUG sample rate from its settings.
    #[cfg(feature = "observability")]
    pub(crate) fn level_override(&self) -> lift_observability::LevelOverride {
        match self.settings() {
            Some(s) => lift_observability::LevelOverride::new(s.lift().log_level, s.lift().debug_sample_rate),
            None => lift_observability::LevelOverride::default(),
        }
    }

    /// Counts the polling errors since the previous invocation in this one's metrics.
    #[cfg(feature = "observability")]
    pub(crate) fn report_config_errors(&self) {
        if let Some(a) = self.inner.settings.get() {
            if a.errors_to_report > 0 {
                let _ = self.metrics().count("ConfigErrors", a.errors_to_report);
            }
        }
    }
}
