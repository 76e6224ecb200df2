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
];

/// A set of field names whose values are replaced by [`REDACTED`].
#[derive(Clone, Debug)]
pub(crate) struct Redactor {
    keys: Box<[Box<str>]>,
}

impl Redactor {
    pub(crate) fn new<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            keys: keys.into_iter().map(|k| k.as_ref().into()).collect(),
        }
    }

    /// Whether the field named `name` must be redacted.
    pub(crate) fn is_redacted(&self, name: &str) -> bool {
        // Field names like `request.authorization` are matched on their last segment.
        let leaf = name.rsplit('.').next().unwrap_or(name);
        self.keys.iter().any(|k| eq_key(k, leaf))
    }
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
    }
}
