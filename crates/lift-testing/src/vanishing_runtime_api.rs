//! [`VanishingRuntimeApi`]: a fake Runtime API that serves a set list of invocations, then goes
//! away mid-run: at the next `/next` it closes every connection and stops listening. It exists
//! for the fault the real test server ([`RuntimeApiServer`](crate::RuntimeApiServer)) cannot
//! produce: axum keeps a long-polled `/next` open after its listener stops.
//!
//! HTTP/1.1 over a raw socket, one connection at a time, `Content-Length` bodies only: what
//! `lambda_runtime`'s client sends.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct Seen {
    responses: Vec<String>,
    init_errors: Vec<String>,
}

/// A fake Runtime API that vanishes after its invocations (see the module docs).
pub struct VanishingRuntimeApi {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl VanishingRuntimeApi {
    /// Serves `events` (JSON payloads) one per `/next`, then vanishes at the next `/next`.
    pub async fn start(events: Vec<String>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let task = tokio::spawn(serve(listener, events, seen.clone()));
        Ok(Self { addr, seen, task })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:<port>`).
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Bodies posted to `/response` and invocation `/error`, in arrival order.
    pub fn responses(&self) -> Vec<String> {
        self.lock().responses.clone()
    }

    /// Bodies posted to `/runtime/init/error`.
    pub fn init_errors(&self) -> Vec<String> {
        self.lock().init_errors.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for VanishingRuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, events: Vec<String>, seen: Arc<Mutex<Seen>>) {
    let mut events = events.into_iter().enumerate();
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        let mut conn = BufReader::new(socket);
        // Requests of this connection, one after another; a closed connection waits for the next.
        while let Some((line, body)) = read_request(&mut conn).await {
            let record = |to: fn(&mut Seen) -> &mut Vec<String>| {
                to(&mut seen.lock().unwrap_or_else(|p| p.into_inner())).push(body.clone());
            };
            let ok = if line.contains("/invocation/next") {
                let Some((i, event)) = events.next() else {
                    // Vanish: this connection and the listener are dropped on return.
                    return;
                };
                next(&mut conn, i, &event).await
            } else if line.contains("/init/error") {
                record(|s| &mut s.init_errors);
                accepted(&mut conn).await
            } else if line.contains("/response") || line.contains("/error") {
                record(|s| &mut s.responses);
                accepted(&mut conn).await
            } else {
                write(&mut conn, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await
            };
            if !ok {
                break;
            }
        }
    }
}

/// The request line and body of the next request, `None` once the connection is closed.
async fn read_request(conn: &mut BufReader<TcpStream>) -> Option<(String, String)> {
    let mut request_line = String::new();
    if conn.read_line(&mut request_line).await.ok()? == 0 {
        return None;
    }
    let mut length = 0;
    loop {
        let mut header = String::new();
        if conn.read_line(&mut header).await.ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).await.ok()?;
    Some((request_line, String::from_utf8_lossy(&body).into_owned()))
}

async fn next(conn: &mut BufReader<TcpStream>, i: usize, event: &str) -> bool {
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() + 30_000);
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         lambda-runtime-aws-request-id: vanishing-{i}\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
         lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:vanishing\r\n\r\n",
        event.len()
    );
    write(conn, &head).await && write(conn, event).await
}

async fn accepted(conn: &mut BufReader<TcpStream>) -> bool {
    write(
        conn,
        "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n{\"status\":\"OK\"}\n",
    )
    .await
}

async fn write(conn: &mut BufReader<TcpStream>, text: &str) -> bool {
    conn.get_mut().write_all(text.as_bytes()).await.is_ok()
}
