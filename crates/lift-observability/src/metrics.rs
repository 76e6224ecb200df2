//! The per-invocation metrics scope handlers record into, and its validation rules.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use crate::invocation::Shared;
use crate::stats::Counters;
use crate::{Resolution, Unit};

/// Most metrics in one EMF document.
pub const MAX_METRICS_PER_DOCUMENT: usize = 100;
/// Most values of one metric in one EMF document.
pub const MAX_VALUES_PER_METRIC: usize = 100;
/// Most dimensions in a dimension set (including the default `service`).
pub const MAX_DIMENSIONS: usize = 30;
/// Longest metric name.
pub const MAX_NAME_LEN: usize = 255;
/// Longest dimension name.
pub const MAX_DIMENSION_NAME_LEN: usize = 250;
/// Longest dimension value.
pub const MAX_DIMENSION_VALUE_LEN: usize = 1024;

/// A metric call refused. The invocation carries on; the refusal is also counted in
/// [`crate::Stats::metric_errors`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum MetricError {
    /// The metric name is empty, longer than 255 characters, contains control characters, or is
    /// reserved (`_aws`).
    InvalidName(String),
    /// Not a CloudWatch unit.
    InvalidUnit(String),
    /// NaN or infinite values cannot be written to EMF.
    InvalidValue {
        /// The metric.
        name: String,
        /// The value.
        value: f64,
    },
    /// The same metric was recorded with two different units or resolutions.
    UnitConflict {
        /// The metric.
        name: String,
        /// The unit first recorded.
        first: Unit,
        /// The unit now given.
        now: Unit,
    },
    /// A dimension name or value is empty, too long, or contains control characters.
    InvalidDimension {
        /// The dimension name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// More than 30 dimensions (the default `service` counts).
    TooManyDimensions {
        /// The dimension refused.
        name: String,
    },
    /// A metric, dimension or property would share a key with another in the document.
    KeyConflict(String),
    /// The invocation already flushed its metrics.
    Flushed,
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(n) => write!(
                f,
                "invalid metric name {n:?}: must be 1 to {MAX_NAME_LEN} characters without control characters, not \"_aws\""
            ),
            Self::InvalidUnit(u) => write!(f, "invalid metric unit {u:?}: not a CloudWatch unit"),
            Self::InvalidValue { name, value } => {
                write!(f, "invalid value {value} for metric {name:?}: must be finite")
            }
            Self::UnitConflict { name, first, now } => write!(
                f,
                "metric {name:?} recorded as {first} and now as {now}: one unit and resolution per metric"
            ),
            Self::InvalidDimension { name, reason } => write!(f, "invalid dimension {name:?}: {reason}"),
            Self::TooManyDimensions { name } => write!(
                f,
                "dimension {name:?} refused: at most {MAX_DIMENSIONS} dimensions, including service"
            ),
            Self::KeyConflict(k) => write!(
                f,
                "key {k:?} is already used by a metric, dimension or property of this invocation"
            ),
            Self::Flushed => f.write_str("metrics already flushed for this invocation"),
        }
    }
}

impl std::error::Error for MetricError {}

/// A byte range of [`MetricSet`]'s text arena.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rng(u32, u32);

/// One metric and its values (the first inline: most metrics have exactly one).
#[derive(Debug)]
pub(crate) struct Entry {
    name: Rng,
    /// The name as JSON string contents (the same range when it needs no escape).
    json_name: Rng,
    pub(crate) unit: Unit,
    pub(crate) resolution: Resolution,
    first: f64,
    more: Vec<f64>,
}

impl Entry {
    /// How many values were recorded.
    pub(crate) fn len(&self) -> usize {
        1 + self.more.len()
    }

    /// The `i`-th value recorded.
    pub(crate) fn value(&self, i: usize) -> f64 {
        if i == 0 {
            self.first
        } else {
            self.more[i - 1]
        }
    }

    fn last_mut(&mut self) -> &mut f64 {
        self.more.last_mut().unwrap_or(&mut self.first)
    }
}

