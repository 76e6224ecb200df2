//! Where a tenant can come from, in the order the user lists them.

use std::sync::Arc;

use http::HeaderName;

/// One place a [`TenantResolver`](super::TenantResolver) looks for the tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantSource {
    /// A claim of the verified [`Principal`](crate::Principal) (`tenant_id`,
    /// `custom:tenant_id`...). Absent when no principal is set or it lacks the claim.
    Claim(Arc<str>),
    /// Lambda tenant isolation: the tenant id Lambda invoked this execution environment for
    /// (`Lambda-Runtime-Aws-Tenant-Id`).
    LambdaIsolation,
    /// A request header, trusted because the user said so (set by a gateway the client cannot
    /// bypass). Never consulted for records.
    TrustedHeader(HeaderName),
}

impl TenantSource {
    /// How the source is named in logs and error messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Claim(name) => format!("claim {name:?}"),
            Self::LambdaIsolation => "Lambda tenant isolation".to_owned(),
            Self::TrustedHeader(name) => format!("header {:?}", name.as_str()),
        }
    }

    /// Whether the client chose the value directly (a header): its bad values are 400s, not
    /// 403s.
    pub(crate) fn client_supplied(&self) -> bool {
        matches!(self, Self::TrustedHeader(_))
    }
}
