//! Builders for the JSON events AWS sends, one per source Lift serves.
//!
//! The shapes follow the events AWS documents (and the `aws_lambda_events` fixtures): real
//! field names, casing and nesting, so what passes here passes on Lambda.

use base64::Engine;
use serde_json::{json, Map, Value};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Which HTTP source an [`HttpEvent`] imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpSource {
    /// API Gateway REST API (payload 1.0).
    RestApi,
    /// API Gateway HTTP API (payload 2.0).
    HttpApi,
    /// Lambda Function URL (payload 2.0, `lambda-url` domain).
    FunctionUrl,
    /// ALB target group, single-value headers.
    Alb,
    /// ALB target group with multi-value headers enabled.
    AlbMultiValue,
    /// VPC Lattice, event version 1 (snake_case, comma-joined headers).
    VpcLatticeV1,
    /// VPC Lattice, event version 2.
    VpcLatticeV2,
}

/// An HTTP request event under construction.
#[derive(Clone, Debug)]
pub struct HttpEvent {
    source: HttpSource,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<(String, bool)>,
    stage: Option<String>,
}

/// An API Gateway REST API (v1) request.
pub fn apigw_v1(method: &str, path: &str) -> HttpEvent {
    HttpEvent::new(HttpSource::RestApi, method, path)
}

/// An API Gateway HTTP API (v2) request.
pub fn apigw_v2(method: &str, path: &str) -> HttpEvent {
    HttpEvent::new(HttpSource::HttpApi, method, path)
}

/// A Lambda Function URL request.
pub fn function_url(method: &str, path: &str) -> HttpEvent {
    HttpEvent::new(HttpSource::FunctionUrl, method, path)
}

/// An ALB request (single-value headers).
pub fn alb(method: &str, path: &str) -> HttpEvent {
    HttpEvent::new(HttpSource::Alb, method, path)
}

/// An ALB request from a target group with multi-value headers enabled.
pub fn alb_multi_value(method: &str, path: &str) -> HttpEvent {
    HttpEvent::new(HttpSource::AlbMultiValue, method, path)
}

/// A VPC Lattice request, event version 1.
pub fn vpc_lattice_v1(method: &str, path: &str) -> HttpEvent {
    HttpEvent::new(HttpSource::VpcLatticeV1, method, path)
}

/// A VPC Lattice request, event version 2.
pub fn vpc_lattice_v2(method: &str, path: &str) -> HttpEvent {
    HttpEvent::new(HttpSource::VpcLatticeV2, method, path)
}

impl HttpEvent {
    /// A request of `source` for `method` and `path`.
    pub fn new(source: HttpSource, method: &str, path: &str) -> Self {
        Self {
            source,
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            headers: vec![("user-agent".into(), "lift-testing".into())],
            query: Vec::new(),
            body: None,
            stage: None,
        }
    }

