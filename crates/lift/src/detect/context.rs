//! Detection's one read of an event's `requestContext`: the keys that tell the HTTP sources
//! apart and, for an API Gateway HTTP API (payload 2.0) request, the whole typed context, so
//! that context is never read a second time.
//!
//! Invariants, which keep this read answering exactly as the typed decodes it stands in for:
//! - a key that tells sources apart (`connectionId`, `elb`, `http`, `serviceArn`) of the wrong
//!   type, or given twice, makes the context unrecognisable (the event is `Unknown`);
//! - the HTTP API context is kept only when every key is one `aws_lambda_events` reads, of the
//!   type it reads, given once. Anything else (a wrong type, an extra key that its
//!   `catch-all-fields` feature would keep) leaves it out, and the event takes the long way: a
//!   typed decode of the whole text, which keeps or reports it.

use std::borrow::Cow;
use std::fmt;

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextAuthentication,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::lenient::{containers_are, numbers_are, scalars_are, MaybeI64, NullableStr};

/// What detection read of a `requestContext` (a JSON `null` is no context at all).
#[derive(Default)]
pub(super) struct ContextRead<'a> {
    /// An object whose source-telling keys each had their type and came once.
    pub(super) recognisable: bool,
    pub(super) connection_id: bool,
    pub(super) elb: bool,
    pub(super) http: bool,
    pub(super) service_arn: bool,
    /// The HTTP API context's fields; `None` when one is off (see the module docs).
    v2: Option<V2Fields<'a>>,
}

impl ContextRead<'_> {
    /// The typed HTTP API context, when every field was read as its type reads it.
    pub(super) fn into_v2(self) -> Option<ApiGatewayV2httpRequestContext> {
        self.v2?.build()
    }
}

#[derive(Default)]
struct V2Fields<'a> {
    route_key: Option<Cow<'a, str>>,
    account_id: Option<Cow<'a, str>>,
    stage: Option<Cow<'a, str>>,
    request_id: Option<Cow<'a, str>>,
    api_id: Option<Cow<'a, str>>,
    domain_name: Option<Cow<'a, str>>,
    domain_prefix: Option<Cow<'a, str>>,
    time: Option<Cow<'a, str>>,
    time_epoch: i64,
    http: Option<HttpFields<'a>>,
    authorizer: Option<&'a RawValue>,
    authentication: Option<&'a RawValue>,
}

impl V2Fields<'_> {
    fn build(self) -> Option<ApiGatewayV2httpRequestContext> {
        fn owned(s: Option<Cow<'_, str>>) -> Option<String> {
            s.map(Cow::into_owned)
        }
        // Rare (JWT, Lambda or IAM authorizers; mutual TLS): their own small typed read.
        fn typed<T: serde::de::DeserializeOwned>(raw: Option<&RawValue>) -> Option<Option<T>> {
            match raw {
                None => Some(None),
                Some(raw) => serde_json::from_str::<Option<T>>(raw.get()).ok(),
            }
        }
        let h = self.http?;
        let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
        http.method = match h.method? {
            m if m.is_empty() => http::Method::GET,
            m => m.parse().ok()?,
        };
        http.path = owned(h.path);
        http.protocol = owned(h.protocol);
        http.source_ip = owned(h.source_ip);
        http.user_agent = owned(h.user_agent);

        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.route_key = owned(self.route_key);
        ctx.account_id = owned(self.account_id);
        ctx.stage = owned(self.stage);
        ctx.request_id = owned(self.request_id);
        ctx.authorizer = typed::<ApiGatewayRequestAuthorizer>(self.authorizer)?;
        ctx.apiid = owned(self.api_id);
        ctx.domain_name = owned(self.domain_name);
        ctx.domain_prefix = owned(self.domain_prefix);
        ctx.time = owned(self.time);
        ctx.time_epoch = self.time_epoch;
        ctx.http = http;
        ctx.authentication = typed::<ApiGatewayV2httpRequestContextAuthentication>(self.authentication)?;
        Some(ctx)
    }
}

