//! What a record handler receives: the decoded body and the record's metadata.

use std::ops::{Deref, DerefMut};

use serde::de::DeserializeOwned;

use crate::error::{code, Error};

/// A decoded record: `body` is the typed payload, `meta` the source's record without it.
///
/// Derefs to the body, so `msg.item` reads a field of the payload.
#[derive(Clone, Debug)]
pub struct Message<T, M> {
    /// The payload, decoded with `serde`.
    pub body: T,
    /// The rest of the record as AWS sent it (ids, attributes, timestamps).
    pub meta: M,
}

impl<T, M> Deref for Message<T, M> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.body
    }
}

impl<T, M> DerefMut for Message<T, M> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.body
    }
}

/// An SQS message: the body (JSON; any text into `String`) and the message's metadata, read
/// in place in the batch ([`SqsMeta`](super::SqsMeta)).
pub type Sqs<T> = Message<T, super::SqsMeta>;
/// An SNS notification: the `Message` (JSON, or text into `String`) and the notification.
pub type Sns<T> = Message<T, aws_lambda_events::sns::SnsMessage>;
/// A Kinesis record: the decoded `data` (JSON, or UTF-8 text into `String`) and the record.
pub type Kinesis<T> = Message<T, aws_lambda_events::kinesis::KinesisEventRecord>;
/// A DynamoDB Streams record: `NewImage` decoded with `serde_dynamo` (`None` for removals) and
/// the record (keys, old image, sequence number).
pub type DynamoDb<T> = Message<Option<T>, aws_lambda_events::dynamodb::EventRecord>;
/// An S3 notification: the object it is about and the notification record.
pub type S3 = Message<S3Object, aws_lambda_events::s3::S3EventRecord>;
/// An EventBridge event: the `detail` and the envelope (`detail` emptied).
pub type EventBridge<T> = Message<T, aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value>>;

/// The object an S3 notification is about: the body of an [`S3`] message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct S3Object {
    /// The bucket name.
    pub bucket: String,
    /// The object key, URL-decoded (S3 sends it encoded: `a+b` is `a b`).
    pub key: String,
    /// The object size in bytes (absent for deletions).
    pub size: Option<i64>,
    /// The object version, on versioned buckets.
    pub version_id: Option<String>,
    /// The event (`ObjectCreated:Put`, `ObjectRemoved:Delete`, ...).
    pub event_name: String,
}

fn malformed(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::bad_request(code::MALFORMED_EVENT, format!("the {what} could not be decoded")).with_source(e)
}

fn wants_text<T: 'static>() -> bool {
    std::any::TypeId::of::<T>() == std::any::TypeId::of::<String>()
}

/// Decodes text as JSON into `T`; a `String` handler receives the raw text unless it is a
/// JSON string (then its value). Any other type gets only JSON: a `serde_json::Value` handler
/// does not silently accept text that is not JSON.
pub(crate) fn decode_text<T: DeserializeOwned + 'static>(what: &str, text: &str) -> Result<T, Error> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(json_err) if wants_text::<T>() => {
            let de = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text);
            T::deserialize(de).map_err(|_| malformed(what, json_err))
        }
        Err(json_err) => Err(malformed(what, json_err)),
    }
}

/// Like [`decode_text`] for bytes (Kinesis data): a `String` handler accepts any UTF-8.
pub(crate) fn decode_bytes<T: DeserializeOwned + 'static>(what: &str, bytes: &[u8]) -> Result<T, Error> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(json_err) => match std::str::from_utf8(bytes) {
            Ok(text) if wants_text::<T>() => {
                let de = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text);
                T::deserialize(de).map_err(|_| malformed(what, json_err))
            }
            _ => Err(malformed(what, json_err)),
        },
    }
}

