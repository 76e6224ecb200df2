//! The HTTP/1 GET the extensions' local endpoints are read with: hyper's client connection
//! over a fresh loopback TCP connection (no pool, no TLS: the extensions listen on localhost).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::source::SourceError;

/// Longest body read from an extension (AppConfig's own limit on a configuration is 2 MB;
/// secrets and parameters are far smaller).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// `GET http://localhost:{port}{path_and_query}` with `headers`: the status and the body.
pub(crate) async fn get(
    port: u16,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> Result<(u16, Bytes), SourceError> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| SourceError::Unreachable(format!("localhost:{port}: {e}")))?;
    let _ = stream.set_nodelay(true);
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| SourceError::Unreachable(e.to_string()))?;
    // The connection's driver: ends with the exchange (dropped with `send`).
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req = http::Request::get(path_and_query).header(http::header::HOST, format!("localhost:{port}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Empty::<Bytes>::new())
        .map_err(|e| SourceError::Malformed(format!("request: {e}")))?;
    let res = send
        .send_request(req)
        .await
        .map_err(|e| SourceError::Unreachable(e.to_string()))?;
    let status = res.status().as_u16();
    let body = http_body_util::Limited::new(res.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| SourceError::Unreachable(format!("reading the body: {e}")))?
        .to_bytes();
    Ok((status, body))
}

/// The body as text for an error message (first 200 bytes).
pub(crate) fn snippet(body: &[u8]) -> String {
    let end = body.len().min(200);
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// A port from the environment variable `var`, else `default`; a bad value is an error.
pub(crate) fn port_from_env(var: &str, default: u16) -> Result<u16, String> {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{var}={v:?} is not a port number")),
        Err(_) => Ok(default),
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
