//! [`AuthError`]: why a request was not authenticated or not authorized, with a stable code.

use std::borrow::Cow;
use std::fmt;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};

use crate::error::Error;

/// Stable codes of authentication answers. Clients and alarms may match on them.
pub mod code {
    /// No bearer token in the request (nor in the configured cookie).
    pub const MISSING_TOKEN: &str = "missing_token";
    /// The token is over [`MAX_TOKEN_LEN`](crate::auth::MAX_TOKEN_LEN) bytes; refused unread.
    pub const TOKEN_TOO_LARGE: &str = "token_too_large";
    /// The token is not a JWT (segments, base64, JSON) or its claims have the wrong types.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// The token's `alg` is `none`, unknown, or not allowed for the key.
    pub const UNSUPPORTED_ALGORITHM: &str = "unsupported_algorithm";
    /// No key matches the token's `kid` (after one JWKS refetch, rate-limited).
    pub const UNKNOWN_KEY: &str = "unknown_key";
    /// The signature does not verify with the key.
    pub const INVALID_SIGNATURE: &str = "invalid_signature";
    /// `exp` has passed (beyond the leeway).
    pub const EXPIRED_TOKEN: &str = "expired_token";
    /// `nbf` is still ahead (beyond the leeway).
    pub const TOKEN_NOT_YET_VALID: &str = "token_not_yet_valid";
    /// `iss` is not the configured issuer.
    pub const INVALID_ISSUER: &str = "invalid_issuer";
    /// `aud` does not name the configured audience.
    pub const INVALID_AUDIENCE: &str = "invalid_audience";
    /// A required claim is absent.
    pub const MISSING_CLAIM: &str = "missing_claim";
    /// The JWKS could not be fetched and no key set is cached: the token cannot be checked.
    pub const KEYS_UNAVAILABLE: &str = "keys_unavailable";
    /// Another, different principal was already set for this invocation.
    pub const PRINCIPAL_CONFLICT: &str = "principal_conflict";
    /// Authentication is not configured for this route: every request is refused.
    pub const AUTH_NOT_CONFIGURED: &str = "auth_not_configured";
    /// 403: the principal lacks a scope or role the route requires.
    pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
}

/// Why a request was refused by authentication (401) or authorization (403).
///
/// As a response: Lift's JSON error body with the stable [`code`](Self::code), and a
/// `WWW-Authenticate` header (RFC 6750): `Bearer` alone when no token was sent,
/// `Bearer error="invalid_token"` for every bad token, `Bearer error="insufficient_scope",
/// scope="..."` for a 403.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// No bearer token.
    MissingToken,
    /// Over the size limit.
    TokenTooLarge,
    /// Not a well-formed JWT.
    InvalidToken,
    /// `alg` not allowed (including `none`).
    UnsupportedAlgorithm,
    /// No key for the token's `kid`.
    UnknownKey,
    /// Bad signature.
    InvalidSignature,
    /// Expired.
    Expired,
    /// Not yet valid.
    NotYetValid,
    /// Wrong issuer.
    InvalidIssuer,
    /// Wrong audience.
    InvalidAudience,
    /// A required claim is missing (its name).
    MissingClaim(Cow<'static, str>),
    /// No key set could be fetched.
    KeysUnavailable,
    /// A different principal is already set for the invocation.
    PrincipalConflict,
    /// The route refuses everything: no key is configured.
    NotConfigured,
    /// The principal lacks this scope or role (403).
    InsufficientScope(Cow<'static, str>),
}

impl AuthError {
    /// The stable code (see [`code`]).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingToken => code::MISSING_TOKEN,
            AuthError::TokenTooLarge => code::TOKEN_TOO_LARGE,
            AuthError::InvalidToken => code::INVALID_TOKEN,
            AuthError::UnsupportedAlgorithm => code::UNSUPPORTED_ALGORITHM,
            AuthError::UnknownKey => code::UNKNOWN_KEY,
            AuthError::InvalidSignature => code::INVALID_SIGNATURE,
            AuthError::Expired => code::EXPIRED_TOKEN,
            AuthError::NotYetValid => code::TOKEN_NOT_YET_VALID,
            AuthError::InvalidIssuer => code::INVALID_ISSUER,
            AuthError::InvalidAudience => code::INVALID_AUDIENCE,
            AuthError::MissingClaim(_) => code::MISSING_CLAIM,
            AuthError::KeysUnavailable => code::KEYS_UNAVAILABLE,
            AuthError::PrincipalConflict => code::PRINCIPAL_CONFLICT,
            AuthError::NotConfigured => code::AUTH_NOT_CONFIGURED,
            AuthError::InsufficientScope(_) => code::INSUFFICIENT_SCOPE,
        }
    }

    /// 403 for [`InsufficientScope`](Self::InsufficientScope), 401 for everything else.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    fn message(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            AuthError::MissingToken => "a bearer token is required",
            AuthError::TokenTooLarge => "the token is too large",
            AuthError::InvalidToken => "the token is not a valid JWT",
            AuthError::UnsupportedAlgorithm => "the token's algorithm is not accepted",
            AuthError::UnknownKey => "no key matches the token",
            AuthError::InvalidSignature => "the token's signature does not verify",
            AuthError::Expired => "the token has expired",
            AuthError::NotYetValid => "the token is not valid yet",
            AuthError::InvalidIssuer => "the token's issuer is not accepted",
            AuthError::InvalidAudience => "the token's audience is not accepted",
            AuthError::MissingClaim(c) => return Cow::Owned(format!("the token lacks the claim `{c}`")),
            AuthError::KeysUnavailable => "the keys to check the token are unavailable",
            AuthError::PrincipalConflict => "another identity is already authenticated",
            AuthError::NotConfigured => "authentication is not configured",
            AuthError::InsufficientScope(s) => return Cow::Owned(format!("the scope or role `{s}` is required")),
        })
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3).
    fn challenge(&self) -> HeaderValue {
        match self {
            AuthError::MissingToken | AuthError::NotConfigured => HeaderValue::from_static("Bearer"),
            AuthError::InsufficientScope(scope) => {
                // Only RFC 6749 scope characters are quoted into the challenge; anything else
                // (quotes, backslashes, controls) is left out rather than escaped.
                let plain = !scope.is_empty()
                    && scope
                        .bytes()
                        .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
                match plain {
                    true => HeaderValue::from_str(&format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""))
                        .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"insufficient_scope\"")),
                    false => HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
                }
            }
            _ => HeaderValue::from_static("Bearer error=\"invalid_token\""),
        }
    }

    /// The Lift error this answer is rendered from (status, code, message).
    pub fn to_error(&self) -> Error {
        Error::new(self.status(), self.code(), self.message())
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut res = self.to_error().into_response();
        res.headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, self.challenge());
        res
    }
}

// Not `std::error::Error`: that would make it an internal error through `Error`'s blanket
// `From`; this conversion keeps its status and code instead.
impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        e.to_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_rfc_6750() {
        let res = AuthError::MissingToken.into_response();
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let res = AuthError::Expired.into_response();
        assert_eq!(res.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
        let res = AuthError::InsufficientScope("orders:write".into()).into_response();
        assert_eq!(res.status(), 403);
        assert_eq!(
            res.headers()["www-authenticate"],
            "Bearer error=\"insufficient_scope\", scope=\"orders:write\""
        );
        for bad in ["bad\nscope", "a\"b", "a\\b", "a b", ""] {
            let res = AuthError::InsufficientScope(bad.to_owned().into()).into_response();
            assert_eq!(res.headers()["www-authenticate"], "Bearer error=\"insufficient_scope\"");
        }
    }
}
