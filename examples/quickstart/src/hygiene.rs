//! HTTP hygiene: CORS for the origins in `QUICKSTART_CORS_ORIGINS` and the security-headers
//! preset on every response.

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use lift::cors::{AllowOrigin, CorsLayer};
use lift::{App, ConfigError, SecurityHeaders};

/// The origins allowed when `QUICKSTART_CORS_ORIGINS` is not set.
pub const DEFAULT_CORS_ORIGINS: &str = "https://app.example.com";

/// Which browser origins may call the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    /// These origins (`scheme://host[:port]`), with credentials.
    List(Vec<HeaderValue>),
    /// `*`: any origin, without credentials (browsers refuse `*` with credentials).
    Any,
}

impl Default for CorsOrigins {
    fn default() -> Self {
        // A constant that `parse` accepts.
        Self::parse(DEFAULT_CORS_ORIGINS).unwrap_or(Self::List(Vec::new()))
    }
}

impl CorsOrigins {
    /// `QUICKSTART_CORS_ORIGINS` (comma-separated), else [`DEFAULT_CORS_ORIGINS`].
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var("QUICKSTART_CORS_ORIGINS") {
            Ok(v) => Self::parse(&v).map_err(|e| ConfigError(format!("QUICKSTART_CORS_ORIGINS: {e}"))),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Parses a comma-separated list of origins (`https://app.example.com,
    /// http://localhost:5173`), or `*`. An empty list allows no cross-origin caller.
    pub fn parse(list: &str) -> Result<Self, String> {
        let entries: Vec<&str> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if entries == ["*"] {
            return Ok(Self::Any);
        }
        entries
            .into_iter()
            .map(|origin| {
                let rest = origin
                    .strip_prefix("https://")
                    .or_else(|| origin.strip_prefix("http://"))
                    .ok_or_else(|| format!("{origin:?} is not an origin (http:// or https://, then a host)"))?;
                if rest.is_empty() || rest.contains(['/', '?', '#', '*', ' ']) {
                    return Err(format!(
                        "{origin:?} is not an origin (no path, no wildcard: scheme://host[:port])"
                    ));
                }
                HeaderValue::from_str(origin).map_err(|_| format!("{origin:?} has characters a header cannot carry"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::List)
    }

    /// The CORS policy: `GET`, `POST`; the headers the quick start reads; its own response
    /// headers readable by pages; preflights cached 10 minutes.
    pub fn layer(&self) -> CorsLayer {
        let layer = CorsLayer::new()
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("x-correlation-id"),
            ])
            .expose_headers([
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("x-correlation-id"),
                header::RETRY_AFTER,
                HeaderName::from_static("ratelimit-limit"),
                HeaderName::from_static("ratelimit-remaining"),
                HeaderName::from_static("ratelimit-reset"),
                // `POST /orders` replays: a page can tell a replayed order from a new one.
                HeaderName::from_static("idempotent-replayed"),
            ])
            .max_age(Duration::from_secs(600));
        match self {
            Self::Any => layer.allow_origin(AllowOrigin::any()),
            Self::List(origins) => layer
                .allow_origin(AllowOrigin::list(origins.iter().cloned()))
                .allow_credentials(true),
        }
    }
}

/// CORS outermost (preflights answered before every other layer) and the security-headers
/// preset on every answer.
pub(crate) fn apply(app: App, origins: &CorsOrigins) -> App {
    app.cors(origins.layer()).security_headers(SecurityHeaders::preset())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn origin_lists_parse_trimmed_and_refuse_what_is_not_an_origin() {
        let list = CorsOrigins::parse(" https://a.example.com, http://localhost:5173 ,").unwrap();
        assert_eq!(
            list,
            CorsOrigins::List(vec![
                HeaderValue::from_static("https://a.example.com"),
                HeaderValue::from_static("http://localhost:5173"),
            ])
        );
        assert_eq!(CorsOrigins::parse("*").unwrap(), CorsOrigins::Any);
        assert_eq!(
            CorsOrigins::parse("").unwrap(),
            CorsOrigins::List(vec![]),
            "no cross-origin caller"
        );
        assert_eq!(
            CorsOrigins::default(),
            CorsOrigins::List(vec![HeaderValue::from_static(DEFAULT_CORS_ORIGINS)])
        );
        for bad in [
            "a.example.com",
            "https://",
            "https://a.example.com/",
            "https://*.example.com",
            "*, https://a.example.com",
            "ftp://a",
        ] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn both_policies_are_valid_for_tower_http() {
        // tower-http panics when the layer is applied to an invalid policy (credentials + `*`).
        for origins in [CorsOrigins::Any, CorsOrigins::default()] {
            let _ = tower::Layer::layer(&origins.layer(), tower::service_fn(|_: ()| async { Ok::<_, ()>(()) }));
        }
    }
}
