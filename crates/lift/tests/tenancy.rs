//! Tenancy: a tenant from a verified claim (the principal set by a small stand-in for the
//! authentication layer), Lambda tenant isolation or a trusted header becomes the invocation's
//! tenant — in its log lines, EMF document and X-Ray annotations (real UDP socket) — keys
//! limits so one tenant's flood leaves another's quota alone, and guards resources.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::net::UdpSocket;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::routing::get;
use lift::observability::{CaptureSink, Observability};
use lift::resilience::bulkhead::BulkheadLayer;
use lift::resilience::{rate_limit, ResilienceStack};
use lift::tenant::{
    tenant_key, CurrentTenant, RequireTenantLayer, TenantGuard, TenantKeyFn, TenantLayer, TenantResolver,
};
use lift::{App, Context, Error, Lift, Principal, Sqs};
use lift_testing::{events, TestClient};
use serde_json::{json, Value};
use tower::ServiceBuilder;

const DAEMON_HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

fn body(out: &Value) -> Value {
    serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// Stands in for the JWT layer: the claims in `x-test-claims` (JSON) become the verified
/// principal. Logs one line before the tenant is resolved.
async fn test_auth(req: Request, next: Next) -> Response {
    tracing::info!("authenticating");
    let claims = req
        .headers()
        .get("x-test-claims")
        .and_then(|v| serde_json::from_slice::<serde_json::Map<String, Value>>(v.as_bytes()).ok());
    if let (Some(claims), Some(ctx)) = (claims, req.extensions().get::<Context>()) {
        let mut p = Principal::new("user-1");
        p.claims = claims;
        ctx.set_principal(p).unwrap();
    }
    next.run(req).await
}

/// JSON in visible ASCII (other characters as `\u` escapes), so any claim fits a header.
fn ascii_json(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

fn claims_event(path: &str, claims: &Value) -> Value {
    events::apigw_v2("GET", path)
        .header("x-test-claims", &ascii_json(claims))
        .build()
}

async fn whoami(ctx: Context) -> axum::Json<Value> {
    tracing::info!("handling");
    axum::Json(json!({ "tenant": ctx.tenant() }))
}

/// Invokes `lift` with a context Lambda invoked for `tenant` (tenant isolation).
async fn invoke_for_tenant(lift: &Lift, event: &Value, tenant: Option<&str>) -> Value {
    let mut lambda = lift::local::lambda_context(
        Duration::from_secs(30),
        "arn:aws:lambda:us-east-1:123456789012:function:t",
        Some("Root=1-6a1b2c3d-000000000000000000000001;Parent=5000000000000001;Sampled=1".to_owned()),
    );
    lambda.tenant_id = tenant.map(str::to_owned);
    let out = lift
        .invoke_with(&event.to_string(), Context::from_lambda(lambda, false))
        .await;
    match out {
        Ok(o) => serde_json::from_slice(&o.to_json()).unwrap(),
        Err(d) => json!({"errorType": d.error_type, "errorMessage": d.error_message}),
    }
}

fn tenant_app(resolver: TenantResolver) -> App {
    App::new().route("/whoami", get(whoami)).resilience(
        ServiceBuilder::new()
            .layer(from_fn(test_auth))
            .layer(TenantLayer::new(resolver)),
    )
}

#[test]
fn a_tenant_from_a_verified_claim_is_in_the_invocations_logs_emf_and_xray_annotation() {
    let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
    daemon.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let (logs, emf) = (CaptureSink::new(), CaptureSink::new());
    let obs = Observability::builder()
        .service("svc")
        .log_sink(logs.clone())
        .emf_sink(emf.clone())
        .xray_daemon_address(daemon.local_addr().unwrap().to_string())
        .build()
        .unwrap();
    let _guard = tracing::dispatcher::set_default(&tracing::Dispatch::new(obs.subscriber()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let resolver = TenantResolver::new()
        .claim("custom:tenant_id")
        .lambda_isolation()
        .emf_dimension(true);
    let lift = tenant_app(resolver).observability(obs).build();
    let out = rt.block_on(TestClient::new(lift).invoke_json(claims_event(
        "/whoami",
        &json!({"custom:tenant_id": "acme", "sub": "user-1"}),
    )));
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(body(&out)["tenant"], "acme");

    let lines = logs.json_lines().unwrap();
    let by_msg = |m: &str| {
        lines
            .iter()
            .find(|l| l["message"] == m)
            .unwrap_or_else(|| panic!("{m}: {lines:?}"))
    };
    // Logged before the resolver ran: no tenant yet (the line is not rewritten).
    assert!(by_msg("authenticating").get("tenant_id").is_none(), "{lines:?}");
    assert_eq!(by_msg("handling")["tenant_id"], "acme");
    assert_eq!(by_msg("request completed")["tenant_id"], "acme", "the summary line");
    let request_id = &by_msg("handling")["function_request_id"];
    assert!(lines.iter().all(|l| &l["function_request_id"] == request_id));

    let docs = emf.json_lines().unwrap();
    let doc = docs
        .iter()
        .find(|d| d.get("tenant_id").is_some())
        .expect("an EMF document");
    assert_eq!(doc["tenant_id"], "acme", "EMF property: {doc}");
    let dims = &doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0];
    assert!(
        dims.as_array().unwrap().iter().any(|d| d == "tenant_id"),
        "tenant_id is a dimension on request: {doc}"
    );

    let mut buf = vec![0u8; 65_536];
    let n = daemon.recv(&mut buf).expect("an X-Ray datagram");
    let text = std::str::from_utf8(&buf[..n]).unwrap();
    let seg: Value = serde_json::from_str(text.strip_prefix(DAEMON_HEADER).unwrap()).unwrap();
    assert_eq!(seg["annotations"]["tenant_id"], "acme", "{seg}");
}

#[tokio::test]
async fn lambda_tenant_isolation_is_a_source_and_must_agree_with_the_claim() {
    let resolver = TenantResolver::new().claim("tenant_id").lambda_isolation();
    let lift = tenant_app(resolver).build();
    let plain = events::apigw_v2("GET", "/whoami").build();
    let out = invoke_for_tenant(&lift, &plain, Some("blue")).await;
    assert_eq!(body(&out)["tenant"], "blue", "{out}");

    let agreeing = claims_event("/whoami", &json!({"tenant_id": "blue"}));
    let out = invoke_for_tenant(&lift, &agreeing, Some("blue")).await;
    assert_eq!(out["statusCode"], 200, "{out}");

    // A token for tenant A in an environment Lambda isolated for tenant B.
    let other = claims_event("/whoami", &json!({"tenant_id": "green"}));
    let out = invoke_for_tenant(&lift, &other, Some("blue")).await;
    assert_eq!(out["statusCode"], 403, "{out}");
    assert_eq!(body(&out)["error"]["code"], "tenant_mismatch");
    assert!(
        !out.to_string().contains("blue") && !out.to_string().contains("green"),
        "{out}"
    );

    // Not listed as a source, Lambda's tenant still binds: a different claim is refused.
    let lift = tenant_app(TenantResolver::new().claim("tenant_id")).build();
    let out = invoke_for_tenant(&lift, &other, Some("blue")).await;
    assert_eq!(body(&out)["error"]["code"], "tenant_mismatch", "{out}");
}

#[tokio::test]
async fn a_header_is_ignored_unless_trusted_and_a_trusted_one_must_agree_with_the_claim() {
    let event = events::apigw_v2("GET", "/whoami").header("x-tenant-id", "evil").build();
    let untrusted = TestClient::new(tenant_app(TenantResolver::new().claim("tenant_id")).build());
    let out = untrusted.invoke_json(&event).await;
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(body(&out)["tenant"], Value::Null, "an untrusted header names no tenant");

    let trusting = TenantResolver::new()
        .claim("tenant_id")
        .trust_header("X-Tenant-Id")
        .unwrap();
    let trusted = TestClient::new(tenant_app(trusting).build());
    let out = trusted.invoke_json(&event).await;
    assert_eq!(body(&out)["tenant"], "evil", "{out}");

    let both = events::apigw_v2("GET", "/whoami")
        .header("x-tenant-id", "globex")
        .header("x-test-claims", &json!({"tenant_id": "acme"}).to_string())
        .build();
    let out = trusted.invoke_json(&both).await;
    assert_eq!(out["statusCode"], 403, "{out}");
    assert_eq!(body(&out)["error"]["code"], "tenant_mismatch");
}

#[tokio::test]
async fn require_tenant_answers_403_tenant_required_without_calling_the_route() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let lift = App::new()
        .route(
            "/orders",
            get(move || {
                seen.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        )
        .resilience(
            ServiceBuilder::new()
                .layer(from_fn(test_auth))
                .layer(TenantLayer::new(TenantResolver::new().claim("tenant_id")))
                .layer(RequireTenantLayer),
        )
        .build();
    let c = TestClient::new(lift);
    let out = c.invoke_json(events::apigw_v1("GET", "/orders").build()).await;
    assert_eq!(out["statusCode"], 403, "{out}");
    let b = body(&out);
    assert_eq!(b["error"]["code"], "tenant_required");
    assert!(b["error"]["request_id"].is_string(), "{b}");
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let out = c
        .invoke_json(claims_event("/orders", &json!({"tenant_id": "acme"})))
        .await;
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn hostile_tenant_values_get_a_clear_code_and_are_never_echoed() {
    let resolver = TenantResolver::new()
        .claim("tenant_id")
        .trust_header("x-tenant-id")
        .unwrap();
    let c = TestClient::new(tenant_app(resolver).build());
    let long = "a".repeat(129);
    let hostile_claims = [
        json!(""),
        json!(long),
        json!("acme\",\"level\":\"ERROR"),
        json!("acme\n{\"forged\":true}"),
        json!("a b"),
        json!("tenant-\u{202e}1"),
        json!("é"),
        json!(1.5),
        json!(true),
        json!(null),
        json!({"id": "acme"}),
        json!(["acme"]),
    ];
    for v in hostile_claims {
        let out = c.invoke_json(claims_event("/whoami", &json!({ "tenant_id": v }))).await;
        assert_eq!(out["statusCode"], 403, "claim {v}: {out}");
        let b = body(&out);
        assert_eq!(b["error"]["code"], "invalid_tenant", "claim {v}: {b}");
        assert!(!out.to_string().contains("forged") && !out.to_string().contains("ERROR"));
    }
    // An integer claim is a tenant, in decimal.
    let out = c.invoke_json(claims_event("/whoami", &json!({"tenant_id": 42}))).await;
    assert_eq!(body(&out)["tenant"], "42", "{out}");

    for v in ["", "a b", "x\"y", &long, "a,b", "<script>"] {
        let event = events::apigw_v2("GET", "/whoami").header("x-tenant-id", v).build();
        let out = c.invoke_json(&event).await;
        assert_eq!(out["statusCode"], 400, "header {v:?}: {out}");
        assert_eq!(body(&out)["error"]["code"], "invalid_tenant");
    }
    // Two values of the trusted header must agree.
    let mut event = events::apigw_v1("GET", "/whoami").build();
    event["multiValueHeaders"]["x-tenant-id"] = json!(["acme", "globex"]);
    let out = c.invoke_json(&event).await;
    assert_eq!(body(&out)["error"]["code"], "tenant_mismatch", "{out}");

    // A tenant Lambda would never send, forged on the Runtime API: refused too.
    let lift = tenant_app(TenantResolver::new().lambda_isolation()).build();
    let plain = events::apigw_v2("GET", "/whoami").build();
    let out = invoke_for_tenant(&lift, &plain, Some("a\nb")).await;
    assert_eq!(out["statusCode"], 403, "{out}");
    assert_eq!(body(&out)["error"]["code"], "invalid_tenant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_keyed_by_tenant_keep_two_tenants_apart_under_a_flood() {
    let per_tenant = rate_limit::RateLimitLayer::keyed(
        rate_limit::Quota::per_minute(std::num::NonZeroU32::new(10).unwrap()),
        tenant_key as TenantKeyFn,
        1000,
    );
    let lift = App::new()
        .route("/work", get(|| async { "ok" }))
        .resilience(
            ServiceBuilder::new()
                .layer(TenantLayer::new(TenantResolver::new().claim("tenant_id")))
                .layer(RequireTenantLayer)
                .layer(ResilienceStack::new().rate_limit(per_tenant)),
        )
        // A stack added later wraps the earlier ones: authentication runs first.
        .resilience(from_fn(test_auth))
        .build();
    let c = TestClient::new(lift);
    let flood = claims_event("/work", &json!({"tenant_id": "flood"}));
    let quiet = claims_event("/work", &json!({"tenant_id": "quiet"}));
    let mut tasks = Vec::new();
    for i in 0..300 {
        let is_quiet = i % 30 == 7;
        let (c, ev) = (c.clone(), if is_quiet { quiet.clone() } else { flood.clone() });
        tasks.push(tokio::spawn(async move {
            let out = c.invoke_json(&ev).await;
            (is_quiet, out["statusCode"].as_u64().unwrap())
        }));
    }
    let (mut flood_ok, mut flood_429, mut quiet_ok) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (false, 200) => flood_ok += 1,
            (false, 429) => flood_429 += 1,
            (true, 200) => quiet_ok += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(flood_ok, 10, "the flooding tenant gets its own quota, no more");
    assert_eq!(flood_429, 280);
    assert_eq!(quiet_ok, 10, "every call of the quiet tenant went through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bulkhead_keyed_by_tenant_leaves_room_for_other_tenants_while_one_fills_its_own() {
    let release = Arc::new(tokio::sync::Notify::new());
    let entered = Arc::new(AtomicUsize::new(0));
    let (r, e) = (release.clone(), entered.clone());
    let lift = App::new()
        .route(
            "/slow",
            get(move |ctx: Context| {
                let (r, e) = (r.clone(), e.clone());
                async move {
                    if ctx.tenant() == Some("flood") {
                        e.fetch_add(1, Ordering::SeqCst);
                        r.notified().await;
                    }
                    "done"
                }
            }),
        )
        .resilience(
            ServiceBuilder::new()
                .layer(TenantLayer::new(TenantResolver::new().claim("tenant_id")))
                .layer(ResilienceStack::new().bulkhead(BulkheadLayer::new(2).key(tenant_key as TenantKeyFn))),
        )
        .resilience(from_fn(test_auth))
        .build();
    let c = TestClient::new(lift);
    let flood = claims_event("/slow", &json!({"tenant_id": "flood"}));
    let held: Vec<_> = (0..2)
        .map(|_| {
            let (c, ev) = (c.clone(), flood.clone());
            tokio::spawn(async move { c.invoke_json(&ev).await })
        })
        .collect();
    while entered.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rejected = c.invoke_json(&flood).await;
    assert_eq!(rejected["statusCode"], 503, "{rejected}");
    assert_eq!(body(&rejected)["error"]["code"], "bulkhead_full");
    let quiet = c
        .invoke_json(claims_event("/slow", &json!({"tenant_id": "quiet"})))
        .await;
    assert_eq!(quiet["statusCode"], 200, "another tenant has its own permits: {quiet}");
    release.notify_waiters();
    for h in held {
        assert_eq!(h.await.unwrap()["statusCode"], 200);
    }
}

async fn get_order(
    ctx: Context,
    axum::extract::Path(owner): axum::extract::Path<String>,
) -> Result<&'static str, Error> {
    ctx.ensure_tenant(&owner)?;
    Ok("the order")
}

async fn get_invoice(
    tenant: CurrentTenant,
    axum::extract::Path(owner): axum::extract::Path<String>,
) -> Result<String, Error> {
    tenant.ensure_owns(&owner)?;
    Ok(format!("invoice of {}", tenant.as_str()))
}

#[test]
fn the_guard_answers_404_for_another_tenants_resource_and_says_so_to_operators_only() {
    let (logs, emf) = (CaptureSink::new(), CaptureSink::new());
    let obs = Observability::builder()
        .service("svc")
        .log_sink(logs.clone())
        .emf_sink(emf.clone())
        .tracing(false)
        .build()
        .unwrap();
    let _guard = tracing::dispatcher::set_default(&tracing::Dispatch::new(obs.subscriber()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let lift = App::new()
        .route("/orders/{owner}", get(get_order))
        .route("/invoices/{owner}", get(get_invoice))
        .resilience(
            ServiceBuilder::new()
                .layer(from_fn(test_auth))
                .layer(TenantLayer::new(TenantResolver::new().claim("tenant_id"))),
        )
        .observability(obs)
        .build();
    let c = TestClient::new(lift);
    let acme = json!({"tenant_id": "acme"});
    rt.block_on(async {
        let own = c.invoke_json(claims_event("/orders/acme", &acme)).await;
        assert_eq!(own["statusCode"], 200, "{own}");
        let other = c.invoke_json(claims_event("/orders/globex", &acme)).await;
        assert_eq!(other["statusCode"], 404, "{other}");
        assert_eq!(body(&other)["error"]["code"], "not_found");
        assert!(!other["body"].as_str().unwrap().contains("globex"), "{other}");

        let inv = c.invoke_json(claims_event("/invoices/acme", &acme)).await;
        assert_eq!(body(&inv), Value::Null, "plain text body");
        assert_eq!(inv["body"], "invoice of acme");
        let inv = c.invoke_json(claims_event("/invoices/globex", &acme)).await;
        assert_eq!(inv["statusCode"], 404);
        let none = c.invoke_json(events::apigw_v2("GET", "/invoices/acme").build()).await;
        assert_eq!(none["statusCode"], 403, "{none}");
        assert_eq!(body(&none)["error"]["code"], "tenant_required");
        let none = c.invoke_json(events::apigw_v2("GET", "/orders/acme").build()).await;
        assert_eq!(body(&none)["error"]["code"], "tenant_required");
    });
    let lines = logs.json_lines().unwrap();
    let warnings: Vec<_> = lines
        .iter()
        .filter(|l| l["message"] == "resource owned by another tenant")
        .collect();
    assert_eq!(warnings.len(), 2, "{lines:?}");
    assert!(warnings
        .iter()
        .all(|l| l["tenant_id"] == "acme" && l["level"] == "WARN"));
    assert!(!logs
        .lines()
        .iter()
        .any(|l| l.contains("globex\"") && l.contains("owner")));
    let counted = emf
        .json_lines()
        .unwrap()
        .iter()
        .filter(|d| d.get("TenantMismatch").is_some())
        .count();
    assert_eq!(counted, 2, "TenantMismatch counted per refusal");
}

async fn on_job(ctx: Context, _msg: Sqs<Value>) -> Result<(), Error> {
    assert!(ctx.tenant().is_some());
    Ok(())
}

#[tokio::test]
async fn records_resolve_their_tenant_before_the_handler_and_fail_without_one_when_required() {
    let resolver = TenantResolver::new().lambda_isolation();
    let lift = App::new()
        .sqs("jobs", resolver.records(on_job).require_tenant())
        .build();
    let batch = events::sqs("jobs").message("{}").message("{}").build();
    let out = invoke_for_tenant(&lift, &batch, None).await;
    assert_eq!(out["batchItemFailures"].as_array().map(Vec::len), Some(2), "{out}");
    let out = invoke_for_tenant(&lift, &batch, Some("blue")).await;
    assert_eq!(out["batchItemFailures"], json!([]), "{out}");
    let out = invoke_for_tenant(&lift, &batch, Some("bad value")).await;
    assert_eq!(out["batchItemFailures"].as_array().map(Vec::len), Some(2), "{out}");
}

/// The key of a request outside Lift's tenant layer is `None`; inside it, the tenant.
#[test]
fn the_tenant_key_reads_the_resolved_tenant() {
    let mut req = http::Request::new(Body::empty());
    assert_eq!(tenant_key(&req), None);
    req.extensions_mut().insert(lift::resilience::TenantKey::from("acme"));
    assert_eq!(tenant_key(&req).unwrap().as_str(), "acme");
}

#[tokio::test]
async fn record_limits_keyed_by_tenant_count_each_tenant_apart() {
    use lift::resilience::{record_layer, ByTenant, RecordCall};
    let per_tenant = rate_limit::RateLimitLayer::keyed::<RecordCall<Sqs<Value>>, _>(
        rate_limit::Quota::per_minute(std::num::NonZeroU32::new(2).unwrap()),
        ByTenant,
        100,
    );
    let resolver = TenantResolver::new().lambda_isolation();
    let lift = App::new()
        .sqs("jobs", resolver.records(record_layer(on_job, per_tenant)))
        .build();
    let batch = events::sqs("jobs").message("{}").message("{}").message("{}").build();
    let out = invoke_for_tenant(&lift, &batch, Some("blue")).await;
    assert_eq!(
        out["batchItemFailures"].as_array().map(Vec::len),
        Some(1),
        "blue's third record is over its quota: {out}"
    );
    let out = invoke_for_tenant(&lift, &batch, Some("green")).await;
    assert_eq!(
        out["batchItemFailures"].as_array().map(Vec::len),
        Some(1),
        "green has its own: {out}"
    );
    let out = invoke_for_tenant(&lift, &batch, Some("blue")).await;
    assert_eq!(out["batchItemFailures"].as_array().map(Vec::len), Some(3), "{out}");
}

mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any claim or trusted-header value: never a panic or a 500; either the validated
        /// tenant or a 400 / 403 with a tenancy code.
        #[test]
        fn any_tenant_value_gets_a_tenant_or_a_clear_refusal(claim in ".{0,160}", header in "[ -~]{0,160}") {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let resolver = TenantResolver::new().claim("tenant_id").trust_header("x-tenant-id").unwrap();
            let c = TestClient::new(tenant_app(resolver).build());
            for event in [
                claims_event("/whoami", &json!({ "tenant_id": claim })),
                events::apigw_v2("GET", "/whoami").header("x-tenant-id", &header).build(),
            ] {
                let out = rt.block_on(c.invoke_json(&event));
                let status = out["statusCode"].as_u64().unwrap();
                let b = body(&out);
                match status {
                    200 => {
                        let t = b["tenant"].as_str().unwrap_or("");
                        prop_assert!(lift::tenant::validate_tenant(t, 128).is_ok() || b["tenant"].is_null());
                    }
                    400 | 403 => {
                        let code = b["error"]["code"].as_str().unwrap_or("");
                        prop_assert!(code == "invalid_tenant" || code == "tenant_mismatch", "{out}");
                    }
                    other => prop_assert!(false, "status {other}: {out}"),
                }
            }
        }
    }
}
