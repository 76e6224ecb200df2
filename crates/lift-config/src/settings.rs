//! [`Settings`]: one validated settings document, Lift's part and the app's.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use tracing::level_filters::LevelFilter;

use crate::flags::Flags;

/// The keys of a document that Lift reads itself; every other key belongs to the app's type.
pub const LIFT_KEYS: [&str; 8] = [
    "log_level",
    "debug_sample_rate",
    "flags",
    "breaker",
    "timeout_ms",
    "bulkhead_max_concurrent",
    "shed_random_rate",
    "shed_max_concurrent",
];

/// What Lift itself reads from a settings document. Absent keys keep the process's own
/// configuration (the environment, the code).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiftSettings {
    /// `"log_level"`: `TRACE`, `DEBUG`, `INFO`, `WARN` (or `WARNING`), `ERROR`, `CRITICAL` or
    /// `OFF`, any case: the log level of invocations that start after it applies.
    #[serde(default, deserialize_with = "level")]
    pub log_level: Option<LevelFilter>,
    /// `"debug_sample_rate"`: share (0 to 1) of invocations logged at DEBUG.
    #[serde(default)]
    pub debug_sample_rate: Option<f64>,
    /// `"flags"`: feature flags (see [`Flags`]).
    #[serde(default)]
    pub flags: Flags,
    /// `"breaker"`: thresholds and waits of the circuit breakers tuned by these settings
    /// (`breaker_tuning`, feature `resilience`).
    #[serde(default)]
    pub breaker: Option<BreakerSettings>,
    /// `"timeout_ms"`: the configured limit of the timeouts tuned by these settings
    /// (`timeout_tuning`, feature `resilience`); the invocation deadline still bounds it.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// `"bulkhead_max_concurrent"`: the limit of the bulkheads tuned by these settings
    /// (`bulkhead_tuning`, feature `resilience`), per partition.
    #[serde(default)]
    pub bulkhead_max_concurrent: Option<usize>,
    /// `"shed_random_rate"`: share (0 to 1) of non-critical calls the load shedders tuned by
    /// these settings (`load_shed_tuning`, feature `resilience`) shed at random.
    #[serde(default)]
    pub shed_random_rate: Option<f64>,
    /// `"shed_max_concurrent"`: a cap on the concurrency limit of those load shedders (fixed or
    /// adaptive; the adaptive limit keeps learning below it).
    #[serde(default)]
    pub shed_max_concurrent: Option<usize>,
}

/// A document's `"breaker"`: each key present replaces the built value; a breaker keeps its
/// state across a change (an open circuit stays open for the wait it opened with).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSettings {
    /// Failure rate (percent, 0 to 100) at or above which the circuit opens.
    pub failure_rate_threshold: Option<f64>,
    /// Slow-call rate (percent, 0 to 100) at or above which the circuit opens.
    pub slow_call_rate_threshold: Option<f64>,
    /// A call at least this long (milliseconds) is slow.
    pub slow_call_duration_ms: Option<u64>,
    /// Calls in the window before the rates are judged.
    pub minimum_calls: Option<u32>,
    /// How long (milliseconds) a circuit that opens from now on stays open.
    pub wait_in_open_ms: Option<u64>,
    /// Trial calls let through in half-open.
    pub permitted_calls_in_half_open: Option<u32>,
}

impl BreakerSettings {
    fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("failure_rate_threshold", self.failure_rate_threshold),
            ("slow_call_rate_threshold", self.slow_call_rate_threshold),
        ] {
            if let Some(v) = v {
                if !(0.0..=100.0).contains(&v) {
                    return Err(format!("breaker.{name} {v} is not within 0..=100"));
                }
            }
        }
        if self.permitted_calls_in_half_open == Some(0) {
            return Err("breaker.permitted_calls_in_half_open must be at least 1".to_owned());
        }
        Ok(())
    }
}

fn level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LevelFilter>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    s.map(|s| {
        parse_level(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "log_level {s:?} is not one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, OFF"
            ))
        })
    })
    .transpose()
}

/// A level name as Powertools spells it (any case).
pub fn parse_level(s: &str) -> Option<LevelFilter> {
    Some(match s.trim().to_ascii_uppercase().as_str() {
        "TRACE" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" | "WARNING" => LevelFilter::WARN,
        "ERROR" | "CRITICAL" | "FATAL" => LevelFilter::ERROR,
        "OFF" | "SILENT" => LevelFilter::OFF,
        _ => return None,
    })
}

