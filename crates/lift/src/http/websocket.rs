//! The WebSocket extractor.

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::RequestContext;
use crate::error::Error;

/// The API Gateway WebSocket context of the message being served: connection id, route key,
/// event type (`CONNECT`, `MESSAGE`, `DISCONNECT`), domain and stage (for replying through the
/// management API).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct WebSocket {
    /// The connection's id.
    pub connection_id: String,
    /// The route key API Gateway selected (`$connect`, `$disconnect`, `$default`, or custom).
    pub route_key: String,
    /// `CONNECT`, `MESSAGE` or `DISCONNECT`.
    pub event_type: String,
    /// The API's domain name.
    pub domain_name: Option<String>,
    /// The API's stage.
    pub stage: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocket {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::WebSocket(ctx)) => Ok(WebSocket {
                connection_id: ctx.connection_id.clone().unwrap_or_default(),
                route_key: ctx.route_key.clone().unwrap_or_default(),
                event_type: ctx.event_type.clone().unwrap_or_default(),
                domain_name: ctx.domain_name.clone(),
                stage: ctx.stage.clone(),
            }),
            _ => Err(Error::bad_request(
                "not_websocket",
                "this route serves WebSocket events only",
            )),
        }
    }
}
