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

/// An SQS message: the body (JSON, or plain text into `String`) and the message's metadata
/// (`body` field emptied).
pub type Sqs<T> = Message<T, aws_lambda_events::sqs::SqsMessage>;
/// An SNS notification: the `Message` (JSON, or text into `String`) and the notification.
pub type Sns<T> = Message<T, aws_lambda_events::sns::SnsMessage>;
/// A Kinesis record: the decoded `data` (JSON, or UTF-8 text into `String`) and the record.
pub type Kinesis<T> = Message<T, aws_lambda_events::kinesis::KinesisEventRecord>;
/// A DynamoDB Streams record: `NewImage` decoded with `serde_dynamo` (`None` for removals) and
/// the record (keys, old image, sequence number).
pub type DynamoDb<T> = Message<Option<T>, aws_lambda_events::dynamodb::EventRecord>;
/// An EventBridge event: the `detail` and the envelope (`detail` emptied).
pub type EventBridge<T> = Message<T, aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value>>;

fn malformed(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::bad_request(code::MALFORMED_EVENT, format!("the {what} could not be decoded")).with_source(e)
}

/// Decodes text as JSON; when that fails, offers the raw text to `T` (so `String` accepts
/// plain-text bodies) before reporting the JSON error.
pub(crate) fn decode_text<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, Error> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(json_err) => {
            let de = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text);
            T::deserialize(de).map_err(|_| malformed(what, json_err))
        }
    }
}

pub(crate) fn decode_bytes<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, Error> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(json_err) => match std::str::from_utf8(bytes) {
            Ok(text) => {
                let de = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text);
                T::deserialize(de).map_err(|_| malformed(what, json_err))
            }
            Err(_) => Err(malformed(what, json_err)),
        },
    }
}

pub(crate) fn decode_item<T: DeserializeOwned>(item: serde_dynamo::Item) -> Result<T, Error> {
    serde_dynamo::from_item(item).map_err(|e| malformed("DynamoDB image", e))
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
    fn bytes() {
        assert_eq!(decode_bytes::<String>("data", b"plain").ok().as_deref(), Some("plain"));
        assert!(decode_bytes::<String>("data", &[0xff, 0xfe]).is_err());
    }
}
