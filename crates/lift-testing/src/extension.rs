//! [`ExtensionServer`]: a loopback HTTP server standing in for the AWS AppConfig and the
//! Parameters and Secrets Lambda extensions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};

/// What the server answers on a path.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Reply {
    /// 200 with this body.
    Body(String),
    /// This status, with a short JSON body.
    Status(u16),
    /// No answer for 5 minutes (longer than any client waits).
    Hang,
}

#[derive(Default)]
struct State {
    replies: HashMap<String, Reply>,
    calls: HashMap<String, usize>,
    tokens: Vec<Option<String>>,
}

/// A real HTTP server on `127.0.0.1` (ephemeral port) answering whatever was set for a path
/// and query, counting the requests (a cache test counts calls on it), and remembering the
/// `X-Aws-Parameters-Secrets-Token` each request carried. Unknown paths answer 404.
///
/// Point the code under test at it with `AWS_APPCONFIG_EXTENSION_HTTP_PORT` /
/// `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, or by passing [`port`](Self::port).
#[derive(Clone)]
pub struct ExtensionServer {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for ExtensionServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtensionServer").field("port", &self.port).finish()
    }
}

fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl ExtensionServer {
    /// Starts the server on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let state: Arc<Mutex<State>> = Arc::default();
        let st = state.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let st = st.clone();
            async move { answer(&st, req).await }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { port, state })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What `path_and_query` answers from now on.
    pub fn reply(&self, path_and_query: &str, reply: Reply) {
        self.lock().replies.insert(path_and_query.to_owned(), reply);
    }

    /// The AppConfig extension's path of a profile.
    pub fn appconfig_path(app: &str, env: &str, profile: &str) -> String {
        format!(
            "/applications/{}/environments/{}/configurations/{}",
            encode(app),
            encode(env),
            encode(profile)
        )
    }

    /// Serves `document` as the AppConfig profile `app/env/profile`.
    pub fn appconfig(&self, app: &str, env: &str, profile: &str, document: &str) {
        self.reply(
            &Self::appconfig_path(app, env, profile),
            Reply::Body(document.to_owned()),
        );
    }

    /// The extension's path of an SSM parameter.
    pub fn parameter_path(name: &str) -> String {
        format!(
            "/systemsmanager/parameters/get?name={}&withDecryption=true",
            encode(name)
        )
    }

    /// Serves SSM parameter `name` with `value` (a `GetParameter` answer).
    pub fn parameter(&self, name: &str, value: &str) {
        let body = serde_json::json!({"Parameter": {"Name": name, "Type": "String", "Value": value, "Version": 1}});
        self.reply(&Self::parameter_path(name), Reply::Body(body.to_string()));
    }

    /// The extension's path of a secret.
    pub fn secret_path(id: &str) -> String {
        format!("/secretsmanager/get?secretId={}", encode(id))
    }

    /// Serves secret `id` with `value` (a `GetSecretValue` answer).
    pub fn secret(&self, id: &str, value: &str) {
        let body = serde_json::json!({"Name": id, "SecretString": value, "VersionId": "v1"});
        self.reply(&Self::secret_path(id), Reply::Body(body.to_string()));
    }

    /// Requests received on `path_and_query`.
    pub fn calls(&self, path_and_query: &str) -> usize {
        self.lock().calls.get(path_and_query).copied().unwrap_or(0)
    }

    /// The `X-Aws-Parameters-Secrets-Token` of every request so far, in order.
    pub fn tokens(&self) -> Vec<Option<String>> {
        self.lock().tokens.clone()
    }
}

async fn answer(state: &Mutex<State>, req: Request<Body>) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let reply = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        *st.calls.entry(path.clone()).or_default() += 1;
        let token = req
            .headers()
            .get("x-aws-parameters-secrets-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        st.tokens.push(token);
        st.replies.get(&path).cloned()
    };
    match reply {
        Some(Reply::Body(b)) => (StatusCode::OK, b).into_response(),
        Some(Reply::Status(s)) => (
            StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            r#"{"message":"failure on purpose"}"#,
        )
            .into_response(),
        Some(Reply::Hang) => {
            tokio::time::sleep(Duration::from_secs(300)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
