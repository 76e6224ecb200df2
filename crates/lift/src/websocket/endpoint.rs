//! The management endpoint of a WebSocket API: `https://{domainName}/{stage}`.

use std::fmt;

use crate::WebSocket;

/// The event has no domain or stage to reach the management API with.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointError {
    missing: &'static str,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the WebSocket event has no {}: cannot build the management endpoint (set an endpoint override)",
            self.missing
        )
    }
}

impl std::error::Error for EndpointError {}

/// The API Gateway Management API endpoint of the API that delivered `ws`:
/// `https://{domainName}/{stage}`, as AWS documents it for `execute-api` domains.
///
/// Behind a custom domain, the event's `domainName` is the custom domain and the management
/// API is reached through its base-path mapping; when that mapping is not the stage name, use
/// an explicit endpoint ([`Management::for_endpoint`](super::Management::for_endpoint)).
pub fn management_endpoint(ws: &WebSocket) -> Result<String, EndpointError> {
    let domain = ws
        .domain_name
        .as_deref()
        .filter(|d| !d.is_empty())
        .ok_or(EndpointError { missing: "domainName" })?;
    let stage = ws
        .stage
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(EndpointError { missing: "stage" })?;
    // A `/`, `?` or `#` in either would point the signed request elsewhere.
    if domain.contains(['/', '?', '#', '@']) || stage.contains(['/', '?', '#']) {
        return Err(EndpointError {
            missing: "usable domainName and stage",
        });
    }
    Ok(format!("https://{domain}/{stage}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(domain: Option<&str>, stage: Option<&str>) -> WebSocket {
        WebSocket {
            domain_name: domain.map(str::to_owned),
            stage: stage.map(str::to_owned),
            ..WebSocket::default()
        }
    }

    #[test]
    fn the_endpoint_is_the_domain_and_stage() {
        let e = management_endpoint(&ws(Some("abcd.execute-api.us-east-1.amazonaws.com"), Some("prod")));
        assert_eq!(
            e.as_deref(),
            Ok("https://abcd.execute-api.us-east-1.amazonaws.com/prod")
        );
    }

    #[test]
    fn a_missing_or_hostile_domain_or_stage_is_a_clear_error() {
        let e = management_endpoint(&ws(None, Some("prod"))).unwrap_err();
        assert!(e.to_string().contains("domainName"), "{e}");
        let e = management_endpoint(&ws(Some("x.example"), Some(""))).unwrap_err();
        assert!(e.to_string().contains("stage"), "{e}");
        assert!(management_endpoint(&ws(Some("evil.example/x"), Some("prod"))).is_err());
        assert!(management_endpoint(&ws(Some("x.example"), Some("a/../b"))).is_err());
    }
}