/// Decodes a DynamoDB image with `serde_dynamo`. Types that cannot hold raw bytes (such as
/// `serde_json::Value`) fail on binary attributes there; for those a second attempt reads the
/// image as plain JSON with binary values as base64 strings.
pub(crate) fn decode_item<T: DeserializeOwned>(item: serde_dynamo::Item) -> Result<T, Error> {
    let plain = serde_json::to_value(&item).map(|v| attribute_map_to_json(&v));
    serde_dynamo::from_item(item).or_else(|e| match plain {
        Ok(plain) => serde_json::from_value(plain).map_err(|_| malformed("DynamoDB image", e)),
        Err(_) => Err(malformed("DynamoDB image", e)),
    })
}

fn attribute_map_to_json(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), attribute_to_json(v))).collect(),
        _ => serde_json::Value::Null,
    }
}

fn bytes_to_json(v: &serde_json::Value) -> serde_json::Value {
    use base64::Engine;
    match v {
        serde_json::Value::Array(a) => {
            let bytes: Vec<u8> = a
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            base64::engine::general_purpose::STANDARD.encode(bytes).into()
        }
        other => other.clone(),
    }
}

/// One DynamoDB attribute value (`{"S": ..}`, `{"N": ..}`, ...) as plain JSON.
fn attribute_to_json(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let Some((tag, inner)) = v.as_object().and_then(|m| m.iter().next()) else {
        return Value::Null;
    };
    match tag.as_str() {
        "N" => inner
            .as_str()
            .and_then(|n| serde_json::from_str::<serde_json::Number>(n).ok())
            .map_or_else(|| inner.clone(), Value::Number),
        "B" => bytes_to_json(inner),
        "BS" => Value::Array(
            inner
                .as_array()
                .map(|a| a.iter().map(bytes_to_json).collect())
                .unwrap_or_default(),
        ),
        "NS" => Value::Array(
            inner
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|n| attribute_to_json(&serde_json::json!({"N": n})))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        "NULL" => Value::Null,
        "M" => attribute_map_to_json(inner),
        "L" => Value::Array(
            inner
                .as_array()
                .map(|a| a.iter().map(attribute_to_json).collect())
                .unwrap_or_default(),
        ),
        _ => inner.clone(), // S, BOOL, SS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Order {
        item: String,
    }

    #[test]
    fn text_bodies_reach_string_handlers() {
        assert_eq!(
            decode_text::<String>("body", "hello world").ok().as_deref(),
            Some("hello world")
        );
        assert_eq!(
            decode_text::<String>("body", "\"quoted\"").ok().as_deref(),
            Some("quoted")
        );
        let order: Result<Order, _> = decode_text("body", r#"{"item":"x"}"#);
        assert_eq!(order.ok(), Some(Order { item: "x".into() }));
        assert!(decode_text::<serde_json::Value>("body", "plain").is_err());
        let err = decode_text::<Order>("body", "{oops")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("malformed_event") && err.contains("key must be a string"),
            "{err}"
        );
    }

    #[test]
    fn binary_attributes_reach_json_values_as_base64() {
        let image: serde_dynamo::Item = serde_json::from_value(serde_json::json!({
            "val": {"S": "data"}, "n": {"N": "1.5"}, "b": {"B": "AAEqQQ=="}, "bs": {"BS": ["AAEqQQ=="]},
            "m": {"M": {"flag": {"BOOL": true}}}, "l": {"L": [{"NULL": true}]}
        }))
        .unwrap();
        let v: serde_json::Value = decode_item(image).unwrap();
        assert_eq!(v["val"], "data");
        assert_eq!(v["n"], 1.5);
        assert_eq!(v["b"], "AAEqQQ==");
        assert_eq!(v["bs"][0], "AAEqQQ==");
        assert_eq!(v["m"]["flag"], true);
        assert_eq!(v["l"][0], serde_json::Value::Null);
    }

    #[test]
    fn bytes() {
        assert_eq!(decode_bytes::<String>("data", b"plain").ok().as_deref(), Some("plain"));
        assert!(decode_bytes::<String>("data", &[0xff, 0xfe]).is_err());
    }
}
