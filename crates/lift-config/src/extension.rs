//! [`SecretsExtension`]: the AWS Parameters and Secrets Lambda extension's local endpoint.

use std::sync::Arc;

use serde::Deserialize;

use crate::loopback;
use crate::source::SourceError;

/// The extension's port unless `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` says otherwise.
pub const DEFAULT_SECRETS_PORT: u16 = 2773;

/// The header carrying the function's session token, which the extension requires.
pub const TOKEN_HEADER: &str = "X-Aws-Parameters-Secrets-Token";

/// Reads SSM parameters (`/systemsmanager/parameters/get?name=...&withDecryption=true`) and
/// Secrets Manager secrets (`/secretsmanager/get?secretId=...`) through the extension, with
/// `X-Aws-Parameters-Secrets-Token: $AWS_SESSION_TOKEN`.
#[derive(Clone, Debug)]
pub struct SecretsExtension {
    port: u16,
    token: Option<Arc<str>>,
}

#[derive(Deserialize)]
struct GetParameter {
    #[serde(rename = "Parameter")]
    parameter: ParameterValue,
}

#[derive(Deserialize)]
struct ParameterValue {
    #[serde(rename = "Value")]
    value: String,
}

#[derive(Deserialize)]
struct GetSecret {
    #[serde(rename = "SecretString")]
    secret_string: Option<String>,
}

impl SecretsExtension {
    /// The extension on `port`, authenticating with `token`.
    pub fn new(port: u16, token: Option<String>) -> Self {
        Self {
            port,
            token: token.map(Arc::from),
        }
    }

    /// The port from `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (default 2773) and the token from
    /// `AWS_SESSION_TOKEN`.
    pub fn from_env() -> Result<Self, String> {
        let port = loopback::port_from_env("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", DEFAULT_SECRETS_PORT)?;
        Ok(Self::new(port, std::env::var("AWS_SESSION_TOKEN").ok()))
    }

    async fn get(&self, path: &str) -> Result<bytes::Bytes, SourceError> {
        let token = self.token.as_deref().unwrap_or("");
        let (status, body) = loopback::get(self.port, path, &[(TOKEN_HEADER, token)]).await?;
        if status != 200 {
            return Err(SourceError::Status(status, loopback::snippet(&body)));
        }
        Ok(body)
    }

    /// The SSM parameter `name`'s value (decrypted when it is a `SecureString`).
    pub async fn parameter(&self, name: &str) -> Result<String, SourceError> {
        let path = format!(
            "/systemsmanager/parameters/get?name={}&withDecryption=true",
            loopback::encode(name)
        );
        let body = self.get(&path).await?;
        let p: GetParameter =
            serde_json::from_slice(&body).map_err(|e| SourceError::Malformed(format!("GetParameter: {e}")))?;
        Ok(p.parameter.value)
    }

    /// The secret `id`'s `SecretString` (a binary-only secret is refused).
    pub async fn secret(&self, id: &str) -> Result<String, SourceError> {
        let path = format!("/secretsmanager/get?secretId={}", loopback::encode(id));
        let body = self.get(&path).await?;
        let s: GetSecret =
            serde_json::from_slice(&body).map_err(|e| SourceError::Malformed(format!("GetSecretValue: {e}")))?;
        s.secret_string.ok_or_else(|| {
            SourceError::Malformed(format!(
                "secret {id:?} has no SecretString (binary secrets are not read)"
            ))
        })
    }
}
