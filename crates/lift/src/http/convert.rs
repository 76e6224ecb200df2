//! From API Gateway / ALB / WebSocket events to `http::Request`, and back to the response shape
//! each source expects.

use aws_lambda_events::alb::AlbTargetGroupRequest;
use aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext, ApiGatewayWebsocketProxyRequest,
};
use aws_lambda_events::encodings::Body as EventBody;
use axum::body::Body;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, Uri};
use http_body_util::BodyExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use serde::Serialize;

use super::response::{HttpResponse, Shape};
use super::RequestContext;
use crate::detect::{EventKind, V2Parts};
use crate::error::{code, Error};

/// Which response shape the source expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    ApiGatewayV1,
    ApiGatewayV2,
    Alb { multi_value: bool },
    WebSocket,
    VpcLattice,
}

impl Origin {
    /// The response shape an HTTP event kind expects, before its body is read (an ALB event
    /// whose target group uses multi-value headers is told apart by `decode`).
    pub(crate) fn of(kind: EventKind) -> Self {
        match kind {
            EventKind::ApiGatewayV1 => Origin::ApiGatewayV1,
            EventKind::Alb => Origin::Alb { multi_value: false },
            EventKind::WebSocket => Origin::WebSocket,
            EventKind::VpcLatticeV1 | EventKind::VpcLatticeV2 => Origin::VpcLattice,
            _ => Origin::ApiGatewayV2,
        }
    }
}

/// An HTTP response encoded for its source.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub(crate) enum HttpOutput {
    ApiGateway(super::response::HttpResponse),
    Lattice(super::lattice::LatticeResponse),
}

impl HttpOutput {
    pub(crate) fn status(&self) -> u16 {
        match self {
            HttpOutput::ApiGateway(r) => r.status,
            HttpOutput::Lattice(r) => r.status,
        }
    }
}

/// Decodes an HTTP-shaped event into a request the router can serve.
///
/// The conversion is Lift's own rather than `lambda_http`'s `From<LambdaRequest>`: measured,
/// that one cost about a third of a whole GET (it formats and re-parses an absolute URL with
/// `Url::parse`, reads an environment variable and boxes five extensions per request), and it
/// panics on hostile input (`unwrap` on an unparsable `Host` header, `expect` on a bad base64
/// body). Semantics follow `lambda_http`: v1 merges `headers` into `multiValueHeaders`, v2 joins
/// `cookies` into one `cookie` header, the request context is kept as the [`RequestContext`]
/// extension. Routes never include the stage.
///
/// Path and query reach the router percent-encoded, whatever API Gateway or ALB passed raw
/// (a space, `{`, `"`, `#`, non-ASCII): extractors decode them back to the client's values.
///
/// A body (an HTTP body or a WebSocket message) whose decoded size exceeds `limit` bytes is
/// refused with 413 `payload_too_large`, whatever extractor would read it.
pub(crate) fn decode(kind: EventKind, json: &str, limit: usize) -> Result<(Origin, http::Request<Body>), Error> {
    fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, Error> {
        serde_json::from_str(json).map_err(|e| malformed("the event does not match its source's schema").with_source(e))
    }
    match kind {
        EventKind::ApiGatewayV2 => {
            let ev: ApiGatewayV2httpRequest = parse(json)?;
            let parts = V2 {
                raw_path: ev.raw_path.as_deref(),
                raw_query: ev.raw_query_string.as_deref(),
                cookies: ev.cookies,
                headers: ev.headers,
                body: ev.body.as_deref(),
                is_base64_encoded: ev.is_base64_encoded,
            };
            Ok((Origin::of(kind), parts.request(ev.request_context, limit)?))
        }
        EventKind::ApiGatewayV1 => {
            let ev: ApiGatewayProxyRequest = parse(json)?;
            // `path` is the resource path without the stage, decoded.
            let path = encode_decoded_path(ev.path.as_deref().unwrap_or("/"));
            let query = if ev.multi_value_query_string_parameters.is_empty() {
                encode_query(ev.query_string_parameters.iter())
            } else {
                encode_query(ev.multi_value_query_string_parameters.iter())
            };
            let uri = build_uri(&path, &query)?;
            let mut headers = ev.multi_value_headers;
            headers.extend(ev.headers);
            let body = body(ev.body.as_deref(), ev.is_base64_encoded, limit)?;
            let req = assemble(
                ev.http_method,
                uri,
                headers,
                body,
                RequestContext::ApiGatewayV1(ev.request_context),
            );
            Ok((Origin::of(kind), req))
        }
        EventKind::Alb => {
            let ev: AlbTargetGroupRequest = parse(json)?;
            let multi_value = !ev.multi_value_headers.is_empty() || !ev.multi_value_query_string_parameters.is_empty();
            // ALB passes the path and query as they came on the wire (still encoded).
            let path = encode_raw_path(ev.path.as_deref().unwrap_or("/"));
            let query = join_raw_query(if multi_value {
                ev.multi_value_query_string_parameters.iter()
            } else {
                ev.query_string_parameters.iter()
            });
            let uri = build_uri(&path, &query)?;
            let headers = if ev.multi_value_headers.is_empty() {
                ev.headers
            } else {
                ev.multi_value_headers
            };
            let body = body(ev.body.as_deref(), ev.is_base64_encoded, limit)?;
            let req = assemble(
                ev.http_method,
                uri,
                headers,
                body,
                RequestContext::Alb(ev.request_context),
            );
            Ok((Origin::Alb { multi_value }, req))
        }
        EventKind::WebSocket => {
            let ev: ApiGatewayWebsocketProxyRequest = parse(json)?;
            let route_key = ev.request_context.route_key.as_deref().unwrap_or("$default");
            let uri = websocket_path(route_key)
                .parse()
                .map_err(|e: http::uri::InvalidUri| malformed("invalid route key").with_source(e))?;
            let mut headers = ev.multi_value_headers;
            headers.extend(ev.headers);
            let body = body(ev.body.as_deref(), ev.is_base64_encoded, limit)?;
            let req = assemble(
                http::Method::POST,
                uri,
                headers,
                body,
                RequestContext::WebSocket(ev.request_context),
            );
            Ok((Origin::of(kind), req))
        }
        EventKind::VpcLatticeV1 => Ok((Origin::VpcLattice, super::lattice::decode_v1(parse(json)?, limit)?)),
        EventKind::VpcLatticeV2 => Ok((Origin::VpcLattice, super::lattice::decode_v2(parse(json)?, limit)?)),
        _ => Err(malformed("not an HTTP event")),
    }
}

