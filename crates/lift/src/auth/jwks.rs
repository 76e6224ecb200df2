//! [`Jwks`]: a JSON Web Key Set fetched from a URL, cached, and refetched when a token names a
//! key it does not hold.
//!
//! Invariants:
//! - at most one fetch is in flight per key set; requests that need it wait for that one;
//! - a refetch for an unknown `kid` happens at most once per `min_refresh_interval` (default
//!   5 s), counted from the last *attempt*, so a flood of tokens with invented `kid`s costs
//!   one fetch per interval, not one per request;
//! - a fetch that fails (down, slow, garbage, too large) keeps the cached set;
//! - a successful fetch replaces the whole set, so a key removed at rotation stops verifying;
//! - a set older than `max_age` is refreshed by the first request that sees it (others keep
//!   using the cached set meanwhile).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::Algorithm;
use tokio::time::Instant;

use super::{AuthConfigError, AuthError, Key};

/// Default bound on one fetch (connect, request and body).
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// Default minimum time between two fetches caused by unknown `kid`s.
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);
/// Default age after which the cached set is refreshed.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// The largest key set body read.
const MAX_BODY: usize = 256 * 1024;

/// A key set fetched from a URL (an identity provider's `jwks_uri`).
///
/// HTTPS is required, except for loopback addresses (`127.0.0.0/8`, `::1`, `localhost`),
/// which tests and local identity providers use. Only keys usable with the allowlist are
/// kept: RSA, EC (P-256, P-384) and Ed25519 public keys; symmetric keys are ignored.
///
/// ```
/// use lift::auth::{Algorithm, Jwks};
/// let jwks = Jwks::builder("https://example.auth0.com/.well-known/jwks.json", &[Algorithm::RS256])
///     .min_refresh_interval(std::time::Duration::from_secs(5))
///     .build()?;
/// # Ok::<(), lift::auth::AuthConfigError>(())
/// ```
#[derive(Clone)]
pub struct Jwks {
    inner: Arc<Inner>,
}

struct Inner {
    url: reqwest::Url,
    client: reqwest::Client,
    algorithms: Vec<Algorithm>,
    min_refresh: Duration,
    max_age: Duration,
    timeout: Duration,
    cache: RwLock<Arc<KeyMap>>,
    /// Held while fetching: the single-flight gate; holds the time of the last attempt.
    fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.inner.url.as_str())
            .field("algorithms", &self.inner.algorithms)
            .finish_non_exhaustive()
    }
}

/// The keys of one successful fetch.
#[derive(Default)]
pub(crate) struct KeyMap {
    fetched_at: Option<Instant>,
    by_kid: HashMap<String, Arc<Key>>,
    anonymous: Vec<Arc<Key>>,
}

impl KeyMap {
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<Key>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            // Without a `kid`, only an unambiguous key set is usable.
            None => {
                let mut all = self
                    .by_kid
                    .values()
                    .chain(&self.anonymous)
                    .filter(|k| k.algorithms.contains(&alg));
                match (all.next(), all.next()) {
                    (Some(k), None) => Some(k.clone()),
                    _ => None,
                }
            }
        }
    }
}

/// Builds a [`Jwks`].
#[derive(Debug)]
pub struct JwksBuilder {
    url: String,
    algorithms: Vec<Algorithm>,
    min_refresh: Duration,
    max_age: Duration,
    timeout: Duration,
}

impl JwksBuilder {
    /// Minimum time between two fetches caused by unknown `kid`s (default 5 s).
    pub fn min_refresh_interval(mut self, d: Duration) -> Self {
        self.min_refresh = d;
        self
    }

    /// Age after which the cached set is refreshed (default 10 minutes).
    pub fn max_age(mut self, d: Duration) -> Self {
        self.max_age = d;
        self
    }