#[derive(Default)]
struct HttpFields<'a> {
    method: Option<Cow<'a, str>>,
    path: Option<Cow<'a, str>>,
    protocol: Option<Cow<'a, str>>,
    source_ip: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ContextRead<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = ContextRead<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                read_context(map)
            }
            containers_are!(seq ContextRead::default());
            scalars_are!(ContextRead::default());
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Sets bit `bit` of `seen`; `false` if it was already set (the key came twice).
fn first_time(seen: &mut u32, bit: u32) -> bool {
    let mask = 1 << bit;
    let first = *seen & mask == 0;
    *seen |= mask;
    first
}

/// Notes a source-telling key into `flag`: `present` is `None` for a value of the wrong type.
/// `false` (the context is unrecognisable) for a wrong type or a key given twice.
fn tell(once: bool, present: Option<bool>, flag: &mut bool) -> bool {
    match present {
        Some(p) if once => {
            *flag = p;
            true
        }
        _ => false,
    }
}

fn read_context<'de: 'a, 'a, A: MapAccess<'de>>(mut map: A) -> Result<ContextRead<'a>, A::Error> {
    let mut out = ContextRead {
        recognisable: true,
        ..ContextRead::default()
    };
    let mut v2 = Some(V2Fields::default());
    let mut seen = 0u32;
    while let Some(key) = map.next_key::<Key>()? {
        let once = first_time(&mut seen, key as u32);
        match key {
            Key::ConnectionId | Key::ServiceArn => {
                let present = map.next_value::<NullableStr<'de>>()?.0.map(|s| s.is_some());
                let flag = if key == Key::ConnectionId {
                    &mut out.connection_id
                } else {
                    &mut out.service_arn
                };
                out.recognisable &= tell(once, present, flag);
                v2 = None; // not a key of the HTTP API context (its catch-all would keep even a null)
            }
            Key::Elb => {
                let shape = map.next_value::<Shape>()?;
                out.recognisable &= tell(once, shape.object_or_null(), &mut out.elb);
                v2 = None;
            }
            Key::Http => {
                let http = map.next_value::<MaybeHttp<'de>>()?;
                out.recognisable &= tell(once, http.shape.object_or_null(), &mut out.http);
                match (&mut v2, http.fields) {
                    (Some(f), Some(fields)) if once => f.http = Some(fields),
                    _ => v2 = None,
                }
            }
            Key::Authorizer | Key::Authentication => {
                let raw = map.next_value::<&'de RawValue>()?;
                match &mut v2 {
                    Some(f) if once && key == Key::Authorizer => f.authorizer = Some(raw),
                    Some(f) if once => f.authentication = Some(raw),
                    _ => v2 = None,
                }
            }
            Key::TimeEpoch => {
                let n = map.next_value::<MaybeI64>()?.0;
                match (&mut v2, n) {
                    (Some(f), Some(n)) if once => f.time_epoch = n,
                    _ => v2 = None,
                }
            }
            Key::Other => {
                map.next_value::<IgnoredAny>()?;
                v2 = None;
            }
            _ => {
                let s = map.next_value::<NullableStr<'de>>()?.0;
                match (&mut v2, s) {
                    (Some(f), Some(s)) if once => *f.string(key) = s,
                    _ => v2 = None,
                }
            }
        }
    }
    out.v2 = v2.filter(|f| f.http.is_some());
    Ok(out)
}

impl<'a> V2Fields<'a> {
    fn string(&mut self, key: Key) -> &mut Option<Cow<'a, str>> {
        match key {
            Key::RouteKey => &mut self.route_key,
            Key::AccountId => &mut self.account_id,
            Key::Stage => &mut self.stage,
            Key::RequestId => &mut self.request_id,
            Key::ApiId => &mut self.api_id,
            Key::DomainName => &mut self.domain_name,
            Key::DomainPrefix => &mut self.domain_prefix,
            _ => &mut self.time,
        }
    }
}