    /// Adds a header (sent as given; API Gateway v2 lower-cases names, and so does this
    /// builder for v2 sources).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = match self.source {
            HttpSource::HttpApi | HttpSource::FunctionUrl => name.to_ascii_lowercase(),
            _ => name.to_owned(),
        };
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets a text body.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some((body.into(), false));
        self
    }

    /// Sets a JSON body and `content-type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json").body(body.to_string())
    }

    /// Sets a binary body (sent base64-encoded, `isBase64Encoded: true`).
    pub fn binary(mut self, bytes: &[u8]) -> Self {
        self.body = Some((base64::engine::general_purpose::STANDARD.encode(bytes), true));
        self
    }

    /// Sets the API Gateway stage (default `$default` for v2, `prod` for v1).
    pub fn stage(mut self, stage: &str) -> Self {
        self.stage = Some(stage.to_owned());
        self
    }

    fn single_headers(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for (k, v) in &self.headers {
            match m.get_mut(k) {
                Some(Value::String(existing)) => {
                    existing.push(',');
                    existing.push_str(v);
                }
                _ => {
                    m.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        m
    }

    fn multi_headers(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for (k, v) in &self.headers {
            let entry = m.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = entry {
                a.push(Value::String(v.clone()));
            }
        }
        m
    }

    fn single_query(&self) -> Value {
        if self.query.is_empty() {
            return Value::Null;
        }
        Value::Object(
            self.query
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    fn multi_query(&self) -> Value {
        if self.query.is_empty() {
            return Value::Null;
        }
        let mut m = Map::new();
        for (k, v) in &self.query {
            if let Value::Array(a) = m.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new())) {
                a.push(Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }

    /// The event JSON.
    pub fn build(self) -> Value {
        let (body, b64) = match &self.body {
            Some((b, is_b64)) => (Value::String(b.clone()), *is_b64),
            None => (Value::Null, false),
        };
        match self.source {
            HttpSource::RestApi => {
                let stage = self.stage.clone().unwrap_or_else(|| "prod".into());
                json!({
                    "resource": "/{proxy+}",
                    "path": self.path,
                    "httpMethod": self.method,
                    "headers": self.single_headers(),
                    "multiValueHeaders": self.multi_headers(),
                    "queryStringParameters": self.single_query(),
                    "multiValueQueryStringParameters": self.multi_query(),
                    "pathParameters": {"proxy": self.path.trim_start_matches('/')},
                    "stageVariables": null,
                    "requestContext": {
                        "accountId": ACCOUNT,
                        "resourceId": "123456",
                        "stage": stage,
                        "requestId": new_id(),
                        "requestTime": "09/Apr/2015:12:34:56 +0000",
                        "requestTimeEpoch": 1428582896000u64,
                        "identity": {"sourceIp": "127.0.0.1", "userAgent": "lift-testing"},
                        "path": format!("/{stage}{}", self.path),
                        "resourcePath": "/{proxy+}",
                        "httpMethod": self.method,
                        "apiId": "1234567890",
                        "protocol": "HTTP/1.1",
                        "domainName": "1234567890.execute-api.us-east-1.amazonaws.com"
                    },
                    "body": body,
                    "isBase64Encoded": b64
                })
            }
            HttpSource::HttpApi | HttpSource::FunctionUrl => {
                let url = self.source == HttpSource::FunctionUrl;
                let domain = if url {
                    "abcdefghijklmnop.lambda-url.us-east-1.on.aws"
                } else {
                    "id.execute-api.us-east-1.amazonaws.com"
                };
                let stage = self.stage.clone().unwrap_or_else(|| "$default".into());
                let raw_path = if stage == "$default" {
                    self.path.clone()
                } else {
                    format!("/{stage}{}", self.path)
                };
                let raw_query = self
                    .query
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&");
                let mut headers = self.single_headers();
                headers.entry("host").or_insert(Value::String(domain.into()));
                json!({
                    "version": "2.0",
                    "routeKey": "$default",
                    "rawPath": raw_path,
                    "rawQueryString": raw_query,
                    "headers": headers,
                    "queryStringParameters": self.single_query(),
                    "requestContext": {
                        "accountId": if url { "anonymous" } else { ACCOUNT },
                        "apiId": "abcdefghijklmnop",
                        "domainName": domain,
                        "domainPrefix": "abcdefghijklmnop",
                        "http": {
                            "method": self.method,
                            "path": raw_path,
                            "protocol": "HTTP/1.1",
                            "sourceIp": "127.0.0.1",
                            "userAgent": "lift-testing"
                        },
                        "requestId": new_id(),
                        "routeKey": "$default",
                        "stage": stage,
                        "time": "12/Mar/2020:19:03:58 +0000",
                        "timeEpoch": 1583348638390u64
                    },
                    "body": body,
                    "isBase64Encoded": b64
                })
            }
            HttpSource::Alb | HttpSource::AlbMultiValue => {
                let mut ev = json!({
                    "requestContext": {"elb": {"targetGroupArn": format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/lift/6d0ecf831eec9f09")}},
                    "httpMethod": self.method,
                    "path": self.path,
                    "body": body.as_str().unwrap_or(""),
                    "isBase64Encoded": b64
                });
                if self.source == HttpSource::AlbMultiValue {
                    ev["multiValueHeaders"] = Value::Object(self.multi_headers());
                    ev["multiValueQueryStringParameters"] = match self.multi_query() {
                        Value::Null => json!({}),
                        q => q,
                    };
                } else {
                    ev["headers"] = Value::Object(self.single_headers());
                    ev["queryStringParameters"] = match self.single_query() {
                        Value::Null => json!({}),
                        q => q,
                    };
                }
                ev
            }
            HttpSource::VpcLatticeV1 => {
                let mut headers = self.single_headers();
                headers
                    .entry("x-forwarded-for")
                    .or_insert(Value::String("10.0.2.100".into()));
                json!({
                    "raw_path": self.path,
                    "method": self.method,
                    "headers": headers,
                    "query_string_parameters": match self.single_query() {
                        Value::Null => json!({}),
                        q => q,
                    },
                    "body": body,
                    "is_base64_encoded": b64
                })
            }
            HttpSource::VpcLatticeV2 => {
                let mut headers = self.multi_headers();
                headers.entry("x-forwarded-for").or_insert(json!(["10.0.2.100"]));
                let lattice = |kind: &str, id: &str| format!("arn:aws:vpc-lattice:{REGION}:{ACCOUNT}:{kind}/{id}");
                json!({
                    "version": "2.0",
                    "path": self.path,
                    "method": self.method,
                    "headers": headers,
                    "queryStringParameters": match self.multi_query() {
                        Value::Null => json!({}),
                        q => q,
                    },
                    "body": body,
                    "isBase64Encoded": b64,
                    "requestContext": {
                        "serviceNetworkArn": lattice("servicenetwork", "sn-0bf3f2882e9cc805a"),
                        "serviceArn": lattice("service", "svc-0a40eebed65f8d69c"),
                        "targetGroupArn": lattice("targetgroup", "tg-6d0ecf831eec9f09"),
                        "identity": {
                            "sourceVpcArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0b8276c84697e7339"),
                            "type": "AWS_IAM",
                            "principal": format!("arn:aws:iam::{ACCOUNT}:role/lift-testing")
                        },
                        "region": REGION,
                        "timeEpoch": "1724875399456789"
                    }
                })
            }
        }
    }
}

/// An API Gateway WebSocket event for `route_key` (`$connect`, `$disconnect`, `$default`, custom).
pub fn websocket(route_key: &str, connection_id: &str, body: Option<&str>) -> Value {
    let event_type = match route_key {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    json!({
        "headers": {"Host": "abcd.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abcd.execute-api.us-east-1.amazonaws.com"]},
        "requestContext": {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": "x",
            "requestTime": "09/Feb/2024:20:00:00 +0000",
            "messageDirection": "IN",
            "stage": "prod",
            "connectedAt": 1707508800000u64,
            "requestTimeEpoch": 1707508800000u64,
            "requestId": new_id(),
            "domainName": "abcd.execute-api.us-east-1.amazonaws.com",
            "connectionId": connection_id,
            "apiId": "abcd"
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// An SQS batch under construction.
#[derive(Clone, Debug)]
pub struct SqsBatch {
    queue: String,
    records: Vec<Value>,
}

/// An SQS batch from `queue` (append `.fifo` for a FIFO queue).
pub fn sqs(queue: &str) -> SqsBatch {
    SqsBatch {
        queue: queue.to_owned(),
        records: Vec::new(),
    }
}

impl SqsBatch {
    /// Adds a message with `body`; returns the builder (ids are `msg-<n>`).
    pub fn message(self, body: impl Into<String>) -> Self {
        self.message_in_group(body, None)
    }

    /// Adds a message of a FIFO message group.
    pub fn message_in_group(mut self, body: impl Into<String>, group: Option<&str>) -> Self {
        let n = self.records.len();
        let mut attributes = json!({
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1523232000000",
            "SenderId": "123456789012",
            "ApproximateFirstReceiveTimestamp": "1523232000001"
        });
        if let Some(g) = group {
            attributes["MessageGroupId"] = json!(g);
            attributes["SequenceNumber"] = json!(format!("{}", 18849496460467696128u128 + n as u128));
            attributes["MessageDeduplicationId"] = json!(format!("dedup-{n}"));
        }
        self.records.push(json!({
            "messageId": format!("msg-{n}"),
            "receiptHandle": format!("handle-{n}"),
            "body": body.into(),
            "attributes": attributes,
            "messageAttributes": {},
            "md5OfBody": "7b270e59b47ff90a553787216d55d91d",
            "eventSource": "aws:sqs",
            "eventSourceARN": format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", self.queue),
            "awsRegion": REGION
        }));
        self
    }

    /// The event JSON.
    pub fn build(self) -> Value {
        json!({ "Records": self.records })
    }
}

/// An SNS notification from `topic` carrying `message`.
pub fn sns(topic: &str, message: &str) -> Value {
    let arn = format!("arn:aws:sns:{REGION}:{ACCOUNT}:{topic}");
    json!({"Records": [{
        "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"),
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": "2019-01-02T12:45:07.000Z",
            "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
            "MessageId": new_id(),
            "Message": message,
            "MessageAttributes": {},
            "Type": "Notification",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "TopicArn": arn,
            "Subject": "lift"
        }
    }]})
}

/// An S3 notification (`event_name` like `ObjectCreated:Put`) for `bucket`/`key`.
pub fn s3(event_name: &str, bucket: &str, key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2019-09-03T19:37:27.192Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
        "requestParameters": {"sourceIPAddress": "205.255.255.255"},
        "responseElements": {"x-amz-request-id": "D82B88E5F771F645", "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "lift",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": 1305107, "eTag": "b21b84d653bb07b05b1e6b33684dc11b", "sequencer": "0C0F6F405D6ED209E1"}
        }
    }]})
}

/// An EventBridge event.
pub fn eventbridge(source: &str, detail_type: &str, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": new_id(),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2019-03-01T01:23:45Z",
        "region": REGION,
        "resources": [],
        "detail": detail
    })
}

/// A scheduled event from the EventBridge rule `rule`.
pub fn schedule(rule: &str) -> Value {
    let mut ev = eventbridge("aws.events", "Scheduled Event", json!({}));
    ev["resources"] = json!([format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}")]);
    ev
}

/// Converts plain JSON into DynamoDB's attribute-value JSON (`{"S": ...}`, `{"N": ...}`, ...).
pub fn to_dynamodb_json(v: &Value) -> Value {
    match v {
        Value::Null => json!({"NULL": true}),
        Value::Bool(b) => json!({"BOOL": b}),
        Value::Number(n) => json!({"N": n.to_string()}),
        Value::String(s) => json!({"S": s}),
        Value::Array(a) => json!({"L": a.iter().map(to_dynamodb_json).collect::<Vec<_>>()}),
        Value::Object(o) => {
            json!({"M": o.iter().map(|(k, v)| (k.clone(), to_dynamodb_json(v))).collect::<Map<_, _>>()})
        }
    }
}

fn dynamodb_image(v: &Value) -> Value {
    match to_dynamodb_json(v) {
        Value::Object(mut m) => m.remove("M").unwrap_or_else(|| json!({})),
        _ => json!({}),
    }
}

/// A DynamoDB Streams batch from `table`.
#[derive(Clone, Debug)]
pub struct DynamoDbBatch {
    table: String,
    records: Vec<Value>,
}

/// A DynamoDB Streams batch from `table`.
pub fn dynamodb(table: &str) -> DynamoDbBatch {
    DynamoDbBatch {
        table: table.to_owned(),
        records: Vec::new(),
    }
}

impl DynamoDbBatch {
    fn push(mut self, event_name: &str, keys: &Value, new: Option<&Value>, old: Option<&Value>) -> Self {
        let n = self.records.len();
        let mut change = json!({
            "ApproximateCreationDateTime": 1479499740,
            "Keys": dynamodb_image(keys),
            "SequenceNumber": format!("{}", 13021600000000001596893679u128 + n as u128),
            "SizeBytes": 112,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        });
        if let Some(new) = new {
            change["NewImage"] = dynamodb_image(new);
        }
        if let Some(old) = old {
            change["OldImage"] = dynamodb_image(old);
        }
        self.records.push(json!({
            "eventID": format!("event-{n}"),
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": change,
            "eventSourceARN": format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}/stream/2016-11-16T20:42:48.104", self.table)
        }));
        self
    }

    /// Adds an `INSERT` of `item` keyed by `keys`.
    pub fn insert(self, keys: &Value, item: &Value) -> Self {
        self.push("INSERT", keys, Some(item), None)
    }

    /// Adds a `REMOVE` of the item keyed by `keys`.
    pub fn remove(self, keys: &Value, old: &Value) -> Self {
        self.push("REMOVE", keys, None, Some(old))
    }

    /// The event JSON.
    pub fn build(self) -> Value {
        json!({ "Records": self.records })
    }
}

/// A Kinesis batch from `stream`.
#[derive(Clone, Debug)]
pub struct KinesisBatch {
    stream: String,
    records: Vec<Value>,
}

/// A Kinesis batch from `stream`.
pub fn kinesis(stream: &str) -> KinesisBatch {
    KinesisBatch {
        stream: stream.to_owned(),
        records: Vec::new(),
    }
}

impl KinesisBatch {
    /// Adds a record carrying `data` (base64-encoded in the event, as Kinesis sends it).
    pub fn record(mut self, data: &[u8]) -> Self {
        let n = self.records.len();
        self.records.push(json!({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": format!("pk-{n}"),
                "sequenceNumber": format!("4959033827149025660855969253836157109592157598913658{n:04}"),
                "data": base64::engine::general_purpose::STANDARD.encode(data),
                "approximateArrivalTimestamp": 1545084650.987
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("shardId-000000000006:{n}"),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": format!("arn:aws:iam::{ACCOUNT}:role/lambda-role"),
            "awsRegion": REGION,
            "eventSourceARN": format!("arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{}", self.stream)
        }));
        self
    }

    /// The event JSON.
    pub fn build(self) -> Value {
        json!({ "Records": self.records })
    }
}

/// A Kafka batch (Amazon MSK unless [`self_managed`](KafkaBatch::self_managed)).
#[derive(Clone, Debug)]
pub struct KafkaBatch {
    self_managed: bool,
    records: Vec<Value>,
}

/// A Kafka batch from an Amazon MSK cluster.
pub fn kafka() -> KafkaBatch {
    KafkaBatch {
        self_managed: false,
        records: Vec::new(),
    }
}

impl KafkaBatch {
    /// From a self-managed cluster (`eventSource` `SelfManagedKafka`, no cluster ARN).
    pub fn self_managed(mut self) -> Self {
        self.self_managed = true;
        self
    }

    /// Adds a record to partition 0 of `topic` with `value` (base64 in the event, as Kafka
    /// events carry it) and no key; offsets count up from 0 per topic.
    pub fn record(self, topic: &str, value: &[u8]) -> Self {
        self.record_with(topic, 0, None, Some(value), &[])
    }

    /// Adds a record with every field chosen: partition, key, value (`None`: a tombstone) and
    /// headers (in order; names may repeat).
    pub fn record_with(
        mut self,
        topic: &str,
        partition: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, &[u8])],
    ) -> Self {
        let b64 = |b: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(b));
        let offset = self
            .records
            .iter()
            .filter(|r| r["topic"] == topic && r["partition"] == partition)
            .count();
        let headers: Vec<Value> = headers.iter().map(|(k, v)| json!({ *k: v.to_vec() })).collect();
        self.records.push(json!({
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "timestamp": 1_764_480_000_000i64,
            "timestampType": "CREATE_TIME",
            "key": key.map(b64),
            "value": value.map(b64),
            "headers": headers
        }));
        self
    }

    /// The event JSON: records grouped under `topic-partition`.
    pub fn build(self) -> Value {
        let mut groups = Map::new();
        for r in self.records {
            let group = format!("{}-{}", r["topic"].as_str().unwrap_or(""), r["partition"]);
            if let Value::Array(a) = groups.entry(group).or_insert_with(|| Value::Array(Vec::new())) {
                a.push(r);
            }
        }
        let brokers = "b-1.lift.abc123.c1.kafka.us-east-1.amazonaws.com:9098,b-2.lift.abc123.c1.kafka.us-east-1.amazonaws.com:9098";
        if self.self_managed {
            json!({"eventSource": "SelfManagedKafka", "bootstrapServers": brokers, "records": groups})
        } else {
            json!({
                "eventSource": "aws:kafka",
                "eventSourceArn": format!("arn:aws:kafka:{REGION}:{ACCOUNT}:cluster/lift/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-1"),
                "bootstrapServers": brokers,
                "records": groups
            })
        }
    }
}