/// An app with no settings of its own: any key Lift does not know is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoAppSettings {}

/// One validated settings document: Lift's part and the app's (its own type, read with
/// [`app`](Self::app)). Immutable; a new document is a new `Settings`, swapped in whole.
#[derive(Clone)]
pub struct Settings {
    lift: LiftSettings,
    app: Arc<dyn Any + Send + Sync>,
    version: u64,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("lift", &self.lift)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    /// No document yet: nothing overridden, the app's part absent.
    fn default() -> Self {
        Self {
            lift: LiftSettings::default(),
            app: Arc::new(()),
            version: 0,
        }
    }
}

/// A document that is not valid settings. The message names the key and the rule broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidDocument(pub String);

impl fmt::Display for InvalidDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid settings document: {}", self.0)
    }
}

impl std::error::Error for InvalidDocument {}

/// Turns a document's bytes into [`Settings`]: what a [`Poller`](crate::Poller) applies.
pub type Parser = Arc<dyn Fn(&[u8]) -> Result<Settings, InvalidDocument> + Send + Sync>;

impl Settings {
    /// Settings with Lift's part only (tests, defaults in code).
    pub fn with_lift(lift: LiftSettings) -> Self {
        Self {
            lift,
            ..Self::default()
        }
    }

    /// Settings with both parts.
    pub fn new<A: Any + Send + Sync>(lift: LiftSettings, app: A) -> Self {
        Self {
            lift,
            app: Arc::new(app),
            version: 0,
        }
    }

    /// Parses a JSON object: the keys in [`LIFT_KEYS`] into [`LiftSettings`], the rest into
    /// `A` (give `A` `#[serde(deny_unknown_fields)]` so a misspelt key is refused; with
    /// [`NoAppSettings`] every other key is).
    pub fn parse<A: DeserializeOwned + Any + Send + Sync>(bytes: &[u8]) -> Result<Self, InvalidDocument> {
        let doc: Map<String, Value> =
            serde_json::from_slice(bytes).map_err(|e| InvalidDocument(format!("not a JSON object: {e}")))?;
        let mut lift = Map::new();
        let mut app = Map::new();
        for (k, v) in doc {
            if LIFT_KEYS.contains(&k.as_str()) {
                lift.insert(k, v);
            } else {
                app.insert(k, v);
            }
        }
        let lift: LiftSettings =
            serde_json::from_value(Value::Object(lift)).map_err(|e| InvalidDocument(e.to_string()))?;
        if let Some(rate) = lift.debug_sample_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(InvalidDocument(format!("debug_sample_rate {rate} is not within 0..=1")));
            }
        }
        lift.flags.validate().map_err(InvalidDocument)?;
        if lift.bulkhead_max_concurrent == Some(0) {
            return Err(InvalidDocument("bulkhead_max_concurrent must be at least 1".to_owned()));
        }
        if let Some(rate) = lift.shed_random_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(InvalidDocument(format!("shed_random_rate {rate} is not within 0..=1")));
            }
        }
        if lift.shed_max_concurrent == Some(0) {
            return Err(InvalidDocument("shed_max_concurrent must be at least 1".to_owned()));
        }
        if lift.timeout_ms == Some(0) {
            return Err(InvalidDocument("timeout_ms must be at least 1".to_owned()));
        }
        if let Some(b) = &lift.breaker {
            b.validate().map_err(InvalidDocument)?;
        }
        let app: A = serde_json::from_value(Value::Object(app)).map_err(|e| InvalidDocument(e.to_string()))?;
        Ok(Self::new(lift, app))
    }

    /// [`parse`](Self::parse) for `A`, as a [`Parser`].
    pub fn parser<A: DeserializeOwned + Any + Send + Sync>() -> Parser {
        Arc::new(|bytes| Self::parse::<A>(bytes))
    }

    /// Lift's part.
    #[inline]
    pub fn lift(&self) -> &LiftSettings {
        &self.lift
    }

    /// The app's part, when it is an `A` (`None` before the first document, or for another type).
    #[inline]
    pub fn app<A: Any>(&self) -> Option<&A> {
        self.app.downcast_ref::<A>()
    }

    /// Which document this is: 0 before the first, then one more per document applied.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub(crate) fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// Whether flag `name` is on for `tenant`.
    #[inline]
    pub fn flag(&self, name: &str, tenant: Option<&str>) -> bool {
        self.lift.flags.is_on(name, tenant)
    }
}
