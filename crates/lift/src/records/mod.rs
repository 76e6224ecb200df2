//! Record and event sources: routing by pattern, typed handlers, per-record failure reporting.
//!
//! Invariants:
//! - every record of a batch is offered to a handler, or reported failed (FIFO: once a failure
//!   stops the batch, the remaining records are reported failed without being offered);
//! - a record is acknowledged only if its handler returned `Ok`: decode errors, handler errors,
//!   panics and records no route matches are all failures;
//! - SNS, S3 and EventBridge cannot report single records, so any failure fails the invocation
//!   and the service retries the event.

mod handler;
mod message;
mod pattern;

use std::panic::AssertUnwindSafe;

use aws_lambda_events::dynamodb::{Event as DynamoDbEvent, EventRecord as DynamoDbRecord};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::s3::{S3Event, S3EventRecord};
use aws_lambda_events::sns::{SnsEvent, SnsMessage};
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

pub use handler::RecordHandler;
pub(crate) use handler::{erase, BoxFuture, Erased, Fallback};
pub(crate) use message::{decode_bytes, decode_item, decode_text};
pub use message::{DynamoDb, EventBridge, Kinesis, Message, Sns, Sqs};
use pattern::arn_resource;
pub use pattern::{EventMatch, Glob, S3Match};

use crate::context::Context;
use crate::error::{code, Error};
use crate::output::{Inner, Output};

/// How a FIFO SQS batch stops after a failure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FifoMode {
    /// Stop at the first failure; report it and every later record of the batch as failed
    /// (what the SQS documentation prescribes).
    #[default]
    StopBatch,
    /// Skip only the later records of the failed record's message group; other groups go on.
    /// Order within each group is still kept.
    SkipGroup,
}

#[derive(Default)]
pub(crate) struct EventRoutes {
    pub(crate) sqs: Vec<(Glob, Erased<SqsMessage>)>,
    pub(crate) sns: Vec<(Glob, Erased<SnsMessage>)>,
    pub(crate) s3: Vec<(S3Match, Erased<S3EventRecord>)>,
    pub(crate) eventbridge: Vec<(EventMatch, Erased<EventBridgeEvent<Box<RawValue>>>)>,
    pub(crate) dynamodb: Vec<(Glob, Erased<DynamoDbRecord>)>,
    pub(crate) kinesis: Vec<(Glob, Erased<KinesisEventRecord>)>,
    pub(crate) fallback: Option<Fallback>,
    pub(crate) fifo_mode: FifoMode,
}

fn parse<T: DeserializeOwned>(json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| {
        Error::bad_request(code::MALFORMED_EVENT, "the event does not match its source's schema").with_source(e)
    })
}

fn no_route(what: String) -> Error {
    Error::new(http::StatusCode::NOT_FOUND, code::NO_ROUTE, what)
}

/// Runs one handler call behind a panic boundary.
async fn guarded(fut: BoxFuture<Result<(), Error>>) -> Result<(), Error> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(panic) => Err(panic_error(panic)),
    }
}

pub(crate) fn panic_error(panic: Box<dyn std::any::Any + Send>) -> Error {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    Error::new(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        code::PANIC,
        "the handler panicked",
    )
    .with_source(std::io::Error::other(msg))
}

fn log_failure(source: &'static str, id: &str, err: &Error) {
    tracing::error!(source, record = id, code = err.code(), error = %err, "record failed");
}

impl EventRoutes {
    pub(crate) async fn sqs(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: SqsEvent = parse(json)?;
        let fifo = event
            .records
            .first()
            .and_then(|r| r.event_source_arn.as_deref())
            .is_some_and(|arn| arn.ends_with(".fifo"));
        let mut failures: Vec<String> = Vec::new();
        let mut unreportable = 0usize;
        let mut stopped = false;
        let mut failed_groups: Vec<String> = Vec::new();
        for rec in event.records {
            let id = rec.message_id.clone();
            let group = rec.attributes.get("MessageGroupId").cloned();
            let skip = fifo
                && (stopped
                    || (self.fifo_mode == FifoMode::SkipGroup
                        && group.as_ref().is_some_and(|g| failed_groups.contains(g))));
            let result = if skip {
                Err(Error::new(
                    http::StatusCode::CONFLICT,
                    "fifo_skipped",
                    "an earlier record of this FIFO batch failed",
                ))
            } else {
                let arn = rec.event_source_arn.clone().unwrap_or_default();
                let queue = arn_resource(&arn);
                match self.sqs.iter().find(|(g, _)| g.matches_resource(queue, &arn)) {
                    Some((_, h)) => guarded(h(ctx.clone(), rec)).await,
                    None => Err(no_route(format!("no route for SQS queue `{queue}`"))),
                }
            };
            if let Err(err) = result {
                if !skip {
                    log_failure("sqs", id.as_deref().unwrap_or("?"), &err);
                    if fifo {
                        match (self.fifo_mode, group) {
                            (FifoMode::SkipGroup, Some(g)) => failed_groups.push(g),
                            _ => stopped = true,
                        }
                    }
                }
                match id {
                    Some(id) => failures.push(id),
                    None => unreportable += 1,
                }
            }
        }
        batch_result(failures, unreportable)
    }

