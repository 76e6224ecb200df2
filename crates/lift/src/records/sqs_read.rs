//! Reads an SQS batch into [`SqsMeta`]s whose strings stay where they lie in the batch's text.
//!
//! Invariant: every [`Text::At`] a reader here returns is an offset into the batch it was given.
//! serde hands out borrowed strings as slices of the text being parsed; the parse records
//! their addresses, and [`Parts::rebase`] turns them into offsets before anything else sees
//! them. Strings with JSON escapes come out owned ([`Text::Own`]).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use aws_lambda_events::encodings::Base64Data;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::sqs_meta::{AttributeParts, Parts, SqsMeta, Text};

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text, E> {
                // An address until `rebase` makes it an offset.
                Ok(Text::At {
                    start: v.as_ptr() as usize,
                    len: v.len(),
                })
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text::Own(v.into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Text, E> {
                Ok(Text::Own(v.into_boxed_str()))
            }
        }
        d.deserialize_str(V)
    }
}

impl Text {
    fn rebase(&mut self, base: usize) {
        if let Text::At { start, .. } = self {
            // Never underflows for a slice of the batch; a text that is not one reads as "".
            *start = start.checked_sub(base).unwrap_or(usize::MAX);
        }
    }
}

fn rebase_opt(t: &mut Option<Text>, base: usize) {
    if let Some(t) = t {
        t.rebase(base);
    }
}

/// A JSON object read as its entries in order (`null` reads as none), with room for `CAP`
/// entries before the first one (JSON gives no size hint).
struct Entries<V, const CAP: usize>(Vec<(Text, V)>);

impl<'de, V: Deserialize<'de>, const CAP: usize> Deserialize<'de> for Entries<V, CAP> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<V, const CAP: usize>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>, const CAP: usize> Visitor<'de> for Visit<V, CAP> {
            type Value = Entries<V, CAP>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(CAP));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_any(Visit::<V, CAP>(PhantomData))
    }
}

/// A record as SQS writes it (the fields `aws_lambda_events`' `SqsMessage` reads, with the same
/// rules: every field may be absent or `null`; binary attribute values must be base64).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(default)]
    message_id: Option<Text>,
    #[serde(default)]
    receipt_handle: Option<Text>,
    #[serde(default)]
    body: Option<Text>,
    #[serde(default)]
    md5_of_body: Option<Text>,
    #[serde(default)]
    md5_of_message_attributes: Option<Text>,
    /// Room for a FIFO queue's seven system attributes.
    #[serde(default)]
    attributes: Option<Entries<Text, 8>>,
    #[serde(default)]
    message_attributes: Option<Entries<WireAttribute, 0>>,
    #[serde(default, rename = "eventSourceARN")]
    event_source_arn: Option<Text>,
    #[serde(default)]
    event_source: Option<Text>,
    #[serde(default)]
    aws_region: Option<Text>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAttribute {
    // No `default` on these two, as in `SqsMessageAttribute`: it decides what an attribute
    // written as an array must hold.
    string_value: Option<Text>,
    binary_value: Option<Base64Data>,
    #[serde(default)]
    string_list_values: Vec<Text>,
    #[serde(default)]
    binary_list_values: Vec<Base64Data>,
    #[serde(default)]
    data_type: Option<Text>,
}

impl<'de> Deserialize<'de> for Parts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        let attribute = |a: WireAttribute| AttributeParts {
            data_type: a.data_type,
            string_value: a.string_value,
            binary_value: a.binary_value.map(|b| b.0),
            string_list_values: a.string_list_values,
            binary_list_values: a.binary_list_values.into_iter().map(|b| b.0).collect(),
        };
        Ok(Parts {
            message_id: w.message_id,
            receipt_handle: w.receipt_handle,
            body: w.body,
            md5_of_body: w.md5_of_body,
            md5_of_message_attributes: w.md5_of_message_attributes,
            attributes: w.attributes.map(|e| e.0).unwrap_or_default(),
            message_attributes: w
                .message_attributes
                .map(|e| e.0.into_iter().map(|(k, a)| (k, attribute(a))).collect())
                .unwrap_or_default(),
            event_source_arn: w.event_source_arn,
            event_source: w.event_source,
            aws_region: w.aws_region,
        })
    }
}

