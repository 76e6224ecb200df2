//! Driving a function binary through lift-testing's Runtime API server: the subjects of the
//! loop benchmarks, starting one as Lambda would, and keeping a number of invocations in flight.

use std::cell::{Cell, RefCell};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lift_testing::{events, Outcome, RuntimeApiServer};

/// The longest one invocation may take before the run is declared broken.
const INVOCATION_LIMIT: Duration = Duration::from_secs(10);

/// A function binary measured on the loop, with the environment that selects its variant.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Its name in the results (`echo-multi-thread`, `lift-quickstart`...).
    pub name: &'static str,
    /// The binary.
    pub binary: PathBuf,
    /// Variables set on top of Lambda's.
    pub env: Vec<(&'static str, &'static str)>,
    /// What a correct answer to [`event`] looks like.
    pub answer: Answer,
}

/// What a subject answers to [`event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The event itself.
    Echo,
    /// An API Gateway v2 response, status 200, body `{"message":"hello, loop"}`.
    Hello,
}

/// The quick start's rate limit on the loop: far above any rate this machine reaches.
pub const QUICKSTART_UNLIMITED: &str = "1000000000";

/// The subjects of the loop benchmarks, their binaries in `bin_dir`: the bare `lambda_runtime`
/// echo on tokio's multi-thread and current-thread runtimes, the latter also with mimalloc (the
/// quick start's optional allocator, to show what the allocator alone is worth), `lambda_http` running an
/// axum `Router`, and the Lift quick start (whole stack).
pub fn subjects(bin_dir: &Path) -> Vec<Subject> {
    let echo = bin_dir.join("peer_echo");
    vec![
        Subject {
            name: "echo-multi-thread",
            binary: echo.clone(),
            env: vec![("PEER_TOKIO_RUNTIME", "multi_thread")],
            answer: Answer::Echo,
        },
        Subject {
            name: "echo-current-thread",
            binary: echo,
            env: vec![("PEER_TOKIO_RUNTIME", "current_thread")],
            answer: Answer::Echo,
        },
        Subject {
            name: "echo-current-mimalloc",
            binary: bin_dir.join("peer_echo_mimalloc"),
            env: vec![("PEER_TOKIO_RUNTIME", "current_thread")],
            answer: Answer::Echo,
        },
        Subject {
            name: "lambda_http-axum",
            binary: bin_dir.join("peer_lambda_http"),
            env: Vec::new(),
            answer: Answer::Hello,
        },
        Subject {
            name: "lift-quickstart",
            binary: bin_dir.join("quickstart"),
            // Its process-wide rate limit (1,000/s by default) would answer most of a loop
            // this fast with 429s: measured is the cost of a served request.
            env: vec![("QUICKSTART_RATE_LIMIT_PER_SECOND", QUICKSTART_UNLIMITED)],
            answer: Answer::Hello,
        },
    ]
}

/// The event every subject gets: API Gateway v2 (HTTP API) `GET /hello/loop`.
pub fn event() -> Bytes {
    Bytes::from(events::apigw_v2("GET", "/hello/loop").build().to_string())
}

