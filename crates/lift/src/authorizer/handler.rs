//! The handler behind [`App::authorizer`](crate::App::authorizer), erased, and the glue that
//! serves an authorizer event with it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::StatusCode;

use super::{AuthorizerRequest, AuthorizerResponse};
use crate::context::Context;
use crate::error::Error;
use crate::output::{Inner, Output};

type BoxFuture = Pin<Box<dyn Future<Output = Result<AuthorizerResponse, Error>> + Send>>;

/// An authorizer handler, type-erased once at registration.
pub(crate) type AuthorizerFn = Arc<dyn Fn(Context, AuthorizerRequest) -> BoxFuture + Send + Sync>;

/// The stable code of the `Unauthorized` answer (Lambda error `Lift.unauthorized`).
pub const UNAUTHORIZED: &str = "unauthorized";

pub(crate) fn erase<F, Fut, E>(handler: F) -> AuthorizerFn
where
    F: Fn(Context, AuthorizerRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AuthorizerResponse, E>> + Send + 'static,
    E: Into<Error>,
{
    Arc::new(move |ctx, req| {
        let fut = handler(ctx, req);
        Box::pin(async move { fut.await.map_err(Into::into) })
    })
}

/// Decodes the event, runs the handler and renders its answer for the event's API. The
/// `Unauthorized` answer is the Lambda error whose message is exactly `Unauthorized` (what
/// API Gateway turns into 401); a handler error is a Lambda error too (API Gateway: 500).
pub(crate) async fn serve(handler: &AuthorizerFn, ctx: &Context, json: &str) -> Result<Output, Error> {
    let req = AuthorizerRequest::from_json(json)?;
    let kind = req.kind();
    let arn = req.arn().to_owned();
    let answer = handler(ctx.clone(), req).await?;
    match answer.render(kind, &arn) {
        Some(v) => Ok(Output(Inner::Json(v))),
        None => Err(Error::new(StatusCode::UNAUTHORIZED, UNAUTHORIZED, "Unauthorized")),
    }
}
