//! [`Readiness`]: the registered checks, their timeouts, and the cached single-flight run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::check::Check;
use super::report::{CheckReport, CheckStatus, Report};

/// Where [`App::readiness`](crate::App::readiness) serves readiness.
pub const DEFAULT_PATH: &str = "/health/ready";
/// A check's timeout unless set otherwise.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a run's report is served before the checks run again.
pub const DEFAULT_CACHE_FOR: Duration = Duration::from_secs(2);

struct Registered {
    name: String,
    timeout: Option<Duration>,
    check: Box<dyn Check>,
}

/// The readiness checks of a function, built once and served by
/// [`App::readiness`](crate::App::readiness) (or any route, through [`ReadinessProbe`]).
#[must_use]
pub struct Readiness {
    checks: Vec<Registered>,
    timeout: Duration,
    cache_for: Duration,
    path: String,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("checks", &self.checks.iter().map(|c| &c.name).collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("cache_for", &self.cache_for)
            .field("path", &self.path)
            .finish()
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

impl Readiness {
    /// No check yet (ready), served at [`DEFAULT_PATH`], checks bounded by
    /// [`DEFAULT_CHECK_TIMEOUT`], reports kept [`DEFAULT_CACHE_FOR`].
    pub fn new() -> Self {
        Self {
            checks: Vec::new(),
            timeout: DEFAULT_CHECK_TIMEOUT,
            cache_for: DEFAULT_CACHE_FOR,
            path: DEFAULT_PATH.to_owned(),
        }
    }

    /// Registers `check` under `name`, bounded by the default timeout. A second check with the
    /// same name replaces the first.
    pub fn check(self, name: impl Into<String>, check: impl Check) -> Self {
        self.register(name.into(), None, Box::new(check))
    }

    /// Registers `check` under `name` with its own timeout.
    pub fn check_with_timeout(self, name: impl Into<String>, timeout: Duration, check: impl Check) -> Self {
        self.register(name.into(), Some(timeout), Box::new(check))
    }

    /// The fleet table, checked with DescribeTable (it exists, is `ACTIVE` or `UPDATING`, and
    /// has the fleet key schema), under the name `table`.
    #[cfg(feature = "dynamodb")]
    pub fn table(self, table: lift_dynamodb::FleetTable) -> Self {
        self.check("table", table)
    }

    fn register(mut self, name: String, timeout: Option<Duration>, check: Box<dyn Check>) -> Self {
        self.checks.retain(|c| c.name != name);
        self.checks.push(Registered { name, timeout, check });
        self
    }

    /// The timeout of checks registered without one (default [`DEFAULT_CHECK_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a report is served before the checks run again (default
    /// [`DEFAULT_CACHE_FOR`]; zero runs them on every call, still one run at a time).
    pub fn cache_for(mut self, ttl: Duration) -> Self {
        self.cache_for = ttl;
        self
    }

    /// The path [`App::readiness`](crate::App::readiness) serves (default [`DEFAULT_PATH`]).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The probe: runs the checks, shares and caches the reports.
    pub fn build(self) -> ReadinessProbe {
        ReadinessProbe {
            inner: Arc::new(Inner {
                checks: self.checks,
                timeout: self.timeout,
                cache_for: self.cache_for,
                path: self.path,
                last: Mutex::new(None),
            }),
        }
    }
}

struct Inner {
    checks: Vec<Registered>,
    timeout: Duration,
    cache_for: Duration,
    path: String,
    /// The last report and when its run ended. Held across a run: callers arriving meanwhile
    /// wait for that run and share its report instead of starting their own.
    last: Mutex<Option<(Instant, Arc<Report>)>>,
}

/// Built [`Readiness`]: cheap to clone, every clone shares the cache.
#[derive(Clone)]
pub struct ReadinessProbe {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ReadinessProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadinessProbe")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl ReadinessProbe {
    /// The path it is served at.
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The current report: the cached one while fresh, else a new run's (shared with every
    /// caller waiting for it).
    pub async fn report(&self) -> Arc<Report> {
        let mut last = self.inner.last.lock().await;
        if let Some((at, report)) = &*last {
            if at.elapsed() < self.inner.cache_for {
                return Arc::clone(report);
            }
        }
        let report = Arc::new(self.run().await);
        *last = Some((Instant::now(), Arc::clone(&report)));
        report
    }

    /// The HTTP answer: 200 or 503 with the report (see the [module docs](super)).
    pub async fn respond(self) -> Response {
        self.report().await.as_ref().into_response()
    }

    /// Runs every check at once, each under its timeout.
    async fn run(&self) -> Report {
        let runs = self.inner.checks.iter().map(|c| async move {
            let timeout = c.timeout.unwrap_or(self.inner.timeout);
            let started = Instant::now();
            let outcome = tokio::time::timeout(timeout, c.check.check()).await;
            let latency = started.elapsed();
            let report = match outcome {
                Ok(Ok(())) => CheckReport { status: CheckStatus::Up, latency, error: None },
                Ok(Err(e)) => {
                    tracing::warn!(check = %c.name, error = %e, "readiness check failed");
                    CheckReport { status: CheckStatus::Down, latency, error: Some(e.to_string()) }
                }
                Err(_) => {
                    tracing::warn!(check = %c.name, timeout_ms = timeout.as_millis() as u64, "readiness check timed out");
                    CheckReport { status: CheckStatus::TimedOut, latency, error: None }
                }
            };
            (c.name.clone(), report)
        });
        Report::new(
            futures_util::future::join_all(runs)
                .await
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
        )
    }
}
