//! Key derivation: what identifies a call ([`Key`], from bytes or a [`Selection`] of a JSON
//! payload) and the record id it becomes (SHA-256 of the function name, the tenant, the scope
//! and the key material, so two functions or two routes sharing a table never collide).

use std::sync::Arc;

use sha2::{Digest, Sha256};

/// Which part of a JSON payload identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// The whole payload.
    Whole,
    /// Top-level fields, in this order; a payload missing one (or holding `null`) has no key.
    Fields(Vec<String>),
    /// JSON pointers (RFC 6901, `/order/id`), in this order; one that finds nothing (or
    /// `null`) leaves the payload without a key.
    Pointers(Vec<String>),
}

impl Selection {
    /// Top-level fields: `Selection::fields(["order_id"])`.
    pub fn fields<I: IntoIterator<Item = S>, S: Into<String>>(fields: I) -> Self {
        Self::Fields(fields.into_iter().map(Into::into).collect())
    }

    /// JSON pointers: `Selection::pointers(["/order/id", "/customer"])`.
    pub fn pointers<I: IntoIterator<Item = S>, S: Into<String>>(pointers: I) -> Self {
        Self::Pointers(pointers.into_iter().map(Into::into).collect())
    }

    /// The key material this selection takes from `payload`: the selected values as one
    /// JSON array (so `["a","b"]` and `["ab"]` differ), or the payload itself for
    /// [`Whole`](Self::Whole). `None` when a selected value is absent or `null`.
    pub fn select(&self, payload: &serde_json::Value) -> Option<Vec<u8>> {
        let picked: Vec<&serde_json::Value> = match self {
            Self::Whole => return serde_json::to_vec(payload).ok(),
            Self::Fields(f) => f.iter().map(|f| payload.get(f)).collect::<Option<_>>()?,
            Self::Pointers(p) => p.iter().map(|p| payload.pointer(p)).collect::<Option<_>>()?,
        };
        if picked.iter().any(|v| v.is_null()) {
            return None;
        }
        serde_json::to_vec(&picked).ok()
    }
}

/// What identifies one idempotent call: key material, and optionally the payload whose hash
/// is stored as `validation` (the same key with another payload is refused with 422).
#[derive(Clone, Debug)]
pub struct Key {
    material: Vec<u8>,
    validation: Option<Arc<str>>,
}

impl Key {
    /// A key from raw material (a header value, an order id...), without payload validation.
    pub fn new(material: impl AsRef<[u8]>) -> Self {
        Self {
            material: material.as_ref().to_vec(),
            validation: None,
        }
    }

    /// Validates repeats against `payload`: its SHA-256 is stored with the record.
    pub fn with_payload(mut self, payload: impl AsRef<[u8]>) -> Self {
        self.validation = Some(hex_sha256(&[payload.as_ref()]).into());
        self
    }

    /// The key `selection` takes from `payload`, validated against the whole payload; `None`
    /// when the payload lacks a selected value.
    pub fn from_json(payload: &serde_json::Value, selection: &Selection) -> Option<Self> {
        let material = selection.select(payload)?;
        let whole = match selection {
            Selection::Whole => material.clone(),
            _ => serde_json::to_vec(payload).ok()?,
        };
        Some(Self::new(material).with_payload(whole))
    }

    /// Validates repeats against a payload hash computed by the caller (hex SHA-256).
    pub(crate) fn with_payload_hash(mut self, hash: String) -> Self {
        self.validation = Some(hash.into());
        self
    }

    pub(crate) fn validation(&self) -> Option<&Arc<str>> {
        self.validation.as_ref()
    }

    /// The record id: hex SHA-256 of function name, tenant, scope and material, each
    /// length-prefixed so no two different inputs hash the same bytes.
    pub(crate) fn id(&self, function: &str, tenant: Option<&str>, scope: &str) -> Arc<str> {
        let tenant = tenant.unwrap_or("");
        let len = |s: &[u8]| (s.len() as u64).to_be_bytes();
        hex_sha256(&[
            &len(function.as_bytes()),
            function.as_bytes(),
            &len(tenant.as_bytes()),
            tenant.as_bytes(),
            &len(scope.as_bytes()),
            scope.as_bytes(),
            &self.material,
        ])
        .into()
    }
}

/// Hex SHA-256 of the concatenated parts.
pub(crate) fn hex_sha256(parts: &[&[u8]]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let mut out = String::with_capacity(64);
    for b in h.finalize() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selections_pick_fields_and_pointers_and_refuse_missing_values() {
        let v = json!({"order_id": "o-1", "n": 2, "nested": {"id": 7}, "none": null});
        assert_eq!(Selection::fields(["order_id"]).select(&v), Some(br#"["o-1"]"#.to_vec()));
        assert_eq!(
            Selection::pointers(["/nested/id", "/n"]).select(&v),
            Some(b"[7,2]".to_vec())
        );
        assert_eq!(Selection::fields(["missing"]).select(&v), None);
        assert_eq!(Selection::fields(["none"]).select(&v), None);
        assert_eq!(Selection::pointers(["/nested/nope"]).select(&v), None);
        assert!(Selection::Whole.select(&v).is_some());
    }

    #[test]
    fn ids_separate_functions_tenants_and_scopes() {
        let k = Key::new("abc");
        let base = k.id("fn", None, "POST /orders");
        assert_eq!(base.len(), 64);
        assert_ne!(base, k.id("fn2", None, "POST /orders"));
        assert_ne!(base, k.id("fn", Some("acme"), "POST /orders"));
        assert_ne!(base, k.id("fn", None, "POST /other"));
        // Length prefixes: moving a byte between parts changes the id.
        assert_ne!(Key::new("c").id("ab", None, ""), Key::new("bc").id("a", None, ""));
        assert_eq!(base, Key::new("abc").id("fn", None, "POST /orders"));
    }

    #[test]
    fn json_keys_validate_against_the_whole_payload() {
        let a = Key::from_json(&json!({"order_id": "1", "qty": 1}), &Selection::fields(["order_id"]));
        let b = Key::from_json(&json!({"order_id": "1", "qty": 2}), &Selection::fields(["order_id"]));
        let (a, b) = (a.expect("key"), b.expect("key"));
        assert_eq!(a.id("f", None, "s"), b.id("f", None, "s"));
        assert_ne!(a.validation(), b.validation());
    }
}
