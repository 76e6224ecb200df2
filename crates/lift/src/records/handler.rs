//! The record handler trait and its type-erased form.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::context::Context;
use crate::error::Error;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An async function that handles one record: `async fn(Context, Input) -> Result<(), E>` with
/// `E: Into<lift::Error>` (any `std::error::Error` qualifies).
pub trait RecordHandler<Input>: Clone + Send + Sync + 'static {
    /// Handles one record.
    fn call(&self, ctx: Context, input: Input) -> BoxFuture<Result<(), Error>>;
}

impl<F, Fut, Input, E> RecordHandler<Input> for F
where
    F: Fn(Context, Input) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Error>,
{
    fn call(&self, ctx: Context, input: Input) -> BoxFuture<Result<(), Error>> {
        let fut = (self)(ctx, input);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// A handler of raw source records (`R`), with the decoding step folded in.
pub(crate) type Erased<R> = Arc<dyn Fn(Context, R) -> BoxFuture<Result<(), Error>> + Send + Sync>;

/// Erases a typed handler: `decode` turns the source record into the handler's input.
pub(crate) fn erase<R, I, H>(handler: H, decode: fn(R) -> Result<I, Error>) -> Erased<R>
where
    R: 'static,
    I: 'static,
    H: RecordHandler<I>,
{
    Arc::new(move |ctx, raw| match decode(raw) {
        Ok(input) => handler.call(ctx, input),
        Err(e) => Box::pin(std::future::ready(Err(e))),
    })
}

/// The event fallback: a handler for events of a shape no route knows (custom invocations, Step Functions, ...):
/// receives the JSON and returns the JSON response.
pub(crate) type Other =
    Arc<dyn Fn(Context, serde_json::Value) -> BoxFuture<Result<serde_json::Value, Error>> + Send + Sync>;
