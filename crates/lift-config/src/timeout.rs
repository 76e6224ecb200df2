//! [`timeout_tuning`]: timeouts whose configured limit follows the settings.

use std::time::Duration;

use lift_resilience::timeout::TimeoutTuning;

use crate::settings::Settings;
use crate::Dynamic;

/// A [`TimeoutTuning`] reading the document's `"timeout_ms"` at each call:
/// `TimeoutLayer::new(d).tuning(timeout_tuning(config.settings().clone()))`. Without the key
/// (or a document) the built limit applies; the invocation deadline bounds either.
pub fn timeout_tuning(settings: Dynamic<Settings>) -> impl TimeoutTuning {
    move |built: Option<Duration>| settings.load().lift().timeout_ms.map(Duration::from_millis).or(built)
}
