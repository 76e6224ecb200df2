//! What reading dynamic settings costs on the hot path.
//!
//! - `dynamic_load`: `Dynamic::load` alone (arc-swap's fast path) and a plain field read;
//! - `dynamic_changes`: the change count (one atomic load), what `DynamicStore` checks per call;
//! - `dynamic_load_field`: `Dynamic::load` and the app part's field (a downcast, then the read);
//! - `config_snapshot`: `Config::snapshot` (what Lift does once per invocation: load + `Arc`
//!   clone + drop);
//! - `flag_lookup`: `Settings::flag` for a tenant rule (hash of the name, list, bucket hash);
//! - `rate_limit_local_static` vs `rate_limit_local_dynamic`: a local GCRA store checked
//!   directly, and through `DynamicStore` (settings version check per call).

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use lift_config::{Config, Dynamic, DynamicStore, NoAppSettings, Settings};
use lift_resilience::rate_limit::{per_second, LocalStore, RateLimitStore};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mine {
    quota_per_minute: Option<u32>,
}

fn bench(c: &mut Criterion) {
    let doc =
        br#"{"quota_per_minute": 5, "log_level": "DEBUG", "flags": {"beta": {"tenants": ["acme"], "percentage": 25}}}"#;
    let settings = Settings::parse::<Mine>(doc).expect("valid");
    let dynamic = Dynamic::new(settings.clone());
    c.bench_function("dynamic_load", |b| b.iter(|| black_box(dynamic.load().version())));
    c.bench_function("dynamic_changes", |b| b.iter(|| black_box(dynamic.changes())));
    c.bench_function("dynamic_load_field", |b| {
        b.iter(|| black_box(dynamic.load().app::<Mine>().and_then(|m| m.quota_per_minute)))
    });
    let config = Config::fixed(settings.clone());
    c.bench_function("config_snapshot", |b| b.iter(|| black_box(config.snapshot())));
    c.bench_function("flag_lookup", |b| {
        b.iter(|| black_box(settings.flag(black_box("beta"), Some(black_box("tenant-42")))))
    });
    let _ = Settings::parse::<NoAppSettings>(b"{}");

    // A very large quota so every call is admitted (the same work each iteration).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _enter = rt.enter();
    let local = LocalStore::<()>::new(per_second(u32::MAX / 2), 1);
    c.bench_function("rate_limit_local_static", |b| {
        b.iter(|| black_box(RateLimitStore::<()>::try_check(&local, &())))
    });
    let config = Config::fixed(settings);
    let dynamic_store = DynamicStore::new(
        config.settings().clone(),
        |s: &Settings| s.app::<Mine>().and_then(|m| m.quota_per_minute).map(|_| u32::MAX / 2),
        |q: &Option<u32>| LocalStore::<()>::new(per_second(q.unwrap_or(1)), 1),
    );
    c.bench_function("rate_limit_local_dynamic", |b| {
        b.iter(|| black_box(RateLimitStore::<()>::try_check(&dynamic_store, &())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