/// Everything recorded by one invocation. Names, dimension values and rendered property values
/// live in one text arena, so recording allocates nothing once a pooled set has grown.
#[derive(Debug, Default)]
pub(crate) struct MetricSet {
    text: String,
    pub(crate) metrics: Vec<Entry>,
    /// Dimensions besides the default `service`.
    dimensions: Vec<(Rng, Rng)>,
    /// Property keys and their values, rendered as JSON.
    properties: Vec<(Rng, Rng)>,
    /// Whether a metric, dimension or property uses one of [`crate::emf::EXTRA_KEYS`].
    extra_key_used: bool,
    pub(crate) flushed: bool,
}

impl MetricSet {
    fn s(&self, r: Rng) -> &str {
        &self.text[r.0 as usize..r.1 as usize]
    }

    /// Whether the handler used `key`, one of [`crate::emf::EXTRA_KEYS`], itself.
    pub(crate) fn extra_key_taken(&self, key: &str) -> bool {
        self.extra_key_used && self.key_used(key)
    }

    /// Stores a new key (metric name, dimension or property key).
    fn push_key(&mut self, key: &str) -> Rng {
        if crate::emf::EXTRA_KEYS.contains(&key) {
            self.extra_key_used = true;
        }
        self.push_text(key)
    }

    fn push_text(&mut self, s: &str) -> Rng {
        let start = self.text.len();
        self.text.push_str(s);
        Rng(start as u32, self.text.len() as u32)
    }

    /// Forgets everything, keeping the capacity (for the pool).
    pub(crate) fn reset(&mut self) {
        self.text.clear();
        self.metrics.clear();
        self.dimensions.clear();
        self.properties.clear();
        self.extra_key_used = false;
        self.flushed = false;
    }

