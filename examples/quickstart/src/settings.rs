//! The quick start's settings from the environment: the fleet table and the quota.

use std::time::Duration;

use lift::dynamodb::FleetTable;
use lift::{BoxError, ConfigError};

/// What the quick start reads at start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `LIFT_TABLE`: the fleet table; `None` keeps every limit and breaker in process.
    pub table: Option<FleetTable>,
    /// `QUICKSTART_QUOTA_PER_MINUTE` (default 20): `/quota` calls per minute per client.
    pub quota_per_minute: u32,
    /// `QUICKSTART_RATE_LIMIT_PER_SECOND` (default 1000, the default stack's): requests per
    /// second this process admits on its HTTP and WebSocket routes before answering 429.
    pub rate_limit_per_second: u32,
    /// `QUICKSTART_CORS_ORIGINS` (default `https://app.example.com`): who may call from a browser.
    pub cors_origins: crate::hygiene::CorsOrigins,
    /// `LIFT_APPCONFIG`: dynamic configuration, polled in the background (see [`crate::config`]).
    pub config: Option<lift::config::Config>,
    /// `QUICKSTART_JWT_SECRET` (HS256) and/or `QUICKSTART_JWKS_URL` (RS256, ES256), with
    /// `QUICKSTART_JWT_ISSUER` and `QUICKSTART_JWT_AUDIENCE`: the check behind `/me` and the
    /// authorizer; `None` refuses everything.
    pub jwt: Option<lift::auth::JwtVerifier>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            table: None,
            quota_per_minute: DEFAULT_QUOTA_PER_MINUTE,
            rate_limit_per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
            cors_origins: crate::hygiene::CorsOrigins::default(),
            config: None,
            jwt: None,
        }
    }
}

/// `/quota`'s default limit.
pub const DEFAULT_QUOTA_PER_MINUTE: u32 = 20;

/// The process-wide rate limit's default: the default resilience stack's.
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 1000;

/// A positive whole number from `var`, else `default` when it is unset.
fn positive(var: &str, default: u32) -> Result<u32, ConfigError> {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError(format!("{var}={v:?} is not a positive whole number"))),
        Err(_) => Ok(default),
    }
}

impl Settings {
    /// Reads `LIFT_TABLE`, `LIFT_CREATE_TABLE`, `QUICKSTART_QUOTA_PER_MINUTE` and
    /// `QUICKSTART_RATE_LIMIT_PER_SECOND`. With a table,
    /// the SDK client comes from `aws_config`'s defaults (`AWS_ENDPOINT_URL_DYNAMODB` points it
    /// at a local server); the table is created when `LIFT_CREATE_TABLE=true` and missing, and
    /// checked either way, so a missing table or a wrong key schema fails the start.
    pub async fn from_env() -> Result<Self, BoxError> {
        let quota_per_minute = positive("QUICKSTART_QUOTA_PER_MINUTE", DEFAULT_QUOTA_PER_MINUTE)?;
        let rate_limit_per_second = positive("QUICKSTART_RATE_LIMIT_PER_SECOND", DEFAULT_RATE_LIMIT_PER_SECOND)?;
        let table = match std::env::var("LIFT_TABLE").ok().filter(|t| !t.is_empty()) {
            None => None,
            Some(name) => {
                let table = FleetTable::from_env(name).await;
                let create = match std::env::var("LIFT_CREATE_TABLE").as_deref() {
                    Ok("true") | Ok("1") => true,
                    Ok("false") | Ok("0") | Ok("") | Err(_) => false,
                    Ok(other) => {
                        return Err(ConfigError(format!("LIFT_CREATE_TABLE={other:?} is not true or false")).into())
                    }
                };
                let ready = if create {
                    table.create_if_missing(Duration::from_secs(30)).await
                } else {
                    table.verify().await
                };
                ready.map_err(|e| ConfigError(format!("LIFT_TABLE: {e}")))?;
                Some(table)
            }
        };
        let jwt = crate::auth::verifier_from_env()?;
        Ok(Self {
            table,
            quota_per_minute,
            rate_limit_per_second,
            cors_origins: crate::hygiene::CorsOrigins::from_env()?,
            config: crate::config::from_env()?,
            jwt,
        })
    }
}