/// The `requestContext` keys this read knows (named as in the event).
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // `routeKey` is the event's own name
enum Key {
    ConnectionId,
    Elb,
    Http,
    ServiceArn,
    RouteKey,
    AccountId,
    Stage,
    RequestId,
    Authorizer,
    ApiId,
    DomainName,
    DomainPrefix,
    Time,
    TimeEpoch,
    Authentication,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "connectionId" => Key::ConnectionId,
                    "elb" => Key::Elb,
                    "http" => Key::Http,
                    "serviceArn" => Key::ServiceArn,
                    "routeKey" => Key::RouteKey,
                    "accountId" => Key::AccountId,
                    "stage" => Key::Stage,
                    "requestId" => Key::RequestId,
                    "authorizer" => Key::Authorizer,
                    "apiId" => Key::ApiId,
                    "domainName" => Key::DomainName,
                    "domainPrefix" => Key::DomainPrefix,
                    "time" => Key::Time,
                    "timeEpoch" => Key::TimeEpoch,
                    "authentication" => Key::Authentication,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// The JSON type of a value read only for its type (its content is skipped).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Null,
    Object,
    Other,
}

impl Shape {
    /// `Some(present)` for an object or `null`, the only types a source-telling object key
    /// may have; `None` for any other.
    fn object_or_null(self) -> Option<bool> {
        match self {
            Shape::Null => Some(false),
            Shape::Object => Some(true),
            Shape::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Shape::Object)
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Null)
    }
    containers_are!(seq Shape::Other);
    scalars_are!(Shape::Other);
}