    /// Heap memory held (approximately), to decide whether the set is worth pooling.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.metrics.capacity() * std::mem::size_of::<Entry>()
            + self.metrics.iter().map(|m| m.more.capacity() * 8).sum::<usize>()
            + (self.dimensions.capacity() + self.properties.capacity()) * 16
    }

    /// A metric's name, escaped as JSON string contents.
    pub(crate) fn json_name(&self, e: &Entry) -> &str {
        self.s(e.json_name)
    }

    /// Dimensions besides `service`, in the order first added.
    pub(crate) fn dimensions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.dimensions.iter().map(|&(k, v)| (self.s(k), self.s(v)))
    }

    /// Properties: key and value as JSON.
    pub(crate) fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.properties.iter().map(|&(k, v)| (self.s(k), self.s(v)))
    }

    pub(crate) fn key_used(&self, key: &str) -> bool {
        key == "service"
            || key == "_aws"
            || self.metrics.iter().any(|m| self.s(m.name) == key)
            || self.dimensions.iter().any(|&(k, _)| self.s(k) == key)
            || self.properties.iter().any(|&(k, _)| self.s(k) == key)
    }

    pub(crate) fn add(
        &mut self,
        name: &str,
        value: f64,
        unit: Unit,
        resolution: Resolution,
        sum: bool,
    ) -> Result<(), MetricError> {
        if self.flushed {
            return Err(MetricError::Flushed);
        }
        validate_name(name)?;
        if !value.is_finite() {
            return Err(MetricError::InvalidValue {
                name: name.to_owned(),
                value,
            });
        }
        let text = &self.text;
        if let Some(m) = self
            .metrics
            .iter_mut()
            .find(|m| &text[m.name.0 as usize..m.name.1 as usize] == name)
        {
            if m.unit != unit || m.resolution != resolution {
                return Err(MetricError::UnitConflict {
                    name: name.to_owned(),
                    first: m.unit,
                    now: unit,
                });
            }
            if sum {
                *m.last_mut() += value;
            } else {
                m.more.push(value);
            }
            return Ok(());
        }
        if self.key_used(name) {
            return Err(MetricError::KeyConflict(name.to_owned()));
        }
        let json_name = if crate::json::is_plain(name) {
            None
        } else {
            let start = self.text.len();
            crate::json::write_str_contents(&mut self.text, name);
            Some(Rng(start as u32, self.text.len() as u32))
        };
        let name = self.push_key(name);
        self.metrics.push(Entry {
            name,
            json_name: json_name.unwrap_or(name),
            unit,
            resolution,
            first: value,
            more: Vec::new(),
        });
        Ok(())
    }

    pub(crate) fn dimension(&mut self, name: &str, value: &str) -> Result<(), MetricError> {
        if self.flushed {
            return Err(MetricError::Flushed);
        }
        let bad = |reason| MetricError::InvalidDimension {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() || name.len() > MAX_DIMENSION_NAME_LEN {
            return Err(bad("name must be 1 to 250 characters"));
        }
        if !name.is_ascii() || name.starts_with(':') || name.chars().any(char::is_control) {
            return Err(bad(
                "name must be ASCII without control characters, not starting with ':'",
            ));
        }
        if value.trim().is_empty() || value.chars().count() > MAX_DIMENSION_VALUE_LEN {
            return Err(bad("value must be 1 to 1024 characters, not only whitespace"));
        }
        if value.chars().any(char::is_control) {
            return Err(bad("value must not contain control characters"));
        }
        if let Some(i) = self.dimensions.iter().position(|&(k, _)| self.s(k) == name) {
            let v = self.push_text(value);
            self.dimensions[i].1 = v;
            return Ok(());
        }
        if self.key_used(name) {
            return Err(MetricError::KeyConflict(name.to_owned()));
        }
        if self.dimensions.len() + 1 >= MAX_DIMENSIONS {
            return Err(MetricError::TooManyDimensions { name: name.to_owned() });
        }
        let k = self.push_key(name);
        let v = self.push_text(value);
        self.dimensions.push((k, v));
        Ok(())
    }

    pub(crate) fn property(&mut self, key: &str, value: &serde_json::Value) -> Result<(), MetricError> {
        if self.flushed {
            return Err(MetricError::Flushed);
        }
        if key.is_empty() || key.chars().any(char::is_control) {
            return Err(MetricError::InvalidName(key.to_owned()));
        }
        let existing = self.properties.iter().position(|&(k, _)| self.s(k) == key);
        if existing.is_none() && self.key_used(key) {
            return Err(MetricError::KeyConflict(key.to_owned()));
        }
        let k = match existing {
            Some(i) => self.properties[i].0,
            None => self.push_key(key),
        };
        let start = self.text.len();
        // `Value`'s Display is compact JSON.
        let _ = write!(self.text, "{value}");
        let v = Rng(start as u32, self.text.len() as u32);
        match existing {
            Some(i) => self.properties[i].1 = v,
            None => self.properties.push((k, v)),
        }
        Ok(())
    }
}

fn validate_name(name: &str) -> Result<(), MetricError> {
    let bad = if name.is_ascii() {
        // ASCII (nearly every name): one pass over the bytes, length in bytes is in characters.
        name.len() > MAX_NAME_LEN || name.bytes().any(|b| b.is_ascii_control()) || name.trim_ascii().is_empty()
    } else {
        name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) || name.trim().is_empty()
    };
    if bad || name == "_aws" {
        return Err(MetricError::InvalidName(name.to_owned()));
    }
    Ok(())
}

/// The handle handlers record metrics through: cheap to clone, `Send + Sync`, bound to one
/// invocation. Everything recorded is flushed once, in EMF, when the invocation finishes.
///
/// The lock inside is per invocation, so it is never contended by other invocations.
#[derive(Clone, Default)]
pub struct Metrics {
    scope: Option<Arc<Shared>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.scope.is_some())
            .finish()
    }
}

impl Metrics {
    pub(crate) fn new(scope: Option<Arc<Shared>>) -> Self {
        Self { scope }
    }

    /// A handle that validates and discards (metrics turned off, or outside an invocation).
    pub fn disabled() -> Self {
        Self::default()
    }

