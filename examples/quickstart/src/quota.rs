//! `GET /quota`: at most N calls per minute per client (its `x-api-key`, else its IP address),
//! kept in process by default, or across every process sharing the fleet table.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::body::Body;
use axum::routing::{get, MethodRouter};
use axum::Extension;
use lift::config::DynamicStore;
use lift::dynamodb::rate_limit::{DynamoRateLimitStore, Limit};
use lift::resilience::rate_limit::{Decision, FailMode, LocalStore, Quota, RateLimitLayer, RateLimitStore};
use lift::resilience::{HandleRejectionsLayer, MetricsListener};
use lift::{ClientIp, Json};
use serde_json::{json, Value};

use crate::settings::Settings;

/// A client: its API key when it sends one, else its address.
type ClientKey = (Option<String>, Option<IpAddr>);

fn client_key(req: &axum::http::Request<Body>) -> ClientKey {
    match req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        Some(key) => (Some(key.to_owned()), None),
        None => (None, ClientIp::of_request(req).0),
    }
}

/// How long the fleet store may take before the quota fails open.
const STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// Clients kept in process (least recently idle ones are evicted beyond it).
const LOCAL_CLIENTS: usize = 10_000;

/// The `/quota` route: the handler behind its own rate limit. With a fleet table the limit is
/// a fixed one-minute window shared by every process; in process it is a burst of N refilled
/// at N per minute. A store that does not answer within a second lets the call through
/// (fail open), and the limiter logs it once per window and counts `RateLimitStoreErrors`.
///
/// With dynamic configuration the limit is the document's `quota_per_minute` when it has one:
/// the store is rebuilt once per change and calls that start afterwards use it (the fleet
/// table keeps each window's count across the change; in process, clients start afresh).
pub(crate) fn route(settings: &Settings) -> MethodRouter {
    let n = settings.quota_per_minute;
    match (&settings.table, &settings.config) {
        (Some(table), None) => limited(dynamo_store(table, n)),
        (None, None) => limited(local_store(n)),
        (Some(table), Some(config)) => {
            let table = table.clone();
            limited(DynamicStore::new(
                config.settings().clone(),
                move |s| crate::config::quota_per_minute(s, n),
                move |q| dynamo_store(&table, *q),
            ))
        }
        (None, Some(config)) => limited(DynamicStore::new(
            config.settings().clone(),
            move |s| crate::config::quota_per_minute(s, n),
            |q| local_store(*q),
        )),
    }
}

fn dynamo_store(table: &lift::dynamodb::FleetTable, n: u32) -> DynamoRateLimitStore {
    DynamoRateLimitStore::builder(table, "quickstart-quota", Limit::per_minute(n))
        .timeout(STORE_TIMEOUT)
        .build()
}

fn local_store(n: u32) -> LocalStore<ClientKey> {
    let per_minute = Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
    LocalStore::new(per_minute, LOCAL_CLIENTS)
}

fn limited<St: RateLimitStore<ClientKey>>(store: St) -> MethodRouter {
    let limit = RateLimitLayer::with_store(client_key as fn(&axum::http::Request<Body>) -> ClientKey, store)
        .fail_mode(FailMode::Open)
        .http_headers()
        .request_deadline()
        .listener(MetricsListener);
    get(quota).route_layer(tower::ServiceBuilder::new().layer(HandleRejectionsLayer).layer(limit))
}

/// What is left of the caller's quota (`null` when the store did not answer and the call was
/// let through).
async fn quota(decision: Option<Extension<Decision>>) -> Json<Value> {
    let remaining = decision.map(|Extension(d)| d.remaining);
    tracing::debug!(remaining = ?remaining, "quota answered");
    Json(json!({ "remaining": remaining }))
}
