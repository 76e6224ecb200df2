//! Where log lines, EMF documents and X-Ray datagrams go: injectable sinks.

use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A destination for complete lines (log lines, EMF documents). Each call carries exactly one
/// line, terminated by `\n`; implementations must write it whole or fail.
///
/// An `Err` is never propagated to the handler: it is counted as a drop in [`crate::Stats`].
pub trait LineSink: Send + Sync + 'static {
    /// Writes one line (including its trailing newline).
    fn write_line(&self, line: &[u8]) -> io::Result<()>;

    /// Waits until every line accepted so far is written, at most `timeout`; `true` when
    /// nothing is left. Sinks that write synchronously have nothing to wait for (the default).
    fn flush(&self, timeout: Duration) -> bool {
        let _ = timeout;
        true
    }

    /// Whether several whole lines may arrive in one [`write_line`](Self::write_line) call:
    /// when logs and EMF share this sink, an invocation's summary line and EMF documents are
    /// then written together, one system call instead of several. `false` (the default) for
    /// sinks that keep lines apart.
    fn coalesces(&self) -> bool {
        false
    }
}

/// A destination for X-Ray datagrams (header line + JSON document).
pub trait DatagramSink: Send + Sync + 'static {
    /// Sends one datagram; must not block.
    fn send(&self, datagram: &[u8]) -> io::Result<()>;
}

/// Process stdout (the default): one `write_all` of the whole line under stdout's lock, so lines
/// from concurrent invocations never interleave.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdoutSink;

impl LineSink for StdoutSink {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(line)?;
        out.flush()
    }

    fn coalesces(&self) -> bool {
        true
    }
}

/// Any `std::io::Write` behind a mutex (a file, a pipe, a `Vec<u8>`).
pub struct WriterSink<W>(Mutex<W>);

impl<W: Write + Send + 'static> WriterSink<W> {
    /// Wraps a writer.
    pub fn new(writer: W) -> Self {
        Self(Mutex::new(writer))
    }
}

impl<W> fmt::Debug for WriterSink<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriterSink")
    }
}

impl<W: Write + Send + 'static> LineSink for WriterSink<W> {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut w = self.0.lock().map_err(|_| io::Error::other("writer sink poisoned"))?;
        w.write_all(line)
    }
}

/// A sink that discards everything (benchmarks, or a piece turned off).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl LineSink for NullSink {
    fn write_line(&self, _line: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

impl DatagramSink for NullSink {
    fn send(&self, _datagram: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

/// Captures lines or datagrams in memory; clones share the buffer. For tests.
#[derive(Clone, Debug, Default)]
pub struct CaptureSink {
    items: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl CaptureSink {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything captured so far, as UTF-8 strings (lines keep no trailing newline).
    pub fn lines(&self) -> Vec<String> {
        self.items
            .lock()
            .map(|v| {
                v.iter()
                    .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\n").unwrap_or(l)).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Everything captured so far, each parsed as JSON (an unparsable line is an `Err`).
    pub fn json_lines(&self) -> Result<Vec<serde_json::Value>, serde_json::Error> {
        self.lines().iter().map(|l| serde_json::from_str(l)).collect()
    }

    /// Forgets everything captured.
    pub fn clear(&self) {
        if let Ok(mut v) = self.items.lock() {
            v.clear();
        }
    }

    fn push(&self, bytes: &[u8]) -> io::Result<()> {
        self.items
            .lock()
            .map_err(|_| io::Error::other("capture poisoned"))?
            .push(bytes.to_vec());
        Ok(())
    }
}

impl LineSink for CaptureSink {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.push(line)
    }
}

impl DatagramSink for CaptureSink {
    fn send(&self, datagram: &[u8]) -> io::Result<()> {
        self.push(datagram)
    }
}

/// Sends datagrams over UDP to the X-Ray daemon from a non-blocking socket.
#[derive(Debug)]
pub struct UdpSink {
    socket: UdpSocket,
    target: SocketAddr,
}

impl UdpSink {
    /// Binds an ephemeral local socket of the target's address family.
    pub fn new(target: SocketAddr) -> io::Result<Self> {
        let bind: SocketAddr = if target.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(bind)?;
        socket.set_nonblocking(true)?;
        Ok(Self { socket, target })
    }

    /// Where datagrams go.
    pub fn target(&self) -> SocketAddr {
        self.target
    }
}

impl DatagramSink for UdpSink {
    fn send(&self, datagram: &[u8]) -> io::Result<()> {
        let n = self.socket.send_to(datagram, self.target)?;
        if n != datagram.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short UDP send"));
        }
        Ok(())
    }
}