/// An API Gateway v2 request read by the detection pass, decoded without a second pass over
/// the event's text (only its `requestContext` is read again, into its typed form). Same
/// semantics as [`decode`].
pub(crate) fn decode_v2(parts: V2Parts<'_>, limit: usize) -> Result<http::Request<Body>, Error> {
    let ctx = parts.request_context;
    let v2 = V2 {
        raw_path: parts.raw_path.as_deref(),
        raw_query: parts.raw_query.as_deref(),
        cookies: parts.cookies,
        headers: parts.headers,
        body: parts.body.as_deref(),
        is_base64_encoded: parts.is_base64_encoded,
    };
    v2.request(ctx, limit)
}

/// What an API Gateway v2 request is made from, however it was read.
struct V2<'a> {
    raw_path: Option<&'a str>,
    raw_query: Option<&'a str>,
    cookies: Option<Vec<String>>,
    headers: HeaderMap,
    body: Option<&'a str>,
    is_base64_encoded: bool,
}

impl V2<'_> {
    fn request(self, ctx: ApiGatewayV2httpRequestContext, limit: usize) -> Result<http::Request<Body>, Error> {
        let raw_path = self.raw_path.unwrap_or("/");
        let path = match ctx.stage.as_deref() {
            Some(stage) if stage != "$default" => strip_stage(raw_path, stage),
            _ => raw_path,
        };
        let query = encode_raw_query(self.raw_query.unwrap_or(""));
        let uri = build_uri(&encode_raw_path(path), &query)?;
        let mut headers = self.headers;
        if let Some(cookies) = self.cookies.filter(|c| !c.is_empty()) {
            let joined =
                HeaderValue::from_str(&cookies.join("; ")).map_err(|e| malformed("invalid cookie").with_source(e))?;
            headers.insert(header::COOKIE, joined);
        }
        let body = body(self.body, self.is_base64_encoded, limit)?;
        let method = ctx.http.method.clone();
        Ok(assemble(method, uri, headers, body, RequestContext::ApiGatewayV2(ctx)))
    }
}

pub(super) fn malformed(message: &'static str) -> Error {
    Error::bad_request(code::MALFORMED_EVENT, message)
}

pub(super) fn assemble(
    method: http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    ctx: RequestContext,
) -> http::Request<Body> {
    let mut req = http::Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    req.extensions_mut().insert(ctx);
    req
}

pub(super) fn body(text: Option<&str>, base64: bool, limit: usize) -> Result<Body, Error> {
    use base64::Engine;
    let bytes = match text {
        None | Some("") => return Ok(Body::empty()),
        Some(b) if base64 => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| malformed("the body is marked base64 but is not").with_source(e))?,
        Some(b) if b.len() > limit => return Err(too_large()),
        Some(b) => return Ok(Body::from(b.to_owned())),
    };
    if bytes.len() > limit {
        return Err(too_large());
    }
    Ok(Body::from(bytes))
}

