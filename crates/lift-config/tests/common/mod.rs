//! A loopback HTTP server standing in for the AppConfig and the Parameters and Secrets
//! extensions, and a tracing layer counting ERROR lines.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What the server answers on a path.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// 200 with this body.
    Body(String),
    /// This status with a short body.
    Status(u16),
    /// Never answers (until the client gives up).
    Hang,
}

#[derive(Default)]
pub(crate) struct State {
    replies: Mutex<HashMap<String, Reply>>,
    calls: Mutex<HashMap<String, usize>>,
    tokens: Mutex<Vec<Option<String>>>,
    total: AtomicUsize,
}

/// The server: `reply` sets what a path (with its query) answers; `calls` counts requests.
#[derive(Clone)]
pub(crate) struct Extension {
    pub port: u16,
    state: Arc<State>,
}

impl Extension {
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(State::default());
        let st = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<Incoming>| {
                        let st = st.clone();
                        async move { Ok::<_, Infallible>(answer(&st, req).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Self { port, state }
    }

    pub(crate) fn reply(&self, path: &str, reply: Reply) {
        self.state.replies.lock().unwrap().insert(path.to_owned(), reply);
    }

    pub(crate) fn calls(&self, path: &str) -> usize {
        self.state.calls.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub(crate) fn total_calls(&self) -> usize {
        self.state.total.load(Ordering::SeqCst)
    }

    pub(crate) fn tokens(&self) -> Vec<Option<String>> {
        self.state.tokens.lock().unwrap().clone()
    }
}

async fn answer(st: &State, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    st.total.fetch_add(1, Ordering::SeqCst);
    *st.calls.lock().unwrap().entry(path.clone()).or_default() += 1;
    st.tokens.lock().unwrap().push(
        req.headers()
            .get("x-aws-parameters-secrets-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    );
    let reply = st.replies.lock().unwrap().get(&path).cloned();
    match reply {
        Some(Reply::Body(b)) => hyper::Response::new(Full::new(Bytes::from(b))),
        Some(Reply::Status(s)) => {
            let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"{\"message\":\"failure\"}")));
            *r.status_mut() = hyper::StatusCode::from_u16(s).unwrap();
            r
        }
        Some(Reply::Hang) => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            hyper::Response::new(Full::new(Bytes::new()))
        }
        None => {
            let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"not found")));
            *r.status_mut() = hyper::StatusCode::NOT_FOUND;
            r
        }
    }
}

/// Counts ERROR events (log lines), keeping their fields' text.
#[derive(Clone, Default)]
pub(crate) struct ErrorLines(pub Arc<Mutex<Vec<String>>>);

impl ErrorLines {
    pub(crate) fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    pub(crate) fn last(&self) -> String {
        self.0.lock().unwrap().last().cloned().unwrap_or_default()
    }
}

struct Text<'a>(&'a mut String);

impl tracing::field::Visit for Text<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ErrorLines {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            let mut s = String::new();
            event.record(&mut Text(&mut s));
            self.0.lock().unwrap().push(s);
        }
    }
}

/// Installs an [`ErrorLines`] as this thread's subscriber while the guard lives.
pub(crate) fn capture_errors() -> (ErrorLines, tracing::subscriber::DefaultGuard) {
    use tracing_subscriber::layer::SubscriberExt;
    let lines = ErrorLines::default();
    let sub = tracing_subscriber::registry().with(lines.clone());
    (lines, tracing::subscriber::set_default(sub))
}
