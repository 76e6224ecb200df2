//! Configuration: the builder, the environment variables it reads, and its errors.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use tracing_core::LevelFilter;

use crate::non_blocking::{NonBlockingSink, QueueLimits};
use crate::redact::{Redactor, DEFAULT_REDACTED_KEYS};
use crate::sink::{DatagramSink, LineSink, StdoutSink, UdpSink};
use crate::stats::Counters;
use crate::{json, Observability};

/// The service name Powertools uses when none is configured.
pub const DEFAULT_SERVICE: &str = "service_undefined";
/// The default header the correlation id is read from.
pub const DEFAULT_CORRELATION_HEADER: &str = "x-correlation-id";

/// Why configuration failed. Raised by [`ObservabilityBuilder::build`] and
/// [`Observability::from_env`]; never a panic.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// A log level variable holds something other than TRACE, DEBUG, INFO, WARN, ERROR (or
    /// Powertools' WARNING, CRITICAL, FATAL).
    InvalidLogLevel {
        /// The variable (or `"code"`).
        source: &'static str,
        /// The rejected value.
        value: String,
    },
    /// The debug sample rate is not a number in `0.0..=1.0`.
    InvalidSampleRate {
        /// `POWERTOOLS_LOGGER_SAMPLE_RATE`, or `"sample_rate (set in code)"`.
        source: &'static str,
        /// The rejected value.
        value: String,
    },
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` is not an integer.
    InvalidMemorySize(String),
    /// A boolean variable (`POWERTOOLS_*_DISABLED`) is not `true`/`false`/`1`/`0`.
    InvalidBool {
        /// The variable.
        var: &'static str,
        /// The rejected value.
        value: String,
    },
    /// The metrics namespace or service name is empty or longer than 255 characters.
    InvalidName {
        /// The variable it came from, or what was set in code.
        source: &'static str,
        /// The rejected value.
        value: String,
    },
    /// The X-Ray daemon address (`AWS_XRAY_DAEMON_ADDRESS` or set in code) is malformed or does
    /// not resolve.
    DaemonAddress {
        /// `AWS_XRAY_DAEMON_ADDRESS`, or `"xray_daemon_address (set in code)"`.
        source: &'static str,
        /// The configured address.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The UDP socket for the daemon could not be opened.
    Socket(std::io::Error),
    /// The thread writing queued log lines ([`crate::LogDelivery::Queued`]) could not start.
    LogWriter(std::io::Error),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidLogLevel { source, value } => write!(
                f,
                "{source}: invalid log level {value:?} (expected TRACE, DEBUG, INFO, WARN or ERROR)"
            ),
            Self::InvalidSampleRate { source, value } => {
                write!(f, "{source}: {value:?} is not a number between 0 and 1")
            }
            Self::InvalidMemorySize(v) => {
                write!(f, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE: {v:?} is not an integer")
            }
            Self::InvalidBool { var, value } => {
                write!(f, "{var}: {value:?} is not a boolean (true/false/1/0)")
            }
            Self::InvalidName { source, value } => {
                write!(f, "{source}: {value:?} must be 1 to 255 characters")
            }
            Self::DaemonAddress { source, value, reason } => {
                write!(f, "{source}: {value:?}: {reason}")
            }
            Self::Socket(e) => write!(f, "cannot open UDP socket for the X-Ray daemon: {e}"),
            Self::LogWriter(e) => write!(f, "cannot start the log writer thread: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Socket(e) | Self::LogWriter(e) => Some(e),
            _ => None,
        }
    }
}

/// Parses a log level name as Lambda and Powertools spell them (case-insensitive).
pub fn parse_level(value: &str) -> Option<LevelFilter> {
    Some(match value.trim().to_ascii_uppercase().as_str() {
        "TRACE" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" | "WARNING" => LevelFilter::WARN,
        "ERROR" | "CRITICAL" | "FATAL" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        _ => return None,
    })
}

/// Settings that can come from code or from the environment.
#[derive(Default, Clone)]
struct Settings {
    service: Option<String>,
    namespace: Option<String>,
    level: Option<LevelFilter>,
    sample_rate: Option<f64>,
    daemon_address: Option<String>,
    function_name: Option<String>,
    memory_size: Option<u32>,
    metrics: Option<bool>,
    tracing: Option<bool>,
    delivery: Option<LogDelivery>,
}

/// How log lines (and EMF documents) reach the default stdout sink.
///
/// On Lambda the process is frozen once the response is posted, so a line still queued then may
/// be written minutes later or never: lines are written synchronously, before the response.
/// Off Lambda (the local server) nobody may be reading stdout, and a synchronous write would
/// block request handling: lines are queued instead ([`crate::NonBlockingSink`]), dropped and
/// counted past the queue's bounds, and flushed by [`crate::Observability::flush`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogDelivery {
    /// Each line is written before the logging call returns (the choice on Lambda).
    Synchronous,
    /// Lines are queued to a writer thread, at most this much (the choice off Lambda).
    Queued(QueueLimits),
}

/// Builds an [`Observability`]. Values set in code win over the environment, except the log
/// level: Lambda's own `AWS_LAMBDA_LOG_LEVEL` wins over code, which wins over
/// `POWERTOOLS_LOG_LEVEL` / `LOG_LEVEL`.
#[must_use]
pub struct ObservabilityBuilder {
    code: Settings,
    env: Settings,
    lambda_level: Option<LevelFilter>,
    redact: Vec<String>,
    correlation_header: String,
    logs: bool,
    summary_log: bool,
    summary_metrics: bool,
    log_sink: Option<Arc<dyn LineSink>>,
    emf_sink: Option<Arc<dyn LineSink>>,
    xray_sink: Option<Arc<dyn DatagramSink>>,
    annotation_keys: Vec<String>,
    dynamic_level: bool,
}

impl fmt::Debug for ObservabilityBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObservabilityBuilder").finish_non_exhaustive()
    }
}

impl Default for ObservabilityBuilder {
    fn default() -> Self {
        Self {
            code: Settings::default(),
            env: Settings::default(),
            lambda_level: None,
            redact: DEFAULT_REDACTED_KEYS.iter().map(|s| (*s).to_owned()).collect(),
            correlation_header: DEFAULT_CORRELATION_HEADER.to_owned(),
            logs: true,
            summary_log: true,
            summary_metrics: true,
            log_sink: None,
            emf_sink: None,
            xray_sink: None,
            annotation_keys: ["tenant_id", "cold_start", "service", "route"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            dynamic_level: false,
        }
    }
}

impl ObservabilityBuilder {
    /// Reads the process environment (see [`Self::with_env_from`] for the variables).
    pub fn with_env(self) -> Result<Self, ConfigError> {
        self.with_env_from(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map instead of the process env):
    /// `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, `AWS_LAMBDA_LOG_LEVEL`,
    /// `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL`, `POWERTOOLS_LOGGER_SAMPLE_RATE`,
    /// `POWERTOOLS_METRICS_DISABLED`, `POWERTOOLS_TRACE_DISABLED`, `AWS_XRAY_DAEMON_ADDRESS`,
    /// `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub fn with_env_from(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let level = |var: &'static str| -> Result<Option<LevelFilter>, ConfigError> {
            match get(var) {
                None => Ok(None),
                Some(v) => parse_level(&v)
                    .map(Some)
                    .ok_or(ConfigError::InvalidLogLevel { source: var, value: v }),
            }
        };
        // The variable the Lambda runtime interface sets, as `lift` itself tests it.
        self.env.delivery = Some(if lookup("AWS_LAMBDA_RUNTIME_API").is_some() {
            LogDelivery::Synchronous
        } else {
            LogDelivery::Queued(QueueLimits::DEFAULT)
        });
        self.lambda_level = level("AWS_LAMBDA_LOG_LEVEL")?;
        self.env.level = match level("POWERTOOLS_LOG_LEVEL")? {
            Some(l) => Some(l),
            None => level("LOG_LEVEL")?,
        };
        self.env.service = get("POWERTOOLS_SERVICE_NAME");
        if let Some(v) = &self.env.service {
            check_name("POWERTOOLS_SERVICE_NAME", v)?;
        }
        self.env.namespace = get("POWERTOOLS_METRICS_NAMESPACE");
        if let Some(v) = &self.env.namespace {
            check_name("POWERTOOLS_METRICS_NAMESPACE", v)?;
        }
        if let Some(v) = get("POWERTOOLS_LOGGER_SAMPLE_RATE") {
            let invalid = || ConfigError::InvalidSampleRate {
                source: "POWERTOOLS_LOGGER_SAMPLE_RATE",
                value: v.clone(),
            };
            let rate: f64 = v.trim().parse().map_err(|_| invalid())?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(invalid());
            }
            self.env.sample_rate = Some(rate);
        }
        let flag = |var: &'static str| -> Result<Option<bool>, ConfigError> {
            match get(var) {
                None => Ok(None),
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => Ok(Some(true)),
                    "false" | "0" | "no" => Ok(Some(false)),
                    _ => Err(ConfigError::InvalidBool { var, value: v }),
                },
            }
        };
        self.env.metrics = flag("POWERTOOLS_METRICS_DISABLED")?.map(|d| !d);
        self.env.tracing = flag("POWERTOOLS_TRACE_DISABLED")?.map(|d| !d);
        self.env.daemon_address = get("AWS_XRAY_DAEMON_ADDRESS");
        if let Some(addr) = &self.env.daemon_address {
            // Checked even when tracing is off: a bad value is reported, never ignored.
            daemon_udp_part(ENV_DAEMON, addr)?;
        }
        self.env.function_name = get("AWS_LAMBDA_FUNCTION_NAME");
        if let Some(v) = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
            self.env.memory_size = Some(v.trim().parse().map_err(|_| ConfigError::InvalidMemorySize(v))?);
        }
        Ok(self)
    }

    /// The `service` key of logs and the default `service` dimension.
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.code.service = Some(name.into());
        self
    }

    /// The EMF namespace (default: the service name).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.code.namespace = Some(namespace.into());
        self
    }

    /// The log level set in code (overridden by `AWS_LAMBDA_LOG_LEVEL`).
    pub fn log_level(mut self, level: LevelFilter) -> Self {
        self.code.level = Some(level);
        self
    }

    /// The fraction of invocations (0.0..=1.0) logged at DEBUG regardless of the level.
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.code.sample_rate = Some(rate);
        self
    }

    /// Replaces the redacted field names (default [`DEFAULT_REDACTED_KEYS`]); the header names
    /// of [`crate::ALWAYS_REDACTED_KEYS`] stay redacted.
    pub fn redact_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redact = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one redacted field name.
    pub fn redact_key(mut self, key: impl Into<String>) -> Self {
        self.redact.push(key.into());
        self
    }

    /// The request header the core reads the correlation id from (default `x-correlation-id`).
    pub fn correlation_header(mut self, name: impl Into<String>) -> Self {
        self.correlation_header = name.into().to_ascii_lowercase();
        self
    }

    /// Span field names that become X-Ray annotations (default `tenant_id`, `cold_start`,
    /// `service`, `route`); other fields become metadata.
    pub fn annotation_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.annotation_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Turns JSON logs on or off.
    pub fn logs(mut self, on: bool) -> Self {
        self.logs = on;
        self
    }

    /// Turns EMF metrics on or off.
    pub fn metrics(mut self, on: bool) -> Self {
        self.code.metrics = Some(on);
        self
    }

    /// Turns X-Ray subsegments on or off (they also need a daemon address or sink).
    pub fn tracing(mut self, on: bool) -> Self {
        self.code.tracing = Some(on);
        self
    }

    /// Whether [`crate::Invocation::finish`] writes one summary log line (default on).
    pub fn summary_log(mut self, on: bool) -> Self {
        self.summary_log = on;
        self
    }

    /// Whether [`crate::Invocation::finish`] records `Latency` and `Errors` metrics (default on).
    pub fn summary_metrics(mut self, on: bool) -> Self {
        self.summary_metrics = on;
        self
    }

    /// How lines reach the default stdout sinks, overriding the choice [`Self::with_env`] makes
    /// from `AWS_LAMBDA_RUNTIME_API` (set: [`LogDelivery::Synchronous`]; unset:
    /// [`LogDelivery::Queued`]). Without either, lines are written synchronously. A sink passed
    /// to [`Self::log_sink`] or [`Self::emf_sink`] is used as given (wrap it in a
    /// [`crate::NonBlockingSink`] to queue it).
    pub fn log_delivery(mut self, delivery: LogDelivery) -> Self {
        self.code.delivery = Some(delivery);
        self
    }

    /// Where log lines go (default stdout).
    pub fn log_sink(mut self, sink: impl LineSink) -> Self {
        self.log_sink = Some(Arc::new(sink));
        self
    }

    /// Where EMF documents go (default stdout).
    pub fn emf_sink(mut self, sink: impl LineSink) -> Self {
        self.emf_sink = Some(Arc::new(sink));
        self
    }

    /// One sink for log lines and EMF documents alike (as stdout is by default): if it
    /// [coalesces](LineSink::coalesces), an invocation's summary line and EMF documents reach
    /// it in one write.
    pub fn log_and_emf_sink(mut self, sink: impl LineSink) -> Self {
        let sink: Arc<dyn LineSink> = Arc::new(sink);
        self.log_sink = Some(sink.clone());
        self.emf_sink = Some(sink);
        self
    }

    /// The X-Ray daemon address, `host:port` or `tcp:host:port udp:host:port`.
    pub fn xray_daemon_address(mut self, addr: impl Into<String>) -> Self {
        self.code.daemon_address = Some(addr.into());
        self
    }

    /// Sends X-Ray datagrams to `sink` instead of a UDP socket.
    pub fn xray_sink(mut self, sink: impl DatagramSink) -> Self {
        self.xray_sink = Some(Arc::new(sink));
        self
    }

    /// The function name logged as `function_name` (default `AWS_LAMBDA_FUNCTION_NAME`).
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.code.function_name = Some(name.into());
        self
    }

    /// The memory size logged as `function_memory_size` (default `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub fn function_memory_size(mut self, mb: u32) -> Self {
        self.code.memory_size = Some(mb);
        self
    }

    /// Lets each invocation set its own log level and DEBUG sample rate
    /// ([`Observability::start_with`]), e.g. from dynamic configuration. DEBUG events are then
    /// let through the subscriber's filter and checked per invocation (the cost debug sampling
    /// already has); without it, overrides are ignored and filtering stays per callsite. An
    /// override can lower the level to DEBUG at most.
    pub fn dynamic_level(mut self, on: bool) -> Self {
        self.dynamic_level = on;
        self
    }

    /// Validates everything and opens the daemon socket.
    pub fn build(self) -> Result<Observability, ConfigError> {
        let (code, env) = (self.code, self.env);
        if let Some(v) = &code.service {
            check_name("service (set in code)", v)?;
        }
        if let Some(v) = &code.namespace {
            check_name("namespace (set in code)", v)?;
        }
        let service = code
            .service
            .or(env.service)
            .unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
        let namespace = code.namespace.or(env.namespace).unwrap_or_else(|| service.clone());
        let level = self
            .lambda_level
            .or(code.level)
            .or(env.level)
            .unwrap_or(LevelFilter::INFO);
        let sample_rate = code.sample_rate.or(env.sample_rate).unwrap_or(0.0);
        if !(0.0..=1.0).contains(&sample_rate) {
            return Err(ConfigError::InvalidSampleRate {
                source: "sample_rate (set in code)",
                value: sample_rate.to_string(),
            });
        }
        let function_name = code.function_name.or(env.function_name);
        let memory_size = code.memory_size.or(env.memory_size);
        let metrics = code.metrics.or(env.metrics).unwrap_or(true);
        let tracing_on = code.tracing.or(env.tracing).unwrap_or(true);
        let xray: Option<Arc<dyn DatagramSink>> = if !tracing_on {
            None
        } else if let Some(sink) = self.xray_sink {
            Some(sink)
        } else if let Some((source, addr)) = code
            .daemon_address
            .map(|a| (CODE_DAEMON, a))
            .or(env.daemon_address.map(|a| (ENV_DAEMON, a)))
        {
            let target = resolve_daemon(source, &addr)?;
            Some(Arc::new(UdpSink::new(target).map_err(ConfigError::Socket)?))
        } else {
            None
        };

        let mut process_fragment = String::with_capacity(128);
        json::write_key_plain(&mut process_fragment, "service");
        json::write_str(&mut process_fragment, &service);
        let mut function_fragment = String::new();
        if let Some(name) = &function_name {
            json::write_key_plain(&mut function_fragment, "function_name");
            json::write_str(&mut function_fragment, name);
        }
        if let Some(mb) = memory_size {
            json::write_key_plain(&mut function_fragment, "function_memory_size");
            json::write_u64(&mut function_fragment, u64::from(mb));
        }
        let mut emf_head = String::with_capacity(96);
        emf_head.push_str(",\"CloudWatchMetrics\":[{\"Namespace\":");
        json::write_str(&mut emf_head, &namespace);
        emf_head.push_str(",\"Dimensions\":[[\"service\"");
        let delivery = code.delivery.or(env.delivery).unwrap_or(LogDelivery::Synchronous);
        let (log_sink, emf_sink) = match (self.log_sink, self.emf_sink) {
            (Some(logs), Some(emf)) => (logs, emf),
            (logs, emf) => {
                // One stdout sink (one queue and writer thread) for whichever is left to default.
                let stdout: Arc<dyn LineSink> = match delivery {
                    LogDelivery::Synchronous => Arc::new(StdoutSink),
                    LogDelivery::Queued(limits) => {
                        let notice = format!("{process_fragment}{function_fragment}");
                        Arc::new(
                            NonBlockingSink::spawn(Arc::new(StdoutSink), limits, notice.into())
                                .map_err(ConfigError::LogWriter)?,
                        )
                    }
                };
                (logs.unwrap_or_else(|| stdout.clone()), emf.unwrap_or(stdout))
            }
        };
        Ok(Observability::from_inner(Inner {
            service: service.into(),
            namespace: namespace.into(),
            level,
            sample_rate,
            redactor: Redactor::with_headers(&self.redact),
            correlation_header: self.correlation_header.into(),
            annotation_keys: Redactor::new(&self.annotation_keys),
            logs: self.logs,
            metrics,
            summary_log: self.summary_log,
            summary_metrics: self.summary_metrics,
            function_name: function_name.map(Into::into),
            process_fragment: process_fragment.into(),
            function_fragment: function_fragment.into(),
            emf_head: emf_head.into(),
            delivery,
            log_sink,
            emf_sink,
            xray,
            dynamic_level: self.dynamic_level,
            counters: Counters::default(),
        }))
    }
}