    /// Bound on one fetch, connection included (default 2 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Checks the URL (HTTPS unless loopback) and the allowlist, and builds the HTTP client
    /// (rustls with aws-lc-rs, the system's root certificates).
    pub fn build(self) -> Result<Jwks, AuthConfigError> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| AuthConfigError::new(format!("JWKS URL {:?}: {e}", self.url)))?;
        check_scheme(&url)?;
        if self.algorithms.is_empty() {
            return Err(AuthConfigError::new("a JWKS source needs at least one algorithm"));
        }
        if let Some(alg) = self
            .algorithms
            .iter()
            .find(|a| a.family() == jsonwebtoken::AlgorithmFamily::Hmac)
        {
            return Err(AuthConfigError::new(format!(
                "{alg:?} keys are never taken from a JWKS (a fetched key must not become an HMAC secret)"
            )));
        }
        let client = super::http_client::client(self.timeout)?;
        Ok(Jwks {
            inner: Arc::new(Inner {
                url,
                client,
                algorithms: self.algorithms,
                min_refresh: self.min_refresh,
                max_age: self.max_age,
                timeout: self.timeout,
                cache: RwLock::new(Arc::new(KeyMap::default())),
                fetch: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

fn check_scheme(url: &reqwest::Url) -> Result<(), AuthConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        other => Err(AuthConfigError::new(format!(
            "JWKS URL {}: {other}:// is refused, HTTPS is required except for loopback addresses",
            url.as_str()
        ))),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

impl Jwks {
    /// A key set at `url` for `algorithms`, with the default intervals.
    pub fn new(url: impl Into<String>, algorithms: &[Algorithm]) -> Result<Self, AuthConfigError> {
        Self::builder(url, algorithms).build()
    }

    /// A builder for a key set at `url` accepting `algorithms` (asymmetric only).
    pub fn builder(url: impl Into<String>, algorithms: &[Algorithm]) -> JwksBuilder {
        JwksBuilder {
            url: url.into(),
            algorithms: algorithms.to_vec(),
            min_refresh: DEFAULT_MIN_REFRESH_INTERVAL,
            max_age: DEFAULT_MAX_AGE,
            timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }

    /// The algorithms keys of this set may verify.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algorithms
    }

    fn cached(&self) -> Arc<KeyMap> {
        let cache = self.inner.cache.read().unwrap_or_else(|p| p.into_inner());
        cache.clone()
    }

    /// Fetches the set now (at start, to spare the first request the fetch). Errors when the
    /// fetch fails; the cache is then left as it was.
    pub async fn prefetch(&self) -> Result<(), AuthError> {
        let mut last = self.inner.fetch.lock().await;
        *last = Some(Instant::now());
        let map = self.fetch_once().await?;
        self.store(map);
        Ok(())
    }

    /// The key for a token's `kid` (and `alg`): from the cache, else after a refetch if one is
    /// allowed now. `keys_unavailable` when no set was ever fetched, `unknown_key` otherwise.
    pub(crate) async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Key>, AuthError> {
        let map = self.cached();
        if let Some(at) = map.fetched_at {
            if let Some(key) = map.find(kid, alg) {
                if at.elapsed() >= self.inner.max_age {
                    // Stale: refresh if nobody else is; keep serving meanwhile.
                    if let Ok(guard) = self.inner.fetch.try_lock() {
                        self.refresh(guard).await;
                        return Ok(self.cached().find(kid, alg).unwrap_or(key));
                    }
                }
                return Ok(key);
            }
        }
        let guard = self.inner.fetch.lock().await;
        self.refresh(guard).await;
        let map = self.cached();
        match (map.fetched_at, map.find(kid, alg)) {
            (_, Some(key)) => Ok(key),
            (None, None) => Err(AuthError::KeysUnavailable),
            (Some(_), None) => Err(AuthError::UnknownKey),
        }
    }

    /// Fetches unless another fetch was attempted within the minimum interval (a request that
    /// waited for the lock finds the set that fetch brought).
    async fn refresh(&self, mut last: tokio::sync::MutexGuard<'_, Option<Instant>>) {
        if last.is_some_and(|at| at.elapsed() < self.inner.min_refresh) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch_once().await {
            Ok(map) => self.store(map),
            Err(e) => {
                tracing::warn!(url = self.inner.url.as_str(), error = %e, "JWKS fetch failed; keeping the cached keys")
            }
        }
    }

    fn store(&self, map: KeyMap) {
        let mut cache = self.inner.cache.write().unwrap_or_else(|p| p.into_inner());
        *cache = Arc::new(map);
    }

    async fn fetch_once(&self) -> Result<KeyMap, FetchError> {
        let fetch = async {
            let mut res = self
                .inner
                .client
                .get(self.inner.url.clone())
                .header(http::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| FetchError(format!("request failed: {e}")))?;
            if !res.status().is_success() {
                return Err(FetchError(format!("status {}", res.status())));
            }
            let mut body = Vec::new();
            while let Some(chunk) = res.chunk().await.map_err(|e| FetchError(format!("body: {e}")))? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(FetchError(format!("body over {MAX_BODY} bytes")));
                }
                body.extend_from_slice(&chunk);
            }
            self.parse(&body)
        };
        match tokio::time::timeout(self.inner.timeout, fetch).await {
            Ok(r) => r,
            Err(_) => Err(FetchError(format!("no answer within {:?}", self.inner.timeout))),
        }
    }

    /// Parses a key set; keys that are unusable (unknown type, encryption, outside the
    /// allowlist) are skipped one by one. A set with no usable key is an error (the cache is
    /// kept rather than emptied by a broken answer).
    fn parse(&self, body: &[u8]) -> Result<KeyMap, FetchError> {
        #[derive(serde::Deserialize)]
        struct Set {
            keys: Vec<serde_json::Value>,
        }
        let set: Set = serde_json::from_slice(body).map_err(|e| FetchError(format!("not a JWKS: {e}")))?;
        let mut map = KeyMap {
            fetched_at: Some(Instant::now()),
            ..KeyMap::default()
        };
        for raw in set.keys {
            let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
                continue;
            };
            let Some(key) = Key::from_jwk(&jwk, &self.inner.algorithms) else {
                continue;
            };
            match key.kid.clone() {
                Some(kid) => {
                    map.by_kid.insert(kid, Arc::new(key));
                }
                None => map.anonymous.push(Arc::new(key)),
            }
        }
        if map.by_kid.is_empty() && map.anonymous.is_empty() {
            return Err(FetchError("no usable key in the set".into()));
        }
        Ok(map)
    }
}

#[derive(Debug)]
struct FetchError(String);

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<FetchError> for AuthError {
    fn from(_: FetchError) -> Self {
        AuthError::KeysUnavailable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_required_except_for_loopback() {
        let algs = [Algorithm::RS256];
        assert!(Jwks::new("https://idp.example.com/jwks", &algs).is_ok());
        for ok in [
            "http://127.0.0.1:8080/jwks",
            "http://127.1.2.3/jwks",
            "http://[::1]:9/jwks",
            "http://localhost/jwks",
        ] {
            assert!(Jwks::new(ok, &algs).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com/jwks",
            "http://10.0.0.1/jwks",
            "ftp://127.0.0.1/jwks",
            "file:///etc/jwks",
            "not a url",
        ] {
            assert!(Jwks::new(bad, &algs).is_err(), "{bad}");
        }
        assert!(Jwks::new("https://idp.example.com/jwks", &[]).is_err());
        assert!(Jwks::new("https://idp.example.com/jwks", &[Algorithm::HS256]).is_err());
    }
}