/// 413 `payload_too_large`: the body (or WebSocket message) is over the limit.
pub(crate) fn too_large() -> Error {
    Error::new(
        http::StatusCode::PAYLOAD_TOO_LARGE,
        code::PAYLOAD_TOO_LARGE,
        "the body is larger than the limit",
    )
}

/// `/prod/hello` on stage `prod` routes as `/hello`.
fn strip_stage<'a>(path: &'a str, stage: &str) -> &'a str {
    match path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

pub(super) fn build_uri(path: &str, query: &str) -> Result<Uri, Error> {
    let path = if path.is_empty() { "/" } else { path };
    let pq = if query.is_empty() {
        http::uri::PathAndQuery::from_maybe_shared(Bytes::copy_from_slice(path.as_bytes()))
    } else {
        http::uri::PathAndQuery::from_maybe_shared(Bytes::from(format!("{path}?{query}")))
    };
    let pq = pq.map_err(|e| malformed("the path or query cannot form a URI").with_source(e))?;
    Ok(Uri::from(pq))
}

/// What a URI path cannot hold as-is: everything but RFC 3986 `pchar`, `/` and `%` (an
/// already-encoded path keeps its escapes).
const RAW_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@')
    .remove(b'/')
    .remove(b'%');

/// A decoded path: as [`RAW_PATH`], and a `%` is a literal percent sign.
const DECODED_PATH: &AsciiSet = &RAW_PATH.add(b'%');

/// What an already-encoded query cannot hold as-is: controls, space, non-ASCII and the
/// characters RFC 3986 leaves out of a query (`"`, `#`, `<`, `>`, `` ` ``, `{`, `}`, `|`, `\`,
/// `^`, `[`, `]`). `%`, `&`, `=` and `+` keep their meaning.
const RAW_QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']');

/// One decoded query key or value: everything but RFC 3986 unreserved characters.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// An already-encoded path (v2 `rawPath`, ALB `path`) with what a URI cannot hold escaped.
pub(super) fn encode_raw_path(path: &str) -> std::borrow::Cow<'_, str> {
    utf8_percent_encode(path, RAW_PATH).into()
}

/// A decoded path (v1 `path`), fully escaped.
fn encode_decoded_path(path: &str) -> std::borrow::Cow<'_, str> {
    utf8_percent_encode(path, DECODED_PATH).into()
}

/// An already-encoded query string (v2 `rawQueryString`), with what API Gateway passed raw
/// escaped.
pub(super) fn encode_raw_query(query: &str) -> std::borrow::Cow<'_, str> {
    utf8_percent_encode(query, RAW_QUERY).into()
}

/// Builds a query string from decoded pairs (API Gateway v1 decodes them).
fn encode_query<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    join_query(pairs, QUERY_COMPONENT)
}

/// Joins pairs that are still encoded (ALB), escaping only what a URI cannot hold.
pub(super) fn join_raw_query<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    join_query(pairs, RAW_QUERY)
}

fn join_query<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, set: &'static AsciiSet) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        // Writing into a String cannot fail.
        let _ = write!(out, "{}={}", utf8_percent_encode(k, set), utf8_percent_encode(v, set));
    }
    out
}

/// WebSocket route keys route as the path `/<route key>` of the WebSocket router.
pub(crate) fn websocket_path(route_key: &str) -> String {
    const ROUTE_KEY: &AsciiSet = &QUERY_COMPONENT.remove(b'$');
    format!("/{}", utf8_percent_encode(route_key, ROUTE_KEY))
}

/// Whether a body with this content type is sent as text (else base64).
fn is_text(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime.starts_with("text/")
        || matches!(
            mime.as_str(),
            "application/json" | "application/javascript" | "application/xml" | "application/x-www-form-urlencoded"
        )
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || mime.ends_with("+yaml")
}

/// Collects a response body and encodes the response in its source's shape.
pub(crate) async fn encode(origin: Origin, res: Response<Body>) -> HttpOutput {
    let (parts, body) = res.into_parts();
    let bytes: Bytes = match whole(body).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "response body failed while collecting; sending 500");
            return encode_bytes(
                origin,
                http::StatusCode::INTERNAL_SERVER_ERROR,
                HeaderMap::new(),
                Bytes::new(),
            );
        }
    };
    encode_bytes(origin, parts.status, parts.headers, bytes)
}

