//! The local server's settings, read from the environment.

use std::fmt;
use std::time::Duration;

use crate::app::DEFAULT_BODY_LIMIT;

/// How the local server listens and how long it waits for clients.
///
/// Every field has a default suited to a development machine; [`LocalConfig::from_env`] reads
/// overrides from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalConfig {
    /// The port on 127.0.0.1 (`PORT`, default 3000).
    pub port: u16,
    /// How long a client has to send a request's headers, counted from the moment the
    /// connection waits for a request: it closes slowloris connections and idle keep-alive
    /// connections alike (`LIFT_HEADER_TIMEOUT_SECS`, default 10).
    pub header_timeout: Duration,
    /// How long a client has to send a request's whole body; past it the answer is 408
    /// `request_timeout` (`LIFT_BODY_TIMEOUT_SECS`, default 10).
    pub body_timeout: Duration,
    /// The largest body read, Lambda's own payload limit; past it the answer is 413
    /// `payload_too_large` (6 MB).
    pub body_limit: usize,
    /// Connections served at once; further clients wait in the listen backlog
    /// (`LIFT_MAX_CONNECTIONS`, default 1024).
    pub max_connections: usize,
    /// How long in-flight requests may run once shutdown starts before their connections are
    /// dropped (`LIFT_SHUTDOWN_GRACE_SECS`, default 10).
    pub shutdown_grace: Duration,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            port: 3000,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            body_limit: DEFAULT_BODY_LIMIT,
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl LocalConfig {
    /// The defaults, overridden by `PORT`, `LIFT_HEADER_TIMEOUT_SECS`,
    /// `LIFT_BODY_TIMEOUT_SECS`, `LIFT_MAX_CONNECTIONS` and `LIFT_SHUTDOWN_GRACE_SECS`. A value
    /// that does not parse (or a zero timeout or connection cap) is an error naming the
    /// variable.
    pub fn from_env() -> Result<Self, LocalConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables (tests, config files).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LocalConfigError> {
        let d = Self::default();
        let secs = |name: &'static str, default: Duration| {
            parse::<u64>(&lookup, name, default.as_secs()).map(Duration::from_secs)
        };
        Ok(Self {
            port: match lookup("PORT") {
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| LocalConfigError::new("PORT", &v, "a port number"))?,
                None => d.port,
            },
            header_timeout: secs("LIFT_HEADER_TIMEOUT_SECS", d.header_timeout)?,
            body_timeout: secs("LIFT_BODY_TIMEOUT_SECS", d.body_timeout)?,
            body_limit: d.body_limit,
            max_connections: parse(&lookup, "LIFT_MAX_CONNECTIONS", d.max_connections)?,
            shutdown_grace: secs("LIFT_SHUTDOWN_GRACE_SECS", d.shutdown_grace)?,
        })
    }
}

/// A positive integer variable, or its default when unset.
fn parse<T>(lookup: &impl Fn(&str) -> Option<String>, name: &'static str, default: T) -> Result<T, LocalConfigError>
where
    T: std::str::FromStr + PartialEq + From<u8>,
{
    let Some(v) = lookup(name) else {
        return Ok(default);
    };
    match v.trim().parse::<T>() {
        Ok(n) if n != T::from(0) => Ok(n),
        _ => Err(LocalConfigError::new(name, &v, "a positive integer")),
    }
}

/// A local server variable that does not hold a valid value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalConfigError {
    variable: &'static str,
    value: String,
    expected: &'static str,
}

impl LocalConfigError {
    fn new(variable: &'static str, value: &str, expected: &'static str) -> Self {
        Self {
            variable,
            value: value.to_owned(),
            expected,
        }
    }

    /// The variable's name.
    pub fn variable(&self) -> &str {
        self.variable
    }
}

impl fmt::Display for LocalConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?} is not {}", self.variable, self.value, self.expected)
    }
}

impl std::error::Error for LocalConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<LocalConfig, LocalConfigError> {
        LocalConfig::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(from(&[]), Ok(LocalConfig::default()));
        let c = from(&[
            ("PORT", "8080"),
            ("LIFT_BODY_TIMEOUT_SECS", "2"),
            ("LIFT_MAX_CONNECTIONS", "7"),
        ]);
        let c = c.unwrap_or_default();
        assert_eq!(
            (c.port, c.body_timeout, c.max_connections),
            (8080, Duration::from_secs(2), 7)
        );
    }

    #[test]
    fn bad_values_are_errors_naming_the_variable() {
        for (k, v) in [
            ("PORT", "http"),
            ("PORT", "70000"),
            ("LIFT_HEADER_TIMEOUT_SECS", "0"),
            ("LIFT_BODY_TIMEOUT_SECS", "-1"),
            ("LIFT_MAX_CONNECTIONS", "lots"),
            ("LIFT_SHUTDOWN_GRACE_SECS", "1.5"),
        ] {
            let err = from(&[(k, v)]).err().map(|e| e.variable().to_owned());
            assert_eq!(err.as_deref(), Some(k), "{k}={v}");
        }
    }
}
