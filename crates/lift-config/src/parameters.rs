//! [`Parameters`]: SSM parameters and secrets with a time-to-live cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::extension::SecretsExtension;
use crate::source::SourceError;

/// How long a value is served from the cache unless `POWERTOOLS_PARAMETERS_MAX_AGE` (seconds)
/// says otherwise: Powertools' default.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Parameter,
    Secret,
}

/// One map per kind, so a lookup borrows the name instead of building a key.
#[derive(Default)]
struct Cache {
    parameters: HashMap<String, Entry>,
    secrets: HashMap<String, Entry>,
}

impl Cache {
    fn of(&mut self, kind: Kind) -> &mut HashMap<String, Entry> {
        match kind {
            Kind::Parameter => &mut self.parameters,
            Kind::Secret => &mut self.secrets,
        }
    }
}

struct Entry {
    value: Arc<str>,
    fetched: Instant,
}

/// Parameters and secrets read through the extension and kept for a time-to-live: a read
/// within the TTL of the last fetch of that name makes no call. Process-wide (every
/// invocation shares the cache); clones share it too. The lock is held only to look up or
/// insert, never across the fetch; two invocations missing the same name at once both fetch.
#[derive(Clone)]
pub struct Parameters {
    extension: SecretsExtension,
    max_age: Duration,
    cache: Arc<Mutex<Cache>>,
}

impl fmt::Debug for Parameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parameters")
            .field("extension", &self.extension)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// A parameter or secret that could not be read.
#[derive(Debug)]
pub struct ParameterError {
    name: String,
    source: SourceError,
}

impl ParameterError {
    /// The parameter's name or the secret's id.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the extension answered 404 (or 400, its answer for a missing parameter).
    pub fn is_not_found(&self) -> bool {
        matches!(self.source, SourceError::Status(400 | 404, _))
    }
}

impl fmt::Display for ParameterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {:?}: {}", self.name, self.source)
    }
}

impl std::error::Error for ParameterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl Parameters {
    /// A cache over `extension` keeping values for `max_age`.
    pub fn new(extension: SecretsExtension, max_age: Duration) -> Self {
        Self {
            extension,
            max_age,
            cache: Arc::default(),
        }
    }

    /// The extension from the environment ([`SecretsExtension::from_env`]), the TTL from
    /// `POWERTOOLS_PARAMETERS_MAX_AGE` (seconds, default 5).
    pub fn from_env() -> Result<Self, String> {
        let max_age = match std::env::var("POWERTOOLS_PARAMETERS_MAX_AGE") {
            Ok(v) => Duration::from_secs(
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("POWERTOOLS_PARAMETERS_MAX_AGE={v:?} is not a number of seconds"))?,
            ),
            Err(_) => DEFAULT_MAX_AGE,
        };
        Ok(Self::new(SecretsExtension::from_env()?, max_age))
    }

    /// The TTL.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The SSM parameter `name` (decrypted).
    pub async fn parameter(&self, name: &str) -> Result<Arc<str>, ParameterError> {
        self.get(Kind::Parameter, name).await
    }

    /// The secret `id`'s string value.
    pub async fn secret(&self, id: &str) -> Result<Arc<str>, ParameterError> {
        self.get(Kind::Secret, id).await
    }

    /// Forgets every cached value (the next read of each name fetches).
    pub fn clear(&self) {
        *self.lock() = Cache::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn get(&self, kind: Kind, name: &str) -> Result<Arc<str>, ParameterError> {
        let now = Instant::now();
        if let Some(e) = self.lock().of(kind).get(name) {
            if now.saturating_duration_since(e.fetched) < self.max_age {
                return Ok(e.value.clone());
            }
        }
        let fetched = match kind {
            Kind::Parameter => self.extension.parameter(name).await,
            Kind::Secret => self.extension.secret(name).await,
        };
        let value: Arc<str> = Arc::from(fetched.map_err(|source| ParameterError {
            name: name.to_owned(),
            source,
        })?);
        self.lock().of(kind).insert(
            name.to_owned(),
            Entry {
                value: value.clone(),
                fetched: Instant::now(),
            },
        );
        Ok(value)
    }
}
