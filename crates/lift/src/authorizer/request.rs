//! [`AuthorizerRequest`]: an API Gateway authorizer event, as the handler sees it.

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::error::{code, Error};

/// Which authorizer event API Gateway sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizerKind {
    /// REST API `TOKEN` authorizer: the token alone (`authorizationToken`). Answered with an
    /// IAM policy.
    Token,
    /// REST API or WebSocket `REQUEST` authorizer, or HTTP API with payload format 1.0: the
    /// request's headers, query and context. Answered with an IAM policy.
    Request,
    /// HTTP API `REQUEST` authorizer, payload format 2.0. Answered with the simple response
    /// (`isAuthorized`) or an IAM policy, as the handler chooses.
    HttpApiV2,
}

/// An API Gateway authorizer event: what is being called (`methodArn` / `routeArn`) and the
/// caller's credentials. The whole event is kept as JSON for anything else
/// ([`event`](Self::event)).
#[derive(Clone, Debug)]
pub struct AuthorizerRequest {
    kind: AuthorizerKind,
    arn: String,
    token: Option<String>,
    headers: HeaderMap,
    event: Value,
}

impl AuthorizerRequest {
    /// Reads an authorizer event. Errors (`malformed_event`) when it names no ARN.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let event: Value = serde_json::from_str(json)
            .map_err(|e| Error::bad_request(code::MALFORMED_JSON, "the event is not valid JSON").with_source(e))?;
        Self::from_value(event)
    }

    /// Reads an authorizer event already parsed.
    pub fn from_value(event: Value) -> Result<Self, Error> {
        let str_of = |k: &str| event.get(k).and_then(Value::as_str);
        let is_token = str_of("type") == Some("TOKEN");
        let kind = match (is_token, str_of("version"), str_of("routeArn")) {
            (true, _, _) => AuthorizerKind::Token,
            (false, Some("2.0"), _) | (false, None, Some(_)) => AuthorizerKind::HttpApiV2,
            _ => AuthorizerKind::Request,
        };
        let arn = str_of("methodArn")
            .or_else(|| str_of("routeArn"))
            .ok_or_else(|| {
                Error::bad_request(
                    code::MALFORMED_EVENT,
                    "the authorizer event has no methodArn or routeArn",
                )
            })?
            .to_owned();
        let token = str_of("authorizationToken").map(str::to_owned);
        let mut headers = HeaderMap::new();
        // REST: `multiValueHeaders` holds every value, `headers` the last; HTTP API: `headers`.
        let multi = event.get("multiValueHeaders").and_then(Value::as_object);
        if let Some(multi) = multi.filter(|m| !m.is_empty()) {
            for (name, values) in multi {
                for v in values.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    append(&mut headers, name, v);
                }
            }
        } else if let Some(single) = event.get("headers").and_then(Value::as_object) {
            for (name, v) in single {
                if let Some(v) = v.as_str() {
                    append(&mut headers, name, v);
                }
            }
        }
        Ok(Self {
            kind,
            arn,
            token,
            headers,
            event,
        })
    }

    /// Which authorizer event this is.
    pub fn kind(&self) -> AuthorizerKind {
        self.kind
    }

    /// The ARN of what is being called: `methodArn` (REST, WebSocket, HTTP API 1.0) or
    /// `routeArn` (HTTP API 2.0). An [`allow`](crate::authorizer::AuthorizerResponse::allow)
    /// policy grants exactly this.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The stage-wide wildcard of [`arn`](Self::arn)
    /// (`arn:aws:execute-api:region:account:api/stage/*`): an allow policy on it stays valid
    /// for every route while API Gateway caches the authorizer's answer.
    pub fn stage_arn_wildcard(&self) -> String {
        // arn:aws:execute-api:region:account:api-id/stage/METHOD/path
        let mut parts = self.arn.splitn(3, '/');
        match (parts.next(), parts.next()) {
            (Some(api), Some(stage)) => format!("{api}/{stage}/*"),
            _ => self.arn.clone(),
        }
    }

    /// `authorizationToken` of a `TOKEN` event (the configured header's value, as sent).
    pub fn authorization_token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The request's headers (`REQUEST` events; names in any case).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The bearer token: a `TOKEN` event's `authorizationToken` (with or without the `Bearer`
    /// scheme); for `REQUEST` events the `Authorization` header's bearer credential, else
    /// `authorizationToken` (HTTP API 1.0 joins the identity sources there). `None` when
    /// absent, over [`MAX_TOKEN_LEN`](crate::auth::MAX_TOKEN_LEN), or not token characters.
    pub fn bearer_token(&self) -> Option<&str> {
        if self.kind != AuthorizerKind::Token {
            if let Ok(token) = crate::auth::TokenSource::header().extract(&self.headers) {
                return Some(token);
            }
        }
        let t = self.token.as_deref()?;
        match crate::auth::token_bearer(t.as_bytes()) {
            Ok(Some(token)) => Some(token),
            // A TOKEN authorizer may be configured to pass the bare token.
            Ok(None) => crate::auth::token_chars(t.as_bytes()).ok(),
            Err(_) => None,
        }
    }

    /// The whole event as API Gateway sent it.
    pub fn event(&self) -> &Value {
        &self.event
    }
}

fn append(headers: &mut HeaderMap, name: &str, value: &str) {
    // A header API Gateway forwarded that `http` cannot represent is skipped, not fatal.
    if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        headers.append(n, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_wildcards() {
        let r = AuthorizerRequest::from_value(serde_json::json!({
            "type": "TOKEN", "authorizationToken": "Bearer a.b.c",
            "methodArn": "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/prod/GET/pets/1"
        }))
        .expect("event");
        assert_eq!(r.kind(), AuthorizerKind::Token);
        assert_eq!(
            r.stage_arn_wildcard(),
            "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/prod/*"
        );
        assert_eq!(r.bearer_token(), Some("a.b.c"));
        assert!(AuthorizerRequest::from_value(serde_json::json!({"type": "TOKEN"})).is_err());
    }
}