    pub(crate) async fn kinesis(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: KinesisEvent = parse(json)?;
        let mut failures = Vec::new();
        let mut unreportable = 0;
        for rec in event.records {
            let id = rec.kinesis.sequence_number.clone();
            let arn = rec.event_source_arn.clone().unwrap_or_default();
            let stream = arn_resource(&arn);
            let result = match self.kinesis.iter().find(|(g, _)| g.matches_resource(stream, &arn)) {
                Some((_, h)) => guarded(h(ctx.clone(), rec)).await,
                None => Err(no_route(format!("no route for Kinesis stream `{stream}`"))),
            };
            if let Err(err) = result {
                log_failure("kinesis", &id, &err);
                if id.is_empty() {
                    unreportable += 1;
                } else {
                    failures.push(id);
                }
            }
        }
        batch_result(failures, unreportable)
    }

    pub(crate) async fn dynamodb(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: DynamoDbEvent = parse(json)?;
        let mut failures = Vec::new();
        let mut unreportable = 0;
        for rec in event.records {
            let id = rec.change.sequence_number.clone();
            let arn = rec.event_source_arn.clone().unwrap_or_default();
            let table = arn_resource(&arn);
            let result = match self.dynamodb.iter().find(|(g, _)| g.matches_resource(table, &arn)) {
                Some((_, h)) => guarded(h(ctx.clone(), rec)).await,
                None => Err(no_route(format!("no route for DynamoDB table `{table}`"))),
            };
            if let Err(err) = result {
                log_failure("dynamodb", id.as_deref().unwrap_or("?"), &err);
                match id {
                    Some(id) => failures.push(id),
                    None => unreportable += 1,
                }
            }
        }
        batch_result(failures, unreportable)
    }

    pub(crate) async fn sns(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: SnsEvent = parse(json)?;
        let mut outcome = AllOrNothing::default();
        for rec in event.records {
            let arn = rec.sns.topic_arn.clone();
            let id = rec.sns.message_id.clone();
            let topic = arn_resource(&arn);
            let result = match self.sns.iter().find(|(g, _)| g.matches_resource(topic, &arn)) {
                Some((_, h)) => guarded(h(ctx.clone(), rec.sns)).await,
                None => Err(no_route(format!("no route for SNS topic `{topic}`"))),
            };
            outcome.record("sns", &id, result);
        }
        outcome.finish()
    }

    pub(crate) async fn s3(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: S3Event = parse(json)?;
        let mut outcome = AllOrNothing::default();
        for rec in event.records {
            let bucket = rec.s3.bucket.name.clone().unwrap_or_default();
            let key = rec
                .s3
                .object
                .url_decoded_key
                .clone()
                .or_else(|| rec.s3.object.key.clone())
                .unwrap_or_default();
            let name = rec.event_name.clone().unwrap_or_default();
            let result = match self.s3.iter().find(|(m, _)| m.matches(&bucket, &key, &name)) {
                Some((_, h)) => guarded(h(ctx.clone(), rec)).await,
                None => Err(no_route(format!("no route for S3 `{name}` on `{bucket}/{key}`"))),
            };
            outcome.record("s3", &format!("{bucket}/{key}"), result);
        }
        outcome.finish()
    }

