//! [`bulkhead_tuning`]: bulkheads whose limit follows the settings.

use lift_resilience::bulkhead::BulkheadTuning;

use crate::settings::Settings;
use crate::Dynamic;

/// A [`BulkheadTuning`] reading the document's `"bulkhead_max_concurrent"` at each call:
/// `BulkheadLayer::new(n).tuning(bulkhead_tuning(config.settings().clone()))`. Without the key
/// (or a document) the built limit applies.
pub fn bulkhead_tuning(settings: Dynamic<Settings>) -> impl BulkheadTuning {
    move |built: usize| settings.load().lift().bulkhead_max_concurrent.unwrap_or(built)
}
