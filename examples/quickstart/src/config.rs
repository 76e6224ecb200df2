//! Dynamic configuration of the quick start: `LIFT_APPCONFIG=app/env/profile` polls the
//! AppConfig Lambda extension every `LIFT_CONFIG_POLL_SECONDS` (default 45). A document such as
//! `{"quota_per_minute": 5, "log_level": "DEBUG", "flags": {...}}` changes `/quota`'s limit,
//! the log level and the flags of invocations that start after it; any other key is refused
//! (the last good document stays, with one error line).

use lift::config::{Config, Settings};
use lift::ConfigError;
use serde::Deserialize;

/// The quick start's own keys of a settings document (Lift's are `log_level`,
/// `debug_sample_rate` and `flags`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuickstartSettings {
    /// `/quota`'s calls per minute per client; absent: `QUICKSTART_QUOTA_PER_MINUTE`.
    pub quota_per_minute: Option<u32>,
}

/// Whether the environment turns dynamic configuration on.
pub fn enabled() -> bool {
    std::env::var("LIFT_APPCONFIG").is_ok_and(|v| !v.trim().is_empty())
}

/// The configuration `LIFT_APPCONFIG` asks for (polling starts at once, in the background),
/// or `None`.
pub(crate) fn from_env() -> Result<Option<Config>, ConfigError> {
    Config::from_env::<QuickstartSettings>().map_err(ConfigError)
}

/// `/quota`'s limit under `settings`: the document's, else `default` (a zero is ignored).
pub(crate) fn quota_per_minute(settings: &Settings, default: u32) -> u32 {
    settings
        .app::<QuickstartSettings>()
        .and_then(|s| s.quota_per_minute)
        .filter(|n| *n > 0)
        .unwrap_or(default)
}
