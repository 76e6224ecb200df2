//! [`Connection`]: what a connection store keeps about one WebSocket connection.

use std::time::Duration;

/// How long a connection is kept by default: API Gateway closes every WebSocket connection
/// after 2 hours at most, plus a margin for clock skew between environments.
pub const DEFAULT_CONNECTION_TTL: Duration = Duration::from_secs(2 * 60 * 60 + 5 * 60);

/// One WebSocket connection as a [`ConnectionStore`](super::ConnectionStore) keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connection {
    /// API Gateway's connection id.
    pub connection_id: String,
    /// The tenant the connection acts for (`Context::tenant` at `$connect`); broadcasts go to
    /// one tenant's connections. `None`: connections without a tenant form their own group.
    pub tenant: Option<String>,
    /// The authenticated caller's subject (`Principal::subject` at `$connect`).
    pub subject: Option<String>,
    /// When the connection is forgotten, in epoch seconds (the table's TTL attribute): a
    /// store treats an expired connection as absent even before anything deletes it.
    pub expiration: u64,
}

impl Connection {
    /// A connection expiring `ttl` from now.
    pub fn new(
        connection_id: impl Into<String>,
        tenant: Option<String>,
        subject: Option<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            connection_id: connection_id.into(),
            tenant,
            subject,
            expiration: epoch_secs().saturating_add(ttl.as_secs()),
        }
    }

    /// Whether the connection's expiration has passed (`now` in epoch seconds).
    pub fn is_expired_at(&self, now: u64) -> bool {
        self.expiration <= now
    }
}

/// Epoch seconds now (the wall clock TTL compares with).
pub(crate) fn epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
