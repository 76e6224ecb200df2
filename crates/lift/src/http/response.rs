//! The response documents API Gateway (REST, HTTP, WebSocket) and ALB read back, serialised
//! straight from the response's `HeaderMap`.
//!
//! Lift's own types rather than `aws_lambda_events`' response structs: those copy every header
//! value into a new `String` to serialise it (one allocation per header, measured at 14 per
//! quick-start invocation), keep only the first value of a repeated header in the single-value
//! `headers` map (a second `vary` from CORS was dropped on HTTP APIs), and fail the whole
//! serialisation on a header value that is not UTF-8. Here values are written in place, repeated
//! values are joined with `", "` where the format has one string per name (never `set-cookie`,
//! which cannot be joined: its first value is kept there, and HTTP APIs get all of them in
//! `cookies`), and non-UTF-8 bytes are written lossily.

use aws_lambda_events::encodings::Body as EventBody;
use http::{header, HeaderMap, HeaderValue};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Which document, and which of its header maps carries the headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// REST API and WebSocket: `multiValueHeaders` only (API Gateway merges both maps, so
    /// filling both would duplicate every header).
    ApiGatewayV1,
    /// HTTP API and Function URLs: `headers` (one string per name) and `cookies`.
    ApiGatewayV2,
    /// ALB: `statusDescription`, and `headers` or `multiValueHeaders`, whichever the target
    /// group uses.
    Alb { multi_value: bool },
}

/// An HTTP response for API Gateway or ALB.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) shape: Shape,
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<EventBody>,
    pub(crate) is_base64_encoded: bool,
}

impl HttpResponse {
    /// About what its JSON takes: a body's escapes and a header's quotes are guessed, never
    /// counted, so this is a first capacity, not a bound.
    pub(crate) fn json_size_hint(&self) -> usize {
        let body = match &self.body {
            Some(EventBody::Text(t)) => t.len() + t.len() / 8,
            Some(EventBody::Binary(b)) => b.len() * 4 / 3 + 4,
            _ => 0,
        };
        96 + body + self.headers.len() * 48
    }
}

impl Serialize for HttpResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("statusCode", &self.status)?;
        match self.shape {
            Shape::ApiGatewayV1 => {
                m.serialize_entry("headers", &Empty)?;
                m.serialize_entry("multiValueHeaders", &MultiValue(&self.headers))?;
            }
            Shape::ApiGatewayV2 => {
                m.serialize_entry("headers", &Joined(&self.headers, SetCookie::Skip))?;
                m.serialize_entry("multiValueHeaders", &Empty)?;
                m.serialize_entry("cookies", &Cookies(&self.headers))?;
            }
            Shape::Alb { multi_value } => {
                let status = http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
                m.serialize_entry(
                    "statusDescription",
                    &format_args!("{} {}", self.status, status.canonical_reason().unwrap_or_default()),
                )?;
                if multi_value {
                    m.serialize_entry("headers", &Empty)?;
                    m.serialize_entry("multiValueHeaders", &MultiValue(&self.headers))?;
                } else {
                    m.serialize_entry("headers", &Joined(&self.headers, SetCookie::First))?;
                    m.serialize_entry("multiValueHeaders", &Empty)?;
                }
            }
        }
        if let Some(body) = &self.body {
            m.serialize_entry("body", body)?;
        }
        m.serialize_entry("isBase64Encoded", &self.is_base64_encoded)?;
        m.end()
    }
}

/// An empty header map.
struct Empty;

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// What a one-string-per-name map does with repeated `set-cookie` values, which a comma
/// cannot join safely (`Expires` dates hold commas).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetCookie {
    /// Left out: the format has a list of its own (HTTP API `cookies`).
    Skip,
    /// The first value only (single-value ALB).
    First,
    /// Joined like any other header (VPC Lattice, whose format documents it so).
    Join,
}

/// A header value as text; bytes that are not UTF-8 are replaced, never an error.
struct Text<'a>(&'a HeaderValue);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.to_str() {
            Ok(v) => s.serialize_str(v),
            Err(_) => s.serialize_str(&String::from_utf8_lossy(self.0.as_bytes())),
        }
    }
}

