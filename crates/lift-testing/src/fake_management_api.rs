//! [`FakeManagementApi`]: a fake API Gateway Management API on a loopback port, for the one
//! answer the real local servers cannot give: moto accepts a post to any connection id (it
//! creates the connection), so it never answers 410 Gone. This fake records what it is sent
//! and answers 410 `GoneException` (or another error) for the connections it is told to.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

/// One `PostToConnection` the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Post {
    /// The connection id (percent-decoded).
    pub connection_id: String,
    /// The data sent.
    pub data: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    posts: Vec<Post>,
    closed: Vec<String>,
    /// Connection id -> (status, error type) to answer with.
    faults: HashMap<String, (StatusCode, &'static str)>,
}

/// A fake management API: `POST`, `GET` and `DELETE` on `/@connections/{id}` (under any stage
/// prefix), answering as API Gateway does (`x-amzn-ErrorType` and a JSON message on errors).
pub struct FakeManagementApi {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeManagementApi {
    /// Starts the fake on `127.0.0.1` with an ephemeral port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = Router::new()
            .route("/@connections/{id}", any(handle))
            .route("/{stage}/@connections/{id}", any(handle_staged))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The endpoint to give the management client (`http://127.0.0.1:port`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, `connection_id` answers 410 `GoneException`.
    pub fn mark_gone(&self, connection_id: &str) {
        self.fail(connection_id, StatusCode::GONE, "GoneException");
    }

    /// From now on, `connection_id` answers `status` with error type `error_type`
    /// (`LimitExceededException` with 429, `ForbiddenException` with 403...).
    pub fn fail(&self, connection_id: &str, status: StatusCode, error_type: &'static str) {
        self.lock()
            .faults
            .insert(connection_id.to_owned(), (status, error_type));
    }

    /// The posts delivered (not those answered with an error), in arrival order.
    pub fn posts(&self) -> Vec<Post> {
        self.lock().posts.clone()
    }

    /// The connection ids the fake delivered a post to.
    pub fn receivers(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().posts.iter().map(|p| p.connection_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The connection ids closed with `DeleteConnection`.
    pub fn closed(&self) -> Vec<String> {
        self.lock().closed.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for FakeManagementApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle_staged(
    state: State<Arc<Mutex<Shared>>>,
    method: Method,
    Path((_stage, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    handle(state, method, Path(id), body).await
}

async fn handle(
    State(shared): State<Arc<Mutex<Shared>>>,
    method: Method,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((status, error_type)) = shared.faults.get(&id).copied() {
        let body = serde_json::json!({ "message": format!("{error_type} for connection {id}") }).to_string();
        return (
            status,
            [("x-amzn-ErrorType", error_type), ("content-type", "application/json")],
            body,
        )
            .into_response();
    }
    match method {
        Method::POST => {
            shared.posts.push(Post {
                connection_id: id,
                data: body.to_vec(),
            });
            StatusCode::OK.into_response()
        }
        Method::DELETE => {
            shared.closed.push(id);
            StatusCode::NO_CONTENT.into_response()
        }
        Method::GET => {
            let body = serde_json::json!({
                "connectedAt": "2024-02-09T20:00:00Z",
                "lastActiveAt": "2024-02-09T20:00:00Z",
                "identity": {"sourceIp": "127.0.0.1", "userAgent": "lift-testing fake"}
            })
            .to_string();
            (StatusCode::OK, [("content-type", "application/json")], body).into_response()
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}
