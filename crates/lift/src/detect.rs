//! Recognising which AWS service sent an event, from its shape alone.
//!
//! One pass over the JSON reads the keys that tell sources apart and skips the rest without
//! allocating. The same pass reads an API Gateway HTTP API (payload 2.0) request's own parts:
//! its path and query as strings, its `requestContext` typed (`detect/context.rs`), and its
//! headers, cookies and body as their text, read only once the event is known to be v2 (other
//! HTTP shapes decode those the long way and must not pay for them twice). Its context, the
//! largest part, is thus read once, not three times. Those parts are read leniently
//! (`lenient.rs`): a wrong type never changes what is detected, and such an event takes the
//! long way, a typed decode of the whole text that reports the problem.
//! Every probed level must be a JSON object: serde would otherwise read a struct from an array
//! by position, and `[[1]]` would pass for an ALB event.

use std::borrow::Cow;
use std::fmt;

use http::HeaderMap;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;

use crate::lenient::{MaybeBool, MaybeHeaders, MaybeStr, MaybeStrings};

mod context;
use context::ContextRead;

/// The event sources Lift recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// API Gateway REST API (payload format 1.0).
    ApiGatewayV1,
    /// API Gateway HTTP API (payload format 2.0) and Lambda Function URLs.
    ApiGatewayV2,
    /// Application Load Balancer target.
    Alb,
    /// API Gateway WebSocket API.
    WebSocket,
    /// Amazon SQS batch.
    Sqs,
    /// Amazon SNS notification.
    Sns,
    /// Amazon S3 event notification.
    S3,
    /// Amazon EventBridge event (including scheduled events).
    EventBridge,
    /// DynamoDB Streams batch.
    DynamoDb,
    /// Kinesis Data Streams batch.
    Kinesis,
    /// Amazon VPC Lattice request, event version 1 (snake_case keys, no request context).
    VpcLatticeV1,
    /// Amazon VPC Lattice request, event version 2.
    VpcLatticeV2,
    /// Apache Kafka batch: Amazon MSK (`aws:kafka`) or self-managed (`SelfManagedKafka`).
    Kafka,
    /// API Gateway Lambda authorizer (`TOKEN` or `REQUEST`; REST, WebSocket, HTTP API).
    Authorizer,
    /// None of the above.
    Unknown,
}

impl EventKind {
    /// A short, stable name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ApiGatewayV1 => "apigw-rest",
            EventKind::ApiGatewayV2 => "apigw-http",
            EventKind::Alb => "alb",
            EventKind::WebSocket => "websocket",
            EventKind::Sqs => "sqs",
            EventKind::Sns => "sns",
            EventKind::S3 => "s3",
            EventKind::EventBridge => "eventbridge",
            EventKind::DynamoDb => "dynamodb",
            EventKind::Kinesis => "kinesis",
            EventKind::VpcLatticeV1 => "vpc-lattice-v1",
            EventKind::VpcLatticeV2 => "vpc-lattice-v2",
            EventKind::Kafka => "kafka",
            EventKind::Authorizer => "authorizer",
            EventKind::Unknown => "unknown",
        }
    }

    /// Whether the event is an HTTP request (answered with an HTTP-shaped response).
    pub fn is_http(self) -> bool {
        matches!(
            self,
            EventKind::ApiGatewayV1
                | EventKind::ApiGatewayV2
                | EventKind::Alb
                | EventKind::WebSocket
                | EventKind::VpcLatticeV1
                | EventKind::VpcLatticeV2
        )
    }
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "requestContext", borrow, default)]
    request_context: Option<Box<ContextRead<'a>>>,
    #[serde(rename = "httpMethod", default)]
    http_method: Option<Str>,
    #[serde(rename = "Records", default)]
    records: Option<FirstSource>,
    #[serde(rename = "detail-type", default)]
    detail_type: Option<IgnoredAny>,
    #[serde(default)]
    source: Option<IgnoredAny>,
    /// VPC Lattice v1: `raw_path` and `method`, snake_case, at the top level.
    #[serde(default)]
    raw_path: Option<Str>,
    #[serde(default)]
    method: Option<Str>,
    /// Kafka: `aws:kafka` or `SelfManagedKafka` (a batch's `records` are an object, not `Records`).
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<Cow<'a, str>>,
    /// Authorizer events: `type` is `TOKEN` or `REQUEST` and an ARN names the method or route.
    #[serde(rename = "type", default)]
    authorizer_type: Option<AuthorizerType>,
    #[serde(rename = "methodArn", default)]
    method_arn: Option<Str>,
    #[serde(rename = "routeArn", default)]
    route_arn: Option<Str>,
    // API Gateway v2's request parts (`None`: absent; `Some(Maybe*(None))`: of the wrong type).
    #[serde(rename = "rawPath", borrow, default)]
    raw_path_v2: Option<MaybeStr<'a>>,
    #[serde(rename = "rawQueryString", borrow, default)]
    raw_query: Option<MaybeStr<'a>>,
    // Captured as text, read only once the event is known to be v2: other HTTP shapes decode
    // their headers and body the long way, and must not pay for them twice.
    #[serde(borrow, default)]
    cookies: Option<&'a RawValue>,
    #[serde(borrow, default)]
    headers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
    #[serde(rename = "isBase64Encoded", default)]
    is_base64_encoded: Option<MaybeBool>,
}

