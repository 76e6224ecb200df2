//! What `/proc` says about a process: its CPU time and its memory (`VmRSS`, `VmHWM`).
//!
//! Linux only; every reader returns an `io::Error` elsewhere or when the process is gone.

use std::io;
use std::time::Duration;

/// Which process to read: another one by pid, or this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pid {
    /// Another process.
    Of(u32),
    /// The calling process (`/proc/self`).
    Myself,
}

impl Pid {
    fn file(self, name: &str) -> String {
        match self {
            Pid::Of(pid) => format!("/proc/{pid}/{name}"),
            Pid::Myself => format!("/proc/self/{name}"),
        }
    }
}

/// `/proc` reports CPU time in clock ticks of `USER_HZ`, which Linux fixes at 100 for user
/// space on every architecture it runs on.
const TICKS_PER_SECOND: u64 = 100;

/// The process's CPU time, all its threads (ended ones included), from `/proc/<pid>/stat`.
/// Resolution: one clock tick (10 ms), so measure thousands of invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTime {
    /// In user space (`utime`).
    pub user: Duration,
    /// In the kernel on the process's behalf (`stime`): its system calls, page faults, and
    /// the network stack's work on what it sends.
    pub system: Duration,
}

impl CpuTime {
    /// User plus system.
    pub fn total(self) -> Duration {
        self.user + self.system
    }
}

impl std::ops::Sub for CpuTime {
    type Output = CpuTime;
    fn sub(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// The process's CPU time so far (see [`CpuTime`]).
pub fn cpu_time(pid: Pid) -> io::Result<CpuTime> {
    parse_cpu_time(&std::fs::read_to_string(pid.file("stat"))?)
}

fn parse_cpu_time(stat: &str) -> io::Result<CpuTime> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unexpected /proc stat line: {stat:?}"),
        )
    };
    // The command name (field 2) is in parentheses and may hold spaces and parentheses: the
    // other fields start after the last ')'. There, the state is field 3 of the whole line, so
    // utime and stime (fields 14 and 15) are at positions 11 and 12.
    let rest = stat.get(stat.rfind(')').ok_or_else(bad)? + 1..).ok_or_else(bad)?;
    let mut fields = rest.split_whitespace().skip(11);
    let mut tick = || {
        let ticks = fields.next().and_then(|f| f.parse::<u64>().ok()).ok_or_else(bad)?;
        Ok::<_, io::Error>(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
    };
    Ok(CpuTime {
        user: tick()?,
        system: tick()?,
    })
}

/// The process's resident set size now, in KiB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_kib(pid: Pid) -> io::Result<u64> {
    status_kib(pid, "VmRSS")
}

/// The process's peak resident set size, in KiB (`VmHWM` of `/proc/<pid>/status`): the most
/// since it started, or since [`reset_peak_rss`].
pub fn peak_rss_kib(pid: Pid) -> io::Result<u64> {
    status_kib(pid, "VmHWM")
}

/// Resets the process's peak resident set size (`VmHWM`) to its current one, by writing `5` to
/// `/proc/<pid>/clear_refs` (Linux 4.0+; the caller must own the process).
pub fn reset_peak_rss(pid: Pid) -> io::Result<()> {
    std::fs::write(pid.file("clear_refs"), "5")
}

fn status_kib(pid: Pid, field: &str) -> io::Result<u64> {
    let status = std::fs::read_to_string(pid.file("status"))?;
    parse_status_kib(&status, field)
}

fn parse_status_kib(status: &str, field: &str) -> io::Result<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no `{field}: <n> kB` in /proc status"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_utime_plus_stime_after_a_command_name_with_spaces() {
        // A real line's layout; the name holds a space and a ')'.
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 37 0 0 20 0 3 0 99 0";
        let cpu = parse_cpu_time(stat).expect("parses");
        assert_eq!(cpu.user, Duration::from_millis(2500));
        assert_eq!(cpu.system, Duration::from_millis(370));
        assert_eq!(cpu.total(), Duration::from_millis(2870));
        assert!(parse_cpu_time("4242 (truncated) S 1").is_err());
    }

    #[test]
    fn status_fields_in_kib() {
        let status = "Name:\tquickstart\nVmHWM:\t   10240 kB\nVmRSS:\t    8192 kB\nThreads:\t3\n";
        assert_eq!(parse_status_kib(status, "VmRSS").expect("VmRSS"), 8192);
        assert_eq!(parse_status_kib(status, "VmHWM").expect("VmHWM"), 10240);
        assert!(parse_status_kib(status, "VmSwap").is_err());
    }

    #[test]
    fn reads_this_process() {
        assert!(rss_kib(Pid::Myself).expect("VmRSS") > 0);
        assert!(peak_rss_kib(Pid::Myself).expect("VmHWM") >= rss_kib(Pid::Myself).expect("VmRSS") / 2);
        // CPU time grows, a tick at a time, while this thread spins (however loaded the machine).
        let before = cpu_time(Pid::Myself).expect("CPU time").total();
        let spin = std::time::Instant::now();
        while cpu_time(Pid::Myself).expect("CPU time").total() <= before {
            assert!(spin.elapsed() < Duration::from_secs(10), "no CPU time counted in 10 s");
            std::hint::black_box((0..10_000u64).sum::<u64>());
        }
    }
}
