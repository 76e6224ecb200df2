//! Record and event sources: routing by pattern, typed handlers, per-record failure reporting.
//!
//! Invariants:
//! - every record of a batch is offered to a handler, or reported failed (FIFO: once a failure
//!   stops the batch, the remaining records are reported failed without being offered);
//! - a record is acknowledged only if its handler returned `Ok`: decode errors (of the record's
//!   envelope or of its payload), handler errors, panics and records no route matches are all
//!   failures;
//! - each record of a batch source is decoded on its own, so one record that does not decode
//!   fails alone; the whole batch fails only when a failed record's id cannot be read;
//! - SNS, S3 and EventBridge cannot report single records, so any failure fails the invocation
//!   and the service retries the event;
//! - Kafka cannot either: the first failure fails the invocation and later records are not
//!   offered (the whole batch is redelivered);
//! - routes of one source are tried in the order they were added; the first match serves the
//!   record.

mod all_or_nothing;
mod batch;
mod handler;
mod input;
mod kafka;
mod message;
mod other;
mod pattern;
mod sqs_meta;
mod sqs_read;

use aws_lambda_events::dynamodb::EventRecord as DynamoDbRecord;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::kinesis::KinesisEventRecord;
use aws_lambda_events::s3::S3EventRecord;
use aws_lambda_events::sns::SnsMessage;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

pub use handler::RecordHandler;
pub(crate) use handler::{erase, BoxFuture, Erased, Other};
pub(crate) use input::kafka_input;
pub(crate) use input::{dynamodb_input, eventbridge_input, kinesis_input, s3_input, sns_input, sqs_input};
pub use kafka::{Kafka, KafkaMeta, KafkaSource};
pub use message::{DynamoDb, EventBridge, Kinesis, Message, S3Object, Sns, Sqs, S3};
pub use pattern::{EventMatch, Glob, S3Match};
pub use sqs_meta::{SqsAttribute, SqsMeta};

use crate::error::{code, Error};

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

/// The record routes of an app, per source, in the order they were added.
#[derive(Default)]
pub(crate) struct EventRoutes {
    pub(crate) sqs: Vec<(Glob, Erased<SqsMeta>)>,
    pub(crate) sns: Vec<(Glob, Erased<SnsMessage>)>,
    pub(crate) s3: Vec<(S3Match, Erased<S3EventRecord>)>,
    pub(crate) eventbridge: Vec<(EventMatch, Erased<EventBridgeEvent<Box<RawValue>>>)>,
    pub(crate) dynamodb: Vec<(Glob, Erased<DynamoDbRecord>)>,
    pub(crate) kinesis: Vec<(Glob, Erased<KinesisEventRecord>)>,
    /// Kafka routes, by topic.
    pub(crate) kafka: Vec<(Glob, Erased<kafka::KafkaInput>)>,
    /// The event fallback: events of a shape no source matches.
    pub(crate) other: Option<Other>,
    pub(crate) fifo_mode: FifoMode,
}

/// Parses a whole event of a source that cannot report single records.
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
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(payload) => Err(crate::panic::error(payload)),
    }
}

fn log_failure(source: &'static str, id: &str, err: &Error) {
    tracing::error!(source, record = id, code = err.code(), error = %err, "record failed");
}
