//! The per-invocation metrics scope handlers record into, and its validation rules.

use std::fmt;
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

/// One metric and its values.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: Box<str>,
    pub(crate) unit: Unit,
    pub(crate) resolution: Resolution,
    pub(crate) values: Vec<f64>,
}

/// Everything recorded by one invocation.
#[derive(Debug, Default)]
pub(crate) struct MetricSet {
    pub(crate) metrics: Vec<Entry>,
    /// Dimensions besides the default `service`.
    pub(crate) dimensions: Vec<(Box<str>, Box<str>)>,
    pub(crate) properties: Vec<(Box<str>, serde_json::Value)>,
    pub(crate) flushed: bool,
}

impl MetricSet {
    pub(crate) fn key_used(&self, key: &str) -> bool {
        key == "service"
            || key == "_aws"
            || self.metrics.iter().any(|m| &*m.name == key)
            || self.dimensions.iter().any(|(k, _)| &**k == key)
            || self.properties.iter().any(|(k, _)| &**k == key)
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
        if let Some(m) = self.metrics.iter_mut().find(|m| &*m.name == name) {
            if m.unit != unit || m.resolution != resolution {
                return Err(MetricError::UnitConflict {
                    name: name.to_owned(),
                    first: m.unit,
                    now: unit,
                });
            }
            match (sum, m.values.last_mut()) {
                (true, Some(last)) => *last += value,
                _ => m.values.push(value),
            }
            return Ok(());
        }
        if self.key_used(name) {
            return Err(MetricError::KeyConflict(name.to_owned()));
        }
        self.metrics.push(Entry {
            name: name.into(),
            unit,
            resolution,
            values: vec![value],
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
        if let Some(d) = self.dimensions.iter_mut().find(|(k, _)| &**k == name) {
            d.1 = value.into();
            return Ok(());
        }
        if self.key_used(name) {
            return Err(MetricError::KeyConflict(name.to_owned()));
        }
        if self.dimensions.len() + 1 >= MAX_DIMENSIONS {
            return Err(MetricError::TooManyDimensions { name: name.to_owned() });
        }
        self.dimensions.push((name.into(), value.into()));
        Ok(())
    }

    pub(crate) fn property(&mut self, key: &str, value: serde_json::Value) -> Result<(), MetricError> {
        if self.flushed {
            return Err(MetricError::Flushed);
        }
        if key.is_empty() || key.chars().any(char::is_control) {
            return Err(MetricError::InvalidName(key.to_owned()));
        }
        if let Some(p) = self.properties.iter_mut().find(|(k, _)| &**k == key) {
            p.1 = value;
            return Ok(());
        }
        if self.key_used(key) {
            return Err(MetricError::KeyConflict(key.to_owned()));
        }
        self.properties.push((key.into(), value));
        Ok(())
    }
}

fn validate_name(name: &str) -> Result<(), MetricError> {
    if name.is_empty()
        || name == "_aws"
        || name.trim().is_empty()
        || name.chars().count() > MAX_NAME_LEN
        || name.chars().any(char::is_control)
    {
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

    /// Adds a property: a searchable, non-metric key of the EMF document.
    pub fn property(&self, key: &str, value: impl Into<serde_json::Value>) -> Result<(), MetricError> {
        let value = value.into();
        self.with(|s| s.property(key, value))
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
        assert_eq!(s.metrics[0].values, vec![3.0]);
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
