//! Wall-clock formatting: RFC 3339 for logs, epoch milliseconds for EMF, epoch seconds for X-Ray.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// The last second formatted on this thread: `YYYY-MM-DDTHH:MM:SS.` (20 bytes).
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// [`write_rfc3339`] with the date and time up to the second cached per thread: lines logged
/// within the same second only format their milliseconds.
pub(crate) fn write_rfc3339_cached(out: &mut String, t: SystemTime) {
    let micros = epoch_micros(t);
    let secs = micros / 1_000_000;
    let ms = ((micros % 1_000_000) / 1000) as u32;
    let (cached, mut prefix) = SECOND.with(Cell::get);
    if cached != secs {
        let mut s = String::with_capacity(24);
        write_rfc3339(&mut s, UNIX_EPOCH + std::time::Duration::from_secs(secs));
        prefix.copy_from_slice(&s.as_bytes()[..20]);
        SECOND.with(|c| c.set((secs, prefix)));
    }
    let mut buf = [0u8; 24];
    buf[..20].copy_from_slice(&prefix);
    buf[20] = b'0' + (ms / 100) as u8;
    buf[21] = b'0' + ((ms / 10) % 10) as u8;
    buf[22] = b'0' + (ms % 10) as u8;
    buf[23] = b'Z';
    out.push_str(std::str::from_utf8(&buf).unwrap_or("1970-01-01T00:00:00.000Z"));
}

/// Microseconds since the Unix epoch (0 if the clock is before 1970).
pub(crate) fn epoch_micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() * 1_000_000 + u64::from(d.subsec_micros()))
        .unwrap_or(0)
}

/// Appends `t` as RFC 3339 UTC with millisecond precision: `2024-05-06T07:08:09.123Z`.
pub(crate) fn write_rfc3339(out: &mut String, t: SystemTime) {
    let micros = epoch_micros(t);
    let secs = micros / 1_000_000;
    let millis = (micros % 1_000_000) / 1000;
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let mut buf = [0u8; 24];
    put4(&mut buf[0..4], y as u32);
    buf[4] = b'-';
    put2(&mut buf[5..7], m);
    buf[7] = b'-';
    put2(&mut buf[8..10], d);
    buf[10] = b'T';
    put2(&mut buf[11..13], (sod / 3600) as u32);
    buf[13] = b':';
    put2(&mut buf[14..16], ((sod / 60) % 60) as u32);
    buf[16] = b':';
    put2(&mut buf[17..19], (sod % 60) as u32);
    buf[19] = b'.';
    let ms = millis as u32;
    buf[20] = b'0' + (ms / 100) as u8;
    buf[21] = b'0' + ((ms / 10) % 10) as u8;
    buf[22] = b'0' + (ms % 10) as u8;
    buf[23] = b'Z';
    // All bytes written above are ASCII digits or separators.
    out.push_str(std::str::from_utf8(&buf).unwrap_or("1970-01-01T00:00:00.000Z"));
}

/// Appends epoch seconds with microsecond precision, X-Ray's time format: `1712345678.123456`.
pub(crate) fn write_epoch_seconds(out: &mut String, micros: u64) {
    out.push_str(itoa::Buffer::new().format(micros / 1_000_000));
    // `1_000_000 + frac` has seven digits: drop the leading `1` to keep the zero padding.
    let mut b = itoa::Buffer::new();
    let frac = b.format(1_000_000 + micros % 1_000_000);
    out.push('.');
    out.push_str(frac.get(1..).unwrap_or("000000"));
}

fn put2(dst: &mut [u8], v: u32) {
    dst[0] = b'0' + ((v / 10) % 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

fn put4(dst: &mut [u8], v: u32) {
    dst[0] = b'0' + ((v / 1000) % 10) as u8;
    dst[1] = b'0' + ((v / 100) % 10) as u8;
    dst[2] = b'0' + ((v / 10) % 10) as u8;
    dst[3] = b'0' + (v % 10) as u8;
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        let mut s = String::new();
        write_rfc3339(&mut s, UNIX_EPOCH);
        assert_eq!(s, "1970-01-01T00:00:00.000Z");
        s.clear();
        // 2024-02-29T23:59:58.987Z (leap day)
        write_rfc3339(&mut s, UNIX_EPOCH + Duration::from_millis(1_709_251_198_987));
        assert_eq!(s, "2024-02-29T23:59:58.987Z");
        s.clear();
        write_rfc3339(&mut s, UNIX_EPOCH + Duration::from_secs(4_102_444_800));
        assert_eq!(s, "2100-01-01T00:00:00.000Z");
    }

    #[test]
    fn cached_formatting_matches_uncached() {
        for ms in [
            0u64,
            999,
            1_000,
            1_709_251_198_987,
            1_709_251_198_999,
            1_709_251_199_000,
            4_102_444_800_001,
        ] {
            let t = UNIX_EPOCH + Duration::from_millis(ms);
            let (mut a, mut b) = (String::new(), String::new());
            write_rfc3339(&mut a, t);
            write_rfc3339_cached(&mut b, t);
            assert_eq!(a, b);
            b.clear();
            write_rfc3339_cached(&mut b, t);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn epoch_seconds() {
        let mut s = String::new();
        write_epoch_seconds(&mut s, 1_712_345_678_000_042);
        assert_eq!(s, "1712345678.000042");
    }
}