    pub(crate) async fn eventbridge(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: EventBridgeEvent<Box<RawValue>> = parse(json)?;
        let found = self
            .eventbridge
            .iter()
            .find(|(m, _)| m.matches(&event.source, &event.detail_type));
        let (source, detail_type) = (event.source.clone(), event.detail_type.clone());
        let result = match found {
            Some((_, h)) => guarded(h(ctx.clone(), event)).await,
            None => Err(no_route(format!(
                "no route for EventBridge `{source}` / `{detail_type}`"
            ))),
        };
        let mut outcome = AllOrNothing::default();
        outcome.record("eventbridge", &detail_type, result);
        outcome.finish()
    }

    pub(crate) async fn fallback(&self, ctx: &Context, json: &str) -> Option<Result<Output, Error>> {
        let f = self.fallback.as_ref()?;
        let value = match serde_json::from_str(json) {
            Ok(v) => v,
            Err(e) => return Some(Err(Error::bad_request(code::MALFORMED_JSON, "not JSON").with_source(e))),
        };
        let fut = f(ctx.clone(), value);
        Some(match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(Ok(v)) => Ok(Output(Inner::Json(v))),
            Ok(Err(e)) => Err(e),
            Err(panic) => Err(panic_error(panic)),
        })
    }
}

fn batch_result(failures: Vec<String>, unreportable: usize) -> Result<Output, Error> {
    if unreportable > 0 {
        // A failed record without an identifier cannot be reported alone: fail the whole batch
        // so Lambda retries it rather than deleting a record that was not processed.
        return Err(Error::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            code::BATCH_FAILED,
            format!("{unreportable} failed record(s) had no identifier; the whole batch is retried"),
        ));
    }
    Ok(Output(Inner::Batch(failures)))
}

/// Outcome of a source that cannot report single records.
#[derive(Default)]
struct AllOrNothing {
    total: usize,
    failed: usize,
    first: Option<Error>,
}

impl AllOrNothing {
    fn record(&mut self, source: &'static str, id: &str, result: Result<(), Error>) {
        self.total += 1;
        if let Err(err) = result {
            log_failure(source, id, &err);
            self.failed += 1;
            self.first.get_or_insert(err);
        }
    }

    fn finish(self) -> Result<Output, Error> {
        match self.first {
            None => Ok(Output(Inner::Empty)),
            Some(first) => Err(Error::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                code::HANDLER_FAILED,
                format!("{} of {} record(s) failed; first: {}", self.failed, self.total, first),
            )),
        }
    }
}

// Decoders from raw source records into handler inputs.

pub(crate) fn sqs_input<T: DeserializeOwned + 'static>(mut m: SqsMessage) -> Result<Sqs<T>, Error> {
    let body = m.body.take().unwrap_or_default();
    Ok(Message {
        body: decode_text("SQS message body", &body)?,
        meta: m,
    })
}

pub(crate) fn sns_input<T: DeserializeOwned + 'static>(mut m: SnsMessage) -> Result<Sns<T>, Error> {
    let body = std::mem::take(&mut m.message);
    Ok(Message {
        body: decode_text("SNS message", &body)?,
        meta: m,
    })
}

pub(crate) fn kinesis_input<T: DeserializeOwned + 'static>(mut r: KinesisEventRecord) -> Result<Kinesis<T>, Error> {
    let data = std::mem::take(&mut r.kinesis.data.0);
    Ok(Message {
        body: decode_bytes("Kinesis data", &data)?,
        meta: r,
    })
}

pub(crate) fn dynamodb_input<T: DeserializeOwned + 'static>(mut r: DynamoDbRecord) -> Result<DynamoDb<T>, Error> {
    let image = std::mem::take(&mut r.change.new_image);
    let body = if image.is_empty() {
        None
    } else {
        Some(decode_item(image)?)
    };
    Ok(Message { body, meta: r })
}

pub(crate) fn eventbridge_input<T: DeserializeOwned + 'static>(
    e: EventBridgeEvent<Box<RawValue>>,
) -> Result<EventBridge<T>, Error> {
    let body = decode_text("EventBridge detail", e.detail.get())?;
    let mut meta = EventBridgeEvent::<serde_json::Value>::default();
    meta.version = e.version;
    meta.id = e.id;
    meta.detail_type = e.detail_type;
    meta.source = e.source;
    meta.account = e.account;
    meta.time = e.time;
    meta.region = e.region;
    meta.resources = e.resources;
    Ok(Message { body, meta })
}

pub(crate) fn identity<R>(r: R) -> Result<R, Error> {
    Ok(r)
}
