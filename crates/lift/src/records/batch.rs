//! Batch sources that report failures per record: SQS (with FIFO ordering), Kinesis and
//! DynamoDB Streams.
//!
//! A batch whose records all decode is read in one pass (SQS); otherwise one shallow read
//! splits the batch into its raw records and each record is then decoded on its own. A record whose envelope does not decode (an SQS attribute whose `binaryValue` is not
//! base64, Kinesis `data` that is not base64, a DynamoDB image attribute that cannot be read)
//! fails alone, reported by the id a lenient probe reads from it; the batch fails as a whole
//! only when a failed record's id cannot be read (empty ids count as absent).

use aws_lambda_events::dynamodb::EventRecord as DynamoDbRecord;
use aws_lambda_events::kinesis::KinesisEventRecord;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;

use std::sync::Arc;

use super::pattern::arn_resource;
use super::sqs_meta::{SqsMeta, Text};
use super::sqs_read;
use super::{guarded, log_failure, no_route, Erased, EventRoutes, FifoMode, Glob};
use crate::context::Context;
use crate::error::{code, Error};
use crate::output::{Inner, Output};

/// The one shallow read of a batch: its records, unparsed.
#[derive(Deserialize)]
struct Batch<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

fn split(json: &str) -> Result<Vec<&RawValue>, Error> {
    serde_json::from_str::<Batch<'_>>(json).map(|b| b.records).map_err(|e| {
        Error::bad_request(code::MALFORMED_EVENT, "the batch has no readable `Records` list").with_source(e)
    })
}

/// What can still be read from a record whose envelope did not decode.
trait Probe: DeserializeOwned {
    fn id(self) -> Option<String>;
}

/// A record decoded on its own: the typed record, or the failure and the id to report it by.
fn decode<R: DeserializeOwned, P: Probe>(raw: &RawValue) -> Result<R, (Option<String>, Error)> {
    serde_json::from_str::<R>(raw.get()).map_err(|e| {
        let id = serde_json::from_str::<P>(raw.get())
            .ok()
            .and_then(P::id)
            .filter(|id| !id.is_empty());
        let err =
            Error::bad_request(code::MALFORMED_EVENT, "the record does not match its source's schema").with_source(e);
        (id, err)
    })
}

#[derive(Deserialize)]
struct KinesisProbe {
    kinesis: KinesisProbeInner,
}

#[derive(Deserialize)]
struct KinesisProbeInner {
    #[serde(rename = "sequenceNumber")]
    sequence_number: Option<String>,
}

impl Probe for KinesisProbe {
    fn id(self) -> Option<String> {
        self.kinesis.sequence_number
    }
}

#[derive(Deserialize)]
struct DynamoDbProbe {
    dynamodb: DynamoDbProbeInner,
}

#[derive(Deserialize)]
struct DynamoDbProbeInner {
    #[serde(rename = "SequenceNumber")]
    sequence_number: Option<String>,
}

impl Probe for DynamoDbProbe {
    fn id(self) -> Option<String> {
        self.dynamodb.sequence_number
    }
}

/// Failures of one batch, by record id.
#[derive(Default)]
struct Failures {
    ids: Vec<String>,
    unreportable: usize,
}

impl Failures {
    fn add(&mut self, source: &'static str, id: Option<String>, err: &Error) {
        log_failure(source, id.as_deref().unwrap_or("?"), err);
        match id {
            Some(id) => self.ids.push(id),
            None => self.unreportable += 1,
        }
    }

    fn finish(self) -> Result<Output, Error> {
        if self.unreportable > 0 {
            // A failed record without an identifier cannot be reported alone: fail the whole
            // batch so Lambda retries it rather than deleting a record that was not processed.
            return Err(Error::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                code::BATCH_FAILED,
                format!(
                    "{} failed record(s) had no identifier; the whole batch is retried",
                    self.unreportable
                ),
            ));
        }
        Ok(Output(Inner::Batch(self.ids)))
    }
}

fn non_empty(id: Option<String>) -> Option<String> {
    id.filter(|id| !id.is_empty())
}

/// The batch's records: in one pass over the text when every record reads (the usual case),
/// else split first so that each record fails alone (a second pass, paid only by a batch with
/// a broken record). A record that does not read comes with its error and what a lenient
/// probe could read of it (id, queue, group).
fn sqs_entries(batch: &Arc<str>) -> Result<impl Iterator<Item = (SqsMeta, Option<Error>)> + '_, Error> {
    if let Ok(records) = sqs_read::read_all(batch) {
        return Ok(Either::Read(records.map(|meta| (meta, None))));
    }
    let split = split(batch)?
        .into_iter()
        .map(|raw| match sqs_read::read_one(batch, raw.get()) {
            Ok(meta) => (meta, None),
            Err(e) => {
                let err = Error::bad_request(code::MALFORMED_EVENT, "the record does not match its source's schema")
                    .with_source(e);
                (sqs_read::probe(batch, raw.get()), Some(err))
            }
        });
    Ok(Either::Split(split))
}

