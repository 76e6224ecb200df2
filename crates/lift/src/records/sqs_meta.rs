//! [`SqsMeta`]: an SQS message's metadata as its handler reads it, without copying it out of
//! the batch.

use std::fmt;
use std::sync::Arc;

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};

/// A string of the batch: where its text lies in the batch, or its value when JSON escapes made
/// the value differ from the text (rare: ids, handles and attributes are plain ASCII).
#[derive(Clone, Debug)]
pub(crate) enum Text {
    /// `batch[start..start + len]`.
    At {
        start: usize,
        len: usize,
    },
    Own(Box<str>),
}

impl Text {
    pub(crate) fn get<'a>(&'a self, batch: &'a str) -> &'a str {
        match self {
            // Offsets come from slices of this very batch (see `sqs_read`): always in bounds
            // on char boundaries; `get` keeps a mistake from panicking.
            Text::At { start, len } => start
                .checked_add(*len)
                .and_then(|end| batch.get(*start..end))
                .unwrap_or_default(),
            Text::Own(s) => s,
        }
    }
}

/// A message attribute's value, as read from the batch.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttributeParts {
    pub(crate) data_type: Option<Text>,
    pub(crate) string_value: Option<Text>,
    pub(crate) binary_value: Option<Vec<u8>>,
    pub(crate) string_list_values: Vec<Text>,
    pub(crate) binary_list_values: Vec<Vec<u8>>,
}

/// The fields of a record, its strings as [`Text`]s of the batch.
#[derive(Clone, Debug, Default)]
pub(crate) struct Parts {
    pub(crate) message_id: Option<Text>,
    pub(crate) receipt_handle: Option<Text>,
    pub(crate) body: Option<Text>,
    pub(crate) md5_of_body: Option<Text>,
    pub(crate) md5_of_message_attributes: Option<Text>,
    pub(crate) attributes: Vec<(Text, Text)>,
    pub(crate) message_attributes: Vec<(Text, AttributeParts)>,
    pub(crate) event_source_arn: Option<Text>,
    pub(crate) event_source: Option<Text>,
    pub(crate) aws_region: Option<Text>,
}

/// The metadata of an SQS message: the `meta` of an [`Sqs`](crate::Sqs) message.
///
/// Every string is read where it lies in the batch's text, which the batch's messages share:
/// reading a batch of ten costs a few allocations in all rather than a `String` per field and
/// two hash maps per message (which `aws_lambda_events`' [`SqsMessage`] holds; take one with
/// [`to_message`](Self::to_message) when you need that type). A `SqsMeta` kept past its
/// handler keeps its batch's text alive; `to_message` gives a copy that does not.
#[derive(Clone)]
pub struct SqsMeta {
    pub(crate) batch: Arc<str>,
    pub(crate) parts: Parts,
}

fn opt<'a>(t: &'a Option<Text>, batch: &'a str) -> Option<&'a str> {
    t.as_ref().map(|t| t.get(batch))
}

impl SqsMeta {
    /// `messageId` (the batch reports failures by it).
    pub fn message_id(&self) -> Option<&str> {
        opt(&self.parts.message_id, &self.batch)
    }

    /// `receiptHandle`.
    pub fn receipt_handle(&self) -> Option<&str> {
        opt(&self.parts.receipt_handle, &self.batch)
    }

    /// The message body as sent (the [`Sqs`](crate::Sqs) message's `body` is it decoded).
    pub fn body(&self) -> Option<&str> {
        opt(&self.parts.body, &self.batch)
    }

    /// `md5OfBody`.
    pub fn md5_of_body(&self) -> Option<&str> {
        opt(&self.parts.md5_of_body, &self.batch)
    }

    /// `md5OfMessageAttributes`.
    pub fn md5_of_message_attributes(&self) -> Option<&str> {
        opt(&self.parts.md5_of_message_attributes, &self.batch)
    }

    /// `eventSourceARN`: the queue's ARN.
    pub fn event_source_arn(&self) -> Option<&str> {
        opt(&self.parts.event_source_arn, &self.batch)
    }

    /// `eventSource` (`aws:sqs`).
    pub fn event_source(&self) -> Option<&str> {
        opt(&self.parts.event_source, &self.batch)
    }

    /// `awsRegion`.
    pub fn aws_region(&self) -> Option<&str> {
        opt(&self.parts.aws_region, &self.batch)
    }