impl Parts {
    fn rebase(&mut self, base: usize) {
        for t in [
            &mut self.message_id,
            &mut self.receipt_handle,
            &mut self.body,
            &mut self.md5_of_body,
            &mut self.md5_of_message_attributes,
            &mut self.event_source_arn,
            &mut self.event_source,
            &mut self.aws_region,
        ] {
            rebase_opt(t, base);
        }
        for (k, v) in &mut self.attributes {
            k.rebase(base);
            v.rebase(base);
        }
        for (k, a) in &mut self.message_attributes {
            k.rebase(base);
            rebase_opt(&mut a.data_type, base);
            rebase_opt(&mut a.string_value, base);
            a.string_list_values.iter_mut().for_each(|t| t.rebase(base));
        }
    }
}

/// The records of a batch read in one pass; `Err` when the batch or any record does not read.
pub(crate) fn read_all(batch: &Arc<str>) -> Result<impl Iterator<Item = SqsMeta> + '_, serde_json::Error> {
    #[derive(Deserialize)]
    struct Records {
        #[serde(rename = "Records")]
        records: Vec<Parts>,
    }
    let records = serde_json::from_str::<Records>(batch)?.records;
    let base = batch.as_ptr() as usize;
    Ok(records.into_iter().map(move |mut parts| {
        parts.rebase(base);
        SqsMeta {
            batch: batch.clone(),
            parts,
        }
    }))
}

/// One record, `raw` being its text within `batch`.
pub(crate) fn read_one(batch: &Arc<str>, raw: &str) -> Result<SqsMeta, serde_json::Error> {
    let mut parts = serde_json::from_str::<Parts>(raw)?;
    parts.rebase(batch.as_ptr() as usize);
    Ok(SqsMeta {
        batch: batch.clone(),
        parts,
    })
}

