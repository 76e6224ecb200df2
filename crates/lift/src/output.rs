//! What an invocation returns to Lambda.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::http::convert::HttpOutput;

/// The response of one invocation, in the shape its source expects. Serialise it (it is what
/// the Runtime API receives) or inspect it in tests.
#[derive(Debug)]
pub struct Output(pub(crate) Inner);

// Built once and moved once per invocation: boxing the HTTP variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Inner {
    /// An HTTP response encoded for API Gateway, ALB or WebSocket.
    Http(HttpOutput),
    /// `{"batchItemFailures": [{"itemIdentifier": ...}]}` for SQS, Kinesis, DynamoDB Streams.
    Batch(Vec<String>),
    /// `null`: SNS, S3, EventBridge processed successfully.
    Empty,
    /// Whatever a fallback handler returned.
    Json(serde_json::Value),
}

impl Output {
    /// The HTTP status, for HTTP events.
    pub fn status(&self) -> Option<u16> {
        match &self.0 {
            Inner::Http(h) => Some(h.status()),
            _ => None,
        }
    }

    /// The identifiers reported as failed, for batch events.
    pub fn batch_item_failures(&self) -> Option<&[String]> {
        match &self.0 {
            Inner::Batch(ids) => Some(ids),
            _ => None,
        }
    }

    /// Room for the JSON of an HTTP response (its body, escaped, and its headers) in one
    /// allocation; a small buffer for the rest.
    fn json_size_hint(&self) -> usize {
        match &self.0 {
            Inner::Http(HttpOutput::ApiGateway(r)) => r.json_size_hint(),
            _ => 128,
        }
    }

    /// The response as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising these types into a Vec has no failure mode (no maps with non-string keys).
        let mut out = Vec::with_capacity(self.json_size_hint());
        match serde_json::to_writer(&mut out, self) {
            Ok(()) => out,
            Err(_) => b"null".to_vec(),
        }
    }
}

impl Serialize for Output {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Inner::Http(h) => h.serialize(s),
            Inner::Batch(ids) => {
                struct Items<'a>(&'a [String]);
                impl Serialize for Items<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut seq = s.serialize_seq(Some(self.0.len()))?;
                        for id in self.0 {
                            seq.serialize_element(&Item(id))?;
                        }
                        seq.end()
                    }
                }
                struct Item<'a>(&'a str);
                impl Serialize for Item<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut m = s.serialize_map(Some(1))?;
                        m.serialize_entry("itemIdentifier", self.0)?;
                        m.end()
                    }
                }
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("batchItemFailures", &Items(ids))?;
                m.end()
            }
            Inner::Empty => s.serialize_unit(),
            Inner::Json(v) => v.serialize(s),
        }
    }
}