/// `requestContext.http`: its type, and its fields when each is a known key of its type, once.
struct MaybeHttp<'a> {
    shape: Shape,
    fields: Option<HttpFields<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for MaybeHttp<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = MaybeHttp<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Some(HttpFields::default());
                let mut seen = 0u32;
                while let Some(key) = map.next_key::<HttpKey>()? {
                    if key == HttpKey::Other {
                        map.next_value::<IgnoredAny>()?;
                        fields = None;
                        continue;
                    }
                    let once = first_time(&mut seen, key as u32);
                    let value = map.next_value::<NullableStr<'de>>()?.0;
                    match (&mut fields, value) {
                        (Some(f), Some(v)) if once => *f.field(key) = v,
                        _ => fields = None,
                    }
                }
                // `method` has no default: it must be there, a string.
                let fields = fields.filter(|f| f.method.is_some());
                Ok(MaybeHttp {
                    shape: Shape::Object,
                    fields,
                })
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Ok(other(ShapeVisitor.visit_seq(seq)?))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeHttp {
                    shape: Shape::Null,
                    fields: None,
                })
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(other(Shape::Other))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(other(Shape::Other))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(other(Shape::Other))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(other(Shape::Other))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(other(Shape::Other))
            }
        }
        fn other<'a>(shape: Shape) -> MaybeHttp<'a> {
            MaybeHttp { shape, fields: None }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'a> HttpFields<'a> {
    fn field(&mut self, key: HttpKey) -> &mut Option<Cow<'a, str>> {
        match key {
            HttpKey::Method => &mut self.method,
            HttpKey::Path => &mut self.path,
            HttpKey::Protocol => &mut self.protocol,
            HttpKey::SourceIp => &mut self.source_ip,
            _ => &mut self.user_agent,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum HttpKey {
    Method,
    Path,
    Protocol,
    SourceIp,
    UserAgent,
    Other,
}

impl<'de> Deserialize<'de> for HttpKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HttpKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, v: &str) -> Result<HttpKey, E> {
                Ok(match v {
                    "method" => HttpKey::Method,
                    "path" => HttpKey::Path,
                    "protocol" => HttpKey::Protocol,
                    "sourceIp" => HttpKey::SourceIp,
                    "userAgent" => HttpKey::UserAgent,
                    _ => HttpKey::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
    use serde_json::{json, Value};

    use crate::detect::{read, EventKind};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    /// The one-pass context, or `None` when the event takes the long way.
    fn one_pass(json: &str) -> Option<aws_lambda_events::apigw::ApiGatewayV2httpRequestContext> {
        match read(json) {
            Ok((EventKind::ApiGatewayV2, parts)) => parts.map(|p| p.request_context),
            other => panic!("not read as an HTTP API event: {:?}", other.map(|(k, _)| k)),
        }
    }

    /// The invariant: whatever the one pass keeps, the typed decode of the whole event reads
    /// the same; whatever the typed decode refuses, the one pass leaves to the long way.
    fn agrees(json: &str) -> bool {
        let typed = serde_json::from_str::<ApiGatewayV2httpRequest>(json).map(|e| e.request_context);
        match (one_pass(json), typed) {
            (Some(fast), Ok(typed)) => {
                assert_eq!(fast, typed, "{json}");
                true
            }
            (Some(_), Err(e)) => panic!("kept a context the typed decode refuses ({e}): {json}"),
            (None, _) => false,
        }
    }

    #[test]
    fn awss_http_api_and_function_url_events_are_read_in_one_pass_as_the_typed_decode_reads_them() {
        for name in [
            "example-apigw-v2-request-iam.json",
            "example-apigw-v2-request-jwt-authorizer.json",
            "example-apigw-v2-request-lambda-authorizer.json",
            "example-apigw-v2-request-no-authorizer.json",
            "lambda_function_url_request.json",
        ] {
            let json = std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture");
            assert!(agrees(&json), "{name} took the long way");
        }
    }

    #[test]
    fn a_field_of_another_type_twice_or_unknown_takes_the_long_way_and_never_changes_the_kind() {
        let path = format!("{FIXTURES}/example-apigw-v2-request-jwt-authorizer.json");
        let base: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        let keys: Vec<String> = base["requestContext"]
            .as_object()
            .expect("ctx")
            .keys()
            .cloned()
            .collect();
        let http_keys: Vec<String> = base["requestContext"]["http"]
            .as_object()
            .expect("http")
            .keys()
            .cloned()
            .collect();
        let odd = [
            json!(null),
            json!(5),
            json!(-1),
            json!(1.5),
            json!(""),
            json!("x"),
            json!([]),
            json!({}),
            json!(true),
        ];
        let mut fast = 0;
        let mut cases = 0;
        for value in &odd {
            for key in &keys {
                let mut ev = base.clone();
                ev["requestContext"][key] = value.clone();
                if key == "http" && !value.is_object() {
                    continue; // no longer an HTTP API event: covered by the detection tests
                }
                cases += 1;
                fast += usize::from(agrees(&ev.to_string()));
            }
            for key in &http_keys {
                let mut ev = base.clone();
                ev["requestContext"]["http"][key] = value.clone();
                cases += 1;
                fast += usize::from(agrees(&ev.to_string()));
            }
        }
        // Some odd values are what the typed decode accepts too (`null` for an optional string,
        // `""` for the method): those stay on the fast path, and agree.
        assert!(fast > 0 && fast < cases, "{fast} of {cases}");

        let text = base.to_string();
        let ctx_at = text.find("\"requestContext\":{").expect("ctx") + "\"requestContext\":{".len();
        for (insert, why) in [
            ("\"stage\":\"again\",", "a key given twice"),
            ("\"somethingNew\":1,", "a key aws_lambda_events' catch-all would keep"),
            ("\"serviceArn\":\"arn:x\",", "another source's key"),
            ("\"connectionId\":null,", "another source's key, even null"),
        ] {
            let ev = format!("{}{insert}{}", &text[..ctx_at], &text[ctx_at..]);
            assert_eq!(one_pass(&ev), None, "{why}");
        }
        let http_at = text.find("\"http\":{").expect("http") + "\"http\":{".len();
        let ev = format!("{}\"method\":\"GET\",{}", &text[..http_at], &text[http_at..]);
        assert_eq!(one_pass(&ev), None, "http.method twice");
        let no_method = text.replacen("\"method\":", "\"verb\":", 1);
        assert_eq!(one_pass(&no_method), None, "http.method missing");
    }
}