/// An API Gateway v2 request's parts, read by the detection pass; see the module docs.
pub(crate) struct V2Parts<'a> {
    pub(crate) request_context: ApiGatewayV2httpRequestContext,
    pub(crate) raw_path: Option<Cow<'a, str>>,
    pub(crate) raw_query: Option<Cow<'a, str>>,
    pub(crate) cookies: Option<Vec<String>>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Cow<'a, str>>,
    pub(crate) is_base64_encoded: bool,
}

impl<'a> Probe<'a> {
    /// The v2 parts, if every one present has its type.
    fn v2_parts(self, request_context: Option<ApiGatewayV2httpRequestContext>) -> Option<V2Parts<'a>> {
        fn valid<T, U>(field: Option<T>, inner: impl FnOnce(T) -> Option<U>) -> Option<Option<U>> {
            match field {
                None => Some(None),
                Some(v) => inner(v).map(Some),
            }
        }
        fn read<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Option<T> {
            serde_json::from_str(raw.get()).ok()
        }
        Some(V2Parts {
            request_context: request_context?,
            raw_path: valid(self.raw_path_v2, |m| m.0)?,
            raw_query: valid(self.raw_query, |m| m.0)?,
            cookies: valid(self.cookies, |r| read::<MaybeStrings>(r)?.0)?,
            headers: valid(self.headers, |r| read::<MaybeHeaders>(r)?.0)?.unwrap_or_default(),
            body: valid(self.body, |r| read::<MaybeStr<'a>>(r)?.0)?,
            is_base64_encoded: valid(self.is_base64_encoded, |m| m.0)?.unwrap_or(false),
        })
    }
}

/// Whether `type` is `TOKEN` or `REQUEST`; any other value (of any JSON type) is not.
struct AuthorizerType(bool);

impl<'de> Deserialize<'de> for AuthorizerType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = IgnoredOrStr::deserialize(d)?;
        Ok(AuthorizerType(
            matches!(v, IgnoredOrStr::Str(s) if s == "TOKEN" || s == "REQUEST"),
        ))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IgnoredOrStr<'a> {
    Str(#[serde(borrow)] Cow<'a, str>),
    Other(IgnoredAny),
}

/// A value that must be a JSON object; an array or a scalar is a data error, never a struct
/// read by position.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A value that must be a JSON string (its content is not kept).
struct Str;

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Str, E> {
                Ok(Str)
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Deserialize)]
struct RecordProbe<'a> {
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<Cow<'a, str>>,
    #[serde(rename = "EventSource", borrow, default)]
    event_source_sns: Option<Cow<'a, str>>,
}

/// The `eventSource` of the first record of a `Records` array; the rest are skipped.
struct FirstSource(Option<EventKind>);