fn check_name(source: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() || value.chars().count() > 255 {
        return Err(ConfigError::InvalidName {
            source,
            value: value.to_owned(),
        });
    }
    Ok(())
}

const ENV_DAEMON: &str = "AWS_XRAY_DAEMON_ADDRESS";
const CODE_DAEMON: &str = "xray_daemon_address (set in code)";

/// The UDP `host:port` of `host:port` or of the daemon's two-address form `tcp:h:p udp:h:p`,
/// checked for shape (a host and a port number) without resolving it.
fn daemon_udp_part<'a>(source: &'static str, value: &'a str) -> Result<&'a str, ConfigError> {
    let err = |reason: String| ConfigError::DaemonAddress {
        source,
        value: value.to_owned(),
        reason,
    };
    let mut udp = None;
    let parts: Vec<&str> = value.split_whitespace().collect();
    if parts.len() == 1 && !parts[0].starts_with("tcp:") && !parts[0].starts_with("udp:") {
        udp = Some(parts[0]);
    } else {
        for p in &parts {
            if let Some(a) = p.strip_prefix("udp:") {
                udp = Some(a);
            } else if p.strip_prefix("tcp:").is_none() {
                return Err(err(format!(
                    "unexpected part {p:?} (expected host:port or tcp:host:port udp:host:port)"
                )));
            }
        }
    }
    let addr = udp.ok_or_else(|| err("no udp address (expected host:port or tcp:host:port udp:host:port)".into()))?;
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err(err(format!("{addr:?} has no port (expected host:port)")));
    };
    if host.is_empty() || host == "[]" {
        return Err(err(format!("{addr:?} has no host (expected host:port)")));
    }
    if port.parse::<u16>().is_err() {
        return Err(err(format!("port {port:?} is not a number from 0 to 65535")));
    }
    Ok(addr)
}

