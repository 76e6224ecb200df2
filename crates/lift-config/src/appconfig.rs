//! [`AppConfigSource`]: the AWS AppConfig Lambda extension's local endpoint.

use crate::loopback;
use crate::source::{ConfigSource, FetchFuture, SourceError};

/// The extension's port unless `AWS_APPCONFIG_EXTENSION_HTTP_PORT` says otherwise.
pub const DEFAULT_APPCONFIG_PORT: u16 = 2772;

/// Reads `http://localhost:{port}/applications/{app}/environments/{env}/configurations/{profile}`
/// from the AppConfig Lambda extension, which polls AppConfig itself and answers from its
/// cache. The body is the configuration document.
#[derive(Clone, Debug)]
pub struct AppConfigSource {
    port: u16,
    path: String,
    name: String,
}

impl AppConfigSource {
    /// The profile `app/env/profile` on the extension's port `port`.
    pub fn new(app: &str, env: &str, profile: &str, port: u16) -> Self {
        Self {
            port,
            path: format!(
                "/applications/{}/environments/{}/configurations/{}",
                loopback::encode(app),
                loopback::encode(env),
                loopback::encode(profile)
            ),
            name: format!("appconfig {app}/{env}/{profile}"),
        }
    }

    /// `spec` = `app/env/profile` (as in `LIFT_APPCONFIG`), the port from
    /// `AWS_APPCONFIG_EXTENSION_HTTP_PORT` (default 2772).
    pub fn from_spec(spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.trim().split('/').collect();
        match parts.as_slice() {
            [app, env, profile] if !app.is_empty() && !env.is_empty() && !profile.is_empty() => {
                let port = loopback::port_from_env("AWS_APPCONFIG_EXTENSION_HTTP_PORT", DEFAULT_APPCONFIG_PORT)?;
                Ok(Self::new(app, env, profile, port))
            }
            _ => Err(format!("{spec:?} is not application/environment/profile")),
        }
    }

    /// The path requested.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl ConfigSource for AppConfigSource {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let (status, body) = loopback::get(self.port, &self.path, &[]).await?;
            if status != 200 {
                return Err(SourceError::Status(status, loopback::snippet(&body)));
            }
            Ok(body)
        })
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
