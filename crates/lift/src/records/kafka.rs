//! Apache Kafka batches, from Amazon MSK (`aws:kafka`) and self-managed clusters
//! (`SelfManagedKafka`): records grouped by topic-partition, keys and values base64, headers
//! as byte arrays.
//!
//! Kafka's event source mapping cannot be told which records failed: the invocation succeeds
//! or the whole batch comes back. So the batch is decoded whole before any handler runs (an
//! envelope that does not decode fails the invocation without a handler having run), records
//! are offered in order (partitions by name, records by position), and the first failure — a
//! handler error, a panic, a key or value that does not decode, a topic no route matches —
//! fails the invocation at once: the records after it are not offered, since the service
//! redelivers them with the rest of the batch anyway.
//!
//! Lift reads the event with its own types rather than `aws_lambda_events`' `KafkaEvent`: that
//! one reads header bytes as `i8`, so a header byte written as 128..=255 would make the whole
//! batch undecodable (and retried forever); here a byte is accepted as -128..=255.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Deserializer};

use super::message::Message;
use super::{guarded, log_failure, no_route, parse, EventRoutes};
use crate::context::Context;
use crate::error::{code, Error};
use crate::output::{Inner, Output};

/// The kind of cluster a Kafka batch came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KafkaSource {
    /// Amazon MSK (`eventSource` `aws:kafka`).
    Msk,
    /// A self-managed cluster (`eventSource` `SelfManagedKafka`).
    SelfManaged,
}

/// A Kafka record without its value: where it comes from, its decoded key and headers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct KafkaMeta {
    /// The kind of cluster.
    pub source: KafkaSource,
    /// The MSK cluster's ARN (absent for self-managed clusters).
    pub event_source_arn: Option<Arc<str>>,
    /// The brokers, comma-separated, as the event names them.
    pub bootstrap_servers: Option<Arc<str>>,
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i64,
    /// The record's offset in its partition.
    pub offset: i64,
    /// The record's timestamp, milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// `CREATE_TIME` or `LOG_APPEND_TIME`.
    pub timestamp_type: Option<String>,
    /// The key, base64-decoded (`None` for a record without a key).
    pub key: Option<Vec<u8>>,
    /// The headers in the order they were written (a name may repeat).
    pub headers: Vec<(String, Vec<u8>)>,
}

impl KafkaMeta {
    /// The first header named `name` (Kafka header names are case-sensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// The key as UTF-8 text, when it is.
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_deref().and_then(|k| std::str::from_utf8(k).ok())
    }
}

/// A Kafka record: the value decoded into `T` (JSON, UTF-8 text into `String`, any bytes into
/// `Vec<u8>`; a record without a value — a tombstone — decodes from JSON `null`, so
/// `Option<T>` and `serde_json::Value` handlers receive it) and the record's [`KafkaMeta`].
pub type Kafka<T> = Message<T, KafkaMeta>;

/// The batch as sent.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "eventSource")]
    event_source: String,
    #[serde(rename = "eventSourceArn", default)]
    event_source_arn: Option<Arc<str>>,
    #[serde(rename = "bootstrapServers", default)]
    bootstrap_servers: Option<Arc<str>>,
    /// `topic-partition` → records, in offset order.
    records: BTreeMap<String, Vec<RawRecord>>,
}

/// One record as sent: key and value still base64.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawRecord {
    pub(crate) topic: String,
    pub(crate) partition: i64,
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    #[serde(default)]
    pub(crate) timestamp_type: Option<String>,
    #[serde(default)]
    pub(crate) key: Option<String>,
    #[serde(default)]
    pub(crate) value: Option<String>,
    #[serde(default)]
    pub(crate) headers: Vec<HashMap<String, Vec<Byte>>>,
}

/// A header byte: Kafka's Java side writes signed bytes, so both -128..=-1 and 128..=255 are
/// read as the same `u8`.
pub(crate) struct Byte(pub(crate) u8);

impl<'de> Deserialize<'de> for Byte {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i16::deserialize(d)?;
        u8::try_from(n)
            .or_else(|_| i8::try_from(n).map(i8::cast_unsigned))
            .map(Byte)
            .map_err(|_| serde::de::Error::custom(format_args!("header byte {n} is outside -128..=255")))
    }
}

/// What a Kafka handler's decoding step receives: the record and its batch's origin.
pub(crate) struct KafkaInput {
    pub(crate) record: RawRecord,
    pub(crate) source: KafkaSource,
    pub(crate) event_source_arn: Option<Arc<str>>,
    pub(crate) bootstrap_servers: Option<Arc<str>>,
}

impl EventRoutes {
    pub(crate) async fn kafka(&self, ctx: &Context, json: &str) -> Result<Output, Error> {
        let event: Event = parse(json)?;
        let source = match event.event_source.as_str() {
            "aws:kafka" => KafkaSource::Msk,
            "SelfManagedKafka" => KafkaSource::SelfManaged,
            _ => {
                return Err(Error::bad_request(
                    code::MALFORMED_EVENT,
                    "the Kafka event's `eventSource` is neither `aws:kafka` nor `SelfManagedKafka`",
                ))
            }
        };
        let total: usize = event.records.values().map(Vec::len).sum();
        let mut done = 0usize;
        for (partition, records) in event.records {
            for record in records {
                let offset = record.offset;
                let result = match self.kafka.iter().find(|(g, _)| g.matches(&record.topic)) {
                    Some((_, h)) => {
                        let input = KafkaInput {
                            record,
                            source,
                            event_source_arn: event.event_source_arn.clone(),
                            bootstrap_servers: event.bootstrap_servers.clone(),
                        };
                        guarded(h(ctx.clone(), input)).await
                    }
                    None => Err(no_route(format!("no route for Kafka topic `{}`", record.topic))),
                };
                if let Err(err) = result {
                    let id = format!("{partition}@{offset}");
                    log_failure("kafka", &id, &err);
                    return Err(Error::new(
                        http::StatusCode::INTERNAL_SERVER_ERROR,
                        code::HANDLER_FAILED,
                        format!(
                            "Kafka record {id} failed after {done} of {total} record(s) succeeded; \
                             the batch will be redelivered: {err}"
                        ),
                    ));
                }
                done += 1;
            }
        }
        Ok(Output(Inner::Empty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes_signed_or_not() {
        let b: Vec<Byte> = serde_json::from_str("[0, 127, 128, 255, -1, -128]").unwrap_or_default();
        assert_eq!(b.iter().map(|b| b.0).collect::<Vec<_>>(), [0, 127, 128, 255, 255, 128]);
        assert!(serde_json::from_str::<Vec<Byte>>("[256]").is_err());
        assert!(serde_json::from_str::<Vec<Byte>>("[-129]").is_err());
        assert!(serde_json::from_str::<Vec<Byte>>("[\"a\"]").is_err());
    }
}
