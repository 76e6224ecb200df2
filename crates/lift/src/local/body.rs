//! Reads a request body whole before it enters the routes, as Lambda delivers an event whole.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;

use crate::error::{code, Error};
use crate::http::convert::too_large;

/// The whole body, or the Lift error to answer with: 413 `payload_too_large` past `limit`
/// bytes (at once when `Content-Length` says so), 408 `request_timeout` when it has not all
/// arrived within `timeout`.
pub(crate) async fn read_whole<B>(
    body: B,
    declared: Option<u64>,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Error>
where
    B: Body<Data = Bytes>,
    B::Error: Into<crate::BoxError>,
{
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(Error::new(
            http::StatusCode::REQUEST_TIMEOUT,
            code::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(
            Error::bad_request(code::MALFORMED_EVENT, "the request body could not be read")
                .with_source(std::io::Error::other(e)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::{Full, StreamBody};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_408_after_the_timeout() {
        let stalled = StreamBody::new(futures_util::stream::pending::<
            Result<hyper::body::Frame<Bytes>, Infallible>,
        >());
        let started = tokio::time::Instant::now();
        let err = read_whole(stalled, Some(10), 100, Duration::from_secs(10)).await.err();
        assert_eq!(err.map(|e| e.status()), Some(http::StatusCode::REQUEST_TIMEOUT));
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_413_declared_or_not() {
        let err = read_whole(
            Full::new(Bytes::from_static(b"123456")),
            None,
            5,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(err.err().map(|e| e.status()), Some(http::StatusCode::PAYLOAD_TOO_LARGE));
        let err = read_whole(Full::new(Bytes::new()), Some(6), 5, Duration::from_secs(1)).await;
        assert_eq!(err.err().map(|e| e.status()), Some(http::StatusCode::PAYLOAD_TOO_LARGE));
        let ok = read_whole(
            Full::new(Bytes::from_static(b"12345")),
            Some(5),
            5,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(ok.ok().as_deref(), Some(&b"12345"[..]));
    }
}
