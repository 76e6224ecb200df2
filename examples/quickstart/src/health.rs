//! `GET /health/ready`: ready when the fleet table answers DescribeTable (with `LIFT_TABLE`);
//! without a table there is nothing to wait for.

use std::time::Duration;

use lift::health::Readiness;

use crate::Settings;

/// The quick start's readiness: the fleet table, within a second, reports kept 2 s.
pub(crate) fn readiness(settings: &Settings) -> Readiness {
    let readiness = Readiness::new()
        .timeout(Duration::from_secs(1))
        .cache_for(Duration::from_secs(2));
    match &settings.table {
        Some(table) => readiness.table(table.clone()),
        None => readiness,
    }
}
