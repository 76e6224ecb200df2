//! `GET /me` and the Lambda authorizer: one JWT check, configured from the environment.
//!
//! - `QUICKSTART_JWT_SECRET`: an HMAC secret for HS256 tokens;
//! - `QUICKSTART_JWKS_URL`: a key set (HTTPS, or HTTP on loopback) for RS256 and ES256 tokens;
//! - `QUICKSTART_JWT_ISSUER`, `QUICKSTART_JWT_AUDIENCE`: checked when set.
//!
//! With neither a secret nor a key set, `/me` answers 401 to everything and the authorizer
//! denies everything.

use axum::routing::{get, MethodRouter};
use lift::auth::{Algorithm, Auth, AuthLayer, Jwks, JwtVerifier, Key};
use lift::authorizer::{AuthorizerKind, AuthorizerRequest, AuthorizerResponse};
use lift::tenant::TenantLayer;
use lift::{ConfigError, Error, Json, Principal};
use serde_json::{json, Value};

/// The claim that names the caller's tenant.
const TENANT_CLAIM: &str = "tenant_id";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The verifier the environment configures, `None` when neither a secret nor a key set is
/// set. A bad value (a JWKS URL that is not HTTPS off loopback) is an error naming it.
pub(crate) fn verifier_from_env() -> Result<Option<JwtVerifier>, ConfigError> {
    let secret = var("QUICKSTART_JWT_SECRET");
    let jwks_url = var("QUICKSTART_JWKS_URL");
    if secret.is_none() && jwks_url.is_none() {
        return Ok(None);
    }
    let mut builder = JwtVerifier::builder();
    if let Some(secret) = secret {
        let key = Key::hmac(secret.as_bytes(), &[Algorithm::HS256])
            .map_err(|e| ConfigError(format!("QUICKSTART_JWT_SECRET: {e}")))?;
        builder = builder.key(key);
    }
    if let Some(url) = jwks_url {
        let jwks = Jwks::new(url, &[Algorithm::RS256, Algorithm::ES256])
            .map_err(|e| ConfigError(format!("QUICKSTART_JWKS_URL: {e}")))?;
        builder = builder.jwks(jwks);
    }
    if let Some(iss) = var("QUICKSTART_JWT_ISSUER") {
        builder = builder.issuer(iss);
    }
    if let Some(aud) = var("QUICKSTART_JWT_AUDIENCE") {
        builder = builder.audience(aud);
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| ConfigError(format!("JWT settings: {e}")))
}

fn tenant(p: &Principal) -> Value {
    p.claims.get(TENANT_CLAIM).cloned().unwrap_or(Value::Null)
}

async fn me(auth: Auth) -> Json<Value> {
    Json(json!({ "sub": auth.subject, "tenant": tenant(&auth) }))
}

/// `GET /me`: a verified JWT, or the identity an API Gateway JWT or Lambda authorizer
/// verified; 401 otherwise, and always 401 without a configured key.
pub(crate) fn me_route(verifier: Option<&JwtVerifier>) -> MethodRouter {
    // The app-wide tenant layer ran before the token was verified; this one, inside
    // authentication, takes the tenant from the verified claim (so `/me`'s log lines, EMF
    // document and X-Ray annotations carry it).
    get(me)
        .route_layer(TenantLayer::new(crate::tenancy::resolver()))
        .route_layer(layer(verifier))
}

/// The authentication `/me` and `$connect` share: the JWT check, also trusting the identity an
/// API Gateway JWT or Lambda authorizer verified; refusing everything without a configured key.
pub(crate) fn layer(verifier: Option<&JwtVerifier>) -> AuthLayer {
    match verifier {
        Some(v) => AuthLayer::new(v.clone()).trust_api_gateway(),
        None => AuthLayer::deny_all(),
    }
}

/// The Lambda authorizer: the same JWT check. REST and WebSocket (TOKEN and REQUEST) and HTTP
/// API 1.0 get an IAM policy (Allow for `principalId` = `sub` with `context.tenant_id`, else
/// Deny); HTTP API 2.0 gets the simple response (`isAuthorized`, `context.tenant_id`).
pub(crate) async fn authorize(
    verifier: Option<JwtVerifier>,
    req: AuthorizerRequest,
) -> Result<AuthorizerResponse, Error> {
    let principal = match (&verifier, req.bearer_token()) {
        (Some(v), Some(token)) => match v.verify(token).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::info!(code = e.code(), "authorizer: token refused");
                None
            }
        },
        _ => None,
    };
    Ok(match (req.kind(), principal) {
        (AuthorizerKind::HttpApiV2, Some(p)) => with_tenant(AuthorizerResponse::simple(true), &p),
        (AuthorizerKind::HttpApiV2, None) => AuthorizerResponse::simple(false),
        (_, Some(p)) => with_tenant(AuthorizerResponse::allow(p.subject.clone()), &p),
        (_, None) => AuthorizerResponse::deny("anonymous"),
    })
}

fn with_tenant(answer: AuthorizerResponse, p: &Principal) -> AuthorizerResponse {
    match tenant(p) {
        Value::Null => answer,
        t => answer.context(TENANT_CLAIM, t),
    }
}
