//! The quick start binary as a local server: start it on a free port, talk raw HTTP to it,
//! stop it with SIGTERM.

#![allow(dead_code, clippy::unwrap_used)]

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A free loopback port (bound and released; the server binds it right after).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl Server {
    /// Starts the quick start on a free port with `vars`, stdout and stderr as given, and waits
    /// until `/health` answers.
    pub(crate) async fn start(vars: &[(&str, &str)], stdout: Stdio, stderr: Stdio) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quickstart"));
        cmd.env_remove("AWS_LAMBDA_RUNTIME_API")
            .env("PORT", port.to_string())
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn the quickstart binary");
        let server = Self { child, port };
        for _ in 0..200 {
            if let Ok((200, _)) = server.request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the local server did not come up on port {port}");
    }

    pub(crate) async fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port)).await.unwrap()
    }

    /// Sends one raw request (`Connection: close` is added) and reads the status and body.
    pub(crate) async fn request(&self, head_and_body: &str) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).await?;
        let raw = head_and_body.replacen("\r\n", "\r\nConnection: close\r\n", 1);
        s.write_all(raw.as_bytes()).await?;
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("no answer within 10 s"))??;
        Ok(parse_response(&buf))
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        self.request(&format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"))
            .await
            .unwrap()
    }

    pub(crate) async fn post_json(&self, path: &str, body: &str) -> (u16, String) {
        self.request(&format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await
        .unwrap()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub(crate) async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        assert!(killed.success());
        tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("the server exits after SIGTERM")
            .unwrap()
    }
}

pub(crate) fn parse_response(buf: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(buf);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

pub(crate) fn error_code(body: &str) -> Value {
    serde_json::from_str::<Value>(body).unwrap_or(Value::Null)["error"]["code"].clone()
}

/// A moto server of the calling test's own (from `.tools`, which `scripts/test.sh` installs),
/// to kill mid-run: the child (killed on drop) and its endpoint.
pub(crate) async fn own_moto() -> (Child, String) {
    let moto = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.tools/venv/bin/moto_server");
    let port = free_port();
    let child = Command::new(moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{moto}: {e} (scripts/test.sh installs it)"));
    let started = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "moto did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, format!("http://127.0.0.1:{port}"))
}
