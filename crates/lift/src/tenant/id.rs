//! What a tenant id may be: short, and made of characters that cannot forge a log line, a
//! header or a metric name.

/// The longest tenant id accepted by default (bytes).
pub const DEFAULT_MAX_TENANT_LEN: usize = 128;

/// Why a tenant id was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidTenant {
    /// The id is empty.
    Empty,
    /// The id is longer than the limit (bytes).
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The id holds a character outside `A-Z a-z 0-9 . _ : / = + - @`.
    BadCharacter,
    /// A claim holds something other than a string or an integer.
    NotAString,
}

impl std::fmt::Display for InvalidTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("the tenant id is empty"),
            Self::TooLong { max } => write!(f, "the tenant id is longer than {max} bytes"),
            Self::BadCharacter => f.write_str("the tenant id may only hold letters, digits and . _ : / = + - @"),
            Self::NotAString => f.write_str("the tenant claim is not a string or an integer"),
        }
    }
}

impl std::error::Error for InvalidTenant {}

/// Whether `b` may appear in a tenant id: ASCII letters and digits and `._:/=+-@` (the
/// characters of AWS identifiers such as Lambda's tenant ids, Cognito attributes and ARNs).
/// No space, quote, backslash, control or non-ASCII byte: nothing that could end a log field,
/// split a header or hide one id behind another that looks the same.
#[inline]
pub(crate) fn allowed_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'=' | b'+' | b'-' | b'@')
}

/// Checks a tenant id against the charset and `max_len` (bytes).
pub fn validate_tenant(id: &str, max_len: usize) -> Result<(), InvalidTenant> {
    if id.is_empty() {
        return Err(InvalidTenant::Empty);
    }
    if id.len() > max_len {
        return Err(InvalidTenant::TooLong { max: max_len });
    }
    if !id.bytes().all(allowed_byte) {
        return Err(InvalidTenant::BadCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_forge_logs_or_blow_up_cardinality_are_refused() {
        for ok in ["acme", "t-1", "us-east-1:abc", "org/team=1+x@y", "A.B_C"] {
            assert_eq!(validate_tenant(ok, 128), Ok(()), "{ok}");
        }
        assert_eq!(validate_tenant("", 128), Err(InvalidTenant::Empty));
        assert_eq!(
            validate_tenant(&"a".repeat(129), 128),
            Err(InvalidTenant::TooLong { max: 128 })
        );
        assert_eq!(validate_tenant(&"a".repeat(128), 128), Ok(()));
        for bad in [
            "a b",
            "a\nb",
            "a\"b",
            "a\\b",
            "é",
            "a\u{0}",
            "a\u{202e}b",
            "a,b",
            "a;b",
            "*",
        ] {
            assert_eq!(validate_tenant(bad, 128), Err(InvalidTenant::BadCharacter), "{bad:?}");
        }
    }
}