/// Checks the daemon address (see [`daemon_udp_part`]) and resolves its UDP part.
pub(crate) fn resolve_daemon(source: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    let addr = daemon_udp_part(source, value)?;
    let err = |reason: String| ConfigError::DaemonAddress {
        source,
        value: value.to_owned(),
        reason,
    };
    let mut addrs = addr
        .to_socket_addrs()
        .map_err(|e| err(format!("does not resolve: {e}")))?;
    addrs.next().ok_or_else(|| err("resolves to no address".into()))
}

/// Process-wide configuration shared by every invocation.
pub(crate) struct Inner {
    pub(crate) service: Box<str>,
    pub(crate) namespace: Box<str>,
    pub(crate) level: LevelFilter,
    pub(crate) sample_rate: f64,
    pub(crate) redactor: Redactor,
    pub(crate) correlation_header: Box<str>,
    pub(crate) annotation_keys: Redactor,
    pub(crate) logs: bool,
    pub(crate) metrics: bool,
    pub(crate) summary_log: bool,
    pub(crate) summary_metrics: bool,
    pub(crate) function_name: Option<Box<str>>,
    /// `,"service":"..."`
    pub(crate) process_fragment: Box<str>,
    /// `,"function_name":"...","function_memory_size":128` (may be empty)
    pub(crate) function_fragment: Box<str>,
    /// `,"CloudWatchMetrics":[{"Namespace":"...","Dimensions":[["service"`: the constant part of
    /// every EMF document's head, escaped once.
    pub(crate) emf_head: Box<str>,
    pub(crate) delivery: LogDelivery,
    pub(crate) log_sink: Arc<dyn LineSink>,
    pub(crate) emf_sink: Arc<dyn LineSink>,
    pub(crate) xray: Option<Arc<dyn DatagramSink>>,
    pub(crate) counters: Counters,
    /// Whether invocations may override the level ([`ObservabilityBuilder::dynamic_level`]).
    pub(crate) dynamic_level: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn lambda_level_wins_over_code_which_wins_over_powertools() {
        let b = ObservabilityBuilder::default()
            .log_level(LevelFilter::WARN)
            .with_env_from(env(&[
                ("AWS_LAMBDA_LOG_LEVEL", "debug"),
                ("POWERTOOLS_LOG_LEVEL", "ERROR"),
            ]))
            .expect("env");
        assert_eq!(b.build().expect("build").inner.level, LevelFilter::DEBUG);
        let b = ObservabilityBuilder::default()
            .log_level(LevelFilter::WARN)
            .with_env_from(env(&[("POWERTOOLS_LOG_LEVEL", "ERROR")]))
            .expect("env");
        assert_eq!(b.build().expect("build").inner.level, LevelFilter::WARN);
        let b = ObservabilityBuilder::default()
            .with_env_from(env(&[("LOG_LEVEL", "critical")]))
            .expect("env");
        assert_eq!(b.build().expect("build").inner.level, LevelFilter::ERROR);
    }

