//! Dynamic configuration through the App: per-invocation settings snapshots, log level,
//! feature flags, parameters and secrets, polling errors as a metric.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use lift::config::{AppConfigSource, Config, NoAppSettings, Parameters, Poller, SecretsExtension, Settings};
use lift::observability::{CaptureSink, Observability};
use lift::{App, Context, Path};
use lift_testing::{events, ExtensionServer, Reply, TestClient};
use serde::Deserialize;
use serde_json::{json, Value};

fn body(out: &Value) -> Value {
    serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pair {
    a: u32,
    b: u32,
}

fn pair(a: u32) -> Settings {
    Settings::parse::<Pair>(format!(r#"{{"a": {a}, "b": {a}}}"#).as_bytes()).unwrap()
}

/// Observability with dynamic levels into capture sinks, set on this thread, and a
/// current-thread runtime (so the subscriber sees every task).
struct Observed {
    logs: CaptureSink,
    emf: CaptureSink,
    obs: Observability,
    rt: tokio::runtime::Runtime,
    _guard: tracing::dispatcher::DefaultGuard,
}

fn observed() -> Observed {
    let (logs, emf) = (CaptureSink::new(), CaptureSink::new());
    let obs = Observability::builder()
        .service("svc")
        .log_sink(logs.clone())
        .emf_sink(emf.clone())
        .tracing(false)
        .dynamic_level(true)
        .build()
        .unwrap();
    let guard = tracing::dispatcher::set_default(&tracing::Dispatch::new(obs.subscriber()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    Observed {
        logs,
        emf,
        obs,
        rt,
        _guard: guard,
    }
}

/// Handlers that stop at a gate: the test swaps settings while invocations are in flight.
#[derive(Clone, Default)]
struct Gate {
    waiting: Arc<AtomicUsize>,
    open: Arc<tokio::sync::Notify>,
    opened: Arc<std::sync::atomic::AtomicBool>,
}

impl Gate {
    async fn pass(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while !self.opened.load(Ordering::SeqCst) {
            let notified = self.open.notified();
            if self.opened.load(Ordering::SeqCst) {
                break;
            }
            notified.await;
        }
    }

    async fn until_waiting(&self, n: usize) {
        while self.waiting.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
    }

    fn release(&self) {
        self.opened.store(true, Ordering::SeqCst);
        self.open.notify_waiters();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_invocations_across_a_swap_each_see_one_document() {
    let config = Config::fixed(pair(1));
    let gate = Gate::default();
    let g = gate.clone();
    let lift = App::new()
        .route(
            "/pair",
            get(move |ctx: Context| {
                let g = g.clone();
                async move {
                    let a = ctx.settings().and_then(|s| s.app::<Pair>()).map(|p| p.a);
                    g.pass().await;
                    let b = ctx.settings().and_then(|s| s.app::<Pair>()).map(|p| p.b);
                    lift::Json(json!({"a": a, "b": b}))
                }
            }),
        )
        .config(config.clone())
        .build();
    let client = Arc::new(TestClient::new(lift));
    let call = |client: Arc<TestClient>| {
        tokio::spawn(async move { body(&client.invoke_json(events::apigw_v2("GET", "/pair").build()).await) })
    };
    let before: Vec<_> = (0..32).map(|_| call(client.clone())).collect();
    gate.until_waiting(32).await;
    config.set(pair(2)); // 32 invocations in flight
    let after: Vec<_> = (0..32).map(|_| call(client.clone())).collect();
    gate.until_waiting(64).await;
    gate.release();
    for t in before {
        assert_eq!(
            t.await.unwrap(),
            json!({"a": 1, "b": 1}),
            "started before the swap: the old document"
        );
    }
    for t in after {
        assert_eq!(
            t.await.unwrap(),
            json!({"a": 2, "b": 2}),
            "started after the swap: the new document"
        );
    }
}

#[test]
fn the_log_level_applies_to_invocations_that_start_after_the_change() {
    let Observed {
        logs, obs, rt, _guard, ..
    } = observed();
    let config = Config::fixed(Settings::default());
    let gate = Gate::default();
    let g = gate.clone();
    let lift = App::new()
        .route(
            "/deep/{who}",
            get(move |Path(who): Path<String>| {
                let g = g.clone();
                async move {
                    g.pass().await;
                    tracing::debug!(who = %who, "deep detail");
                    "ok"
                }
            }),
        )
        .observability(obs)
        .config(config.clone())
        .build();
    let client = Arc::new(TestClient::new(lift));
    rt.block_on(async {
        let c = client.clone();
        let first = tokio::spawn(async move { c.invoke_json(events::apigw_v2("GET", "/deep/first").build()).await });
        gate.until_waiting(1).await;
        config.set(Settings::parse::<NoAppSettings>(br#"{"log_level": "DEBUG"}"#).unwrap());
        let c = client.clone();
        let second = tokio::spawn(async move { c.invoke_json(events::apigw_v2("GET", "/deep/second").build()).await });
        gate.until_waiting(2).await;
        gate.release();
        assert_eq!(first.await.unwrap()["statusCode"], 200);
        assert_eq!(second.await.unwrap()["statusCode"], 200);
        config.set(Settings::parse::<NoAppSettings>(br#"{"log_level": "ERROR"}"#).unwrap());
        let third = client.invoke_json(events::apigw_v2("GET", "/deep/third").build()).await;
        assert_eq!(third["statusCode"], 200);
    });
    let lines = logs.json_lines().unwrap();
    let deep: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "deep detail")
        .filter_map(|l| l["who"].as_str())
        .collect();
    assert_eq!(
        deep,
        ["second"],
        "only the invocation started after DEBUG logs at DEBUG: {lines:?}"
    );
    let summaries: Vec<_> = lines.iter().filter(|l| l.get("status").is_some()).collect();
    assert_eq!(
        summaries.len(),
        2,
        "the ERROR level hides the third's INFO summary: {summaries:?}"
    );
    assert_eq!(
        std::env::var("POWERTOOLS_LOG_LEVEL").ok(),
        None,
        "no process-wide variable touched"
    );
}

#[tokio::test]
async fn flags_follow_the_invocations_tenant() {
    let config = Config::fixed(
        Settings::parse::<NoAppSettings>(
            br#"{"flags": {"beta": {"tenants": ["acme"]}, "all": true, "some": {"percentage": 50}}}"#,
        )
        .unwrap(),
    );
    let lift = App::new()
        .route(
            "/flags",
            get(|ctx: Context, headers: axum::http::HeaderMap| async move {
                if let Some(t) = headers.get("x-tenant").and_then(|v| v.to_str().ok()) {
                    ctx.set_tenant(t.to_owned()).unwrap();
                }
                lift::Json(json!({"beta": ctx.flag("beta"), "all": ctx.flag("all"), "some": ctx.flag("some"), "nope": ctx.flag("nope")}))
            }),
        )
        .config(config)
        .build();
    let client = TestClient::new(lift);
    let ask = |tenant: Option<&str>| {
        let mut e = events::apigw_v2("GET", "/flags");
        if let Some(t) = tenant {
            e = e.header("x-tenant", t);
        }
        let client = &client;
        async move { body(&client.invoke_json(e.build()).await) }
    };
    let acme = ask(Some("acme")).await;
    assert_eq!(
        (acme["beta"].clone(), acme["all"].clone(), acme["nope"].clone()),
        (json!(true), json!(true), json!(false))
    );
    let globex = ask(Some("globex")).await;
    assert_eq!(globex["beta"], false);
    let none = ask(None).await;
    assert_eq!(
        (none["beta"].clone(), none["all"].clone(), none["some"].clone()),
        (json!(false), json!(true), json!(false))
    );
    for t in ["t1", "t2", "t3", "t4", "t5", "t6"] {
        let expected = lift::config::bucket("some", t) < 5_000;
        assert_eq!(
            ask(Some(t)).await["some"],
            expected,
            "tenant {t}: the stable hash decides"
        );
    }

    // Without configuration every flag is off and there are no settings.
    let bare = TestClient::new(
        App::new()
            .route(
                "/f",
                get(|ctx: Context| async move { format!("{}{}", ctx.flag("all"), ctx.settings().is_none()) }),
            )
            .build(),
    );
    let out = bare.invoke_json(events::apigw_v2("GET", "/f").build()).await;
    assert_eq!(out["body"], "falsetrue");
}

#[tokio::test]
async fn parameters_and_secrets_through_the_extension_are_cached() {
    let ext = ExtensionServer::start().await.unwrap();
    ext.parameter("/app/url", "https://example.test");
    ext.secret("app/key", "k3y");
    let params = Parameters::new(
        SecretsExtension::new(ext.port(), Some("tok".into())),
        Duration::from_secs(60),
    );
    let lift = App::new()
        .route(
            "/p",
            get(|ctx: Context| async move {
                let url = ctx.parameter("/app/url").await?;
                let key = ctx.secret("app/key").await?;
                Ok::<_, lift::Error>(format!("{url} {key}"))
            }),
        )
        .route(
            "/missing",
            get(|ctx: Context| async move { ctx.parameter("/nope").await.map(|v| v.to_string()) }),
        )
        .with_state(params)
        .build();
    let client = TestClient::new(lift);
    for _ in 0..3 {
        let out = client.invoke_json(events::apigw_v2("GET", "/p").build()).await;
        assert_eq!(out["body"], "https://example.test k3y", "{out}");
    }
    assert_eq!(
        ext.calls(&ExtensionServer::parameter_path("/app/url")),
        1,
        "later reads within the TTL make no call"
    );
    assert_eq!(ext.calls(&ExtensionServer::secret_path("app/key")), 1);
    assert!(ext.tokens().iter().all(|t| t.as_deref() == Some("tok")));
    let out = client.invoke_json(events::apigw_v2("GET", "/missing").build()).await;
    assert_eq!(out["statusCode"], 500, "{out}");
    assert!(
        !out["body"].as_str().unwrap().contains("/nope"),
        "the cause is logged, not sent: {out}"
    );
}

#[test]
fn polling_errors_are_counted_in_the_next_invocations_metrics() {
    let Observed {
        emf, obs, rt, _guard, ..
    } = observed();
    rt.block_on(async {
        let ext = ExtensionServer::start().await.unwrap();
        let path = ExtensionServer::appconfig_path("a", "e", "p");
        ext.reply(&path, Reply::Body(r#"{"log_level": "INFO"}"#.into()));
        let poller = Poller::new(
            AppConfigSource::new("a", "e", "p", ext.port()),
            Settings::parser::<NoAppSettings>(),
        );
        let config = poller.config();
        poller.poll_once().await.unwrap();
        ext.reply(&path, Reply::Status(500));
        assert!(poller.poll_once().await.is_err());
        assert!(poller.poll_once().await.is_err());
        let lift = App::new()
            .route("/x", get(|| async { "x" }))
            .observability(obs)
            .config(config)
            .build();
        let client = TestClient::new(lift);
        client.invoke_json(events::apigw_v2("GET", "/x").build()).await;
        client.invoke_json(events::apigw_v2("GET", "/x").build()).await;
    });
    let docs: Vec<Value> = emf
        .json_lines()
        .unwrap()
        .into_iter()
        .filter(|d| d.get("ConfigErrors").is_some())
        .collect();
    assert_eq!(docs.len(), 1, "reported once: {docs:?}");
    assert_eq!(docs[0]["ConfigErrors"], 2);
}