/// Headers as one string per name; repeated values joined with `", "` (`set-cookie` as the
/// [`SetCookie`] policy says).
pub(crate) struct Joined<'a>(pub(crate) &'a HeaderMap, pub(crate) SetCookie);

impl Serialize for Joined<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        // A name's values come one after another in `iter()`: joined by walking it once, with
        // no lookup per name.
        let mut values = self.0.iter().peekable();
        while let Some((name, first)) = values.next() {
            let cookie = name == header::SET_COOKIE;
            let repeated = values.peek().is_some_and(|(next, _)| *next == name);
            if cookie && self.1 == SetCookie::Skip {
                while values.next_if(|(next, _)| *next == name).is_some() {}
                continue;
            }
            if !repeated || (cookie && self.1 == SetCookie::First) {
                m.serialize_entry(name.as_str(), &Text(first))?;
                while values.next_if(|(next, _)| *next == name).is_some() {}
                continue;
            }
            let mut joined = String::from_utf8_lossy(first.as_bytes()).into_owned();
            while let Some((_, v)) = values.next_if(|(next, _)| *next == name) {
                joined.push_str(", ");
                joined.push_str(&String::from_utf8_lossy(v.as_bytes()));
            }
            m.serialize_entry(name.as_str(), &joined)?;
        }
        m.end()
    }
}

/// Headers as a list of strings per name.
struct MultiValue<'a>(&'a HeaderMap);

impl Serialize for MultiValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Values<'a>(http::header::GetAll<'a, HeaderValue>);
        impl Serialize for Values<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(None)?;
                for v in self.0.iter() {
                    seq.serialize_element(&Text(v))?;
                }
                seq.end()
            }
        }
        let mut m = s.serialize_map(Some(self.0.keys_len()))?;
        for name in self.0.keys() {
            m.serialize_entry(name.as_str(), &Values(self.0.get_all(name)))?;
        }
        m.end()
    }
}

/// Every `set-cookie` value, for an HTTP API's `cookies`.
struct Cookies<'a>(&'a HeaderMap);

impl Serialize for Cookies<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for v in self.0.get_all(header::SET_COOKIE) {
            seq.serialize_element(&Text(v))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append("vary", HeaderValue::from_static("origin"));
        h.append("vary", HeaderValue::from_static("accept"));
        h.append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        h.append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        h.insert(
            "x-bin",
            HeaderValue::from_bytes(b"a\xffb").unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    fn json(shape: Shape) -> serde_json::Value {
        let r = HttpResponse {
            shape,
            status: 201,
            headers: headers(),
            body: Some(EventBody::Text("{}".into())),
            is_base64_encoded: false,
        };
        serde_json::to_value(&r).unwrap_or_default()
    }

    #[test]
    fn http_api_joins_repeated_headers_and_lists_cookies() {
        let v = json(Shape::ApiGatewayV2);
        assert_eq!(v["statusCode"], 201);
        assert_eq!(v["headers"]["vary"], "origin, accept");
        assert_eq!(v["headers"]["x-bin"], "a\u{fffd}b");
        assert_eq!(v["cookies"], serde_json::json!(["a=1", "b=2"]));
        assert_eq!(v["body"], "{}");
        assert_eq!(v["isBase64Encoded"], false);
    }

    #[test]
    fn rest_api_and_multi_value_alb_list_every_value() {
        for shape in [Shape::ApiGatewayV1, Shape::Alb { multi_value: true }] {
            let v = json(shape);
            assert_eq!(v["multiValueHeaders"]["vary"], serde_json::json!(["origin", "accept"]));
            assert_eq!(v["multiValueHeaders"]["set-cookie"], serde_json::json!(["a=1", "b=2"]));
            assert_eq!(v["headers"], serde_json::json!({}));
        }
        assert_eq!(
            json(Shape::Alb { multi_value: true })["statusDescription"],
            "201 Created"
        );
    }

    #[test]
    fn single_value_alb_joins_but_never_joins_cookies() {
        let v = json(Shape::Alb { multi_value: false });
        assert_eq!(v["headers"]["vary"], "origin, accept");
        assert_eq!(v["headers"]["set-cookie"], "a=1", "set-cookie cannot be comma-joined");
        assert_eq!(v["multiValueHeaders"], serde_json::json!({}));
    }
}