/// One of two iterators of the same items.
enum Either<A, B> {
    Read(A),
    Split(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Either::Read(a) => a.next(),
            Either::Split(b) => b.next(),
        }
    }
}

type SqsRoute = (Glob, Erased<SqsMeta>);

fn is_fifo_arn(arn: &str) -> bool {
    arn.ends_with(".fifo")
}

impl EventRoutes {
    pub(crate) async fn sqs(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        // The records' metadata is read in place: they share this copy of the text.
        let batch: Arc<str> = Arc::from(json);
        let mut failures = Failures::default();
        let mut stopped = false;
        let mut failed_groups: Vec<String> = Vec::new();
        // A batch comes from one queue: the first record that names it says whether it is
        // FIFO (a record that names no queue has no route and fails anyway).
        let mut fifo_queue: Option<bool> = None;
        let mut last_route: Option<(Option<Text>, Option<&SqsRoute>)> = None;
        for (meta, broken) in sqs_entries(&batch)? {
            if fifo_queue.is_none() {
                fifo_queue = meta.event_source_arn().map(is_fifo_arn);
            }
            let fifo = fifo_queue.unwrap_or(false);
            let skip = fifo
                && (stopped
                    || (self.fifo_mode == FifoMode::SkipGroup
                        && meta
                            .message_group_id()
                            .is_some_and(|g| failed_groups.iter().any(|f| f == g))));
            // What a failure report reads, kept apart since the handler takes the record
            // (offsets into `batch`, copied; an owned string only when it had escapes).
            let (id, group) = meta.failure_keys();
            let id = || non_empty(id.as_ref().map(|t| t.get(&batch).to_owned()));
            if skip {
                // Not offered: an earlier record of its FIFO batch (or group) failed.
                match id() {
                    Some(id) => failures.ids.push(id),
                    None => failures.unreportable += 1,
                }
                continue;
            }
            let err = match broken {
                Some(err) => err,
                None => {
                    let arn = meta.event_source_arn().unwrap_or_default();
                    // A batch comes from one queue: its route is looked up once.
                    let route = match &last_route {
                        Some((last, route)) if last.as_ref().map(|t| t.get(&batch)).unwrap_or_default() == arn => {
                            *route
                        }
                        _ => {
                            let queue = arn_resource(arn);
                            let route = self.sqs.iter().find(|(g, _)| g.matches_resource(queue, arn));
                            last_route = Some((meta.parts.event_source_arn.clone(), route));
                            route
                        }
                    };
                    let result = match route {
                        Some((_, h)) => guarded(h(ctx.clone(), meta)).await,
                        None => Err(no_route(format!("no route for SQS queue `{}`", arn_resource(arn)))),
                    };
                    match result {
                        Ok(()) => continue,
                        Err(err) => err,
                    }
                }
            };
            if fifo {
                match (self.fifo_mode, &group) {
                    (FifoMode::SkipGroup, Some(g)) => failed_groups.push(g.get(&batch).to_owned()),
                    _ => stopped = true,
                }
            }
            failures.add("sqs", id(), &err);
        }
        failures.finish()
    }

    pub(crate) async fn kinesis(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let id = |r: &KinesisEventRecord| Some(r.kinesis.sequence_number.clone());
        let arn = |r: &KinesisEventRecord| r.event_source_arn.clone();
        per_record::<_, KinesisProbe>(ctx, json, "kinesis", "Kinesis stream", &self.kinesis, id, arn).await
    }

    pub(crate) async fn dynamodb(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let id = |r: &DynamoDbRecord| r.change.sequence_number.clone();
        let arn = |r: &DynamoDbRecord| r.event_source_arn.clone();
        per_record::<_, DynamoDbProbe>(ctx, json, "dynamodb", "DynamoDB table", &self.dynamodb, id, arn).await
    }
}

/// The loop of an unordered batch source (Kinesis, DynamoDB Streams): each record decoded on
/// its own, served by the first route whose pattern matches its source, failures by id.
async fn per_record<R: DeserializeOwned, P: Probe>(
    ctx: &Context,
    json: &str,
    source: &'static str,
    what: &str,
    routes: &[(Glob, Erased<R>)],
    id_of: impl Fn(&R) -> Option<String>,
    arn_of: impl Fn(&R) -> Option<String>,
) -> Result<Output, Error> {
    let mut failures = Failures::default();
    for raw in split(json)? {
        let (id, result) = match decode::<R, P>(raw) {
            Ok(rec) => {
                let id = non_empty(id_of(&rec));
                let arn = arn_of(&rec).unwrap_or_default();
                let name = arn_resource(&arn);
                let result = match routes.iter().find(|(g, _)| g.matches_resource(name, &arn)) {
                    Some((_, h)) => guarded(h(ctx.clone(), rec)).await,
                    None => Err(no_route(format!("no route for {what} `{name}`"))),
                };
                (id, result)
            }
            Err((id, err)) => (id, Err(err)),
        };
        if let Err(err) = result {
            failures.add(source, id, &err);
        }
    }
    failures.finish()
}
