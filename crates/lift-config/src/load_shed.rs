//! [`load_shed_tuning`]: load shedders whose random rate and concurrency cap follow the
//! settings.

use lift_resilience::load_shed::LoadShedTuning;

use crate::settings::Settings;
use crate::Dynamic;

/// A [`LoadShedTuning`] reading the document's `"shed_random_rate"` and
/// `"shed_max_concurrent"` at each call:
/// `LoadShedLayer::aimd().tuning(load_shed_tuning(config.settings().clone()))`. Without the keys
/// (or a document) the built rate and the limit in force apply.
pub fn load_shed_tuning(settings: Dynamic<Settings>) -> impl LoadShedTuning {
    ShedTuning(settings)
}

struct ShedTuning(Dynamic<Settings>);

impl LoadShedTuning for ShedTuning {
    fn random_rate(&self, built: f64) -> f64 {
        self.0.load().lift().shed_random_rate.unwrap_or(built)
    }

    fn limit(&self, current: usize) -> usize {
        match self.0.load().lift().shed_max_concurrent {
            Some(cap) => current.min(cap),
            None => current,
        }
    }
}
