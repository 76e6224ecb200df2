//! # Lift dynamic configuration
//!
//! Settings that change without a redeploy: a [`Poller`] fetches a JSON document from a
//! [`ConfigSource`] on an interval — the AWS AppConfig Lambda extension ([`AppConfigSource`]),
//! an SSM parameter ([`SsmParameterSource`]) or a DynamoDB item (feature `dynamodb`) — validates
//! it into typed [`Settings`] (unknown keys refused) and swaps it in atomically ([`Dynamic`],
//! on `arc-swap`). A document that is invalid, a source that is down or slow keeps the last
//! good settings, writes one ERROR line and counts an error. Readers never wait for a poll.
//!
//! ```no_run
//! use lift_config::{AppConfigSource, Poller, Settings};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Mine { quota_per_minute: Option<u32> }
//!
//! # async fn f() {
//! let config = Poller::new(AppConfigSource::new("app", "prod", "main", 2772), Settings::parser::<Mine>())
//!     .spawn();
//! let now = config.snapshot(); // one per invocation
//! let quota = now.app::<Mine>().and_then(|m| m.quota_per_minute).unwrap_or(20);
//! let beta = now.flag("beta", Some("tenant-1"));
//! # }
//! ```
//!
//! [`Parameters`] reads SSM parameters and Secrets Manager secrets through the Parameters and
//! Secrets Lambda extension with a time-to-live cache. With the `resilience` feature,
//! [`DynamicStore`] makes any rate-limit store follow a quota from the settings and
//! [`breaker_tuning`] makes circuit breakers follow the document's `"breaker"` keys, both
//! keeping their state; [`timeout_tuning`] and [`bulkhead_tuning`] make timeouts and bulkheads
//! follow `"timeout_ms"` and `"bulkhead_max_concurrent"`, load shedders `"shed_random_rate"` and
//! `"shed_max_concurrent"`.

mod appconfig;
#[cfg(feature = "resilience")]
mod breaker;
#[cfg(feature = "resilience")]
mod bulkhead;
mod config;
mod dynamic;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod extension;
mod flags;
#[cfg(feature = "resilience")]
mod load_shed;
mod loopback;
mod parameters;
mod poller;
#[cfg(feature = "resilience")]
mod rate_limit;
mod settings;
mod source;
mod ssm;
#[cfg(feature = "resilience")]
mod timeout;

pub use crate::appconfig::{AppConfigSource, DEFAULT_APPCONFIG_PORT};
#[cfg(feature = "resilience")]
pub use crate::breaker::breaker_tuning;
#[cfg(feature = "resilience")]
pub use crate::bulkhead::bulkhead_tuning;
pub use crate::config::Config;
pub use crate::dynamic::Dynamic;
#[cfg(feature = "dynamodb")]
pub use crate::dynamodb::{DynamoItemSource, DOCUMENT_ATTRIBUTE};
pub use crate::extension::{SecretsExtension, DEFAULT_SECRETS_PORT, TOKEN_HEADER};
pub use crate::flags::{bucket, Flag, FlagRule, Flags};
#[cfg(feature = "resilience")]
pub use crate::load_shed::load_shed_tuning;
pub use crate::parameters::{ParameterError, Parameters, DEFAULT_MAX_AGE};
pub use crate::poller::{PollError, PollOutcome, PollStats, Poller, DEFAULT_INTERVAL, DEFAULT_TIMEOUT};
#[cfg(feature = "resilience")]
pub use crate::rate_limit::DynamicStore;
pub use crate::settings::{
    parse_level, BreakerSettings, InvalidDocument, LiftSettings, NoAppSettings, Parser, Settings, LIFT_KEYS,
};
pub use crate::source::{ConfigSource, FetchFuture, SourceError};
pub use crate::ssm::SsmParameterSource;
#[cfg(feature = "resilience")]
pub use crate::timeout::timeout_tuning;