/// Checks one answer to `event` (an API Gateway v2 `GET /hello/loop`, for [`Answer::Hello`]).
pub fn check(answer: Answer, event: &[u8], outcome: &Outcome) -> Result<(), String> {
    let json = outcome
        .json()
        .ok_or_else(|| format!("not a JSON response: {outcome:?}"))?;
    let ok = match answer {
        Answer::Echo => serde_json::from_slice::<serde_json::Value>(event).is_ok_and(|e| e == json),
        Answer::Hello => {
            json["statusCode"] == 200
                && json["body"]
                    .as_str()
                    .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                    .is_some_and(|b| b["message"] == "hello, loop")
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected answer ({answer:?}): {json}"))
    }
}

/// A function process started as Lambda starts one, against a Runtime API server; killed when
/// dropped.
#[derive(Debug)]
pub struct Function {
    child: Child,
}

impl Function {
    /// Starts `subject` with Lambda's variables pointing at `server`, no other inherited
    /// environment, and `AWS_LAMBDA_MAX_CONCURRENCY` when `concurrency` is given. X-Ray
    /// segments go to `xray_daemon` (UDP `host:port`); stdout and stderr to `/dev/null`.
    pub fn spawn(
        subject: &Subject,
        server: &RuntimeApiServer,
        concurrency: Option<u32>,
        xray_daemon: &str,
    ) -> io::Result<Self> {
        let mut cmd = Command::new(&subject.binary);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
            .env("AWS_LAMBDA_FUNCTION_NAME", subject.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", subject.name))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_XRAY_DAEMON_ADDRESS", xray_daemon)
            .envs(subject.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(n) = concurrency {
            cmd.env("AWS_LAMBDA_MAX_CONCURRENCY", n.to_string());
        }
        let child = cmd
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", subject.binary.display())))?;
        Ok(Self { child })
    }

    /// The process id, for [`crate::process`].
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the driver saw of one run.
#[derive(Debug, Clone)]
pub struct Run {
    /// Each invocation's latency, queued to answered, in completion order.
    pub latencies: Vec<Duration>,
    /// The whole run's wall time.
    pub elapsed: Duration,
    /// HTTP answers (a `statusCode` in the response) other than 200: e.g. the quick start's
    /// default global rate limit (1,000/s) answering 429.
    pub not_200: usize,
}

impl Run {
    /// The share of HTTP answers other than 200, in %.
    pub fn not_200_pct(&self) -> f64 {
        self.not_200 as f64 * 100.0 / self.latencies.len().max(1) as f64
    }

    /// Invocations answered per second of wall time.
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at percentile `p` (0–100, nearest rank), in µs.
    pub fn percentile_us(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        percentile(&sorted, p).as_secs_f64() * 1e6
    }
}

/// Nearest-rank percentile of an ascending slice (zero when empty).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sends `n` invocations of `event` through `server`, keeping `in_flight` queued or running at
/// once, and checks each answer is a response (`answer`, when given, also checks its content).
/// `on_done(k)` runs after the `k`-th answer (for sampling during a run).
pub async fn drive(
    server: &RuntimeApiServer,
    event: &Bytes,
    n: usize,
    in_flight: usize,
    answer: Option<Answer>,
    on_done: impl FnMut(usize),
) -> Result<Run, String> {
    let started = Cell::new(0usize);
    let not_200 = Cell::new(0usize);
    let latencies = RefCell::new(Vec::with_capacity(n));
    let on_done = RefCell::new(on_done);
    let (started, not_200_ref, latencies_ref, on_done_ref) = (&started, &not_200, &latencies, &on_done);
    let worker = move || async move {
        while started.get() < n {
            started.set(started.get() + 1);
            let t0 = Instant::now();
            let outcome = server.invoke(event.clone()).outcome(INVOCATION_LIMIT).await;
            let latency = t0.elapsed();
            match (&outcome, answer) {
                (Outcome::Response(body), None) => {
                    if http_status(body).is_some_and(|s| s != 200) {
                        not_200_ref.set(not_200_ref.get() + 1);
                    }
                }
                (Outcome::Response(_), Some(a)) => check(a, event, &outcome)?,
                _ => return Err(format!("invocation failed: {outcome:?}")),
            }
            let done = {
                let mut l = latencies_ref.borrow_mut();
                l.push(latency);
                l.len()
            };
            (on_done_ref.borrow_mut())(done);
        }
        Ok(())
    };
    let t0 = Instant::now();
    let workers = futures_util::future::join_all((0..in_flight.max(1)).map(|_| worker())).await;
    let elapsed = t0.elapsed();
    workers.into_iter().collect::<Result<Vec<()>, String>>()?;
    Ok(Run {
        latencies: latencies.into_inner(),
        elapsed,
        not_200: not_200.get(),
    })
}

/// The `statusCode` of an HTTP answer (compact JSON, as `lambda_runtime` sends it), without
/// parsing the whole document; `None` when there is none (an echo).
fn http_status(body: &[u8]) -> Option<u16> {
    const KEY: &[u8] = b"\"statusCode\":";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits = body.get(at..at + 3)?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The median of `values` (the mean of the middle two for an even count; NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => v[len / 2],
        len => (v[len / 2 - 1] + v[len / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_and_medians() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&v, 100.0), Duration::from_micros(100));
        assert_eq!(percentile(&v[..1], 99.0), Duration::from_micros(1));
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn http_status_is_found_without_parsing() {
        assert_eq!(http_status(br#"{"statusCode":429,"headers":{}}"#), Some(429));
        assert_eq!(http_status(br#"{"headers":{},"statusCode":200}"#), Some(200));
        assert_eq!(http_status(br#"{"version":"2.0","rawPath":"/hello"}"#), None);
    }

    #[test]
    fn answers_are_checked() {
        let hello = serde_json::json!({"statusCode": 200, "body": "{\"message\":\"hello, loop\"}"});
        let ok = Outcome::Response(Bytes::from(hello.to_string()));
        let sent = event();
        assert!(check(Answer::Hello, &sent, &ok).is_ok());
        let wrong = serde_json::json!({"statusCode": 404, "body": "{}"});
        assert!(check(Answer::Hello, &sent, &Outcome::Response(Bytes::from(wrong.to_string()))).is_err());
        assert!(check(Answer::Echo, &sent, &Outcome::Response(sent.clone())).is_ok());
        assert!(
            check(Answer::Echo, &sent, &Outcome::Response(event())).is_err(),
            "another request id"
        );
        assert!(check(Answer::Echo, &sent, &ok).is_err());
        assert!(check(Answer::Echo, &sent, &Outcome::Lost).is_err());
    }
}
