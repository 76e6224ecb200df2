//! [`JwtVerifier`]: a token in, a [`Principal`] out, or the [`AuthError`] that says why not.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::{AuthConfigError, AuthError, Jwks, Key, MAX_TOKEN_LEN};
use crate::context::Principal;

/// Claims read as scopes or roles by default: OAuth `scope` (space-separated), `scp`,
/// `roles`, Cognito's `cognito:groups`.
pub const DEFAULT_SCOPE_CLAIMS: &[&str] = &["scope", "scp", "roles", "cognito:groups"];

/// Claims checked by `jsonwebtoken` itself when required; any other required claim is checked
/// on the decoded claims.
const SPEC_CLAIMS: &[&str] = &["exp", "nbf", "sub", "iss", "aud"];

/// Verifies JWTs against static keys and/or a [`Jwks`], and checks the claims.
///
/// Cheap to clone (one `Arc`). Holds no per-request state.
///
/// ```
/// use lift::auth::{Algorithm, JwtVerifier, Key};
/// let verifier = JwtVerifier::builder()
///     .key(Key::hmac(b"a secret of at least 32 bytes, please", &[Algorithm::HS256])?)
///     .issuer("https://issuer.example.com")
///     .audience("my-api")
///     .leeway(std::time::Duration::from_secs(30))
///     .build()?;
/// # Ok::<(), lift::auth::AuthConfigError>(())
/// ```
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    /// Static keys, each with its validation (its own allowlist) prepared once.
    keys: Vec<Prepared>,
    jwks: Option<Jwks>,
    /// One validation per algorithm, for keys from the key set (prepared once).
    by_alg: Vec<(Algorithm, Validation)>,
    /// Required claims `jsonwebtoken` does not know (checked on the claims map).
    other_required: Vec<String>,
    scope_claims: Vec<String>,
}

struct Prepared {
    key: Key,
    validation: Validation,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("keys", &self.inner.keys.iter().map(|p| &p.key).collect::<Vec<_>>())
            .field("jwks", &self.inner.jwks)
            .finish_non_exhaustive()
    }
}

/// Builds a [`JwtVerifier`].
#[derive(Debug)]
pub struct JwtVerifierBuilder {
    keys: Vec<Key>,
    jwks: Option<Jwks>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    leeway: Duration,
    required: Vec<String>,
    scope_claims: Vec<String>,
}

impl JwtVerifierBuilder {
    /// Adds a static key (an HMAC secret or a PEM public key with its allowlist).
    pub fn key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// Verifies with the keys of a key set fetched from a URL (one set per verifier).
    pub fn jwks(mut self, jwks: Jwks) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// Accepts tokens from this issuer (`iss`); call again to accept several. Without it,
    /// `iss` is not checked.
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuers.push(iss.into());
        self
    }

    /// Accepts tokens for this audience (`aud`); call again to accept several. Without it,
    /// `aud` is not checked.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 60 s; whole seconds, capped at a day).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires a claim (default: `exp` and `sub`). Any claim name may be required.
    pub fn require_claim(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !self.required.contains(&name) {
            self.required.push(name);
        }
        self
    }

    /// Replaces the required claims (`exp` is always required; `sub` only if listed).
    pub fn required_claims<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required = vec!["exp".to_owned()];
        for n in names {
            self = self.require_claim(n);
        }
        self
    }

    /// The claims read as scopes and roles (default [`DEFAULT_SCOPE_CLAIMS`]). A string is
    /// split on spaces; an array contributes its strings.
    pub fn scope_claims<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scope_claims = names.into_iter().map(Into::into).collect();
        self
    }

    /// Prepares every validation once. Errors without any key or key set.
    pub fn build(self) -> Result<JwtVerifier, AuthConfigError> {
        if self.keys.is_empty() && self.jwks.is_none() {
            return Err(AuthConfigError::new("a JWT verifier needs a key or a JWKS"));
        }
        let leeway = self.leeway.as_secs().min(86_400);
        let spec: HashSet<String> = self
            .required
            .iter()
            .filter(|c| SPEC_CLAIMS.contains(&c.as_str()))
            .cloned()
            .collect();
        let base = |algorithms: Vec<Algorithm>| {
            let mut v = Validation::new(algorithms[0]);
            v.algorithms = algorithms;
            v.leeway = leeway;
            v.validate_exp = true;
            v.validate_nbf = true;
            v.required_spec_claims = spec.clone();
            if !self.issuers.is_empty() {
                v.set_issuer(&self.issuers);
            }
            if self.audiences.is_empty() {
                v.validate_aud = false;
            } else {
                v.set_audience(&self.audiences);
            }
            v
        };
        let keys = self
            .keys
            .into_iter()
            .map(|key| Prepared {
                validation: base(key.algorithms.clone()),
                key,
            })
            .collect();
        let by_alg = match &self.jwks {
            Some(j) => j.algorithms().iter().map(|a| (*a, base(vec![*a]))).collect(),
            None => Vec::new(),
        };
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                keys,
                jwks: self.jwks,
                by_alg,
                other_required: self
                    .required
                    .into_iter()
                    .filter(|c| !SPEC_CLAIMS.contains(&c.as_str()))
                    .collect(),
                scope_claims: self.scope_claims,
            }),
        })
    }
}

/// The part of a JOSE header Lift reads to choose a key.
#[derive(serde::Deserialize)]
struct HeaderProbe<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
}

