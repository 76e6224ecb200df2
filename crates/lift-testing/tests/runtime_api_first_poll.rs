//! `RuntimeApiServer::first_poll`: the moment a function's first `GET .../invocation/next`
//! reached the server (the end of a cold start), polled here over a raw TCP connection.

use std::time::{Duration, Instant};

use lift_testing::RuntimeApiServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const NEXT: &[u8] = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: runtime\r\n\r\n";

/// Reads from `conn` until the response head and a body holding `needle` arrived.
async fn read_until(conn: &mut TcpStream, needle: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(needle) {
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .expect("read");
        assert!(
            n > 0,
            "connection closed before {needle:?}: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn first_poll_is_when_the_first_next_request_arrived_and_never_moves() {
    let server = RuntimeApiServer::start().await.expect("server");
    assert_eq!(server.first_poll_at(), None, "no poll yet");
    assert_eq!(
        server.first_poll(Duration::from_millis(50)).await,
        None,
        "waiting without a poll times out"
    );

    let before = Instant::now();
    let mut first = TcpStream::connect(server.endpoint()).await.expect("connect");
    first.write_all(NEXT).await.expect("write");
    let at = server
        .first_poll(Duration::from_secs(5))
        .await
        .expect("the poll was seen");
    assert!(before <= at && at <= Instant::now(), "stamped when it arrived");
    assert_eq!(server.first_poll_at(), Some(at));

    // The poll is a real one: it gets the next invocation.
    let invocation = server.invoke(r#"{"n":1}"#);
    let answer = read_until(&mut first, r#"{"n":1}"#).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(&invocation.request_id), "{answer}");

    // A later poll, on another connection, leaves the first one's time alone.
    let mut second = TcpStream::connect(server.endpoint()).await.expect("connect");
    second.write_all(NEXT).await.expect("write");
    let _ = server.invoke(r#"{"n":2}"#);
    let _ = read_until(&mut second, r#"{"n":2}"#).await;
    assert_eq!(server.first_poll_at(), Some(at));
    assert_eq!(server.first_poll(Duration::from_secs(1)).await, Some(at));
}
