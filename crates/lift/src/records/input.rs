//! Decoders from a source's raw record into what its handler receives.

use aws_lambda_events::dynamodb::EventRecord as DynamoDbRecord;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::kinesis::KinesisEventRecord;
use aws_lambda_events::s3::S3EventRecord;
use aws_lambda_events::sns::SnsMessage;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::kafka::{Kafka, KafkaInput, KafkaMeta};
use super::message::{decode_bytes, decode_item, decode_text};
use super::{DynamoDb, EventBridge, Kinesis, Message, S3Object, Sns, Sqs, SqsMeta, S3};
use crate::error::Error;

pub(crate) fn sqs_input<T: DeserializeOwned + 'static>(meta: SqsMeta) -> Result<Sqs<T>, Error> {
    Ok(Message {
        body: decode_text("SQS message body", meta.body().unwrap_or_default())?,
        meta,
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

pub(crate) fn s3_input(r: S3EventRecord) -> Result<S3, Error> {
    let object = &r.s3.object;
    let body = S3Object {
        bucket: r.s3.bucket.name.clone().unwrap_or_default(),
        key: object
            .url_decoded_key
            .clone()
            .or_else(|| object.key.clone())
            .unwrap_or_default(),
        size: object.size,
        version_id: object.version_id.clone(),
        event_name: r.event_name.clone().unwrap_or_default(),
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

/// A Kafka record: key and value base64-decoded, the value then decoded into `T` (a record
/// without a value decodes from JSON `null`; `Vec<u8>` takes the bytes as they are).
pub(crate) fn kafka_input<T: DeserializeOwned + 'static>(input: KafkaInput) -> Result<Kafka<T>, Error> {
    use base64::Engine;
    let r = input.record;
    let b64 = |what: &str, text: &str| {
        base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| {
            Error::bad_request(
                crate::error::code::MALFORMED_EVENT,
                format!("the Kafka {what} is not base64"),
            )
            .with_source(e)
        })
    };
    let key = r.key.as_deref().map(|k| b64("key", k)).transpose()?;
    let body = match r.value.as_deref() {
        Some(v) if std::any::TypeId::of::<T>() == std::any::TypeId::of::<Vec<u8>>() => {
            // A `Vec<u8>` handler gets the value's bytes as they are, JSON or not.
            let bytes = b64("value", v)?;
            let de = serde::de::value::SeqDeserializer::<_, serde::de::value::Error>::new(bytes.into_iter());
            T::deserialize(de).map_err(|e| {
                Error::bad_request(crate::error::code::MALFORMED_EVENT, "the Kafka value could not be read")
                    .with_source(e)
            })?
        }
        Some(v) => decode_bytes("Kafka value", &b64("value", v)?)?,
        None => decode_bytes("Kafka value", b"null")?,
    };
    let headers = r
        .headers
        .into_iter()
        .flatten()
        .map(|(name, bytes)| (name, bytes.into_iter().map(|b| b.0).collect()))
        .collect();
    Ok(Message {
        body,
        meta: KafkaMeta {
            source: input.source,
            event_source_arn: input.event_source_arn,
            bootstrap_servers: input.bootstrap_servers,
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
            timestamp_ms: r.timestamp,
            timestamp_type: r.timestamp_type,
            key,
            headers,
        },
    })
}