    fn with(&self, f: impl FnOnce(&mut MetricSet) -> Result<(), MetricError>) -> Result<(), MetricError> {
        let Some(shared) = &self.scope else {
            return f(&mut MetricSet::default());
        };
        let result = match shared.metrics.lock() {
            Ok(mut set) => f(&mut set),
            Err(_) => Err(MetricError::Flushed),
        };
        if result.is_err() {
            Counters::incr(&shared.obs.counters.metric_errors);
        }
        result
    }

    /// Adds `n` to a counter (unit `Count`): repeated calls sum into one value.
    pub fn count(&self, name: &str, n: u64) -> Result<(), MetricError> {
        self.with(|s| s.add(name, n as f64, Unit::Count, Resolution::Standard, true))
    }

    /// Records one value; repeated calls keep every value (split at 100 per document).
    pub fn value(&self, name: &str, value: f64, unit: Unit) -> Result<(), MetricError> {
        self.with(|s| s.add(name, value, unit, Resolution::Standard, false))
    }

    /// Records one value with a storage resolution.
    pub fn value_with_resolution(
        &self,
        name: &str,
        value: f64,
        unit: Unit,
        resolution: Resolution,
    ) -> Result<(), MetricError> {
        self.with(|s| s.add(name, value, unit, resolution, false))
    }

    /// Records one value with a unit given by name (`"Milliseconds"`), refusing unknown units.
    pub fn value_str(&self, name: &str, value: f64, unit: &str) -> Result<(), MetricError> {
        let unit = match unit.parse::<Unit>() {
            Ok(u) => u,
            Err(e) => return self.with(|_| Err(e)),
        };
        self.value(name, value, unit)
    }

    /// Adds a dimension to every metric of this invocation (at most 30 with `service`).
    pub fn dimension(&self, name: &str, value: &str) -> Result<(), MetricError> {
        self.with(|s| s.dimension(name, value))
    }

    /// Adds a property: a searchable, non-metric key of the EMF document. A key the log
    /// redaction covers (`authorization`, `cookie`, ...) gets the value `"*****"`.
    pub fn property(&self, key: &str, value: impl Into<serde_json::Value>) -> Result<(), MetricError> {
        let redacted = self.scope.as_ref().is_some_and(|s| s.obs.redactor.is_redacted(key));
        let value = if redacted {
            serde_json::Value::from(crate::REDACTED)
        } else {
            value.into()
        };
        self.with(|s| s.property(key, &value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_conflicts() {
        let mut s = MetricSet::default();
        assert!(s.add("", 1.0, Unit::Count, Resolution::Standard, true).is_err());
        assert!(s
            .add(&"x".repeat(256), 1.0, Unit::Count, Resolution::Standard, true)
            .is_err());
        assert!(s.add("ok", f64::NAN, Unit::Count, Resolution::Standard, false).is_err());
        s.add("ok", 1.0, Unit::Count, Resolution::Standard, true).expect("ok");
        s.add("ok", 2.0, Unit::Count, Resolution::Standard, true).expect("ok");
        assert_eq!((s.metrics[0].len(), s.metrics[0].value(0)), (1, 3.0));
        assert!(matches!(
            s.add("ok", 2.0, Unit::Seconds, Resolution::Standard, false),
            Err(MetricError::UnitConflict { .. })
        ));
        assert_eq!(s.dimension("ok", "v"), Err(MetricError::KeyConflict("ok".into())));
        assert_eq!(
            s.dimension("service", "v"),
            Err(MetricError::KeyConflict("service".into()))
        );
        for i in 0..29 {
            s.dimension(&format!("d{i}"), "v").expect("within limit");
        }
        assert_eq!(
            s.dimension("d29", "v"),
            Err(MetricError::TooManyDimensions { name: "d29".into() })
        );
        assert!(s.dimension(":x", "v").is_err());
        s.flushed = true;
        assert_eq!(
            s.add("late", 1.0, Unit::Count, Resolution::Standard, true),
            Err(MetricError::Flushed)
        );
    }
}
