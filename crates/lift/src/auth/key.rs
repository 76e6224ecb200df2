//! [`Key`]: one verification key with the algorithms it may verify (its allowlist).

use std::fmt;
use std::str::FromStr;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use super::AuthConfigError;

/// A verification key and the algorithms it accepts.
///
/// The allowlist is explicit and must belong to the key's family: an HMAC secret never
/// verifies an RS256 token, and an RSA public key never serves as an HMAC secret (no algorithm
/// confusion). `none` is not an algorithm here at all: such tokens are always refused.
///
/// ```
/// use lift::auth::{Algorithm, Key};
/// let key = Key::hmac(b"a secret of at least 32 bytes, please", &[Algorithm::HS256])?.with_kid("k1");
/// # Ok::<(), lift::auth::AuthConfigError>(())
/// ```
#[derive(Clone)]
pub struct Key {
    pub(crate) kid: Option<String>,
    pub(crate) decoding: DecodingKey,
    pub(crate) algorithms: Vec<Algorithm>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

fn family_name(family: AlgorithmFamily) -> &'static str {
    match family {
        AlgorithmFamily::Hmac => "HMAC",
        AlgorithmFamily::Rsa => "RSA",
        AlgorithmFamily::Ec => "EC",
        AlgorithmFamily::Ed => "EdDSA",
    }
}

fn checked(family: AlgorithmFamily, algorithms: &[Algorithm]) -> Result<Vec<Algorithm>, AuthConfigError> {
    if algorithms.is_empty() {
        return Err(AuthConfigError::new(format!(
            "a {} key needs at least one algorithm",
            family_name(family)
        )));
    }
    if let Some(alg) = algorithms.iter().find(|a| a.family() != family) {
        return Err(AuthConfigError::new(format!(
            "{alg:?} cannot be verified with a {} key",
            family_name(family)
        )));
    }
    let mut algs = algorithms.to_vec();
    algs.dedup();
    Ok(algs)
}

fn bad_key(what: &str, e: jsonwebtoken::errors::Error) -> AuthConfigError {
    AuthConfigError::new(format!("{what} key: {e}"))
}

impl Key {
    /// An HMAC secret for `algorithms` (HS256, HS384, HS512).
    pub fn hmac(secret: impl AsRef<[u8]>, algorithms: &[Algorithm]) -> Result<Self, AuthConfigError> {
        let decoding = DecodingKey::from_secret(secret.as_ref()).map_err(|e| bad_key("HMAC", e))?;
        Self::with(decoding, AlgorithmFamily::Hmac, algorithms)
    }

    /// An RSA public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`) for RS256/384/512 and
    /// PS256/384/512.
    pub fn rsa_pem(pem: impl AsRef<[u8]>, algorithms: &[Algorithm]) -> Result<Self, AuthConfigError> {
        let decoding = DecodingKey::from_rsa_pem(pem.as_ref()).map_err(|e| bad_key("RSA", e))?;
        Self::with(decoding, AlgorithmFamily::Rsa, algorithms)
    }

    /// An EC public key in PEM (P-256 for ES256, P-384 for ES384).
    pub fn ec_pem(pem: impl AsRef<[u8]>, algorithms: &[Algorithm]) -> Result<Self, AuthConfigError> {
        let decoding = DecodingKey::from_ec_pem(pem.as_ref()).map_err(|e| bad_key("EC", e))?;
        Self::with(decoding, AlgorithmFamily::Ec, algorithms)
    }

    /// An Ed25519 public key in PEM, for EdDSA.
    pub fn ed_pem(pem: impl AsRef<[u8]>) -> Result<Self, AuthConfigError> {
        let decoding = DecodingKey::from_ed_pem(pem.as_ref()).map_err(|e| bad_key("Ed25519", e))?;
        Self::with(decoding, AlgorithmFamily::Ed, &[Algorithm::EdDSA])
    }

    fn with(decoding: DecodingKey, family: AlgorithmFamily, algorithms: &[Algorithm]) -> Result<Self, AuthConfigError> {
        Ok(Self {
            kid: None,
            decoding,
            algorithms: checked(family, algorithms)?,
        })
    }

    /// Names the key: tokens whose header carries this `kid` are verified with it.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key's id, if named.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithms this key verifies.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// A key from a JWK, accepted only for algorithms in `allow` that fit the key (its own
    /// `alg` when it names one). Symmetric (`oct`) keys and encryption keys are never taken
    /// from a key set: a key fetched from a URL must not become an HMAC secret. `None` when
    /// nothing is left.
    pub(crate) fn from_jwk(jwk: &Jwk, allow: &[Algorithm]) -> Option<Self> {
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return None;
        }
        let fits: Vec<Algorithm> = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => [
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
            ]
            .to_vec(),
            AlgorithmParameters::EllipticCurve(p) => match p.curve {
                EllipticCurve::P256 => vec![Algorithm::ES256],
                EllipticCurve::P384 => vec![Algorithm::ES384],
                _ => return None,
            },
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
            _ => return None,
        };
        let named = match jwk.common.key_algorithm {
            Some(alg) => Some(Algorithm::from_str(&alg.to_string()).ok()?),
            None => None,
        };
        let algorithms: Vec<Algorithm> = fits
            .into_iter()
            .filter(|a| allow.contains(a) && named.is_none_or(|n| n == *a))
            .collect();
        if algorithms.is_empty() {
            return None;
        }
        let decoding = DecodingKey::from_jwk(jwk).ok()?;
        Some(Self {
            kid: jwk.common.key_id.clone(),
            decoding,
            algorithms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlists_must_fit_the_key() {
        assert!(Key::hmac(b"secret", &[Algorithm::HS256, Algorithm::HS512]).is_ok());
        assert!(Key::hmac(b"secret", &[Algorithm::RS256]).is_err());
        assert!(Key::hmac(b"secret", &[]).is_err());
        assert!(Key::hmac(b"", &[Algorithm::HS256]).is_err());
        assert!(Key::rsa_pem(b"not a pem", &[Algorithm::RS256]).is_err());
    }

    #[test]
    fn oct_keys_are_never_taken_from_a_key_set() {
        let jwk: Jwk =
            serde_json::from_value(serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"})).expect("jwk");
        assert!(Key::from_jwk(&jwk, &[Algorithm::HS256]).is_none());
    }
}