impl<'de> Deserialize<'de> for FirstSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FirstSource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FirstSource, A::Error> {
                let first: Option<Object<RecordProbe<'de>>> = seq.next_element()?;
                let kind = first.and_then(|Object(r)| {
                    let src = r.event_source.or(r.event_source_sns)?;
                    Some(match &*src {
                        "aws:sqs" => EventKind::Sqs,
                        "aws:sns" => EventKind::Sns,
                        "aws:s3" => EventKind::S3,
                        "aws:dynamodb" => EventKind::DynamoDb,
                        "aws:kinesis" => EventKind::Kinesis,
                        _ => EventKind::Unknown,
                    })
                });
                // The first record names the source; stop reading here rather than skim the
                // rest of a large batch (the typed decode that follows validates all of it).
                let tag = match kind {
                    Some(EventKind::Sqs) => "sqs",
                    Some(EventKind::Sns) => "sns",
                    Some(EventKind::S3) => "s3",
                    Some(EventKind::DynamoDb) => "dynamodb",
                    Some(EventKind::Kinesis) => "kinesis",
                    _ => {
                        while seq.next_element::<IgnoredAny>()?.is_some() {}
                        return Ok(FirstSource(kind));
                    }
                };
                Err(de::Error::custom(format_args!("{STOP}{tag}")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<FirstSource, E> {
                Ok(FirstSource(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Marks the deliberate early stop of the probe once a batch's source is known.
const STOP: &str = "\u{0}lift-detected:";

fn stopped_at(e: &serde_json::Error) -> Option<EventKind> {
    let msg = e.to_string();
    let tag = msg.strip_prefix(STOP)?;
    let tag = tag.split(' ').next()?;
    Some(match tag {
        "sqs" => EventKind::Sqs,
        "sns" => EventKind::Sns,
        "s3" => EventKind::S3,
        "dynamodb" => EventKind::DynamoDb,
        "kinesis" => EventKind::Kinesis,
        _ => return None,
    })
}

/// Classifies a JSON event. Errors only when the text is not JSON at all; a JSON value of an
/// unrecognised shape (including non-objects) is [`EventKind::Unknown`].
pub fn detect(json: &str) -> Result<EventKind, serde_json::Error> {
    read(json).map(|(kind, _)| kind)
}

/// [`detect`], with an API Gateway v2 request's parts when it is one and they are well typed.
pub(crate) fn read(json: &str) -> Result<(EventKind, Option<V2Parts<'_>>), serde_json::Error> {
    let probe = match serde_json::from_str::<Object<Probe<'_>>>(json) {
        Ok(Object(p)) => p,
        Err(e) if e.is_data() => match stopped_at(&e) {
            Some(kind) => return Ok((kind, None)),
            None => return Ok((EventKind::Unknown, None)),
        },
        Err(e) if e.is_syntax() || e.is_eof() => return Err(e),
        // Valid JSON of another shape (an array, a string, a field of an unexpected type).
        Err(_) => return Ok((EventKind::Unknown, None)),
    };
    Ok(classify(probe))
}

fn classify(mut probe: Probe<'_>) -> (EventKind, Option<V2Parts<'_>>) {
    // Before the request context: a REQUEST authorizer event carries one (and `httpMethod`).
    if probe.authorizer_type.as_ref().is_some_and(|t| t.0) && (probe.method_arn.is_some() || probe.route_arn.is_some())
    {
        return (EventKind::Authorizer, None);
    }
    if let Some(ctx) = probe.request_context.take() {
        if ctx.recognisable {
            // WebSocket first: some WebSocket events also carry `httpMethod` and `path`.
            if ctx.connection_id {
                return (EventKind::WebSocket, None);
            }
            if ctx.elb {
                return (EventKind::Alb, None);
            }
            if ctx.http {
                return (EventKind::ApiGatewayV2, probe.v2_parts(ctx.into_v2()));
            }
            if probe.http_method.is_some() {
                return (EventKind::ApiGatewayV1, None);
            }
            if ctx.service_arn && probe.method.is_some() {
                return (EventKind::VpcLatticeV2, None);
            }
        }
        return (EventKind::Unknown, None);
    }
    if let Some(FirstSource(kind)) = probe.records {
        return (kind.unwrap_or(EventKind::Unknown), None);
    }
    if probe.detail_type.is_some() && probe.source.is_some() {
        return (EventKind::EventBridge, None);
    }
    if probe.raw_path.is_some() && probe.method.is_some() {
        return (EventKind::VpcLatticeV1, None);
    }
    if matches!(probe.event_source.as_deref(), Some("aws:kafka" | "SelfManagedKafka")) {
        return (EventKind::Kafka, None);
    }
    (EventKind::Unknown, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(detect("{}").ok(), Some(EventKind::Unknown));
        assert_eq!(detect("[1,2]").ok(), Some(EventKind::Unknown));
        assert_eq!(detect("\"x\"").ok(), Some(EventKind::Unknown));
        assert_eq!(detect(r#"{"Records": []}"#).ok(), Some(EventKind::Unknown));
        assert_eq!(detect(r#"{"Records": null}"#).ok(), Some(EventKind::Unknown));
        assert_eq!(
            detect(r#"{"Records": [{"eventSource": "aws:sqs"}, 5]}"#).ok(),
            Some(EventKind::Sqs)
        );
        assert_eq!(
            detect(r#"{"Records": [{"EventSource": "aws:sns"}]}"#).ok(),
            Some(EventKind::Sns)
        );
        assert_eq!(
            detect(r#"{"source": "a", "detail-type": "b"}"#).ok(),
            Some(EventKind::EventBridge)
        );
        assert!(detect("{").is_err());
        assert!(detect("").is_err());
    }

    #[test]
    fn arrays_scalars_and_near_misses_are_unknown() {
        for json in [
            "[[1]]",
            "[]",
            "[{}]",
            r#"[{"elb": {}}, 1]"#,
            r#"[{"requestContext": {"elb": {}}, "httpMethod": "GET"}]"#,
            "1",
            "true",
            "null",
            "{}",
            r#"{"requestContext": [1]}"#,
            r#"{"requestContext": [[1]]}"#,
            r#"{"requestContext": {}}"#,
            r#"{"requestContext": {"elb": 1}}"#,
            r#"{"requestContext": {"elb": [1]}}"#,
            r#"{"requestContext": {"http": "GET"}}"#,
            r#"{"requestContext": {"connectionId": 5}}"#,
            r#"{"requestContext": {"stage": "prod"}, "httpMethod": 1}"#,
            r#"{"Records": [["aws:sqs"]]}"#,
            r#"{"Records": [{"eventSource": "aws:other"}]}"#,
            r#"{"Records": "aws:sqs"}"#,
            r#"{"source": "a"}"#,
        ] {
            assert_eq!(detect(json).ok(), Some(EventKind::Unknown), "{json}");
        }
    }

    #[test]
    fn authorizer_events_need_a_type_and_an_arn() {
        for json in [
            r#"{"type": "TOKEN", "methodArn": "arn:x", "authorizationToken": "t"}"#,
            r#"{"type": "REQUEST", "methodArn": "arn:x", "httpMethod": "GET", "requestContext": {"stage": "p"}}"#,
            r#"{"version": "2.0", "type": "REQUEST", "routeArn": "arn:x", "requestContext": {"http": {}}}"#,
        ] {
            assert_eq!(detect(json).ok(), Some(EventKind::Authorizer), "{json}");
        }
        assert_eq!(
            detect(r#"{"type": "REQUEST", "httpMethod": "GET", "requestContext": {"stage": "p"}}"#).ok(),
            Some(EventKind::ApiGatewayV1),
            "no ARN: not an authorizer event"
        );
        assert_eq!(
            detect(r#"{"type": "OTHER", "methodArn": "arn:x"}"#).ok(),
            Some(EventKind::Unknown)
        );
        assert_eq!(
            detect(r#"{"type": 5, "methodArn": "arn:x"}"#).ok(),
            Some(EventKind::Unknown)
        );
        assert_eq!(
            detect(r#"{"type": "TOKEN", "methodArn": 5}"#).ok(),
            Some(EventKind::Unknown)
        );
    }

    #[test]
    fn http_shapes_need_their_context_objects() {
        assert_eq!(
            detect(r#"{"requestContext": {"elb": {"targetGroupArn": "x"}}, "httpMethod": "GET"}"#).ok(),
            Some(EventKind::Alb)
        );
        assert_eq!(
            detect(r#"{"requestContext": {"http": {"method": "GET"}}}"#).ok(),
            Some(EventKind::ApiGatewayV2)
        );
        assert_eq!(
            detect(r#"{"requestContext": {"stage": "prod"}, "httpMethod": "GET"}"#).ok(),
            Some(EventKind::ApiGatewayV1)
        );
        assert_eq!(
            detect(r#"{"requestContext": {"connectionId": "abc="}}"#).ok(),
            Some(EventKind::WebSocket)
        );
    }

    #[test]
    fn lattice_and_kafka_shapes() {
        assert_eq!(
            detect(r#"{"raw_path": "/x", "method": "GET", "headers": {}}"#).ok(),
            Some(EventKind::VpcLatticeV1)
        );
        assert_eq!(
            detect(r#"{"version": "2.0", "path": "/x", "method": "GET", "requestContext": {"serviceArn": "arn"}}"#)
                .ok(),
            Some(EventKind::VpcLatticeV2)
        );
        assert_eq!(
            detect(r#"{"eventSource": "aws:kafka", "records": {}}"#).ok(),
            Some(EventKind::Kafka)
        );
        assert_eq!(
            detect(r#"{"eventSource": "SelfManagedKafka", "records": {}}"#).ok(),
            Some(EventKind::Kafka)
        );
        for json in [
            r#"{"raw_path": "/x"}"#,
            r#"{"raw_path": 1, "method": "GET"}"#,
            r#"{"requestContext": {"serviceArn": "arn"}}"#,
            r#"{"requestContext": {"serviceArn": 5}, "method": "GET"}"#,
            r#"{"eventSource": "aws:other"}"#,
            r#"{"eventSource": 1}"#,
        ] {
            assert_eq!(detect(json).ok(), Some(EventKind::Unknown), "{json}");
        }
    }
}
