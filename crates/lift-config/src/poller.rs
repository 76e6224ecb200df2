//! [`Poller`]: fetches the document on an interval, validates it and swaps it in.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::config::Config;
use crate::settings::{InvalidDocument, Parser, Settings};
use crate::source::{ConfigSource, SourceError};
use crate::Dynamic;

/// The interval between polls unless `LIFT_CONFIG_POLL_SECONDS` says otherwise (AppConfig's
/// extension polls AppConfig every 45 s by default too).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(45);
/// How long one fetch may take before it counts as failed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// What polls have done so far; every counter only grows except `unreported`.
#[derive(Debug, Default)]
pub struct PollStats {
    polls: AtomicU64,
    applied: AtomicU64,
    errors: AtomicU64,
    unreported: AtomicU64,
}

impl PollStats {
    /// Polls made.
    pub fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    /// Documents applied.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
    }

    /// Polls that failed (unreachable, error status, timeout, invalid document).
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Failed polls not yet reported as a metric, and resets that count: Lift adds them to the
    /// next invocation's EMF document (`ConfigErrors`), since a poll belongs to no invocation.
    #[inline]
    pub fn take_unreported_errors(&self) -> u64 {
        if self.unreported.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        self.unreported.swap(0, Ordering::Relaxed)
    }
}

/// Why a poll kept the last good settings.
#[derive(Debug)]
#[non_exhaustive]
pub enum PollError {
    /// The source could not give a document.
    Source(SourceError),
    /// The fetch took longer than the poller's timeout.
    Timeout(Duration),
    /// The document is not valid settings.
    Invalid(InvalidDocument),
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollError::Source(e) => write!(f, "source {e}"),
            PollError::Timeout(t) => write!(f, "source did not answer within {t:?}"),
            PollError::Invalid(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PollError {}

/// What a successful poll did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// A new document is in force (its version).
    Applied(u64),
    /// The source gave the document already in force (or already refused).
    Unchanged,
}

/// Polls a [`ConfigSource`] and swaps each new valid document into its [`Config`].
///
/// A failed poll (source unreachable, error status, timeout, invalid document) keeps the
/// settings in force, counts one error in [`PollStats`] and writes one ERROR log line; the
/// same failure repeated on the next polls is counted again but not logged again, so a broken
/// source does not flood the logs. Polls run on their own task: readers never wait for one.
pub struct Poller {
    source: Arc<dyn ConfigSource>,
    parser: Parser,
    timeout: Duration,
    interval: Duration,
    settings: Dynamic<Settings>,
    stats: Arc<PollStats>,
    /// The last document fetched and the last failure logged (touched by the polling task only).
    last: std::sync::Mutex<Last>,
}

#[derive(Default)]
struct Last {
    document: Option<Bytes>,
    failure: Option<String>,
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("source", &self.source.describe())
            .field("timeout", &self.timeout)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl Poller {
    /// Polls `source`, parsing documents with `parser` (e.g. [`Settings::parser`]), starting from
    /// default settings.
    pub fn new(source: impl ConfigSource, parser: Parser) -> Self {
        Self {
            source: Arc::new(source),
            parser,
            timeout: DEFAULT_TIMEOUT,
            interval: DEFAULT_INTERVAL,
            settings: Dynamic::default(),
            stats: Arc::default(),
            last: std::sync::Mutex::default(),
        }
    }

    /// Bound on one fetch (default 2 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time between polls (default 45 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The handle readers use; it follows every document this poller applies.
    pub fn config(&self) -> Config {
        Config::from_parts(self.settings.clone(), self.stats.clone(), self.source.describe())
    }

    /// One poll now. Errors are already logged and counted when this returns them.
    pub async fn poll_once(&self) -> Result<PollOutcome, PollError> {
        self.stats.polls.fetch_add(1, Ordering::Relaxed);
        let outcome = self.fetch_and_apply().await;
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match &outcome {
            Ok(_) => last.failure = None,
            Err(e) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                self.stats.unreported.fetch_add(1, Ordering::Relaxed);
                let message = e.to_string();
                if last.failure.as_deref() != Some(message.as_str()) {
                    tracing::error!(
                        target: "lift_config",
                        source = %self.source.describe(),
                        error = %message,
                        "configuration poll failed; the last good settings stay in force"
                    );
                    // A line written before any subscriber was set went nowhere (the first poll
                    // races the app's start): the next failure logs it again.
                    if subscribed() {
                        last.failure = Some(message);
                    }
                }
            }
        }
        outcome
    }

    async fn fetch_and_apply(&self) -> Result<PollOutcome, PollError> {
        let body = match tokio::time::timeout(self.timeout, self.source.fetch()).await {
            Err(_) => return Err(PollError::Timeout(self.timeout)),
            Ok(Err(e)) => return Err(PollError::Source(e)),
            Ok(Ok(body)) => body,
        };
        {
            let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.document.as_ref() == Some(&body) && last.failure.is_none() {
                return Ok(PollOutcome::Unchanged);
            }
        }
        let parsed = (self.parser)(&body).map_err(PollError::Invalid);
        self.last.lock().unwrap_or_else(|p| p.into_inner()).document = Some(body);
        let version = self.settings.load().version() + 1;
        self.settings.store(parsed?.with_version(version));
        self.stats.applied.fetch_add(1, Ordering::Relaxed);
        tracing::info!(target: "lift_config", source = %self.source.describe(), version, "configuration applied");
        Ok(PollOutcome::Applied(version))
    }

    /// Polls now and then every interval on a task of its own, for as long as the runtime runs
    /// (or until [`Config::stop`]); returns the readers' handle at once.
    pub fn spawn(self) -> Config {
        let config = self.config();
        let interval = self.interval;
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let _ = self.poll_once().await;
            }
        });
        config.with_task(task.abort_handle())
    }
}

/// Whether an event written here reaches a subscriber (a global one, or this thread's).
fn subscribed() -> bool {
    tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>())
}
