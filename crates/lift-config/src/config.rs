//! [`Config`]: the handle every reader holds, and its set-up from the environment.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::appconfig::AppConfigSource;
use crate::poller::{PollStats, Poller, DEFAULT_INTERVAL, DEFAULT_TIMEOUT};
use crate::settings::Settings;
use crate::Dynamic;

/// The settings in force and what polling has done. Clones share both.
///
/// Readers take [`snapshot`](Self::snapshot) once per invocation (Lift does it as the
/// invocation starts), so everything an invocation reads comes from one document.
#[derive(Clone)]
pub struct Config {
    settings: Dynamic<Settings>,
    stats: Arc<PollStats>,
    source: Arc<str>,
    task: Option<Arc<tokio::task::AbortHandle>>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("source", &self.source)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub(crate) fn from_parts(settings: Dynamic<Settings>, stats: Arc<PollStats>, source: String) -> Self {
        Self {
            settings,
            stats,
            source: Arc::from(source),
            task: None,
        }
    }

    pub(crate) fn with_task(mut self, task: tokio::task::AbortHandle) -> Self {
        self.task = Some(Arc::new(task));
        self
    }

    /// Settings that only change through [`set`](Self::set) (tests, settings built in code).
    pub fn fixed(settings: Settings) -> Self {
        Self::from_parts(Dynamic::new(settings), Arc::default(), "fixed".to_owned())
    }

    /// The settings in force, as an `Arc` to keep for an invocation.
    #[inline]
    pub fn snapshot(&self) -> Arc<Settings> {
        self.settings.snapshot()
    }

    /// The shared value itself (for layers that read it per call, e.g. a dynamic store).
    pub fn settings(&self) -> &Dynamic<Settings> {
        &self.settings
    }

    /// Replaces the settings (what a poll does with a valid document).
    pub fn set(&self, settings: Settings) {
        let version = self.settings.load().version() + 1;
        self.settings.store(settings.with_version(version));
    }

    /// What polling has done.
    pub fn stats(&self) -> &PollStats {
        &self.stats
    }

    /// The source polled, for logs.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Stops the background polling (the settings in force stay).
    pub fn stop(&self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }

    /// The configuration the environment asks for, its app part read as `A`:
    /// `LIFT_APPCONFIG=app/env/profile` polls the AppConfig extension (port
    /// `AWS_APPCONFIG_EXTENSION_HTTP_PORT`, default 2772) every `LIFT_CONFIG_POLL_SECONDS`
    /// (default 45), each fetch bounded by `LIFT_CONFIG_TIMEOUT_MS` (default 2000). Without
    /// `LIFT_APPCONFIG`, `Ok(None)`. A malformed variable is an error; an unreachable source is
    /// not (it is polled again, and logged). Must run inside a tokio runtime.
    pub fn from_env<A: DeserializeOwned + Any + Send + Sync>() -> Result<Option<Self>, String> {
        let Some(spec) = std::env::var("LIFT_APPCONFIG").ok().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let source = AppConfigSource::from_spec(&spec).map_err(|e| format!("LIFT_APPCONFIG: {e}"))?;
        let interval = duration_var("LIFT_CONFIG_POLL_SECONDS", DEFAULT_INTERVAL, Duration::from_secs_f64)?;
        let timeout = duration_var("LIFT_CONFIG_TIMEOUT_MS", DEFAULT_TIMEOUT, |ms| {
            Duration::from_secs_f64(ms / 1000.0)
        })?;
        Ok(Some(
            Poller::new(source, Settings::parser::<A>())
                .interval(interval)
                .timeout(timeout)
                .spawn(),
        ))
    }
}

fn duration_var(var: &str, default: Duration, unit: fn(f64) -> Duration) -> Result<Duration, String> {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n > 0.0 && *n < 1e9)
            .map(unit)
            .ok_or_else(|| format!("{var}={v:?} is not a positive number")),
        Err(_) => Ok(default),
    }
}
