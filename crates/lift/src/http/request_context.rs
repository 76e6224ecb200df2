//! The request context of the HTTP event a request came from.

use aws_lambda_events::alb::AlbTargetGroupRequestContext;
use aws_lambda_events::apigw::{
    ApiGatewayProxyRequestContext, ApiGatewayV2httpRequestContext, ApiGatewayWebsocketProxyRequestContext,
};

/// The `requestContext` of the event an HTTP request was decoded from (authorizer claims,
/// source IP, stage, connection id...), in the request's extensions. A handler takes it with
/// `axum::Extension<lift::RequestContext>`; requests served by the local server have none.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RequestContext {
    /// API Gateway REST API (payload format 1.0).
    ApiGatewayV1(ApiGatewayProxyRequestContext),
    /// API Gateway HTTP API (payload format 2.0) and Lambda Function URLs.
    ApiGatewayV2(ApiGatewayV2httpRequestContext),
    /// Application Load Balancer target.
    Alb(AlbTargetGroupRequestContext),
    /// API Gateway WebSocket API.
    WebSocket(ApiGatewayWebsocketProxyRequestContext),
    /// VPC Lattice, event version 1 (which carries no request context).
    VpcLatticeV1,
    /// VPC Lattice, event version 2: service, target group, caller identity.
    VpcLatticeV2(aws_lambda_events::vpc_lattice::VpcLatticeRequestV2Context),
}

impl RequestContext {
    /// The caller's IP address as API Gateway saw it (`identity.sourceIp`, `http.sourceIp`).
    /// ALB and VPC Lattice put it in `X-Forwarded-For` instead: see [`ClientIp`](crate::ClientIp).
    pub fn source_ip(&self) -> Option<&str> {
        match self {
            RequestContext::ApiGatewayV1(c) => c.identity.source_ip.as_deref(),
            RequestContext::ApiGatewayV2(c) => c.http.source_ip.as_deref(),
            RequestContext::WebSocket(c) => c.identity.source_ip.as_deref(),
            RequestContext::Alb(_) | RequestContext::VpcLatticeV1 | RequestContext::VpcLatticeV2(_) => None,
        }
    }
}
