//! A Lambda Runtime API over real HTTP, for driving the real `lambda_runtime` loop.
//!
//! Implements the endpoints a runtime uses — `GET /2018-06-01/runtime/invocation/next`,
//! `POST .../invocation/{id}/response`, `POST .../invocation/{id}/error` and
//! `POST .../init/error` — with the headers Lambda sends (`Lambda-Runtime-Aws-Request-Id`,
//! `-Deadline-Ms`, `-Invoked-Function-Arn`, `-Trace-Id`). Any number of pollers may wait on
//! `next` at once (the concurrent mode of Lambda Managed Instances); each invocation goes to
//! exactly one of them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{mpsc, oneshot, watch};

/// What the function answered for one invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// `POST .../response` with this body.
    Response(Bytes),
    /// `POST .../error` with this `errorType` and `errorMessage`.
    Error {
        /// The reported `errorType`.
        error_type: String,
        /// The reported `errorMessage`.
        error_message: String,
    },
    /// The server shut down before the function answered.
    Lost,
}

impl Outcome {
    /// The response parsed as JSON, if this is a response.
    pub fn json(&self) -> Option<serde_json::Value> {
        match self {
            Outcome::Response(b) => serde_json::from_slice(b).ok(),
            _ => None,
        }
    }

    /// The `errorType`, if this is an error.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Outcome::Error { error_type, .. } => Some(error_type),
            _ => None,
        }
    }
}

struct Pending {
    request_id: String,
    body: Bytes,
    deadline_ms: u64,
    trace_header: String,
    tenant_id: Option<String>,
}

struct Shared {
    tx: mpsc::UnboundedSender<Pending>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    waiters: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    function_arn: String,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    delivered: AtomicUsize,
    init_errors: Mutex<Vec<String>>,
    /// When the first `GET .../invocation/next` reached the server (`None` until then).
    first_poll: watch::Sender<Option<Instant>>,
}

/// A running Runtime API server on `127.0.0.1` with an ephemeral port.
pub struct RuntimeApiServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// One queued invocation: its ids, and the function's answer once it comes.
pub struct Invocation {
    /// The request id sent in `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The trace header sent in `Lambda-Runtime-Trace-Id`.
    pub trace_header: String,
    rx: oneshot::Receiver<Outcome>,
}

impl Invocation {
    /// Waits for the function's answer (at most `limit`; `Outcome::Lost` after that).
    pub async fn outcome(self, limit: Duration) -> Outcome {
        match tokio::time::timeout(limit, self.rx).await {
            Ok(Ok(o)) => o,
            _ => Outcome::Lost,
        }
    }
}

impl RuntimeApiServer {
    /// Starts the server.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            tx,
            rx: tokio::sync::Mutex::new(rx),
            waiters: Mutex::new(HashMap::new()),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:lift-test".to_owned(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            delivered: AtomicUsize::new(0),
            init_errors: Mutex::new(Vec::new()),
            first_poll: watch::Sender::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:<port>`).
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an invocation with a 30 s deadline and a fresh sampled trace header.
    pub fn invoke(&self, payload: impl Into<Bytes>) -> Invocation {
        self.invoke_with(payload, Duration::from_secs(30), crate::client::trace_header())
    }

    /// Queues an invocation with the given time to deadline and trace header.
    pub fn invoke_with(&self, payload: impl Into<Bytes>, timeout: Duration, trace_header: String) -> Invocation {
        self.invoke_for_tenant(payload, timeout, trace_header, None)
    }

    /// Queues an invocation of a tenant-isolated function (`Lambda-Runtime-Aws-Tenant-Id`).
    pub fn invoke_for_tenant(
        &self,
        payload: impl Into<Bytes>,
        timeout: Duration,
        trace_header: String,
        tenant_id: Option<String>,
    ) -> Invocation {
        let request_id = uuid::Uuid::new_v4().to_string();
        let deadline = SystemTime::now() + timeout;
        let deadline_ms = deadline
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let (otx, orx) = oneshot::channel();
        lock(&self.shared.waiters).insert(request_id.clone(), otx);
        let _ = self.shared.tx.send(Pending {
            request_id: request_id.clone(),
            body: payload.into(),
            deadline_ms,
            trace_header: trace_header.clone(),
            tenant_id,
        });
        Invocation {
            request_id,
            trace_header,
            rx: orx,
        }
    }

    /// The most invocations that were handed out and not yet answered at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// How many invocations were handed to the function.
    pub fn delivered(&self) -> usize {
        self.shared.delivered.load(Ordering::SeqCst)
    }

    /// When the function's first `GET .../invocation/next` reached the server, if it has:
    /// the end of its cold start (process start to ready for its first event).
    pub fn first_poll_at(&self) -> Option<Instant> {
        *self.shared.first_poll.borrow()
    }

    /// Waits (at most `limit`) for the function's first `GET .../invocation/next` and returns
    /// when it reached the server; `None` if none came in time.
    pub async fn first_poll(&self, limit: Duration) -> Option<Instant> {
        let mut rx = self.shared.first_poll.subscribe();
        let seen = tokio::time::timeout(limit, rx.wait_for(Option::is_some)).await;
        match seen {
            Ok(Ok(at)) => *at,
            _ => None,
        }
    }

    /// Bodies posted to `/runtime/init/error`.
    pub fn init_errors(&self) -> Vec<String> {
        lock(&self.shared.init_errors).clone()
    }
}

impl Drop for RuntimeApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn next(State(s): State<Arc<Shared>>) -> Response {
    if s.first_poll.borrow().is_none() {
        let now = Instant::now();
        s.first_poll
            .send_if_modified(|at| at.is_none() && at.replace(now).is_none());
    }
    let pending = { s.rx.lock().await.recv().await };
    let Some(p) = pending else {
        return StatusCode::GONE.into_response();
    };
    s.delivered.fetch_add(1, Ordering::SeqCst);
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", &p.request_id);
    put("lambda-runtime-deadline-ms", &p.deadline_ms.to_string());
    put("lambda-runtime-invoked-function-arn", &s.function_arn);
    put("lambda-runtime-trace-id", &p.trace_header);
    if let Some(t) = &p.tenant_id {
        put("lambda-runtime-aws-tenant-id", t);
    }
    put("content-type", "application/json");
    (StatusCode::OK, headers, p.body).into_response()
}

fn answer(s: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match lock(&s.waiters).remove(id) {
        Some(tx) => {
            s.in_flight.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        // As Lambda does for an unknown or already answered invocation.
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(&s, &id, Outcome::Response(body))
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_owned();
    answer(
        &s,
        &id,
        Outcome::Error {
            error_type: field("errorType"),
            error_message: field("errorMessage"),
        },
    )
}

async fn init_error(State(s): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    lock(&s.init_errors).push(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}
