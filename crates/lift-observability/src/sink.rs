//! Where log lines, EMF documents and X-Ray datagrams go: injectable sinks.

use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

/// A destination for complete lines (log lines, EMF documents). Each call carries exactly one
/// line, terminated by `\n`; implementations must write it whole or fail.
///
/// An `Err` is never propagated to the handler: it is counted as a drop in [`crate::Stats`].
pub trait LineSink: Send + Sync + 'static {
    /// Writes one line (including its trailing newline).
    fn write_line(&self, line: &[u8]) -> io::Result<()>;
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

/// Hands lines to a background thread over a bounded queue; when the queue is full (stdout
/// blocked by a slow reader) the line is dropped and counted instead of stalling the invocation.
pub struct NonBlockingSink {
    tx: SyncSender<Vec<u8>>,
}

impl fmt::Debug for NonBlockingSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonBlockingSink")
    }
}

impl NonBlockingSink {
    /// Starts a writer thread feeding `inner`, with room for `capacity` queued lines.
    pub fn new(inner: Arc<dyn LineSink>, capacity: usize) -> io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(capacity.max(1));
        std::thread::Builder::new()
            .name("lift-obs-writer".into())
            .spawn(move || {
                while let Ok(line) = rx.recv() {
                    // Errors here cannot reach a caller any more; the line is lost.
                    let _ = inner.write_line(&line);
                }
            })?;
        Ok(Self { tx })
    }

    /// A non-blocking stdout writer.
    pub fn stdout(capacity: usize) -> io::Result<Self> {
        Self::new(Arc::new(StdoutSink), capacity)
    }
}

impl LineSink for NonBlockingSink {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        match self.tx.try_send(line.to_vec()) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "log queue full; line dropped",
            )),
            Err(TrySendError::Disconnected(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "log writer thread gone; line dropped",
            )),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    struct Closed;
    impl LineSink for Closed {
        fn write_line(&self, _: &[u8]) -> io::Result<()> {
            std::thread::sleep(std::time::Duration::from_millis(50));
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
    }

    #[test]
    fn non_blocking_sink_drops_when_full_instead_of_blocking() {
        let sink = NonBlockingSink::new(Arc::new(Closed), 2).expect("thread");
        let start = std::time::Instant::now();
        let results: Vec<_> = (0..50).map(|_| sink.write_line(b"x\n")).collect();
        assert!(start.elapsed() < std::time::Duration::from_millis(40));
        let dropped = results.iter().filter(|r| r.is_err()).count();
        assert!(dropped >= 45, "dropped {dropped}");
    }
}
