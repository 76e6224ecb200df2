//! The breaker item: its id, its attributes, and what a read of it means.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::{hash_key, TTL_ATTRIBUTE};

/// End of the shared open period (epoch ms); `0` once the fleet's probe closed it.
pub(crate) const OPEN_UNTIL: &str = "open_until";
/// The process elected to probe in half-open.
pub(crate) const PROBE_OWNER: &str = "probe_owner";
/// End of the probe owner's lease (epoch ms): after it, another process may be elected.
pub(crate) const PROBE_UNTIL: &str = "probe_until";

/// `cb#<breaker>#<sha256(Debug of the key)>`; the overflow partition (`None`) hashes `None`.
pub(crate) fn item_id<K: std::fmt::Debug>(breaker: &str, key: Option<&K>) -> String {
    let material = format!("{key:?}");
    format!("cb#{breaker}#{}", hash_key(material.as_bytes()))
}

/// What this process knows of a breaker item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    /// Not read yet.
    Unknown,
    /// No item, or an expired one: the fleet shares nothing about this breaker.
    Absent,
    /// The fleet's state.
    Present(Shared),
}

/// The shared state of one breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shared {
    /// Epoch ms; `0` when closed.
    pub(crate) open_until: u64,
    /// The elected probe, if any (possibly with a lapsed lease).
    pub(crate) probe: Option<Lease>,
}

/// An elected probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lease {
    /// Held by this process.
    pub(crate) mine: bool,
    /// Epoch ms.
    pub(crate) until: u64,
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

/// Reads an item as returned by `GetItem` or `UpdateItem` (`ALL_NEW`); `me` is this process's
/// id, `now_ms` the wall clock (an item past its `expiration` counts as absent: servers keep
/// expired items).
pub(crate) fn parse(item: Option<&HashMap<String, AttributeValue>>, me: &str, now_ms: u64) -> Item {
    let Some(item) = item else {
        return Item::Absent;
    };
    if number(item, TTL_ATTRIBUTE).is_some_and(|exp| exp.saturating_mul(1000) <= now_ms) {
        return Item::Absent;
    }
    let Some(open_until) = number(item, OPEN_UNTIL) else {
        return Item::Absent;
    };
    let probe = match (
        item.get(PROBE_OWNER).and_then(|v| v.as_s().ok()),
        number(item, PROBE_UNTIL),
    ) {
        (Some(owner), Some(until)) => Some(Lease {
            mine: owner == me,
            until,
        }),
        _ => None,
    };
    Item::Present(Shared { open_until, probe })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    fn n(v: u64) -> AttributeValue {
        AttributeValue::N(v.to_string())
    }

    #[test]
    fn an_expired_item_reads_as_absent_and_a_live_one_with_its_lease() {
        let now = 1_000_000;
        let expired = item(&[(OPEN_UNTIL, n(now + 5)), (TTL_ATTRIBUTE, n(now / 1000 - 1))]);
        assert_eq!(parse(Some(&expired), "me", now), Item::Absent);
        assert_eq!(parse(None, "me", now), Item::Absent);
        let live = item(&[
            (OPEN_UNTIL, n(now - 5)),
            (TTL_ATTRIBUTE, n(now / 1000 + 60)),
            (PROBE_OWNER, AttributeValue::S("other".into())),
            (PROBE_UNTIL, n(now + 100)),
        ]);
        assert_eq!(
            parse(Some(&live), "me", now),
            Item::Present(Shared {
                open_until: now - 5,
                probe: Some(Lease {
                    mine: false,
                    until: now + 100
                })
            })
        );
    }

    #[test]
    fn ids_separate_breakers_and_keys_and_stay_short() {
        let a = item_id("flaky", Some(&"a#b"));
        assert_ne!(a, item_id("flaky", Some(&"a")));
        assert_ne!(a, item_id("other", Some(&"a#b")));
        assert_ne!(item_id::<&str>("flaky", None), item_id("flaky", Some(&"None")));
        assert!(item_id("flaky", Some(&"x".repeat(4096))).len() < 100);
    }
}