/// A response body, whole. The usual body is one frame, taken as it is (`collect` would queue
/// it in a `VecDeque` first: an allocation per response); several frames are joined.
async fn whole(mut body: Body) -> Result<Bytes, axum::Error> {
    let mut first: Option<Bytes> = None;
    let mut joined: Option<bytes::BytesMut> = None;
    while let Some(frame) = body.frame().await {
        // Trailers have no place in a Lambda response: left out.
        let Ok(data) = frame?.into_data() else { continue };
        match (&mut first, &mut joined) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let mut all = bytes::BytesMut::with_capacity(head.len() + data.len());
                all.extend_from_slice(head);
                all.extend_from_slice(&data);
                joined = Some(all);
            }
            (Some(_), Some(all)) => all.extend_from_slice(&data),
        }
    }
    Ok(joined.map_or_else(|| first.unwrap_or_default(), bytes::BytesMut::freeze))
}

pub(crate) fn encode_bytes(origin: Origin, status: http::StatusCode, headers: HeaderMap, bytes: Bytes) -> HttpOutput {
    let (body, is_base64_encoded) = if bytes.is_empty() {
        (None, false)
    } else if is_text(&headers) {
        match String::from_utf8(Vec::from(bytes)) {
            Ok(s) => (Some(EventBody::Text(s)), false),
            Err(e) => (Some(EventBody::Binary(e.into_bytes())), true),
        }
    } else {
        (Some(EventBody::Binary(Vec::from(bytes))), true)
    };
    let shape = match origin {
        Origin::ApiGatewayV1 | Origin::WebSocket => Shape::ApiGatewayV1,
        Origin::ApiGatewayV2 => Shape::ApiGatewayV2,
        Origin::Alb { multi_value } => Shape::Alb { multi_value },
        Origin::VpcLattice => {
            return HttpOutput::Lattice(super::lattice::encode(status, headers, body, is_base64_encoded))
        }
    };
    HttpOutput::ApiGateway(HttpResponse {
        shape,
        status: status.as_u16(),
        headers,
        body,
        is_base64_encoded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_paths_escape_what_a_uri_cannot_hold() {
        assert_eq!(websocket_path("$connect"), "/$connect");
        assert_eq!(websocket_path("send message"), "/send%20message");
        assert!(websocket_path("weird/ key?#").parse::<Uri>().is_ok());
    }

    #[test]
    fn stages_and_paths() {
        assert_eq!(strip_stage("/prod/hello", "prod"), "/hello");
        assert_eq!(strip_stage("/prod", "prod"), "/");
        assert_eq!(strip_stage("/production/x", "prod"), "/production/x");
        assert_eq!(encode_decoded_path("/a b/ü/100%"), "/a%20b/%C3%BC/100%25");
        assert_eq!(encode_raw_path("/a%20b/ü"), "/a%20b/%C3%BC");
        assert_eq!(encode_raw_path("/plain/path"), "/plain/path");
        assert_eq!(
            encode_query([("q", "a b&c"), ("x", "1")].into_iter()),
            "q=a%20b%26c&x=1"
        );
        assert!(build_uri("/x", "a=1").is_ok());
        assert!(body(Some("not base64!"), true, 100).is_err());
    }

    #[test]
    fn raw_query_characters_are_escaped_and_escapes_kept() {
        assert_eq!(
            encode_raw_query(r#"q={"a":1}&x=<b> c#d&y=ü&z=%7B&w=a+b"#),
            "q=%7B%22a%22:1%7D&x=%3Cb%3E%20c%23d&y=%C3%BC&z=%7B&w=a+b"
        );
        assert_eq!(
            join_raw_query([("q", "a b"), ("r", "%22")].into_iter()),
            "q=a%20b&r=%22"
        );
        for q in [r#"q={"a":1}"#, "x=<b> c#d", "y=ü", r"w=\|^[]`"] {
            assert!(build_uri("/", &encode_raw_query(q)).is_ok(), "{q}");
        }
    }

    #[test]
    fn bodies_over_the_limit_are_413() {
        use base64::Engine;
        assert!(body(Some("12345"), false, 5).is_ok());
        let err = body(Some("123456"), false, 5).err().map(|e| e.status());
        assert_eq!(err, Some(http::StatusCode::PAYLOAD_TOO_LARGE));
        let b64 = base64::engine::general_purpose::STANDARD.encode([0u8; 6]);
        let err = body(Some(&b64), true, 5).err().map(|e| e.code().to_owned());
        assert_eq!(err.as_deref(), Some(code::PAYLOAD_TOO_LARGE));
    }

    #[test]
    fn text_detection() {
        let mut h = HeaderMap::new();
        assert!(is_text(&h));
        h.insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/problem+json; charset=utf-8"),
        );
        assert!(is_text(&h));
        h.insert(header::CONTENT_TYPE, http::HeaderValue::from_static("image/png"));
        assert!(!is_text(&h));
    }
}
