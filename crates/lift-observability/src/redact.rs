//! Redaction of sensitive fields before anything is written.

/// The placeholder written instead of a redacted value (the Powertools data-masking token).
pub const REDACTED: &str = "*****";

/// Field names redacted by default (compared case-insensitively, `-` and `_` alike).
pub const DEFAULT_REDACTED_KEYS: &[&str] = &[
    "authorization",
    "password",
    "passwd",
    "secret",
    "card_number",
    "cardnumber",
    "credit_card",
    "pan",
    "cvv",
    "x-api-key",
    "cookie",
    "set-cookie",
    "proxy-authorization",
];

/// Header names redacted whatever [`crate::ObservabilityBuilder::redact_keys`] says: their
/// values are credentials wherever they appear as field names.
pub const ALWAYS_REDACTED_KEYS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// A set of field names whose values are replaced by [`REDACTED`].
#[derive(Clone, Debug)]
pub(crate) struct Redactor {
    keys: Box<[Box<str>]>,
    /// Bit `n` set when some key is `n` bytes long (`n` < 64; bit 63 for longer keys): most field
    /// names are rejected by one test, without comparing strings.
    lengths: u64,
}

impl Redactor {
    pub(crate) fn new<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let keys: Box<[Box<str>]> = keys.into_iter().map(|k| k.as_ref().into()).collect();
        Self::from_keys(keys)
    }

    /// [`Self::new`] plus [`ALWAYS_REDACTED_KEYS`]: the redactor of log fields.
    pub(crate) fn with_headers<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut keys: Vec<Box<str>> = keys.into_iter().map(|k| k.as_ref().into()).collect();
        for k in ALWAYS_REDACTED_KEYS {
            if !keys.iter().any(|have| eq_key(have, k)) {
                keys.push((*k).into());
            }
        }
        Self::from_keys(keys.into())
    }

    fn from_keys(keys: Box<[Box<str>]>) -> Self {
        let lengths = keys.iter().fold(0u64, |m, k| m | length_bit(k.len()));
        Self { keys, lengths }
    }

    /// Whether the field named `name` must be redacted.
    pub(crate) fn is_redacted(&self, name: &str) -> bool {
        // Field names like `request.authorization` are matched on their last segment.
        let leaf = match name.as_bytes().iter().rposition(|&b| b == b'.') {
            Some(dot) => &name[dot + 1..],
            None => name,
        };
        self.lengths & length_bit(leaf.len()) != 0 && self.keys.iter().any(|k| eq_key(k, leaf))
    }
}

fn length_bit(len: usize) -> u64 {
    1u64 << len.min(63)
}

fn eq_key(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| {
            let norm = |c: u8| if c == b'-' { b'_' } else { c.to_ascii_lowercase() };
            norm(x) == norm(y)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_case_insensitively_and_on_leaf() {
        let r = Redactor::new(DEFAULT_REDACTED_KEYS);
        assert!(r.is_redacted("Authorization"));
        assert!(r.is_redacted("headers.authorization"));
        assert!(r.is_redacted("X_API_KEY"));
        assert!(r.is_redacted("card-number"));
        assert!(!r.is_redacted("order_id"));
        assert!(!r.is_redacted("passwords_checked"));
        assert!(r.is_redacted("a.b.password"));
        assert!(!r.is_redacted("password."));
        let long = "k".repeat(80);
        let r = Redactor::new([long.as_str()]);
        assert!(r.is_redacted(&long));
        assert!(!r.is_redacted(&"k".repeat(79)));
    }
}
