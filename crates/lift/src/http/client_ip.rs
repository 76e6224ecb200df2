//! [`ClientIp`]: the caller's address, from wherever the request came.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::RequestContext;

/// The peer address of a connection to the local server, in each request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The caller's IP address, or `None` when nothing trustworthy names it:
///
/// - API Gateway (REST, HTTP, WebSocket) and Function URLs: the request context's source IP,
///   which API Gateway sets itself (a client's `X-Forwarded-For` is not read);
/// - ALB: the last `X-Forwarded-For` entry, the one the load balancer appended;
/// - the local server: the connection's peer address.
///
/// Never rejects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The address of the request described by `parts`.
    pub fn of(parts: &Parts) -> Self {
        Self::from(&parts.extensions, &parts.headers)
    }

    /// The address of `req` (for key functions of tower layers, which see whole requests).
    pub fn of_request<B>(req: &http::Request<B>) -> Self {
        Self::from(req.extensions(), req.headers())
    }

    fn from(extensions: &http::Extensions, headers: &http::HeaderMap) -> Self {
        let ip = match extensions.get::<RequestContext>() {
            Some(RequestContext::Alb(_) | RequestContext::VpcLatticeV1 | RequestContext::VpcLatticeV2(_)) => headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|ip| ip.trim().parse().ok()),
            Some(ctx) => ctx.source_ip().and_then(|ip| ip.parse().ok()),
            None => extensions.get::<PeerAddr>().map(|p| p.0.ip()),
        };
        Self(ip)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}
