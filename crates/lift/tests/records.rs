//! Record sources: per-record failures, FIFO, panics, unroutable records, and the sources that
//! must fail the whole invocation so nothing unprocessed is acknowledged.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use lift::{App, Context, DynamoDb, Error, EventBridge, FifoMode, Kinesis, Lift, S3Match, Sns, Sqs, S3};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};

fn fails(v: &Value) -> bool {
    v.get("fail").and_then(Value::as_bool).unwrap_or(false)
}

fn app(calls: Arc<AtomicUsize>) -> Lift {
    let c = calls.clone();
    App::new()
        .sqs("orders*", move |_ctx: Context, m: Sqs<Value>| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                if m.body.get("panic").is_some() {
                    panic!("record asked to panic");
                }
                if fails(&m.body) {
                    return Err(Error::bad_request("refused", "asked to fail"));
                }
                Ok(())
            }
        })
        .kinesis("clicks", |_ctx: Context, r: Kinesis<Value>| async move {
            if fails(&r.body) {
                Err(Error::bad_request("refused", "asked to fail"))
            } else {
                Ok(())
            }
        })
        .dynamodb("Orders", |_ctx: Context, r: DynamoDb<Value>| async move {
            if r.body.as_ref().is_some_and(fails) {
                Err(Error::bad_request("refused", "asked to fail"))
            } else {
                Ok(())
            }
        })
        .sns("alerts", |_ctx: Context, m: Sns<Value>| async move {
            if fails(&m.body) {
                Err(Error::bad_request("refused", "asked to fail"))
            } else {
                Ok(())
            }
        })
        .s3(
            S3Match::bucket("uploads").prefix("in/"),
            |_ctx: Context, r: S3| async move {
                assert_eq!(r.bucket, "uploads");
                assert_eq!(r.meta.s3.bucket.name.as_deref(), Some("uploads"));
                if r.key == "in/bad" {
                    Err(Error::bad_request("refused", "bad object"))
                } else {
                    Ok(())
                }
            },
        )
        .eventbridge("com.acme", |_ctx: Context, e: EventBridge<Value>| async move {
            if fails(&e.body) {
                Err(Error::from(std::io::Error::other("downstream down")))
            } else {
                Ok(())
            }
        })
        .build()
}

fn client() -> (TestClient, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (TestClient::new(app(calls.clone())), calls)
}

