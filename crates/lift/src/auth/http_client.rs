//! The outbound HTTP client for key sets: reqwest on rustls with aws-lc-rs (the provider the
//! AWS SDK already builds, so no second crypto library is compiled) and the system's roots.

use std::sync::Arc;
use std::time::Duration;

use super::AuthConfigError;

/// A client that never follows redirects (a key set moved elsewhere is a configuration
/// problem, and a redirect must not downgrade to plain HTTP), with `timeout` on connection
/// and on the whole request.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, AuthConfigError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        tracing::warn!("no system root certificate found: HTTPS key sets will not verify");
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AuthConfigError::new(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("lift/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AuthConfigError::new(format!("HTTP client: {e}")))
}