    /// A system attribute (`ApproximateReceiveCount`, `SentTimestamp`, `MessageGroupId`...).
    /// A name given twice reads as its last value, as a map of the record would.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attribute_text(name).map(|v| v.get(&self.batch))
    }

    /// The value of the last system attribute named `name`: the typed decode keeps a key
    /// given twice as its last value.
    fn attribute_text(&self, name: &str) -> Option<&Text> {
        let batch = &*self.batch;
        self.parts
            .attributes
            .iter()
            .rev()
            .find(|(k, _)| k.get(batch) == name)
            .map(|(_, v)| v)
    }

    /// The system attributes, in the order the record lists them.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let batch = &*self.batch;
        self.parts
            .attributes
            .iter()
            .map(move |(k, v)| (k.get(batch), v.get(batch)))
    }

    /// `MessageGroupId`: the FIFO message group.
    pub fn message_group_id(&self) -> Option<&str> {
        self.attribute("MessageGroupId")
    }

    /// `ApproximateReceiveCount`: 1 on the first delivery (`None` when absent or not a number).
    pub fn approximate_receive_count(&self) -> Option<u32> {
        self.attribute("ApproximateReceiveCount")?.parse().ok()
    }

    /// The `messageId` and `MessageGroupId` texts, which outlive the record in its batch.
    pub(crate) fn failure_keys(&self) -> (Option<Text>, Option<Text>) {
        let group = self.attribute_text("MessageGroupId").cloned();
        (self.parts.message_id.clone(), group)
    }

    /// A message attribute set by the sender.
    pub fn message_attribute(&self, name: &str) -> Option<SqsAttribute<'_>> {
        let batch = &*self.batch;
        self.parts
            .message_attributes
            .iter()
            .rev()
            .find(|(k, _)| k.get(batch) == name)
            .map(|(_, parts)| SqsAttribute { batch, parts })
    }

    /// The message attributes, in the order the record lists them.
    pub fn message_attributes(&self) -> impl Iterator<Item = (&str, SqsAttribute<'_>)> + '_ {
        let batch = &*self.batch;
        self.parts
            .message_attributes
            .iter()
            .map(move |(k, parts)| (k.get(batch), SqsAttribute { batch, parts }))
    }

    /// The record as `aws_lambda_events`' [`SqsMessage`] (owned strings and maps), without its
    /// body, as `Sqs<T>::meta` was before Lift read messages in place.
    pub fn to_message(&self) -> SqsMessage {
        let batch = &*self.batch;
        let own = |t: &Option<Text>| t.as_ref().map(|t| t.get(batch).to_owned());
        let mut m = SqsMessage::default();
        m.message_id = own(&self.parts.message_id);
        m.receipt_handle = own(&self.parts.receipt_handle);
        m.md5_of_body = own(&self.parts.md5_of_body);
        m.md5_of_message_attributes = own(&self.parts.md5_of_message_attributes);
        m.event_source_arn = own(&self.parts.event_source_arn);
        m.event_source = own(&self.parts.event_source);
        m.aws_region = own(&self.parts.aws_region);
        m.attributes = self.attributes().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        m.message_attributes = self
            .message_attributes()
            .map(|(k, a)| (k.to_owned(), a.to_attribute()))
            .collect();
        m
    }
}

impl fmt::Debug for SqsMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqsMeta")
            .field("message_id", &self.message_id())
            .field("receipt_handle", &self.receipt_handle())
            .field("md5_of_body", &self.md5_of_body())
            .field("attributes", &self.attributes().collect::<Vec<_>>())
            .field("message_attributes", &self.message_attributes().collect::<Vec<_>>())
            .field("event_source_arn", &self.event_source_arn())
            .field("aws_region", &self.aws_region())
            .finish_non_exhaustive()
    }
}

/// A message attribute of an [`SqsMeta`].
#[derive(Clone, Copy)]
pub struct SqsAttribute<'a> {
    batch: &'a str,
    parts: &'a AttributeParts,
}

impl<'a> SqsAttribute<'a> {
    /// `dataType`: `String`, `Number`, `Binary`, or one of those with a custom suffix.
    pub fn data_type(&self) -> Option<&'a str> {
        opt(&self.parts.data_type, self.batch)
    }

    /// `stringValue` (`String` and `Number` attributes).
    pub fn string_value(&self) -> Option<&'a str> {
        opt(&self.parts.string_value, self.batch)
    }

    /// `binaryValue`, base64-decoded (`Binary` attributes).
    pub fn binary_value(&self) -> Option<&'a [u8]> {
        self.parts.binary_value.as_deref()
    }

    /// `stringListValues` (reserved by SQS; usually empty).
    pub fn string_list_values(&self) -> impl Iterator<Item = &'a str> + 'a {
        let batch = self.batch;
        self.parts.string_list_values.iter().map(move |t| t.get(batch))
    }

    /// `binaryListValues`, base64-decoded (reserved by SQS; usually empty).
    pub fn binary_list_values(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.parts.binary_list_values.iter().map(Vec::as_slice)
    }

    fn to_attribute(self) -> SqsMessageAttribute {
        let base64 = |bytes: &[u8]| {
            let mut data = Base64Data::default();
            data.extend_from_slice(bytes);
            data
        };
        let mut a = SqsMessageAttribute::default();
        a.data_type = self.data_type().map(str::to_owned);
        a.string_value = self.string_value().map(str::to_owned);
        a.binary_value = self.binary_value().map(base64);
        a.string_list_values = self.string_list_values().map(str::to_owned).collect();
        a.binary_list_values = self.binary_list_values().map(base64).collect();
        a
    }
}

impl fmt::Debug for SqsAttribute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqsAttribute")
            .field("data_type", &self.data_type())
            .field("string_value", &self.string_value())
            .field("binary_value", &self.binary_value())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn a_text_outside_its_batch_reads_as_empty_never_a_panic() {
        let batch = "abcdef";
        assert_eq!(Text::At { start: 1, len: 3 }.get(batch), "bcd");
        assert_eq!(Text::At { start: 4, len: 9 }.get(batch), "");
        assert_eq!(
            Text::At {
                start: usize::MAX,
                len: 3
            }
            .get(batch),
            ""
        );
        assert_eq!(Text::At { start: 0, len: 0 }.get("é"), "");
        assert_eq!(Text::At { start: 1, len: 1 }.get("é"), "", "not a char boundary");
        assert_eq!(Text::Own("x".into()).get(batch), "x");
    }
}
