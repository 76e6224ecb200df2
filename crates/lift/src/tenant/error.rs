//! Why a tenant was refused, and the Lift error each reason becomes.

use http::StatusCode;

use super::id::InvalidTenant;
use crate::error::Error;

/// Stable error codes of tenancy (clients and alarms may match on them).
pub mod code {
    /// A tenant id is malformed (400 from a header, 403 from a claim or Lambda).
    pub const INVALID_TENANT: &str = "invalid_tenant";
    /// Two sources name different tenants (a token for one tenant, an environment isolated for
    /// another). 403.
    pub const TENANT_MISMATCH: &str = "tenant_mismatch";
    /// The route needs a tenant and none was resolved. 403.
    pub const TENANT_REQUIRED: &str = "tenant_required";
}

/// A tenant the resolver refused. Converts into a Lift [`Error`] (its status and stable code);
/// it is deliberately not a `std::error::Error`, which Lift would turn into a 500.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantError {
    /// A source holds a malformed id.
    Invalid {
        /// The source, as [`TenantSource::describe`](super::TenantSource::describe) names it.
        source: String,
        /// What is wrong with it.
        reason: InvalidTenant,
        /// Whether the client sent it directly (a header).
        client_supplied: bool,
    },
    /// Two sources (or a source and the tenant already in the context) disagree.
    Mismatch {
        /// The source that disagreed.
        source: String,
    },
}

impl std::fmt::Display for TenantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid { source, reason, .. } => write!(f, "tenant from {source} refused: {reason}"),
            Self::Mismatch { source } => write!(f, "tenant from {source} differs from the invocation's tenant"),
        }
    }
}

impl From<TenantError> for Error {
    /// 400 / 403 `invalid_tenant`, 403 `tenant_mismatch`. The public message names the rule
    /// broken, never the value (which may be hostile) nor the other tenant.
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::Invalid {
                reason,
                client_supplied,
                ..
            } => {
                let status = if client_supplied {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::FORBIDDEN
                };
                Error::new(status, code::INVALID_TENANT, reason.to_string())
            }
            TenantError::Mismatch { .. } => Error::new(
                StatusCode::FORBIDDEN,
                code::TENANT_MISMATCH,
                "the credentials name another tenant than this invocation's",
            ),
        }
    }
}

/// 403 `tenant_required`.
pub fn tenant_required() -> Error {
    Error::new(
        StatusCode::FORBIDDEN,
        code::TENANT_REQUIRED,
        "this route needs a tenant and none was resolved",
    )
}
