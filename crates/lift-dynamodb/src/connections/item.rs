//! The items of the connection store: their ids and attributes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::{hash_key, KEY_ATTRIBUTE, TTL_ATTRIBUTE};

pub(crate) const CONNECTION_ID: &str = "connection_id";
pub(crate) const TENANT: &str = "tenant";
pub(crate) const SUBJECT: &str = "subject";
pub(crate) const CONNECTIONS: &str = "connections";

/// One connection as the table holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredConnection {
    /// API Gateway's connection id.
    pub connection_id: String,
    /// The tenant it was recorded under (`None`: the no-tenant group).
    pub tenant: Option<String>,
    /// The authenticated caller's subject.
    pub subject: Option<String>,
    /// Epoch seconds after which it is absent (the TTL attribute).
    pub expiration: u64,
}

impl StoredConnection {
    /// A connection record.
    pub fn new(connection_id: String, tenant: Option<String>, subject: Option<String>, expiration: u64) -> Self {
        Self {
            connection_id,
            tenant,
            subject,
            expiration,
        }
    }

    pub(crate) fn to_item(&self, id: String) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::with_capacity(5);
        item.insert(KEY_ATTRIBUTE.to_owned(), AttributeValue::S(id));
        item.insert(CONNECTION_ID.to_owned(), AttributeValue::S(self.connection_id.clone()));
        if let Some(t) = &self.tenant {
            item.insert(TENANT.to_owned(), AttributeValue::S(t.clone()));
        }
        if let Some(s) = &self.subject {
            item.insert(SUBJECT.to_owned(), AttributeValue::S(s.clone()));
        }
        item.insert(TTL_ATTRIBUTE.to_owned(), AttributeValue::N(self.expiration.to_string()));
        item
    }

    pub(crate) fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        Some(Self {
            connection_id: s(CONNECTION_ID)?,
            tenant: s(TENANT),
            subject: s(SUBJECT),
            expiration: expiration_of(item)?,
        })
    }
}

pub(crate) fn expiration_of(item: &HashMap<String, AttributeValue>) -> Option<u64> {
    item.get(TTL_ATTRIBUTE)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// Item ids under one store's prefix `ws#<name>#`.
#[derive(Clone, Debug)]
pub(crate) struct Ids {
    prefix: String,
}

impl Ids {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            prefix: format!("ws#{name}#"),
        }
    }

    /// `ws#<name>#c#<sha256(connection id)>`
    pub(crate) fn connection(&self, connection_id: &str) -> String {
        format!("{}c#{}", self.prefix, hash_key(connection_id.as_bytes()))
    }

    /// `ws#<name>#t#<sha256(tenant) or ->#<shard>`
    pub(crate) fn tenant_list(&self, tenant: Option<&str>, shard: u32) -> String {
        match tenant {
            Some(t) => format!("{}t#{}#{shard}", self.prefix, hash_key(t.as_bytes())),
            None => format!("{}t#-#{shard}", self.prefix),
        }
    }
}

/// The shard of a connection's tenant list: `sha256(connection id) mod shards`.
pub(crate) fn shard_of(connection_id: &str, shards: u32) -> u32 {
    let h = hash_key(connection_id.as_bytes());
    let head = u32::from_str_radix(h.get(..8).unwrap_or("0"), 16).unwrap_or(0);
    head % shards.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_hash_client_material_and_keep_tenants_apart() {
        let ids = Ids::new("chat");
        assert!(ids.connection("abc=").starts_with("ws#chat#c#"));
        assert_eq!(ids.connection("abc=").len(), "ws#chat#c#".len() + 64);
        assert_ne!(ids.tenant_list(Some("a"), 0), ids.tenant_list(Some("b"), 0));
        assert_ne!(ids.tenant_list(Some("-"), 0), ids.tenant_list(None, 0));
        assert!(ids.tenant_list(Some("x#y"), 3).ends_with("#3"));
        assert!((0..100).all(|i| shard_of(&format!("c{i}"), 4) < 4));
        assert_eq!(shard_of("c1", 1), 0);
    }

    #[test]
    fn a_record_round_trips_through_an_item() {
        let c = StoredConnection::new("c1".into(), Some("acme".into()), None, 42);
        assert_eq!(StoredConnection::from_item(&c.to_item("id".into())), Some(c));
    }
}
