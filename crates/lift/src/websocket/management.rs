//! [`Management`]: the API Gateway Management API, one cached SDK client per endpoint.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_sdk_apigatewaymanagement::config::Builder as ConfigBuilder;
use aws_sdk_apigatewaymanagement::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewaymanagement::operation::get_connection::GetConnectionOutput;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewaymanagement::Client;
use http::StatusCode;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::management_endpoint;
use crate::{Context, Error, WebSocket};

/// The default bound on one management call.
pub const DEFAULT_MANAGEMENT_TIMEOUT: Duration = Duration::from_secs(3);

/// The variables [`Management::from_env`] reads for an endpoint that replaces every event's
/// `https://{domain}/{stage}` (a local server, moto): the SDK's service-specific variable first,
/// then the SDK's global one.
pub const ENDPOINT_OVERRIDE_VARS: [&str; 2] = ["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "AWS_ENDPOINT_URL"];

/// The API Gateway Management API: send to, close and describe WebSocket connections.
///
/// Build it once (`App::with_state(Management::from_env())`) and get a [`ManagementApi`] per
/// invocation with [`for_event`](Self::for_event). The endpoint is the event's
/// `https://{domainName}/{stage}`; one SDK client is built per endpoint the first time it is
/// used and kept (an API's events all name the same endpoint, so a function normally holds
/// one), so no invocation pays for a client. Cheap to clone.
#[derive(Clone)]
pub struct Management {
    inner: Arc<Inner>,
}

struct Inner {
    /// The SDK configuration every endpoint's client starts from; loaded from the environment
    /// on first use by `from_env`.
    config: OnceCell<ConfigBuilder>,
    endpoint_override: Option<Arc<str>>,
    timeout: Duration,
    /// Clients by endpoint: read-locked on every call (uncontended but for the first call of
    /// each endpoint, which takes the write lock once).
    clients: RwLock<HashMap<Arc<str>, Client>>,
}

impl fmt::Debug for Management {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Management")
            .field("endpoint_override", &self.inner.endpoint_override)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl Management {
    /// The SDK configuration from `aws_config`'s defaults, loaded on first use (so building it
    /// costs nothing at start). An endpoint in [`ENDPOINT_OVERRIDE_VARS`] replaces every
    /// event's endpoint.
    pub fn from_env() -> Self {
        let endpoint_override = ENDPOINT_OVERRIDE_VARS
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
        Self::build(OnceCell::new(), endpoint_override)
    }

    /// Clients configured from `config` (region, credentials, retries; the endpoint is set per
    /// API).
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self::build(OnceCell::new_with(Some(ConfigBuilder::from(config))), None)
    }

    /// Clients configured from an SDK config builder (tests: a local endpoint's credentials).
    pub fn from_conf(config: ConfigBuilder) -> Self {
        Self::build(OnceCell::new_with(Some(config)), None)
    }

    fn build(config: OnceCell<ConfigBuilder>, endpoint_override: Option<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                endpoint_override: endpoint_override.map(Arc::from),
                timeout: DEFAULT_MANAGEMENT_TIMEOUT,
                clients: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// Sends every call to `url` instead of the event's endpoint (a local server).
    pub fn endpoint_override(self, url: impl Into<String>) -> Self {
        self.reconfigure(|inner| inner.endpoint_override = Some(Arc::from(url.into())))
    }

    /// Bound on one call (default [`DEFAULT_MANAGEMENT_TIMEOUT`]); the invocation's remaining
    /// time bounds it further.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.reconfigure(|inner| inner.timeout = timeout)
    }

    fn reconfigure(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                config: shared.config.clone(),
                endpoint_override: shared.endpoint_override.clone(),
                timeout: shared.timeout,
                clients: RwLock::new(HashMap::new()),
            },
        };
        change(&mut inner);
        inner.clients = RwLock::new(HashMap::new());
        Self { inner: Arc::new(inner) }
    }

    /// The override endpoint, if any.
    pub fn endpoint_override_url(&self) -> Option<&str> {
        self.inner.endpoint_override.as_deref()
    }

    /// The API that delivered `ws` (or the override), its calls bounded by `ctx`'s deadline.
    pub fn for_event(&self, ctx: &Context, ws: &WebSocket) -> Result<ManagementApi, Error> {
        let endpoint = match &self.inner.endpoint_override {
            Some(url) => url.clone(),
            None => Arc::from(management_endpoint(ws)?),
        };
        Ok(ManagementApi {
            management: self.clone(),
            endpoint,
            deadline: ctx.deadline_instant(),
        })
    }

    /// An explicit endpoint (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`, or a
    /// custom domain's mapping), for handlers not serving a WebSocket event (a queue consumer
    /// pushing to clients). The override, when set, still wins.
    pub fn for_endpoint(&self, endpoint: impl Into<String>, deadline: Option<Instant>) -> ManagementApi {
        let endpoint = match &self.inner.endpoint_override {
            Some(url) => url.clone(),
            None => Arc::from(endpoint.into()),
        };
        ManagementApi {
            management: self.clone(),
            endpoint,
            deadline,
        }
    }

    /// Number of endpoints a client has been built for.
    pub fn cached_clients(&self) -> usize {
        self.inner.clients.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    async fn client(&self, endpoint: &Arc<str>) -> Client {
        if let Some(c) = self
            .inner
            .clients
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(endpoint)
        {
            return c.clone();
        }
        let base = self
            .inner
            .config
            .get_or_init(|| async { ConfigBuilder::from(&aws_config::load_from_env().await) })
            .await;
        let client = Client::from_conf(base.clone().endpoint_url(&**endpoint).build());
        let mut clients = self.inner.clients.write().unwrap_or_else(|p| p.into_inner());
        clients.entry(endpoint.clone()).or_insert(client).clone()
    }
}