/// What FIFO ordering and failure reports need of a record that did not read: the same
/// [`SqsMeta`] with only its id, queue and group (owned, read leniently).
pub(crate) fn probe(batch: &Arc<str>, raw: &str) -> SqsMeta {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "messageId", default)]
        message_id: Option<String>,
        #[serde(rename = "eventSourceARN", default)]
        arn: Option<String>,
        #[serde(default)]
        attributes: Option<ProbeAttributes>,
    }
    #[derive(Deserialize)]
    struct ProbeAttributes {
        #[serde(rename = "MessageGroupId", default)]
        group: Option<String>,
    }
    let own = |s: String| Text::Own(s.into_boxed_str());
    let mut parts = Parts::default();
    if let Ok(p) = serde_json::from_str::<Probe>(raw) {
        parts.message_id = p.message_id.map(own);
        parts.event_source_arn = p.arn.map(own);
        if let Some(group) = p.attributes.and_then(|a| a.group) {
            parts.attributes.push((own("MessageGroupId".into()), own(group)));
        }
    }
    SqsMeta {
        batch: batch.clone(),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
    use serde_json::{json, Value};

    use super::{read_all, read_one};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    fn fixture(name: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture")).expect("json")
    }

    /// The invariant: a record reads in place exactly when `aws_lambda_events` decodes it, and
    /// then reads the same. Returns whether it read.
    fn agrees(record: &Value) -> bool {
        let text = record.to_string();
        let batch: Arc<str> = Arc::from(format!("{{\"Records\":[{text}]}}"));
        let typed = serde_json::from_str::<SqsMessage>(&text);
        let one = read_one(&batch, &batch[12..batch.len() - 2]);
        let all = read_all(&batch).map(|mut r| r.next().expect("a record"));
        match (one, all, typed) {
            (Ok(one), Ok(all), Ok(mut typed)) => {
                assert_eq!(one.body(), typed.body.as_deref(), "{text}");
                typed.body = None;
                assert_eq!(one.to_message(), typed, "{text}");
                assert_eq!(all.to_message(), typed, "{text}");
                assert_eq!(
                    one.message_group_id(),
                    typed.attributes.get("MessageGroupId").map(String::as_str)
                );
                true
            }
            (Err(_), Err(_), Err(_)) => false,
            (one, all, typed) => panic!(
                "disagree on {text}: in place {:?} / {:?}, typed {:?}",
                one.err(),
                all.err(),
                typed.err()
            ),
        }
    }

    #[test]
    fn awss_sqs_events_read_in_place_as_aws_lambda_events_reads_them() {
        for name in ["example-sqs-event.json", "example-sqs-event-obj.json"] {
            let event = fixture(name);
            let typed: SqsEvent = serde_json::from_value(event.clone()).expect("typed");
            let batch: Arc<str> = Arc::from(event.to_string());
            let read: Vec<_> = read_all(&batch).expect("reads").collect();
            assert_eq!(read.len(), typed.records.len(), "{name}");
            for (meta, mut typed) in read.into_iter().zip(typed.records) {
                assert_eq!(meta.body(), typed.body.as_deref(), "{name}");
                typed.body = None;
                assert_eq!(meta.to_message(), typed, "{name}");
            }
            for record in event["Records"].as_array().expect("records") {
                assert!(agrees(record), "{name}");
            }
        }
        let meta = read_all(&Arc::from(fixture("example-sqs-event.json").to_string()))
            .expect("reads")
            .next()
            .expect("a record");
        assert_eq!(meta.approximate_receive_count(), Some(2));
        let a3 = meta.message_attribute("Attribute3").expect("Attribute3");
        assert_eq!(a3.binary_value(), Some(&b"1100"[..]));
        assert_eq!(a3.string_list_values().collect::<Vec<_>>(), ["abc", "123"]);
        assert_eq!(
            meta.message_attribute("Attribute2").and_then(|a| a.string_value()),
            Some("123")
        );
    }

    #[test]
    fn every_field_set_to_odd_values_reads_as_the_typed_decode_reads_or_fails_with_it() {
        let base = fixture("example-sqs-event.json")["Records"][0].clone();
        let odd = [
            json!(null),
            json!(5),
            json!(-1.5),
            json!(""),
            json!("x\"y\\u00e9\n"),
            json!([]),
            json!(["a"]),
            json!({}),
            json!({"k": "v"}),
            json!({"k": 1}),
            json!(true),
            json!("MTEwMA=="),
            json!("%%"),
        ];
        let mut read = 0;
        let mut cases = 0;
        let attribute_keys = [
            "stringValue",
            "binaryValue",
            "stringListValues",
            "binaryListValues",
            "dataType",
        ];
        for value in &odd {
            let mut paths: Vec<Vec<&str>> = base
                .as_object()
                .expect("record")
                .keys()
                .map(|k| vec![k.as_str()])
                .collect();
            paths.push(vec!["attributes", "SentTimestamp"]);
            paths.push(vec!["messageAttributes", "Attribute1"]);
            paths.extend(
                attribute_keys
                    .iter()
                    .map(|k| vec!["messageAttributes", "Attribute1", k]),
            );
            paths.push(vec!["unknownField"]);
            for path in paths {
                let mut record = base.clone();
                let mut at = &mut record;
                for key in &path {
                    at = &mut at[*key];
                }
                *at = value.clone();
                cases += 1;
                read += usize::from(agrees(&record));
            }
        }
        assert!(read > 0 && read < cases, "{read} of {cases}");
    }

    #[test]
    fn escaped_and_repeated_keys_read_as_a_map_reads_them() {
        // In this order: the escaped spelling of the key first, then the plain one.
        let text = r#"{"messageId":"id-\u00e9\"1","eventSourceARN":"arn:aws:sqs:eu-west-1:1:q.fifo",
            "attributes":{"Message\u0047roupId":"g1","MessageGroupId":"g2","SentTimestamp":"1"}}"#;
        let batch: Arc<str> = Arc::from(format!("{{\"Records\":[{text}]}}"));
        let meta = read_all(&batch).expect("reads").next().expect("a record");
        assert_eq!(meta.message_id(), Some("id-\u{e9}\"1"));
        assert_eq!(meta.message_group_id(), Some("g2"), "the last of a key given twice");
        let typed: SqsMessage = serde_json::from_str(text).expect("typed");
        assert_eq!(meta.to_message(), typed);
    }
}
