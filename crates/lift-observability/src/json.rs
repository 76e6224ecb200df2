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
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
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
        if v.fract() == 0.0 && v.abs() < 1e15 {
            // Integral values print without a fraction, like Powertools' documents.
            out.push_str(itoa::Buffer::new().format(v as i64));
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
    fn floats() {
        let mut out = String::new();
        write_f64(&mut out, 3.0);
        out.push(' ');
        write_f64(&mut out, 2.5);
        out.push(' ');
        write_f64(&mut out, f64::NAN);
        assert_eq!(out, "3 2.5 null");
    }
}