/// The management API of one endpoint, for one invocation (its calls end before the
/// invocation's deadline). From [`Management::for_event`] or [`Management::for_endpoint`].
#[derive(Clone, Debug)]
pub struct ManagementApi {
    management: Management,
    endpoint: Arc<str>,
    deadline: Option<Instant>,
}

impl ManagementApi {
    /// The endpoint calls go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `data` to the connection (`PostToConnection`). A connection that is gone is
    /// [`ManagementError::Gone`]: forget it (see [`broadcast`](super::broadcast) and
    /// [`send`](super::send), which do).
    pub async fn send(&self, connection_id: &str, data: impl Into<Vec<u8>>) -> Result<(), ManagementError> {
        let client = self.management.client(&self.endpoint).await;
        let call = client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(data))
            .send();
        self.bounded(call).await?.map(|_| ()).map_err(classify)
    }

    /// Closes the connection (`DeleteConnection`); API Gateway then calls `$disconnect`.
    pub async fn close(&self, connection_id: &str) -> Result<(), ManagementError> {
        let client = self.management.client(&self.endpoint).await;
        let call = client.delete_connection().connection_id(connection_id).send();
        self.bounded(call).await?.map(|_| ()).map_err(classify)
    }

    /// Describes the connection (`GetConnection`: connected at, last active at, source IP,
    /// user agent).
    pub async fn info(&self, connection_id: &str) -> Result<GetConnectionOutput, ManagementError> {
        let client = self.management.client(&self.endpoint).await;
        let call = client.get_connection().connection_id(connection_id).send();
        self.bounded(call).await?.map_err(classify)
    }

    async fn bounded<F: std::future::Future>(&self, call: F) -> Result<F::Output, ManagementError> {
        let mut bound = self.management.inner.timeout;
        if let Some(deadline) = self.deadline {
            bound = bound.min(deadline.saturating_duration_since(Instant::now()));
        }
        tokio::time::timeout(bound, call)
            .await
            .map_err(|_| ManagementError::TimedOut { after: bound })
    }
}

/// A management call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagementError {
    /// 410 Gone: the connection no longer exists (the client left without `$disconnect`
    /// having been handled, or it was closed).
    Gone,
    /// No answer within the bound (the configured timeout or the invocation's remaining time).
    TimedOut {
        /// The bound that elapsed.
        after: Duration,
    },
    /// Any other failure: refused (403), throttled (429), payload too large (413), unreachable.
    Failed {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// The error code and message, or why there was no answer.
        message: String,
    },
}

impl fmt::Display for ManagementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gone => f.write_str("the WebSocket connection is gone (410)"),
            Self::TimedOut { after } => write!(f, "the management API did not answer within {after:?}"),
            Self::Failed {
                status: Some(s),
                message,
            } => write!(f, "the management API answered {s}: {message}"),
            Self::Failed { status: None, message } => write!(f, "the management API failed: {message}"),
        }
    }
}

impl std::error::Error for ManagementError {}

impl ManagementError {
    /// The answer for the client: 410 `connection_gone`, 504 `management_api_timeout` or 502
    /// `management_api_failed`, the cause in the message. (`?` alone would make it a 500.)
    pub fn into_error(self) -> Error {
        let e = self;
        let (status, code) = match &e {
            ManagementError::Gone => (StatusCode::GONE, "connection_gone"),
            ManagementError::TimedOut { .. } => (StatusCode::GATEWAY_TIMEOUT, "management_api_timeout"),
            ManagementError::Failed { .. } => (StatusCode::BAD_GATEWAY, "management_api_failed"),
        };
        Error::new(status, code, e.to_string())
    }
}

/// 410 by status (what API Gateway answers) or by error code (`GoneException`).
fn classify<E, R>(e: SdkError<E, R>) -> ManagementError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + HasStatus,
{
    let status = e.raw_response().map(HasStatus::status);
    if status == Some(410) || e.code() == Some("GoneException") {
        return ManagementError::Gone;
    }
    ManagementError::Failed {
        status,
        message: DisplayErrorContext(e).to_string(),
    }
}

/// The HTTP status of a raw SDK response.
trait HasStatus {
    fn status(&self) -> u16;
}

impl HasStatus for aws_sdk_apigatewaymanagement::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}
