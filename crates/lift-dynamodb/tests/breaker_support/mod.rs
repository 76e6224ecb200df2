//! Several breaker "processes" in one test: each has its own SDK client (counting its requests
//! by operation), its own [`FleetBreakerStore`] (so its own process id) and its own
//! `CircuitBreakerLayer` around its own service; all share one table.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use lift_dynamodb::{FleetBreakerStore, FleetTable};
use lift_resilience::circuit_breaker::{BreakerConfig, BreakerHandle, BreakerState, SlidingWindow, WaitInOpen};
use lift_resilience::{CircuitBreakerLayer, Open};
use tokio::sync::Semaphore;
use tower::util::BoxCloneService;
use tower::{service_fn, BoxError, Layer, ServiceExt};

/// Requests a client sent, by operation.
pub(crate) type Requests = lift_dynamodb::RequestCounter;

/// A client of its own for `endpoint`, counting what it sends.
pub(crate) fn counted_client(endpoint: &str) -> (Client, Requests) {
    let requests = Requests::new();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "lift-tests"))
        .interceptor(requests.clone())
        .build();
    (Client::from_conf(config), requests)
}

/// Opens after 4 failures of 4 calls, stays open `open_for`, one trial call.
pub(crate) fn config(open_for: Duration) -> BreakerConfig {
    BreakerConfig::default()
        .window(SlidingWindow::Count(4))
        .minimum_calls(4)
        .wait_in_open(WaitInOpen::Fixed(open_for))
        .permitted_calls_in_half_open(1)
}

const OK: u8 = 0;
const FAIL: u8 = 1;
const GATED: u8 = 2;

/// One process of the fleet.
pub(crate) struct Process {
    pub(crate) svc: BoxCloneService<(), (), BoxError>,
    pub(crate) handle: BreakerHandle<()>,
    /// Calls that reached the inner service.
    pub(crate) calls: Arc<AtomicUsize>,
    pub(crate) requests: Requests,
    mode: Arc<AtomicU8>,
    gate: Arc<Semaphore>,
}

impl Process {
    /// A process on `table_name` at `endpoint`, its store built by `store` from its own table
    /// handle (own client).
    pub(crate) fn new(
        endpoint: &str,
        table_name: &str,
        config: BreakerConfig,
        store: impl FnOnce(FleetTable) -> FleetBreakerStore<()>,
    ) -> Self {
        let (client, requests) = counted_client(endpoint);
        let store = store(FleetTable::new(client, table_name));
        let calls = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(AtomicU8::new(OK));
        let gate = Arc::new(Semaphore::new(0));
        let inner = {
            let (calls, mode, gate) = (calls.clone(), mode.clone(), gate.clone());
            service_fn(move |()| {
                calls.fetch_add(1, Ordering::SeqCst);
                let (mode, gate) = (mode.load(Ordering::SeqCst), gate.clone());
                async move {
                    match mode {
                        FAIL => Err::<(), BoxError>("down".into()),
                        GATED => {
                            let _permit = gate.acquire().await.unwrap();
                            Ok(())
                        }
                        _ => Ok(()),
                    }
                }
            })
        };
        let layer = CircuitBreakerLayer::new(config).store(store);
        let handle = layer.handle();
        Self {
            svc: BoxCloneService::new(layer.layer(inner)),
            handle,
            calls,
            requests,
            mode,
            gate,
        }
    }

    pub(crate) async fn call(&self) -> Result<(), BoxError> {
        self.svc.clone().oneshot(()).await
    }

    /// A call that runs on its own task (so a gated call does not hold the caller).
    pub(crate) fn spawn_call(&self) -> tokio::task::JoinHandle<Result<(), BoxError>> {
        tokio::spawn(self.svc.clone().oneshot(()))
    }

    pub(crate) fn fail(&self) {
        self.mode.store(FAIL, Ordering::SeqCst);
    }

    pub(crate) fn succeed(&self) {
        self.mode.store(OK, Ordering::SeqCst);
    }

    /// Calls wait for [`release`](Self::release), then succeed.
    pub(crate) fn hold(&self) {
        self.mode.store(GATED, Ordering::SeqCst);
    }

    pub(crate) fn release(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    pub(crate) fn state(&self) -> Option<BreakerState> {
        self.handle.state(&())
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Whether `err` is the breaker's rejection (`circuit_open`).
pub(crate) fn is_open(err: &BoxError) -> bool {
    err.is::<Open>()
}
