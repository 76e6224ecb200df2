//! The identity API Gateway already verified, read from the event's request context.
//!
//! Trusted only on routes configured to trust it ([`AuthLayer::trust_api_gateway`]): API
//! Gateway fills these fields itself after its authorizer ran, but anyone allowed to invoke
//! the function directly can write them too.
//!
//! [`AuthLayer::trust_api_gateway`]: crate::auth::AuthLayer::trust_api_gateway

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::verifier::collect_scopes;
use crate::context::Principal;
use crate::http::RequestContext;

/// The principal API Gateway verified for this request, if any:
///
/// - HTTP API JWT authorizer: `authorizer.jwt.claims` (subject `sub`, scopes from
///   `authorizer.jwt.scopes` or the `scope` claim);
/// - Lambda authorizer (REST `authorizer.*`, HTTP API `authorizer.lambda.*`, WebSocket): the
///   context it returned (subject `principalId`, else `sub`);
/// - REST Cognito user pool authorizer: `authorizer.claims` (subject `sub`);
/// - IAM authorization: the caller's ARN (`userArn`, else `caller`) as the subject.
///
/// `None` for ALB events, requests without an authorizer, and the local server.
pub fn verified_principal(rc: &RequestContext) -> Option<Principal> {
    match rc {
        RequestContext::ApiGatewayV1(c) => from_fields(&c.authorizer.fields).or_else(|| {
            iam(
                c.identity.user_arn.as_deref().or(c.identity.caller.as_deref()),
                c.identity.account_id.as_deref(),
            )
        }),
        RequestContext::WebSocket(c) => from_fields(&c.authorizer.fields),
        RequestContext::ApiGatewayV2(c) => {
            let auth = c.authorizer.as_ref()?;
            if let Some(jwt) = &auth.jwt {
                let claims: Map<String, Value> = jwt
                    .claims
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                let mut p = Principal::new(claims.get("sub").and_then(Value::as_str).unwrap_or_default());
                match &jwt.scopes {
                    Some(scopes) => p.scopes = scopes.clone(),
                    None => collect_scopes(claims.get("scope"), &mut p.scopes),
                }
                p.claims = claims;
                return Some(p);
            }
            if let Some(p) = from_fields(&auth.fields) {
                return Some(p);
            }
            let iam_desc = auth.iam.as_ref()?;
            iam(
                iam_desc.user_arn.as_deref().or(iam_desc.caller_id.as_deref()),
                iam_desc.account_id.as_deref(),
            )
        }
        _ => None,
    }
}

/// A Lambda authorizer's context or a Cognito user pool's claims (REST).
fn from_fields(fields: &HashMap<String, Value>) -> Option<Principal> {
    if fields.is_empty() {
        return None;
    }
    // REST API with a Cognito user pool authorizer: the token's claims under `claims`.
    if let Some(Value::Object(claims)) = fields.get("claims") {
        let mut p = Principal::new(claims.get("sub").and_then(Value::as_str).unwrap_or_default());
        for name in ["scope", "cognito:groups"] {
            collect_scopes(claims.get(name), &mut p.scopes);
        }
        p.claims = claims.clone();
        return Some(p);
    }
    let claims: Map<String, Value> = fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let subject = ["principalId", "sub"]
        .iter()
        .find_map(|k| claims.get(*k).and_then(Value::as_str))
        .unwrap_or_default();
    let mut p = Principal::new(subject);
    collect_scopes(claims.get("scope"), &mut p.scopes);
    p.claims = claims;
    Some(p)
}

fn iam(arn: Option<&str>, account: Option<&str>) -> Option<Principal> {
    let arn = arn.filter(|a| !a.is_empty())?;
    let mut p = Principal::new(arn);
    p.claims.insert("userArn".into(), Value::String(arn.to_owned()));
    if let Some(account) = account {
        p.claims.insert("accountId".into(), Value::String(account.to_owned()));
    }
    Some(p)
}