impl JwtVerifier {
    /// A builder with the defaults: leeway 60 s, `exp` and `sub` required.
    pub fn builder() -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            keys: Vec::new(),
            jwks: None,
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: Duration::from_secs(60),
            required: vec!["exp".to_owned(), "sub".to_owned()],
            scope_claims: DEFAULT_SCOPE_CLAIMS.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Verifies `token` (signature, `exp`/`nbf` with leeway, `iss`/`aud` when configured,
    /// required claims) and returns the principal: `sub`, the scopes and roles, and every
    /// verified claim. Never panics, whatever the input; a token over
    /// [`MAX_TOKEN_LEN`] is refused before it is read.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TokenTooLarge);
        }
        let inner = &*self.inner;
        // Fast path: one static key and no key set: no header parse beyond jsonwebtoken's own.
        let claims = match (inner.keys.as_slice(), &inner.jwks) {
            ([only], None) => decode(token, &only.key, &only.validation)?,
            _ => self.decode_choosing_key(token).await?,
        };
        self.principal(claims)
    }

    async fn decode_choosing_key(&self, token: &str) -> Result<Map<String, Value>, AuthError> {
        let inner = &*self.inner;
        let header = read_header(token)?;
        let alg: Algorithm = header.alg.parse().map_err(|_| AuthError::UnsupportedAlgorithm)?;
        let kid = header.kid.as_deref();
        // Static keys: by `kid` when the token names one, else every unnamed key allowing `alg`.
        let mut tried = false;
        let mut last = AuthError::UnknownKey;
        for p in &inner.keys {
            let fits = match (kid, p.key.kid.as_deref()) {
                (Some(want), Some(have)) => want == have,
                (None, None) => true,
                _ => false,
            };
            if fits && p.key.algorithms.contains(&alg) {
                tried = true;
                match decode(token, &p.key, &p.validation) {
                    Ok(claims) => return Ok(claims),
                    // Another unnamed key may still verify the signature.
                    Err(AuthError::InvalidSignature) => last = AuthError::InvalidSignature,
                    Err(e) => return Err(e),
                }
            }
        }
        if let Some(jwks) = &inner.jwks {
            let Some((_, validation)) = inner.by_alg.iter().find(|(a, _)| *a == alg) else {
                return Err(if tried { last } else { AuthError::UnsupportedAlgorithm });
            };
            let key = jwks.key(kid, alg).await?;
            if !key.algorithms.contains(&alg) {
                return Err(AuthError::UnsupportedAlgorithm);
            }
            return decode(token, &key, validation);
        }
        if !tried && !inner.keys.iter().any(|p| p.key.algorithms.contains(&alg)) {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        Err(last)
    }

    fn principal(&self, claims: Map<String, Value>) -> Result<Principal, AuthError> {
        for name in &self.inner.other_required {
            if claims.get(name).is_none_or(Value::is_null) {
                return Err(AuthError::MissingClaim(Cow::Owned(name.clone())));
            }
        }
        let subject = match claims.get("sub") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(AuthError::InvalidToken),
            None => String::new(),
        };
        let mut scopes = Vec::new();
        for name in &self.inner.scope_claims {
            collect_scopes(claims.get(name), &mut scopes);
        }
        let mut p = Principal::new(subject);
        p.scopes = scopes;
        p.claims = claims;
        Ok(p)
    }
}

/// Adds the scopes of one claim: a space-separated string, or an array of strings.
pub(crate) fn collect_scopes(value: Option<&Value>, into: &mut Vec<String>) {
    match value {
        Some(Value::String(s)) => into.extend(s.split_ascii_whitespace().map(str::to_owned)),
        Some(Value::Array(items)) => into.extend(items.iter().filter_map(Value::as_str).map(str::to_owned)),
        _ => {}
    }
}

fn decode(token: &str, key: &Key, validation: &Validation) -> Result<Map<String, Value>, AuthError> {
    match jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidIssuer => AuthError::InvalidIssuer,
            ErrorKind::InvalidAudience => AuthError::InvalidAudience,
            ErrorKind::InvalidSignature => AuthError::InvalidSignature,
            ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(Cow::Owned(c.clone())),
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm | ErrorKind::UnsupportedAlgorithm => {
                AuthError::UnsupportedAlgorithm
            }
            // The header did not parse: `alg: none` and unknown algorithms end up here too.
            ErrorKind::Json(_) | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => match read_header(token) {
                Err(e) => e,
                Ok(_) => AuthError::InvalidToken,
            },
            _ => AuthError::InvalidToken,
        }),
    }
}

/// Reads `alg` and `kid` from the token's header. An `alg` Lift does not verify (`none`,
/// `HS1`...) is `unsupported_algorithm`; anything unreadable is `invalid_token`.
fn read_header(token: &str) -> Result<HeaderOwned, AuthError> {
    let mut parts = token.split('.');
    let (Some(segment), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::InvalidToken);
    };
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthError::InvalidToken)?;
    let probe: HeaderProbe<'_> = serde_json::from_slice(&json).map_err(|_| AuthError::InvalidToken)?;
    if probe.alg.parse::<Algorithm>().is_err() {
        return Err(AuthError::UnsupportedAlgorithm);
    }
    Ok(HeaderOwned {
        alg: probe.alg.into_owned(),
        kid: probe.kid.map(Cow::into_owned),
    })
}

struct HeaderOwned {
    alg: String,
    kid: Option<String>,
}
