//! Amazon VPC Lattice: its v1 and v2 request events into `http::Request`, and the response
//! shape Lattice reads back (one for both versions).
//!
//! Lattice forwards a request the way a load balancer does, so it is read as ALB is: the path
//! (v1 `raw_path`, v2 `path`) and the query values as they came on the wire, with only what a
//! URI cannot hold escaped (an escape the client sent is kept, never decoded twice). A path
//! that still carries its `?query` gives that query when the event has no query parameters.
//! v1 joins repeated headers with commas (`aws_lambda_events` splits them back); v2 lists them.
//! The caller's address is the last `X-Forwarded-For` entry (see [`ClientIp`](crate::ClientIp)).

use aws_lambda_events::encodings::Body as EventBody;
use aws_lambda_events::vpc_lattice::{VpcLatticeRequestV1, VpcLatticeRequestV2};
use axum::body::Body;
use http::{HeaderMap, StatusCode};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::convert::{assemble, body, build_uri, encode_raw_path, encode_raw_query, join_raw_query, malformed};
use super::response::{Joined, SetCookie};
use super::RequestContext;
use crate::error::Error;

/// A v1 event (`raw_path`, `method`, `query_string_parameters`, snake_case) as a request.
pub(crate) fn decode_v1(ev: VpcLatticeRequestV1, limit: usize) -> Result<http::Request<Body>, Error> {
    let method = ev
        .method
        .ok_or_else(|| malformed("the VPC Lattice event has no method"))?;
    let uri = uri(ev.raw_path.as_deref(), &ev.query_string_parameters)?;
    let body = match ev.body {
        None | Some(EventBody::Empty) => Body::empty(),
        Some(EventBody::Text(text)) => body(Some(&text), ev.is_base64_encoded, limit)?,
        // Not produced by deserialisation (the crate reads every body as text); kept total.
        Some(EventBody::Binary(bytes)) if bytes.len() > limit => return Err(super::convert::too_large()),
        Some(EventBody::Binary(bytes)) => Body::from(bytes),
        Some(_) => return Err(malformed("the VPC Lattice body is of an unknown kind")),
    };
    Ok(assemble(method, uri, ev.headers, body, RequestContext::VpcLatticeV1))
}

/// A v2 event (`version` `2.0`, `path`, `method`, `requestContext`) as a request.
pub(crate) fn decode_v2(ev: VpcLatticeRequestV2, limit: usize) -> Result<http::Request<Body>, Error> {
    let method = ev
        .method
        .ok_or_else(|| malformed("the VPC Lattice event has no method"))?;
    let uri = uri(ev.path.as_deref(), &ev.query_string_parameters)?;
    let body = body(ev.body.as_deref(), ev.is_base64_encoded, limit)?;
    Ok(assemble(
        method,
        uri,
        ev.headers,
        body,
        RequestContext::VpcLatticeV2(ev.request_context),
    ))
}

fn uri(path: Option<&str>, query: &aws_lambda_events::query_map::QueryMap) -> Result<http::Uri, Error> {
    let path = path.filter(|p| !p.is_empty()).unwrap_or("/");
    let (path, inline_query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let query = match inline_query {
        Some(q) if query.is_empty() => encode_raw_query(q).into_owned(),
        _ => join_raw_query(query.iter()),
    };
    build_uri(&encode_raw_path(path), &query)
}

/// What a Lambda target answers VPC Lattice: `statusCode`, `statusDescription`, `headers` (one
/// string per name: repeated values are joined with `, `), `body`, `isBase64Encoded`.
///
/// Lift's own type rather than `aws_lambda_events`' `VpcLatticeResponse`: that one keeps only
/// the first value of a repeated header and fails to serialise a header value that is not
/// UTF-8 (the whole response would be lost); here such bytes are written lossily instead.
#[derive(Debug)]
pub(crate) struct LatticeResponse {
    pub(crate) status: u16,
    headers: HeaderMap,
    body: Option<EventBody>,
    is_base64_encoded: bool,
}

/// Builds the response; `body` and `is_base64_encoded` come from the shared text/binary choice.
pub(crate) fn encode(
    status: StatusCode,
    headers: HeaderMap,
    body: Option<EventBody>,
    is_base64_encoded: bool,
) -> LatticeResponse {
    LatticeResponse {
        status: status.as_u16(),
        headers,
        body,
        is_base64_encoded,
    }
}

impl Serialize for LatticeResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("statusCode", &self.status)?;
        m.serialize_entry(
            "statusDescription",
            &format_args!("{} {}", self.status, status.canonical_reason().unwrap_or_default()),
        )?;
        m.serialize_entry("headers", &Joined(&self.headers, SetCookie::Join))?;
        if let Some(body) = &self.body {
            m.serialize_entry("body", body)?;
        }
        m.serialize_entry("isBase64Encoded", &self.is_base64_encoded)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_binary_header_values_survive() {
        let mut h = HeaderMap::new();
        h.append("vary", http::HeaderValue::from_static("origin"));
        h.append("vary", http::HeaderValue::from_static("accept"));
        h.insert(
            "x-bin",
            http::HeaderValue::from_bytes(b"a\xffb").unwrap_or(http::HeaderValue::from_static("")),
        );
        let r = encode(StatusCode::CREATED, h, Some(EventBody::Text("{}".into())), false);
        let v = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(v["statusCode"], 201);
        assert_eq!(v["statusDescription"], "201 Created");
        assert_eq!(v["headers"]["vary"], "origin, accept");
        assert_eq!(v["headers"]["x-bin"], "a\u{fffd}b");
        assert_eq!(v["body"], "{}");
        assert_eq!(v["isBase64Encoded"], false);
    }

    #[test]
    fn inline_query_is_used_only_without_parameters() {
        let empty = aws_lambda_events::query_map::QueryMap::default();
        assert_eq!(
            uri(Some("/a b?x=1 2"), &empty).map(|u| u.to_string()).ok().as_deref(),
            Some("/a%20b?x=1%202")
        );
        assert_eq!(uri(None, &empty).map(|u| u.to_string()).ok().as_deref(), Some("/"));
    }
}
