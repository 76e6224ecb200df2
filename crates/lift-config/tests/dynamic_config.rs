//! Dynamic configuration against a loopback HTTP server standing in for the AppConfig and
//! the Parameters and Secrets Lambda extensions.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{capture_errors, Extension, Reply};
use lift_config::{
    AppConfigSource, Config, DynamicStore, NoAppSettings, Parameters, PollError, PollOutcome, Poller, SecretsExtension,
    Settings, SsmParameterSource,
};
use lift_resilience::rate_limit::{per_second, LocalStore, RateLimitStore};
use serde::Deserialize;
use tracing::level_filters::LevelFilter;

const PATH: &str = "/applications/app/environments/prod/configurations/main";

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Mine {
    quota_per_minute: Option<u32>,
    #[serde(default)]
    a: u32,
    #[serde(default)]
    b: u32,
}

fn poller(ext: &Extension) -> Poller {
    Poller::new(
        AppConfigSource::new("app", "prod", "main", ext.port),
        Settings::parser::<Mine>(),
    )
    .timeout(Duration::from_millis(300))
}

fn quota(c: &Config) -> Option<u32> {
    c.snapshot().app::<Mine>().and_then(|m| m.quota_per_minute)
}

#[tokio::test]
async fn a_new_document_applies_at_the_next_poll() {
    let ext = Extension::start().await;
    ext.reply(
        PATH,
        Reply::Body(r#"{"quota_per_minute": 5, "log_level": "DEBUG"}"#.into()),
    );
    let config = poller(&ext).interval(Duration::from_millis(100)).spawn();
    // The first poll runs at once.
    for _ in 0..50 {
        if quota(&config).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(quota(&config), Some(5));
    assert_eq!(config.snapshot().lift().log_level, Some(LevelFilter::DEBUG));
    assert_eq!(config.snapshot().version(), 1);

    ext.reply(PATH, Reply::Body(r#"{"quota_per_minute": 7}"#.into()));
    let changed = std::time::Instant::now();
    while quota(&config) != Some(7) {
        assert!(
            changed.elapsed() < Duration::from_millis(400),
            "not applied within one poll"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        config.snapshot().lift().log_level,
        None,
        "a key absent from the new document is unset"
    );
    let polls = config.stats().polls();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(config.stats().polls() > polls, "polling goes on");
    assert_eq!(
        config.stats().applied(),
        2,
        "an unchanged document is not applied again"
    );
    assert_eq!(config.stats().errors(), 0);
    config.stop();
}

#[tokio::test]
async fn each_failure_keeps_the_last_good_settings_with_one_error_line() {
    let (errors, _guard) = capture_errors();
    let ext = Extension::start().await;
    let p = poller(&ext);
    let config = p.config();
    ext.reply(PATH, Reply::Body(r#"{"quota_per_minute": 5}"#.into()));
    assert_eq!(p.poll_once().await.unwrap(), PollOutcome::Applied(1));

    let cases: [(Reply, &str); 5] = [
        (Reply::Body(r#"{"quota_per_minute": 6"#.into()), "not a JSON object"),
        (
            Reply::Body(r#"{"quota_per_minute": 6, "quota_per_minute_typo": 1}"#.into()),
            "unknown field",
        ),
        (Reply::Body(r#"{"log_level": "LOUD"}"#.into()), "log_level"),
        (Reply::Status(500), "answered 500"),
        (Reply::Hang, "did not answer within"),
    ];
    let before = config.snapshot();
    for (i, (reply, says)) in cases.into_iter().enumerate() {
        ext.reply(PATH, reply);
        let err = p.poll_once().await.expect_err("the poll fails");
        assert!(err.to_string().contains(says), "{err}");
        assert_eq!(quota(&config), Some(5), "case {i}: the last good settings stay");
        assert!(Arc::ptr_eq(&before, &config.snapshot()), "case {i}: nothing swapped");
        assert_eq!(
            errors.count(),
            i + 1,
            "case {i}: exactly one error line: {:?}",
            errors.0
        );
        assert!(errors.last().contains(says), "{}", errors.last());
        assert_eq!(config.stats().errors(), i as u64 + 1, "counted");
    }
    // The same failure again is counted, not logged again.
    assert!(matches!(p.poll_once().await, Err(PollError::Timeout(_))));
    assert_eq!(errors.count(), 5);
    assert_eq!(config.stats().errors(), 6);
    assert_eq!(config.stats().take_unreported_errors(), 6);
    assert_eq!(config.stats().take_unreported_errors(), 0);

    // An unreachable source.
    let gone = Poller::new(
        AppConfigSource::new("app", "prod", "main", closed_port().await),
        Settings::parser::<Mine>(),
    );
    assert!(matches!(gone.poll_once().await, Err(PollError::Source(_))));
    assert_eq!(errors.count(), 6);
    assert!(errors.last().contains("unreachable"), "{}", errors.last());

    // Recovery: a good document applies again.
    ext.reply(PATH, Reply::Body(r#"{"quota_per_minute": 9}"#.into()));
    assert_eq!(p.poll_once().await.unwrap(), PollOutcome::Applied(2));
    assert_eq!(quota(&config), Some(9));
}

#[tokio::test]
async fn a_failure_logged_before_any_subscriber_is_logged_again_once_one_is_set() {
    // The first poll races the app's start: a line written with no subscriber went nowhere.
    let gone = Poller::new(
        AppConfigSource::new("app", "prod", "main", closed_port().await),
        Settings::parser::<Mine>(),
    );
    assert!(matches!(gone.poll_once().await, Err(PollError::Source(_))));
    let (errors, _guard) = capture_errors();
    assert!(matches!(gone.poll_once().await, Err(PollError::Source(_))));
    assert!(matches!(gone.poll_once().await, Err(PollError::Source(_))));
    assert_eq!(errors.count(), 1, "logged once it can be read: {:?}", errors.0);
    assert!(errors.last().contains("unreachable"), "{}", errors.last());
    assert_eq!(gone.config().stats().errors(), 3, "every failure counted");
}

async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_during_swaps_see_the_old_or_the_new_settings_never_a_mix() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let config = Config::fixed(Settings::default());
    config.set(Settings::parse::<Mine>(br#"{"a": 0, "b": 0}"#).unwrap());
    let started = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..64)
        .map(|_| {
            let config = config.clone();
            let started = started.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for i in 0..1_000_000 {
                    // One snapshot per "invocation"; its two reads straddle other tasks' swaps.
                    let s = config.snapshot();
                    let a = s.app::<Mine>().unwrap().a;
                    if i == 0 {
                        started.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::task::yield_now().await;
                    let b = s.app::<Mine>().unwrap().b;
                    assert_eq!(a, b, "a mix of two documents");
                    seen.push(a);
                    if a == 200 {
                        break;
                    }
                }
                seen
            })
        })
        .collect();
    // The writer starts once every reader holds a snapshot of the first document.
    while started.load(Ordering::SeqCst) < 64 {
        tokio::task::yield_now().await;
    }
    for n in 1..=200u32 {
        let doc = format!(r#"{{"a": {n}, "b": {n}}}"#);
        config.set(Settings::parse::<Mine>(doc.as_bytes()).unwrap());
        tokio::task::yield_now().await;
    }
    for r in readers {
        let seen = r.await.unwrap();
        assert_eq!(seen.first(), Some(&0), "every reader began with the first document");
        assert_eq!(seen.last(), Some(&200), "and ended with the last");
        assert!(
            seen.windows(2).all(|w| w[0] <= w[1]),
            "never an older document after a newer one"
        );
    }
}

#[test]
fn flags_per_tenant() {
    let s = Settings::parse::<NoAppSettings>(
        br#"{"flags": {
            "everyone": true,
            "nobody": false,
            "listed": {"tenants": ["acme", "globex"]},
            "half": {"percentage": 50},
            "listed_or_tenth": {"tenants": ["acme"], "percentage": 10}
        }}"#,
    )
    .unwrap();
    assert!(s.flag("everyone", None) && s.flag("everyone", Some("x")));
    assert!(!s.flag("nobody", Some("acme")));
    assert!(!s.flag("missing", Some("acme")));
    assert!(s.flag("listed", Some("acme")) && s.flag("listed", Some("globex")));
    assert!(!s.flag("listed", Some("initech")) && !s.flag("listed", None));
    assert!(s.flag("listed_or_tenth", Some("acme")));

    let tenants: Vec<String> = (0..10_000).map(|i| format!("tenant-{i}")).collect();
    let on = tenants.iter().filter(|t| s.flag("half", Some(t))).count();
    assert!((4_700..=5_300).contains(&on), "50 % of tenants: {on}");
    let tenth = tenants.iter().filter(|t| s.flag("listed_or_tenth", Some(t))).count();
    assert!((850..=1_150).contains(&tenth), "10 %: {tenth}");
    // Stable: the same answer from a freshly parsed document (another poll, another process),
    // and a larger percentage only adds tenants.
    let again =
        Settings::parse::<NoAppSettings>(br#"{"flags": {"half": {"percentage": 50}, "more": {"percentage": 80}}}"#)
            .unwrap();
    for t in &tenants {
        assert_eq!(s.flag("half", Some(t)), again.flag("half", Some(t)));
    }
    assert_eq!(
        lift_config::bucket("half", "tenant-1"),
        lift_config::bucket("half", "tenant-1")
    );
    let grow = Settings::parse::<NoAppSettings>(br#"{"flags": {"half": {"percentage": 80}}}"#).unwrap();
    for t in &tenants {
        if s.flag("half", Some(t)) {
            assert!(grow.flag("half", Some(t)), "{t} dropped when the percentage grew");
        }
    }
    // Bad rules are refused with the reason.
    let e = Settings::parse::<NoAppSettings>(br#"{"flags": {"x": {"percentage": 150}}}"#).unwrap_err();
    assert!(e.to_string().contains("within 0..=100"), "{e}");
    let e = Settings::parse::<NoAppSettings>(br#"{"flags": {"x": {"tenant": ["a"]}}}"#).unwrap_err();
    assert!(e.to_string().contains("flag \"x\": unknown field `tenant`"), "{e}");
    let e = Settings::parse::<NoAppSettings>(br#"{"quota": 1}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field `quota`"), "{e}");
    let e = Settings::parse::<NoAppSettings>(br#"{"debug_sample_rate": 2}"#).unwrap_err();
    assert!(e.to_string().contains("debug_sample_rate"), "{e}");
    let e = Settings::parse::<NoAppSettings>(b"[1]").unwrap_err();
    assert!(e.to_string().contains("not a JSON object"), "{e}");
}

const PARAM: &str = "/systemsmanager/parameters/get?name=%2Fapp%2Fdb-url&withDecryption=true";
const SECRET: &str = "/secretsmanager/get?secretId=db%2Fpassword";

#[tokio::test]
async fn parameters_and_secrets_are_cached_for_their_ttl() {
    let ext = Extension::start().await;
    ext.reply(
        PARAM,
        Reply::Body(
            r#"{"Parameter": {"Name": "/app/db-url", "Type": "String", "Value": "postgres://db", "Version": 3}}"#
                .into(),
        ),
    );
    ext.reply(
        SECRET,
        Reply::Body(r#"{"Name": "db/password", "SecretString": "s3cret", "VersionId": "v1"}"#.into()),
    );
    let params = Parameters::new(
        SecretsExtension::new(ext.port, Some("session-token".into())),
        Duration::from_millis(300),
    );

    assert_eq!(&*params.parameter("/app/db-url").await.unwrap(), "postgres://db");
    assert_eq!(&*params.parameter("/app/db-url").await.unwrap(), "postgres://db");
    assert_eq!(ext.calls(PARAM), 1, "the second read within the TTL makes no call");
    assert_eq!(&*params.secret("db/password").await.unwrap(), "s3cret");
    assert_eq!(&*params.clone().secret("db/password").await.unwrap(), "s3cret");
    assert_eq!(ext.calls(SECRET), 1, "clones share the cache");
    assert!(
        ext.tokens().iter().all(|t| t.as_deref() == Some("session-token")),
        "{:?}",
        ext.tokens()
    );

    ext.reply(
        PARAM,
        Reply::Body(r#"{"Parameter": {"Value": "postgres://db2"}}"#.into()),
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        &*params.parameter("/app/db-url").await.unwrap(),
        "postgres://db2",
        "fetched again after the TTL"
    );
    assert_eq!(ext.calls(PARAM), 2);

    // Failures are errors naming the parameter, never cached.
    let missing = params.parameter("/nope").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert!(missing.to_string().contains("/nope"), "{missing}");
    ext.reply(
        SECRET,
        Reply::Body(r#"{"Name": "db/password", "SecretBinary": "AAE="}"#.into()),
    );
    params.clear();
    let bin = params.secret("db/password").await.unwrap_err();
    assert!(bin.to_string().contains("SecretString"), "{bin}");
    assert_eq!(ext.calls(SECRET), 2);
}

#[tokio::test]
async fn an_ssm_parameter_can_hold_the_document() {
    let ext = Extension::start().await;
    let path = "/systemsmanager/parameters/get?name=app-settings&withDecryption=true";
    ext.reply(
        path,
        Reply::Body(r#"{"Parameter": {"Value": "{\"quota_per_minute\": 3}"}}"#.into()),
    );
    let p = Poller::new(
        SsmParameterSource::new(SecretsExtension::new(ext.port, None), "app-settings"),
        Settings::parser::<Mine>(),
    );
    assert_eq!(p.poll_once().await.unwrap(), PollOutcome::Applied(1));
    assert_eq!(quota(&p.config()), Some(3));
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_follows_the_settings_quota() {
    let config = Config::fixed(Settings::parse::<Mine>(br#"{"quota_per_minute": 2}"#).unwrap());
    let store = DynamicStore::new(
        config.settings().clone(),
        |s: &Settings| s.app::<Mine>().and_then(|m| m.quota_per_minute).unwrap_or(20),
        |n: &u32| LocalStore::<u8>::new(per_second(*n), 100),
    );
    let admitted = |store: &DynamicStore<u32, LocalStore<u8>>| {
        (0..10)
            .filter(|_| RateLimitStore::<u8>::try_check(store, &1).unwrap().unwrap().allowed)
            .count()
    };
    assert_eq!(admitted(&store), 2);
    // A document that leaves the quota alone keeps the store's state.
    config.set(Settings::parse::<Mine>(br#"{"quota_per_minute": 2, "a": 1}"#).unwrap());
    assert_eq!(admitted(&store), 0, "still limited: same quota, same state");
    config.set(Settings::parse::<Mine>(br#"{"quota_per_minute": 5}"#).unwrap());
    assert_eq!(store.quota(), 5);
    assert_eq!(admitted(&store), 5, "the new quota applies to the calls after it");
}

#[tokio::test(start_paused = true)]
async fn a_breaker_follows_its_thresholds_and_keeps_its_state() {
    use lift_config::breaker_tuning;
    use lift_resilience::circuit_breaker::{
        BreakerConfig, BreakerState, CircuitBreakerLayer, SlidingWindow, WaitInOpen,
    };
    use tower::{Layer, ServiceExt};

    let config = Config::fixed(Settings::default());
    let layer = CircuitBreakerLayer::new(
        BreakerConfig::default()
            .window(SlidingWindow::Count(10))
            .minimum_calls(10)
            .failure_rate_threshold(50.0)
            .wait_in_open(WaitInOpen::Fixed(Duration::from_secs(60))),
    )
    .tuning(breaker_tuning(config.settings().clone()));
    let handle = layer.handle();
    let svc = layer.layer(tower::service_fn(|fail: bool| async move {
        if fail {
            Err::<(), Box<dyn std::error::Error + Send + Sync>>("boom".into())
        } else {
            Ok(())
        }
    }));
    let call = |fail: bool| svc.clone().oneshot(fail);
    for _ in 0..4 {
        assert!(call(true).await.is_err());
    }
    assert_eq!(
        handle.state(&()),
        Some(BreakerState::Closed),
        "4 calls: under the built minimum of 10"
    );

    config.set(
        Settings::parse::<NoAppSettings>(br#"{"breaker": {"minimum_calls": 5, "wait_in_open_ms": 1000}}"#).unwrap(),
    );
    assert!(call(true).await.is_err());
    assert_eq!(
        handle.state(&()),
        Some(BreakerState::Open),
        "the new minimum of 5 applies to the next call"
    );

    // A document that would never open it: the open circuit stays open (its state is kept).
    config.set(
        Settings::parse::<NoAppSettings>(br#"{"breaker": {"minimum_calls": 100, "wait_in_open_ms": 600000}}"#).unwrap(),
    );
    let rejected = call(false).await.expect_err("still open");
    assert!(rejected.to_string().contains("open"), "{rejected}");
    assert_eq!(handle.state(&()), Some(BreakerState::Open));
    // It opened with a 1 s wait: after it, trial calls go through and close it.
    tokio::time::advance(Duration::from_millis(1_100)).await;
    assert!(call(false).await.is_ok());
    assert_ne!(handle.state(&()), Some(BreakerState::Open));

    // A bad breaker document is refused.
    let e = Settings::parse::<NoAppSettings>(br#"{"breaker": {"failure_rate_threshold": 150}}"#).unwrap_err();
    assert!(e.to_string().contains("breaker.failure_rate_threshold"), "{e}");
    let e = Settings::parse::<NoAppSettings>(br#"{"breaker": {"wait": 1}}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field `wait`"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_timeout_follows_timeout_ms() {
    use lift_config::timeout_tuning;
    use lift_resilience::timeout::{Elapsed, TimeoutLayer};
    use tower::{Layer, ServiceExt};

    let config = Config::fixed(Settings::default());
    let svc = TimeoutLayer::new(Duration::from_secs(10))
        .tuning(timeout_tuning(config.settings().clone()))
        .layer(tower::service_fn(|_: ()| async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Ok::<_, std::convert::Infallible>(())
        }));
    assert!(svc.clone().oneshot(()).await.is_ok(), "the built 10 s");
    config.set(Settings::parse::<NoAppSettings>(br#"{"timeout_ms": 500}"#).unwrap());
    let e = svc.clone().oneshot(()).await.unwrap_err();
    assert!(e.is::<Elapsed>(), "{e}");
    config.set(Settings::parse::<NoAppSettings>(b"{}").unwrap());
    assert!(svc.clone().oneshot(()).await.is_ok(), "back to the built limit");
    let e = Settings::parse::<NoAppSettings>(br#"{"timeout_ms": 0}"#).unwrap_err();
    assert!(e.to_string().contains("timeout_ms"), "{e}");
}

#[tokio::test]
async fn a_bulkhead_is_resized_without_losing_a_permit() {
    use lift_config::bulkhead_tuning;
    use lift_resilience::bulkhead::BulkheadLayer;
    use tower::{Layer, ServiceExt};

    let config = Config::fixed(Settings::default());
    let layer = BulkheadLayer::new(2).tuning(bulkhead_tuning(config.settings().clone()));
    let (gate, inner) = gated();
    let svc = BoxedCall::new(layer.clone().layer(inner));
    let mut in_flight = vec![start(&svc), start(&svc)];
    settle().await;
    assert!(
        svc.clone().oneshot(()).await.is_err(),
        "built limit 2: the third is refused"
    );

    config.set(Settings::parse::<NoAppSettings>(br#"{"bulkhead_max_concurrent": 4}"#).unwrap());
    in_flight.push(start(&svc));
    in_flight.push(start(&svc));
    settle().await;
    assert!(
        svc.clone().oneshot(()).await.is_err(),
        "raised to 4: the fifth is refused"
    );
    assert_eq!(layer.available(&()), Some(0));

    // Lowered to 1 with 4 in flight: nothing new until fewer than one is in flight.
    config.set(Settings::parse::<NoAppSettings>(br#"{"bulkhead_max_concurrent": 1}"#).unwrap());
    assert!(
        svc.clone().oneshot(()).await.is_err(),
        "lowered under the calls in flight"
    );
    gate.add_permits(3);
    settle().await;
    for t in in_flight.drain(..3) {
        let _ = t.await;
    }
    assert!(
        svc.clone().oneshot(()).await.is_err(),
        "one still in flight: the limit of 1 is used"
    );
    gate.add_permits(1);
    let _ = in_flight.pop().unwrap().await;
    assert_eq!(
        layer.available(&()),
        Some(1),
        "every permit accounted for: exactly the new limit"
    );
    let one = start(&svc);
    settle().await;
    assert!(svc.clone().oneshot(()).await.is_err(), "limit 1 holds");
    gate.add_permits(1);
    assert!(one.await.unwrap().is_ok());

    // Raised again: the limit comes back whole.
    config.set(Settings::parse::<NoAppSettings>(br#"{"bulkhead_max_concurrent": 3}"#).unwrap());
    let _ = svc.clone().ready().await;
    let three = vec![start(&svc), start(&svc), start(&svc)];
    settle().await;
    assert_eq!(layer.available(&()), Some(0));
    gate.add_permits(3);
    for t in three {
        assert!(t.await.unwrap().is_ok());
    }
    assert_eq!(layer.available(&()), Some(3));
    let e = Settings::parse::<NoAppSettings>(br#"{"bulkhead_max_concurrent": 0}"#).unwrap_err();
    assert!(e.to_string().contains("bulkhead_max_concurrent"), "{e}");
}

#[tokio::test]
async fn a_shedder_follows_its_rate_and_cap_and_keeps_its_count() {
    use lift_config::load_shed_tuning;
    use lift_resilience::load_shed::{LimitAlgorithm, LoadShedLayer, Overloaded};
    use tower::{Layer, ServiceExt};

    let config = Config::fixed(Settings::default());
    let (gate, inner) = gated();
    let svc = BoxedCall::new(
        LoadShedLayer::limit(LimitAlgorithm::Fixed(4))
            .tuning(load_shed_tuning(config.settings().clone()))
            .layer(inner),
    );
    let shed = |r: Result<(), Box<dyn std::error::Error + Send + Sync>>| r.is_err_and(|e| e.is::<Overloaded>());

    // Built limit 4: two in flight leave room.
    let mut in_flight = vec![start(&svc), start(&svc)];
    settle().await;
    // Capped at 2 with two in flight: the next call is shed, the two keep running.
    config.set(Settings::parse::<NoAppSettings>(br#"{"shed_max_concurrent": 2}"#).unwrap());
    assert!(shed(svc.clone().oneshot(()).await), "cap 2 with 2 in flight: shed");
    // The cap lifted: the built limit of 4 applies again to the same count.
    config.set(Settings::parse::<NoAppSettings>(b"{}").unwrap());
    in_flight.push(start(&svc));
    in_flight.push(start(&svc));
    settle().await;
    assert!(
        shed(svc.clone().oneshot(()).await),
        "built limit 4 with 4 in flight: shed"
    );
    gate.add_permits(4);
    for t in in_flight {
        t.await.unwrap().unwrap();
    }

    // A random rate of 1 sheds every call; removing it sheds none.
    config.set(Settings::parse::<NoAppSettings>(br#"{"shed_random_rate": 1.0}"#).unwrap());
    gate.add_permits(10);
    for _ in 0..10 {
        assert!(shed(svc.clone().oneshot(()).await), "rate 1: every call shed");
    }
    config.set(Settings::parse::<NoAppSettings>(b"{}").unwrap());
    for _ in 0..10 {
        assert!(svc.clone().oneshot(()).await.is_ok(), "no rate: none shed");
    }

    for bad in [&br#"{"shed_random_rate": 1.5}"#[..], br#"{"shed_max_concurrent": 0}"#] {
        let e = Settings::parse::<NoAppSettings>(bad).unwrap_err();
        assert!(e.to_string().contains("shed_"), "{e}");
    }
}

/// A service whose calls each wait for one permit of the returned gate: calls stay in flight
/// until the test lets them finish.
fn gated() -> (
    Arc<tokio::sync::Semaphore>,
    impl tower::Service<(), Response = (), Error = std::convert::Infallible, Future: Send> + Clone + Send + Sync,
) {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let g = gate.clone();
    let svc = tower::service_fn(move |_: ()| {
        let g = g.clone();
        async move {
            g.acquire().await.unwrap().forget();
            Ok::<_, std::convert::Infallible>(())
        }
    });
    (gate, svc)
}

type BoxedCall = tower::util::BoxCloneSyncService<(), (), Box<dyn std::error::Error + Send + Sync>>;

/// Starts one call of `svc` on its own task.
fn start(svc: &BoxedCall) -> tokio::task::JoinHandle<Result<(), Box<dyn std::error::Error + Send + Sync>>> {
    use tower::ServiceExt;
    tokio::spawn(svc.clone().oneshot(()))
}

/// Lets spawned calls reach their layer.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}
