//! Idempotent record handlers: [`Idempotency::records`] wraps a handler of [`Message`]s
//! (SQS, SNS, Kinesis, DynamoDB Streams, EventBridge) so a redelivered record is acknowledged
//! without running it again.

use std::sync::Arc;

use serde::Serialize;

use super::key::{Key, Selection};
use super::policy::{Begin, Idempotency};
use super::Refusal;
use crate::context::Context;
use crate::error::Error;
use crate::records::{BoxFuture, Message, RecordHandler};

/// What a completed record stores: its outcome (handlers return nothing else).
const RECORD_DONE: &str = r#"{"outcome":"ok"}"#;

/// A record handler made idempotent; see [`Idempotency::records`].
#[derive(Clone, Debug)]
pub struct IdempotentRecords<H> {
    policy: Idempotency,
    scope: Arc<str>,
    selection: Arc<Selection>,
    require_key: bool,
    handler: H,
}

impl<H> IdempotentRecords<H> {
    /// Fail a record whose body lacks the selected key (`idempotency_key_missing`) instead of
    /// running it unprotected (the default, as Powertools does, with a debug log line).
    pub fn require_key(mut self) -> Self {
        self.require_key = true;
        self
    }
}

impl Idempotency {
    /// Wraps a record handler: each record's key is `selection` of its body (validated
    /// against the whole body), in `scope` (name the route: `"orders-queue"`).
    ///
    /// A repeat of a processed record is acknowledged without running the handler; one in
    /// flight elsewhere fails with `idempotency_in_progress` (a batch source reports it in
    /// `batchItemFailures` and redelivers it; SNS, S3 and EventBridge fail the invocation);
    /// a handler error or panic releases the key.
    ///
    /// ```
    /// use lift::idempotency::{Idempotency, Selection};
    /// use lift::{App, Context, Error, Sqs};
    ///
    /// async fn on_order(_ctx: Context, _msg: Sqs<serde_json::Value>) -> Result<(), Error> { Ok(()) }
    ///
    /// let policy = Idempotency::in_memory();
    /// let app = App::new().sqs("orders", policy.records("orders", Selection::fields(["order_id"]), on_order));
    /// # let _ = app.build();
    /// ```
    pub fn records<H>(&self, scope: impl Into<Arc<str>>, selection: Selection, handler: H) -> IdempotentRecords<H> {
        IdempotentRecords {
            policy: self.clone(),
            scope: scope.into(),
            selection: Arc::new(selection),
            require_key: false,
            handler,
        }
    }
}

impl<T, M, H> RecordHandler<Message<T, M>> for IdempotentRecords<H>
where
    H: RecordHandler<Message<T, M>>,
    T: Serialize + Send + Sync + 'static,
    M: Send + Sync + 'static,
{
    fn call(&self, ctx: Context, msg: Message<T, M>) -> BoxFuture<Result<(), Error>> {
        let this = self.clone();
        Box::pin(async move {
            let key = serde_json::to_value(&msg.body)
                .ok()
                .and_then(|body| Key::from_json(&body, &this.selection));
            let Some(key) = key else {
                if this.require_key {
                    return Err(Refusal::KeyMissing.error());
                }
                tracing::debug!(target: "lift::idempotency", scope = %this.scope, "record has no idempotency key: run unprotected");
                return this.handler.call(ctx, msg).await;
            };
            match this.policy.begin(Some(&ctx), &this.scope, &key).await? {
                Begin::Replay(_) => {
                    tracing::info!(target: "lift::idempotency", scope = %this.scope, "repeated record acknowledged without running");
                    Ok(())
                }
                Begin::Unprotected => this.handler.call(ctx, msg).await,
                Begin::Run(claim) => match this.handler.call(ctx, msg).await {
                    Ok(()) => claim.complete(RECORD_DONE.to_owned()).await.map_err(Into::into),
                    Err(e) => {
                        claim.release().await;
                        Err(e)
                    }
                },
            }
        })
    }
}
