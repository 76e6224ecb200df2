//! [`IdempotencyLayer`]: HTTP routes idempotent on the `Idempotency-Key` header. A repeat
//! gets the stored response (status, chosen headers, body) with `idempotent-replayed: true`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use tower::{Layer, Service};

use super::key::{hex_sha256, Key};
use super::policy::{Begin, Idempotency};
use super::Refusal;
use crate::context::Context;

/// The request header that carries the key.
pub const IDEMPOTENCY_KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// The header set on a replayed response.
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// Makes a route idempotent on a request header (`Idempotency-Key` by default).
///
/// - the record id hashes the function name, the tenant, the method and matched route, and
///   the header's value; the request's method, path, query and body are its `validation`
///   (another request under the same key: 422 `idempotency_key_reused`);
/// - a response below 500 is stored and replayed; a 5xx or a panic releases the key;
/// - a request without the header runs as usual, unless [`require_key`](Self::require_key).
///
/// ```
/// use axum::routing::post;
/// use lift::idempotency::{Idempotency, IdempotencyLayer};
///
/// let idem = IdempotencyLayer::new(Idempotency::in_memory());
/// let app = lift::App::new().route("/orders", post(|| async { "created" }).layer(idem));
/// # let _ = app.build();
/// ```
#[derive(Clone, Debug)]
pub struct IdempotencyLayer {
    policy: Idempotency,
    header: HeaderName,
    required: bool,
    replay_headers: Arc<[HeaderName]>,
}

impl IdempotencyLayer {
    /// The layer for `policy`, keyed on `Idempotency-Key`, replaying `content-type` and
    /// `location`.
    pub fn new(policy: Idempotency) -> Self {
        Self {
            policy,
            header: IDEMPOTENCY_KEY_HEADER,
            required: false,
            replay_headers: Arc::from([http::header::CONTENT_TYPE, http::header::LOCATION]),
        }
    }

    /// Reads the key from another header.
    pub fn header(mut self, name: HeaderName) -> Self {
        self.header = name;
        self
    }

    /// Refuses requests without the header: 400 `idempotency_key_missing`.
    pub fn require_key(mut self) -> Self {
        self.required = true;
        self
    }

    /// The response headers stored and replayed (default `content-type`, `location`).
    pub fn replay_headers(mut self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        self.replay_headers = names.into_iter().collect();
        self
    }
}

impl<S> Layer<S> for IdempotencyLayer {
    type Service = IdempotencyService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        IdempotencyService {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`IdempotencyLayer`].
#[derive(Clone, Debug)]
pub struct IdempotencyService<S> {
    inner: S,
    layer: IdempotencyLayer,
}

/// A stored HTTP response.
#[derive(Serialize, Deserialize)]
struct StoredResponse {
    status: u16,
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// UTF-8 text, or base64 when `b64`.
    body: String,
    #[serde(default)]
    b64: bool,
}

fn replay(data: &str) -> Response {
    let Ok(stored) = serde_json::from_str::<StoredResponse>(data) else {
        return Refusal::Unavailable {
            cause: "stored response does not decode".into(),
        }
        .response();
    };
    let body = if stored.b64 {
        base64::engine::general_purpose::STANDARD
            .decode(stored.body.as_bytes())
            .unwrap_or_default()
    } else {
        stored.body.into_bytes()
    };
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (name, value) in stored.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            res.headers_mut().append(n, v);
        }
    }
    res.headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    res
}

fn store_response(parts: &http::response::Parts, body: &Bytes, keep: &[HeaderName]) -> String {
    let headers = keep
        .iter()
        .flat_map(|n| parts.headers.get_all(n).iter().map(move |v| (n, v)))
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let (body, b64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        headers,
        body,
        b64,
    };
    // Strings and numbers only: serialising cannot fail.
    serde_json::to_string(&stored).unwrap_or_default()
}

impl<S> Service<http::Request<Body>> for IdempotencyService<S>
where
    S: Service<http::Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // The clone is ready (tower's rule): swap it in, keep the fresh one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        let Some(value) = req.headers().get(&layer.header).cloned() else {
            if layer.required {
                return Box::pin(std::future::ready(Ok(Refusal::KeyMissing.response())));
            }
            return Box::pin(inner.call(req));
        };
        Box::pin(async move {
            let bytes = value.as_bytes();
            if bytes.is_empty() || bytes.len() > MAX_KEY_LEN || !bytes.iter().all(u8::is_ascii_graphic) {
                return Ok(Refusal::KeyInvalid.response());
            }
            let ctx = req.extensions().get::<Context>().cloned();
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
            let scope = format!("{} {route}", req.method());
            let (parts, body) = req.into_parts();
            let body = match body.collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => {
                    return Ok(crate::Error::bad_request(
                        crate::error::code::MALFORMED_EVENT,
                        "the body could not be read",
                    )
                    .with_source(std::io::Error::other(e.to_string()))
                    .into_response())
                }
            };
            let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
            let validation = hex_sha256(&[parts.method.as_str().as_bytes(), b" ", target.as_bytes(), b"\n", &body]);
            let key = Key::new(bytes).with_payload_hash(validation);
            let begun = layer.policy.begin(ctx.as_ref(), &scope, &key).await;
            let req = http::Request::from_parts(parts, Body::from(body));
            match begun {
                Err(refusal) => Ok(refusal.response()),
                Ok(Begin::Replay(data)) => Ok(replay(&data)),
                Ok(Begin::Unprotected) => inner.call(req).await,
                Ok(Begin::Run(claim)) => {
                    let res = inner.call(req).await?;
                    if res.status().is_server_error() {
                        claim.release().await;
                        return Ok(res);
                    }
                    let (parts, body) = res.into_parts();
                    let body = match body.collect().await {
                        Ok(b) => b.to_bytes(),
                        Err(e) => {
                            claim.release().await;
                            return Ok(crate::Error::internal(format!("response body failed: {e}")).into_response());
                        }
                    };
                    let data = store_response(&parts, &body, &layer.replay_headers);
                    match claim.complete(data).await {
                        Ok(()) => Ok(Response::from_parts(parts, Body::from(body))),
                        Err(refusal) => Ok(refusal.response()),
                    }
                }
            }
        })
    }
}