    /// Reads `pairs` as the environment and builds: the first error, if any.
    fn from(pairs: &[(&str, &str)]) -> Result<Observability, ConfigError> {
        ObservabilityBuilder::default()
            .log_sink(crate::NullSink)
            .emf_sink(crate::NullSink)
            .with_env_from(env(pairs))?
            .build()
    }

    #[test]
    fn every_bad_variable_is_a_one_line_error_naming_it_and_what_is_wrong() {
        let long = "s".repeat(256);
        let cases: &[(&str, &str, &str)] = &[
            ("AWS_LAMBDA_LOG_LEVEL", "verbose", "invalid log level"),
            ("POWERTOOLS_LOG_LEVEL", "loud", "invalid log level"),
            ("LOG_LEVEL", "42", "invalid log level"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "1.5", "between 0 and 1"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "-0.1", "between 0 and 1"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "half", "between 0 and 1"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "NaN", "between 0 and 1"),
            ("POWERTOOLS_METRICS_DISABLED", "maybe", "not a boolean"),
            ("POWERTOOLS_TRACE_DISABLED", "2", "not a boolean"),
            ("POWERTOOLS_SERVICE_NAME", &long, "1 to 255 characters"),
            ("POWERTOOLS_METRICS_NAMESPACE", &long, "1 to 255 characters"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1GB", "not an integer"),
            ("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129", "has no port"),
            (
                "AWS_XRAY_DAEMON_ADDRESS",
                "127.0.0.1:http",
                "not a number from 0 to 65535",
            ),
            (
                "AWS_XRAY_DAEMON_ADDRESS",
                "127.0.0.1:70000",
                "not a number from 0 to 65535",
            ),
            ("AWS_XRAY_DAEMON_ADDRESS", ":2000", "has no host"),
            ("AWS_XRAY_DAEMON_ADDRESS", "tcp:127.0.0.1:2000", "no udp address"),
            (
                "AWS_XRAY_DAEMON_ADDRESS",
                "tcp:127.0.0.1:2000 udb:127.0.0.1:2000",
                "unexpected part",
            ),
            (
                "AWS_XRAY_DAEMON_ADDRESS",
                "daemon.does-not-exist.invalid:2000",
                "does not resolve",
            ),
        ];
        for (var, value, what) in cases {
            let e = from(&[(var, value)]).expect_err(var);
            let msg = e.to_string();
            assert!(msg.starts_with(var), "{var}={value:?}: {msg}");
            assert!(msg.contains(what), "{var}={value:?}: {msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
        // A bad value is reported even when the piece that would use it is turned off.
        let e = from(&[
            ("POWERTOOLS_TRACE_DISABLED", "true"),
            ("AWS_XRAY_DAEMON_ADDRESS", "nonsense"),
        ])
        .expect_err("bad address with tracing off");
        assert!(e.to_string().starts_with("AWS_XRAY_DAEMON_ADDRESS"), "{e}");
        // A value with a newline stays one line.
        let e = from(&[("LOG_LEVEL", "info\nERROR fake line")]).expect_err("newline");
        assert!(!e.to_string().contains('\n'), "{e}");
        // Good values of every variable build.
        from(&[
            ("AWS_LAMBDA_LOG_LEVEL", "debug"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.25"),
            ("POWERTOOLS_METRICS_DISABLED", "0"),
            ("POWERTOOLS_TRACE_DISABLED", "false"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
            ("AWS_XRAY_DAEMON_ADDRESS", "tcp:127.0.0.1:2000 udp:127.0.0.1:2000"),
        ])
        .expect("valid");
    }

    #[test]
    fn bad_values_set_in_code_name_the_setting() {
        let e = ObservabilityBuilder::default()
            .sample_rate(2.0)
            .build()
            .expect_err("rate");
        assert!(e.to_string().starts_with("sample_rate (set in code)"), "{e}");
        let e = ObservabilityBuilder::default()
            .service("")
            .build()
            .expect_err("service");
        assert!(e.to_string().starts_with("service (set in code)"), "{e}");
        let e = ObservabilityBuilder::default()
            .xray_daemon_address("tcp:127.0.0.1:2000")
            .build()
            .expect_err("address");
        assert!(e.to_string().starts_with("xray_daemon_address (set in code)"), "{e}");
    }

    #[test]
    fn daemon_address_forms() {
        assert_eq!(
            resolve_daemon(ENV_DAEMON, "127.0.0.1:2000").expect("ok"),
            "127.0.0.1:2000".parse::<SocketAddr>().expect("addr")
        );
        assert_eq!(
            resolve_daemon(ENV_DAEMON, "tcp:127.0.0.1:2000 udp:127.0.0.2:2001").expect("ok"),
            "127.0.0.2:2001".parse::<SocketAddr>().expect("addr")
        );
    }

    #[test]
    fn env_defaults() {
        let o = ObservabilityBuilder::default()
            .with_env_from(env(&[
                ("POWERTOOLS_SERVICE_NAME", "orders"),
                ("AWS_LAMBDA_FUNCTION_NAME", "fn"),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
                ("POWERTOOLS_METRICS_DISABLED", "true"),
            ]))
            .expect("env")
            .build()
            .expect("build");
        assert_eq!(&*o.inner.service, "orders");
        assert_eq!(&*o.inner.namespace, "orders");
        assert!(!o.inner.metrics);
        assert!(o.inner.xray.is_none());
        assert_eq!(
            &*o.inner.function_fragment,
            r#","function_name":"fn","function_memory_size":256"#
        );
    }
}
