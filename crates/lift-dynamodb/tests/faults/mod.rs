//! Fakes for the store's failure modes: a counting SDK interceptor, a loopback `FaultProxy`
//! (answers late, or answers DynamoDB's throttling error), a closed port, and DynamoDB servers
//! of the test's own that it can kill.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use lift_dynamodb::FleetTable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Counts the requests a client sends, by operation.
pub(crate) type RoundTrips = lift_dynamodb::RequestCounter;

/// `table` reached through a client of its own that counts its requests.
pub(crate) fn counted(endpoint: &str, table: &FleetTable) -> (FleetTable, RoundTrips) {
    let trips = RoundTrips::default();
    let config = crate::common::client(endpoint)
        .config()
        .to_builder()
        .interceptor(trips.clone())
        .build();
    (FleetTable::new(Client::from_conf(config), table.name()), trips)
}

/// An endpoint on a loopback port nothing listens on.
pub(crate) async fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// A fake DynamoDB endpoint on loopback that misbehaves.
pub(crate) struct FaultProxy {
    endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Forwards to `upstream` (`http://host:port`), but holds each answer back for `delay`.
    pub(crate) async fn delaying(upstream: &str, delay: Duration) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        Self::serve(move |mut client| {
            let upstream = upstream.clone();
            async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = tokio::io::copy(&mut cr, &mut sw);
                let down = async {
                    tokio::time::sleep(delay).await;
                    tokio::io::copy(&mut sr, &mut cw).await
                };
                let _ = tokio::join!(up, down);
                let _ = client.shutdown().await;
            }
        })
        .await
    }

    /// Answers every request with DynamoDB's throttling error (status 400).
    pub(crate) async fn throttling() -> Self {
        Self::serve(|mut client| async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = Vec::new();
            // Read the request: headers, then the body by its content-length.
            loop {
                let Ok(n) = client.read(&mut buf).await else { return };
                if n == 0 {
                    return;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;
            let res = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: fault\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = client.write_all(res.as_bytes()).await;
            let _ = client.shutdown().await;
        })
        .await
    }

    async fn serve<F, Fut>(handle: F) -> Self
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", l.local_addr().unwrap());
        let task = tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(handle(s));
            }
        });
        Self { endpoint, task }
    }

    /// Its endpoint.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// A DynamoDB-compatible server of the test's own (moto or dynalite), on a free port.
pub(crate) struct OwnServer {
    child: tokio::process::Child,
    pub(crate) endpoint: String,
}

impl OwnServer {
    /// Starts `server` (`"moto"` or `"dynalite"`) from the repository's `.tools`.
    pub(crate) async fn start(server: &str) -> Self {
        let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut cmd = if server == "moto" {
            let mut c = tokio::process::Command::new(tools.join("venv/bin/moto_server"));
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            c
        } else {
            let mut c = tokio::process::Command::new(tools.join("node/node_modules/.bin/dynalite"));
            c.args(["--port", &port.to_string(), "--createTableMs", "0"]);
            c
        };
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        let child = cmd.spawn().unwrap();
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Kills it and waits until it is gone.
    pub(crate) async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }
}

/// A wall clock the test moves by hand (epoch milliseconds).
#[derive(Debug, Clone)]
pub(crate) struct HandClock(Arc<AtomicU64>);

impl HandClock {
    pub(crate) fn at(ms: u64) -> Self {
        Self(Arc::new(AtomicU64::new(ms)))
    }

    pub(crate) fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    pub(crate) fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// For the store's builder.
    pub(crate) fn reader(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let c = self.0.clone();
        move || c.load(Ordering::SeqCst)
    }
}

/// The start of a window of `period_ms` a little after now (so items expire in the future).
pub(crate) fn next_window(period_ms: u64) -> u64 {
    let now = lift_dynamodb::rate_limit::system_millis();
    (now / period_ms + 1) * period_ms
}
