//! Minimal JSON writing helpers: the hot paths write JSON bytes directly into reusable buffers.

use std::fmt;

/// Appends `s` as a JSON string literal (with quotes) to `out`.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    write_str_contents(out, s);
    out.push('"');
}

/// Appends the escaped contents of `s` (without quotes) to `out`.
pub(crate) fn write_str_contents(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    // Nearly every string needs no escaping: find out eight bytes at a time and copy it whole.
    let Some(first) = first_escape(bytes) else {
        out.push_str(s);
        return;
    };
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => {
                out.push_str(&s[start..i]);
                out.push_str("\\u00");
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(esc);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Index of the first byte that must be escaped (`"`, `\\` or a control character), if any.
#[inline]
fn first_escape(bytes: &[u8]) -> Option<usize> {
    // Eight bytes per test (SWAR); only a string that does need escaping is searched byte by byte.
    let mut chunks = bytes.chunks_exact(8);
    let mut hit = false;
    for chunk in &mut chunks {
        if let Ok(w) = <[u8; 8]>::try_from(chunk) {
            if word_needs_escape(u64::from_le_bytes(w)) {
                hit = true;
                break;
            }
        }
    }
    if !hit {
        // The tail, padded with a byte that needs no escaping.
        let tail = chunks.remainder();
        let mut w = [b'a'; 8];
        w[..tail.len()].copy_from_slice(tail);
        if !word_needs_escape(u64::from_le_bytes(w)) {
            return None;
        }
    }
    bytes.iter().position(|&b| needs_escape(b))
}

/// Whether any byte of `x` is below 0x20, `"` or `\\` (exact "has a byte" tests; bytes
/// >= 0x80 are masked out by `!x`).
#[inline]
fn word_needs_escape(x: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let q = x ^ (LO * u64::from(b'"'));
    let bs = x ^ (LO * u64::from(b'\\'));
    ((x.wrapping_sub(LO * 0x20) & !x & HI) | (q.wrapping_sub(LO) & !q & HI) | (bs.wrapping_sub(LO) & !bs & HI)) != 0
}

#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether `s` is written as a JSON string without any escape.
pub(crate) fn is_plain(s: &str) -> bool {
    first_escape(s.as_bytes()).is_none()
}

/// Appends `,"key":` for a key known to need no escaping (a literal of this crate).
pub(crate) fn write_key_plain(out: &mut String, key: &str) {
    debug_assert!(is_plain(key), "{key}");
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":");
}

/// Appends `"key":` to `out`, preceded by a comma.
pub(crate) fn write_key(out: &mut String, key: &str) {
    out.push(',');
    write_str(out, key);
    out.push(':');
}

/// Appends an unsigned integer.
pub(crate) fn write_u64(out: &mut String, v: u64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends a signed integer.
pub(crate) fn write_i64(out: &mut String, v: i64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends a float; non-finite values (not representable in JSON) become `null`.
pub(crate) fn write_f64(out: &mut String, v: f64) {
    if v.is_finite() {
        // `as i64` truncates (one instruction); `fract()` would be a libm call on baseline x86-64.
        let i = v as i64;
        if i as f64 == v && v.abs() < 1e15 {
            // Integral values print without a fraction, like Powertools' documents.
            out.push_str(itoa::Buffer::new().format(i));
        } else {
            out.push_str(ryu::Buffer::new().format_finite(v));
        }
    } else {
        out.push_str("null");
    }
}

/// A `fmt::Write` adaptor that escapes everything written through it as JSON string contents.
pub(crate) struct Escaping<'a>(pub(crate) &'a mut String);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_str_contents(self.0, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_and_quote_characters() {
        let mut out = String::new();
        write_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid json");
        assert_eq!(v, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn fast_path_agrees_with_serde_on_every_position() {
        for special in ['"', '\\', '\n', '\u{1f}', '\u{0}', 'é', '\u{7f}', 'a'] {
            for len in 0..20 {
                for at in 0..=len {
                    let mut s: String = "x".repeat(len);
                    s.insert(at, special);
                    let mut out = String::new();
                    write_str(&mut out, &s);
                    let v: String = serde_json::from_str(&out).expect("valid json");
                    assert_eq!(v, s);
                    assert_eq!(out, serde_json::to_string(&s).expect("json"));
                }
            }
        }
    }

    #[test]
    fn floats() {
        let mut out = String::new();
        write_f64(&mut out, 3.0);
        out.push(' ');
        write_f64(&mut out, 2.5);
        out.push(' ');
        write_f64(&mut out, f64::NAN);
        out.push(' ');
        write_f64(&mut out, -0.0);
        out.push(' ');
        write_f64(&mut out, 1e300);
        out.push(' ');
        write_f64(&mut out, -12.0);
        assert_eq!(out, "3 2.5 null 0 1e300 -12");
    }
}
