//! From API Gateway / ALB / WebSocket events to `http::Request`, and back to the response shape
//! each source expects.

use aws_lambda_events::alb::{AlbTargetGroupRequest, AlbTargetGroupResponse};
use aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest, ApiGatewayV2httpResponse,
    ApiGatewayWebsocketProxyRequest,
};
use aws_lambda_events::encodings::Body as EventBody;
use axum::body::Body;
use bytes::Bytes;
use http::{header, HeaderMap, Response, Uri};
use http_body_util::BodyExt;
use lambda_http::request::LambdaRequest;
use serde::Serialize;

use crate::detect::EventKind;
use crate::error::{code, Error};

/// Which response shape the source expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    ApiGatewayV1,
    ApiGatewayV2,
    Alb { multi_value: bool },
    WebSocket,
}

/// An HTTP response encoded for its source.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub(crate) enum HttpOutput {
    V1(ApiGatewayProxyResponse),
    V2(ApiGatewayV2httpResponse),
    Alb(AlbTargetGroupResponse),
}

impl HttpOutput {
    pub(crate) fn status(&self) -> u16 {
        let s = match self {
            HttpOutput::V1(r) => r.status_code,
            HttpOutput::V2(r) => r.status_code,
            HttpOutput::Alb(r) => r.status_code,
        };
        u16::try_from(s).unwrap_or(500)
    }
}

/// Decodes an HTTP-shaped event into a request the router can serve.
pub(crate) fn decode(kind: EventKind, json: &str) -> Result<(Origin, http::Request<Body>), Error> {
    fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, Error> {
        serde_json::from_str(json).map_err(|e| {
            Error::bad_request(code::MALFORMED_EVENT, "the event does not match its source's schema").with_source(e)
        })
    }
    let (origin, stage, lambda_request) = match kind {
        EventKind::ApiGatewayV1 => {
            let ev: ApiGatewayProxyRequest = parse(json)?;
            let stage = ev.request_context.stage.clone();
            (Origin::ApiGatewayV1, stage, LambdaRequest::ApiGatewayV1(ev))
        }
        EventKind::ApiGatewayV2 => {
            let ev: ApiGatewayV2httpRequest = parse(json)?;
            let stage = ev.request_context.stage.clone();
            (Origin::ApiGatewayV2, stage, LambdaRequest::ApiGatewayV2(ev))
        }
        EventKind::Alb => {
            let ev: AlbTargetGroupRequest = parse(json)?;
            let multi_value = !ev.multi_value_headers.is_empty() || !ev.multi_value_query_string_parameters.is_empty();
            (Origin::Alb { multi_value }, None, LambdaRequest::Alb(ev))
        }
        EventKind::WebSocket => {
            let ev: ApiGatewayWebsocketProxyRequest = parse(json)?;
            let route_key = ev
                .request_context
                .route_key
                .clone()
                .unwrap_or_else(|| "$default".to_owned());
            let req = convert(LambdaRequest::WebSocket(ev))?;
            let (mut parts, body) = req.into_parts();
            parts.uri = websocket_uri(&route_key)?;
            parts.method = http::Method::POST;
            return Ok((Origin::WebSocket, http::Request::from_parts(parts, body)));
        }
        _ => return Err(Error::bad_request(code::MALFORMED_EVENT, "not an HTTP event")),
    };
    let mut req = convert(lambda_request)?;
    if let Some(stage) = stage.as_deref().filter(|s| *s != "$default") {
        strip_stage(&mut req, stage)?;
    }
    Ok((origin, req))
}

/// `lambda_http`'s conversion panics on some hostile input (an unparsable `Host` header makes
/// its `Url::parse(..).unwrap()` fail); contain that here and answer 400 instead.
fn convert(request: LambdaRequest) -> Result<http::Request<Body>, Error> {
    let converted = std::panic::catch_unwind(move || http::Request::<lambda_http::Body>::from(request));
    let req = converted.map_err(|_| {
        Error::bad_request(
            code::MALFORMED_EVENT,
            "the request's host, path or query cannot form a URI",
        )
    })?;
    Ok(req.map(|b| match b {
        lambda_http::Body::Text(s) => Body::from(s),
        lambda_http::Body::Binary(v) => Body::from(v),
        _ => Body::empty(),
    }))
}

/// Routes never include the API Gateway stage: `/prod/hello` on stage `prod` routes as `/hello`.
fn strip_stage<B>(req: &mut http::Request<B>, stage: &str) -> Result<(), Error> {
    let path = req.uri().path();
    let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) else {
        return Ok(());
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return Ok(());
    }
    let new_path = if rest.is_empty() { "/" } else { rest };
    let pq = match req.uri().query() {
        Some(q) => format!("{new_path}?{q}"),
        None => new_path.to_owned(),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(pq.parse().map_err(|e: http::uri::InvalidUri| {
        Error::bad_request(code::MALFORMED_EVENT, "invalid path").with_source(e)
    })?);
    *req.uri_mut() =
        Uri::from_parts(parts).map_err(|e| Error::bad_request(code::MALFORMED_EVENT, "invalid path").with_source(e))?;
    Ok(())
}

/// WebSocket route keys route as the path `/<route key>` of the WebSocket router.
pub(crate) fn websocket_path(route_key: &str) -> String {
    let mut out = String::with_capacity(route_key.len() + 1);
    out.push('/');
    for b in route_key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn websocket_uri(route_key: &str) -> Result<Uri, Error> {
    websocket_path(route_key).parse().map_err(|e: http::uri::InvalidUri| {
        Error::bad_request(code::MALFORMED_EVENT, "invalid route key").with_source(e)
    })
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
    let bytes: Bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
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
    let status_code = i64::from(status.as_u16());
    match origin {
        Origin::ApiGatewayV1 | Origin::WebSocket => {
            let mut r = ApiGatewayProxyResponse::default();
            r.status_code = status_code;
            r.body = body;
            r.is_base64_encoded = is_base64_encoded;
            // Only multiValueHeaders: API Gateway merges both fields, which would duplicate.
            r.multi_value_headers = headers;
            HttpOutput::V1(r)
        }
        Origin::ApiGatewayV2 => {
            let mut headers = headers;
            let cookies = headers
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect();
            headers.remove(header::SET_COOKIE);
            let mut r = ApiGatewayV2httpResponse::default();
            r.status_code = status_code;
            r.body = body;
            r.is_base64_encoded = is_base64_encoded;
            r.cookies = cookies;
            r.headers = headers;
            HttpOutput::V2(r)
        }
        Origin::Alb { multi_value } => {
            let mut r = AlbTargetGroupResponse::default();
            r.status_code = status_code;
            r.body = body;
            r.is_base64_encoded = is_base64_encoded;
            r.status_description = Some(format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or_default()
            ));
            // A target group with multi-value headers enabled reads only `multiValueHeaders`;
            // without it, only `headers`. Fill the one this target group uses.
            if multi_value {
                r.multi_value_headers = headers;
            } else {
                r.headers = headers;
            }
            HttpOutput::Alb(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_paths_escape_what_a_uri_cannot_hold() {
        assert_eq!(websocket_path("$connect"), "/$connect");
        assert_eq!(websocket_path("send message"), "/send%20message");
        assert!(websocket_uri("weird/ key?#").is_ok());
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