fn failures(v: &Value) -> Vec<String> {
    v["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("not a batch response: {v}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn sqs_reports_only_failed_messages_and_processes_all() {
    let (c, calls) = client();
    let ev = events::sqs("orders")
        .message(r#"{"n":0}"#)
        .message(r#"{"fail":true}"#)
        .message(r#"{"n":2}"#)
        .message("not json at all")
        .message(r#"{"panic":1}"#)
        .message(r#"{"n":5}"#)
        .build();
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec!["msg-1", "msg-3", "msg-4"]);
    // msg-3 fails in decoding before the handler; the other five reach it.
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn sqs_records_without_a_route_are_failed_not_dropped() {
    let (c, calls) = client();
    let out = c
        .invoke_json(events::sqs("payments").message("{}").message("{}").build())
        .await;
    assert_eq!(failures(&out), vec!["msg-0", "msg-1"]);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn fifo_stops_at_the_first_failure_and_fails_the_rest() {
    let (c, calls) = client();
    let ev = events::sqs("orders.fifo")
        .message_in_group("{}", Some("a"))
        .message_in_group(r#"{"fail":true}"#, Some("a"))
        .message_in_group("{}", Some("b"))
        .message_in_group("{}", Some("a"))
        .build();
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec!["msg-1", "msg-2", "msg-3"]);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "nothing after the failure may run");
}

#[tokio::test]
async fn fifo_skip_group_keeps_other_groups_going() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let lift = App::new()
        .sqs_fifo_mode(FifoMode::SkipGroup)
        .sqs("*", move |_ctx: Context, m: Sqs<Value>| {
            let c = c2.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                if fails(&m.body) {
                    Err(Error::bad_request("refused", "x"))
                } else {
                    Ok(())
                }
            }
        })
        .build();
    let ev = events::sqs("orders.fifo")
        .message_in_group(r#"{"fail":true}"#, Some("a"))
        .message_in_group("{}", Some("b"))
        .message_in_group("{}", Some("a"))
        .message_in_group("{}", Some("b"))
        .build();
    let out = TestClient::new(lift).invoke_json(ev).await;
    assert_eq!(failures(&out), vec!["msg-0", "msg-2"]);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_failed_message_without_an_id_fails_the_whole_batch() {
    let (c, _) = client();
    let mut ev = events::sqs("orders").message("{}").message(r#"{"fail":true}"#).build();
    ev["Records"][1].as_object_mut().unwrap().remove("messageId");
    let out = c.invoke_json(ev).await;
    assert_eq!(out["errorType"], "Lift.batch_failed", "{out}");
}

#[tokio::test]
async fn kinesis_reports_sequence_numbers() {
    let (c, _) = client();
    let ev = events::kinesis("clicks")
        .record(br#"{"a":1}"#)
        .record(br#"{"fail":true}"#)
        .build();
    let seq = ev["Records"][1]["kinesis"]["sequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec![seq]);
}

#[tokio::test]
async fn dynamodb_reports_sequence_numbers_and_handles_removals() {
    let (c, _) = client();
    let ev = events::dynamodb("Orders")
        .insert(&json!({"id": "1"}), &json!({"id": "1", "fail": true}))
        .insert(&json!({"id": "2"}), &json!({"id": "2"}))
        .remove(&json!({"id": "3"}), &json!({"id": "3", "fail": true}))
        .build();
    let seq = ev["Records"][0]["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec![seq]);
}

#[tokio::test]
async fn sns_s3_and_eventbridge_failures_fail_the_invocation() {
    let (c, _) = client();
    assert_eq!(c.invoke_json(events::sns("alerts", r#"{"ok":1}"#)).await, Value::Null);
    let out = c.invoke_json(events::sns("alerts", r#"{"fail":true}"#)).await;
    assert_eq!(out["errorType"], "Lift.handler_failed", "{out}");

    assert_eq!(
        c.invoke_json(events::s3("ObjectCreated:Put", "uploads", "in/good"))
            .await,
        Value::Null
    );
    let out = c
        .invoke_json(events::s3("ObjectCreated:Put", "uploads", "in/bad"))
        .await;
    assert_eq!(out["errorType"], "Lift.handler_failed");
    let out = c.invoke_json(events::s3("ObjectCreated:Put", "uploads", "out/x")).await;
    assert_eq!(out["errorType"], "Lift.handler_failed", "unrouted S3 object: {out}");
    assert!(out["errorMessage"].as_str().unwrap().contains("no route"), "{out}");

    let out = c
        .invoke_json(events::eventbridge("com.acme", "X", json!({"fail": true})))
        .await;
    assert_eq!(out["errorType"], "Lift.handler_failed");
    assert!(
        out["errorMessage"].as_str().unwrap().contains("downstream down"),
        "{out}"
    );
    let out = c.invoke_json(events::eventbridge("com.other", "X", json!({}))).await;
    assert_eq!(out["errorType"], "Lift.handler_failed");
}

#[tokio::test]
async fn unknown_and_malformed_events_get_clear_errors() {
    let (c, _) = client();
    let out = c.invoke_json(json!({"hello": "world"})).await;
    assert_eq!(out["errorType"], "Lift.unknown_event");
    let out = c.invoke_raw("{not json").await.unwrap_err();
    assert_eq!(out.error_type, "Lift.malformed_json");
    // Known shape, broken inside: an SQS record whose id is not even a string cannot be
    // reported alone, so the whole batch is retried.
    let out = c
        .invoke_raw(r#"{"Records":[{"eventSource":"aws:sqs","messageId":5}]}"#)
        .await
        .unwrap_err();
    assert_eq!(out.error_type, "Lift.batch_failed");
    // The process keeps serving.
    assert_eq!(
        failures(&c.invoke_json(events::sqs("orders").message("{}").build()).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_event_fallback_handles_custom_events() {
    let lift = App::new()
        .event_fallback(|ctx: Context, v: Value| async move {
            Ok::<_, Error>(json!({"echo": v, "request_id": ctx.request_id()}))
        })
        .build();
    let out = TestClient::new(lift).invoke_json(json!({"task": 1})).await;
    assert_eq!(out["echo"]["task"], 1);
}

#[tokio::test]
async fn each_invocation_gets_its_own_context_under_concurrency() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let lift = App::new()
        .sqs("*", move |ctx: Context, m: Sqs<Value>| {
            let s = s2.clone();
            async move {
                let before = ctx.request_id().to_owned();
                tokio::task::yield_now().await;
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                assert_eq!(before, ctx.request_id());
                s.lock().unwrap().push((
                    ctx.request_id().to_owned(),
                    m.body["rid"].as_str().unwrap_or("").to_owned(),
                ));
                Ok::<_, Error>(())
            }
        })
        .build();
    let client = TestClient::new(lift.clone());
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let lift = lift.clone();
        let ctx = client.context();
        let rid = ctx.request_id().to_owned();
        let ev = events::sqs("q")
            .message(json!({"rid": rid}).to_string())
            .build()
            .to_string();
        tasks.push(tokio::spawn(async move { lift.invoke_with(&ev, ctx).await.is_ok() }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 200);
    for (ctx_id, body_id) in seen.iter() {
        assert_eq!(ctx_id, body_id, "a handler saw another invocation's context");
    }
}

#[tokio::test]
async fn an_sqs_record_whose_envelope_does_not_decode_fails_alone() {
    let (c, calls) = client();
    let mut ev = events::sqs("orders").message("{}").message("{}").message("{}").build();
    ev["Records"][1]["messageAttributes"] = json!({
        "blob": {"binaryValue": "%%% not base64 %%%", "dataType": "Binary"}
    });
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec!["msg-1"], "{out}");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the two good records are processed");
}

#[tokio::test]
async fn an_empty_message_id_on_a_failed_record_fails_the_whole_batch() {
    let (c, _) = client();
    let mut ev = events::sqs("orders").message("{}").message(r#"{"fail":true}"#).build();
    ev["Records"][1]["messageId"] = json!("");
    let out = c.invoke_json(ev).await;
    assert_eq!(out["errorType"], "Lift.batch_failed", "{out}");

    let mut ev = events::sqs("orders").message("{}").message("{}").build();
    ev["Records"][1]["messageId"] = json!("");
    ev["Records"][1]["messageAttributes"] = json!({"b": {"binaryValue": "!!", "dataType": "Binary"}});
    let out = c.invoke_json(ev).await;
    assert_eq!(
        out["errorType"], "Lift.batch_failed",
        "an undecodable record without id: {out}"
    );
}

#[tokio::test]
async fn a_fifo_record_that_does_not_decode_stops_the_batch_like_any_failure() {
    let (c, calls) = client();
    let mut ev = events::sqs("orders.fifo")
        .message_in_group("{}", Some("a"))
        .message_in_group("{}", Some("a"))
        .message_in_group("{}", Some("a"))
        .build();
    ev["Records"][1]["messageAttributes"] = json!({"b": {"binaryValue": "!!", "dataType": "Binary"}});
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec!["msg-1", "msg-2"]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_kinesis_record_whose_data_is_not_base64_fails_alone() {
    let (c, _) = client();
    let mut ev = events::kinesis("clicks")
        .record(br#"{"a":1}"#)
        .record(br#"{"a":2}"#)
        .record(br#"{"a":3}"#)
        .build();
    ev["Records"][1]["kinesis"]["data"] = json!("*** not base64 ***");
    let seq = ev["Records"][1]["kinesis"]["sequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec![seq], "{out}");
}

#[tokio::test]
async fn a_dynamodb_record_with_an_unreadable_attribute_fails_alone() {
    let (c, _) = client();
    let mut ev = events::dynamodb("Orders")
        .insert(&json!({"id": "1"}), &json!({"id": "1"}))
        .insert(&json!({"id": "2"}), &json!({"id": "2"}))
        .build();
    ev["Records"][0]["dynamodb"]["NewImage"]["weird"] = json!({"QQ": "no such attribute type"});
    let seq = ev["Records"][0]["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec![seq], "{out}");
}

#[tokio::test]
async fn routes_of_one_source_are_tried_in_order_and_the_first_match_serves() {
    let lift = App::new()
        .sqs("orders-*", |_ctx: Context, _m: Sqs<Value>| async {
            Err::<(), _>(Error::bad_request("first", "the first route matched"))
        })
        .sqs("*", |_ctx: Context, _m: Sqs<Value>| async { Ok::<_, Error>(()) })
        .build();
    let c = TestClient::new(lift);
    let out = c.invoke_json(events::sqs("orders-eu").message("{}").build()).await;
    assert_eq!(failures(&out), vec!["msg-0"], "orders-* came first");
    let out = c.invoke_json(events::sqs("payments").message("{}").build()).await;
    assert_eq!(failures(&out), Vec::<String>::new(), "only * matches");
}

#[tokio::test]
async fn an_sqs_handler_reads_its_messages_metadata_in_place_and_failures_report_the_unescaped_id() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let app = App::new().sqs("jobs.fifo", move |_ctx: Context, m: Sqs<String>| {
        let s = s.clone();
        async move {
            let meta = &m.meta;
            s.lock().unwrap().push((
                meta.message_id().map(str::to_owned),
                meta.message_group_id().map(str::to_owned),
                meta.approximate_receive_count(),
                meta.message_attribute("tenant")
                    .and_then(|a| a.string_value())
                    .map(str::to_owned),
                meta.body().map(str::to_owned),
            ));
            if m.body == "fail" {
                return Err(Error::bad_request("refused", "asked to fail"));
            }
            Ok(())
        }
    });
    let c = TestClient::new(app.build());
    let mut ev = events::sqs("jobs.fifo")
        .message_in_group("hello", Some("g1"))
        .message_in_group("fail", Some("g1"))
        .build();
    ev["Records"][0]["messageAttributes"] = json!({"tenant": {"stringValue": "acme", "dataType": "String"}});
    ev["Records"][1]["messageId"] = json!("id-\u{e9}\"2");
    let out = c.invoke_json(ev).await;
    assert_eq!(failures(&out), vec!["id-\u{e9}\"2"], "{out}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0],
        (
            Some("msg-0".to_owned()),
            Some("g1".to_owned()),
            Some(1),
            Some("acme".to_owned()),
            Some("hello".to_owned())
        )
    );
    assert_eq!(seen[1].0.as_deref(), Some("id-\u{e9}\"2"));
}
