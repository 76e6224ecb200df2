//! [`AuthConfigError`]: a key, a JWKS URL or a verifier that cannot be built.

use std::fmt;

/// A configuration error found when building keys, a JWKS source or a verifier (never at
/// request time). Its message names what is wrong; it never contains key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfigError(pub(crate) String);

impl fmt::Display for AuthConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AuthConfigError {}

impl AuthConfigError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}
