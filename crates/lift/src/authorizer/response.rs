//! [`AuthorizerResponse`] and the IAM [`Policy`] builder, rendered in the shape the event's
//! API expects.

use serde_json::{json, Map, Value};

use super::AuthorizerKind;

/// What an authorizer answers.
///
/// - [`allow`](Self::allow) / [`deny`](Self::deny): an IAM policy on the request's own ARN,
///   for a principal id; [`policy`](Self::policy) for any statements.
/// - [`simple`](Self::simple): HTTP API 2.0's `{"isAuthorized", "context"}` (enable simple
///   responses on the authorizer). On other events it is rendered as an allow or deny policy
///   for the principal id `anonymous`, since they only take policies.
/// - [`unauthorized`](Self::unauthorized): the Lambda error `Unauthorized`, which API Gateway
///   turns into 401 (REST and WebSocket); on HTTP API 2.0 it is `{"isAuthorized": false}`.
///
/// ```
/// use lift::authorizer::AuthorizerResponse;
/// let ok = AuthorizerResponse::allow("user-1").context("tenant_id", "acme");
/// # let _ = ok;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AuthorizerResponse(pub(crate) Repr);

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Repr {
    Policy(Policy),
    Simple {
        authorized: bool,
        context: Map<String, Value>,
    },
    Unauthorized,
}

/// Where a statement applies: the request's own ARN, or an explicit one.
#[derive(Clone, Debug, PartialEq)]
enum Resource {
    Request,
    Arn(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Statement {
    allow: bool,
    resources: Vec<Resource>,
}

/// An IAM policy answer: a principal id, statements allowing or denying `execute-api:Invoke`
/// on resources, the context passed on to the integration, and (REST) the usage plan's API
/// key.
///
/// ```
/// use lift::authorizer::{AuthorizerResponse, Policy};
/// let policy = Policy::new("user-1")
///     .allow("arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/*")
///     .deny("arn:aws:execute-api:us-east-1:123456789012:api/prod/DELETE/*")
///     .context("tenant_id", "acme");
/// let answer = AuthorizerResponse::policy(policy);
/// # let _ = answer;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    principal_id: String,
    statements: Vec<Statement>,
    context: Map<String, Value>,
    usage_identifier_key: Option<String>,
}

impl Policy {
    /// A policy for `principal_id`, with no statement yet (API Gateway denies what no
    /// statement allows).
    pub fn new(principal_id: impl Into<String>) -> Self {
        Self {
            principal_id: principal_id.into(),
            statements: Vec::new(),
            context: Map::new(),
            usage_identifier_key: None,
        }
    }

    /// Allows invoking `arn` (wildcards allowed: `.../prod/GET/*`).
    pub fn allow(mut self, arn: impl Into<String>) -> Self {
        self.statements.push(Statement {
            allow: true,
            resources: vec![Resource::Arn(arn.into())],
        });
        self
    }

    /// Denies invoking `arn` (a deny wins over any allow).
    pub fn deny(mut self, arn: impl Into<String>) -> Self {
        self.statements.push(Statement {
            allow: false,
            resources: vec![Resource::Arn(arn.into())],
        });
        self
    }

    /// Allows the ARN of the request being authorized.
    pub fn allow_request(mut self) -> Self {
        self.statements.push(Statement {
            allow: true,
            resources: vec![Resource::Request],
        });
        self
    }

    /// Denies the ARN of the request being authorized.
    pub fn deny_request(mut self) -> Self {
        self.statements.push(Statement {
            allow: false,
            resources: vec![Resource::Request],
        });
        self
    }

    /// Adds a context entry, passed to the integration (`requestContext.authorizer.<key>`;
    /// HTTP API: `authorizer.lambda.<key>`). REST and WebSocket APIs take only strings,
    /// numbers and booleans: other values are sent as their JSON text there.
    pub fn context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.insert(key.into(), value.into());
        self
    }

    /// The API key of the usage plan (REST APIs whose key source is the authorizer).
    pub fn usage_identifier_key(mut self, key: impl Into<String>) -> Self {
        self.usage_identifier_key = Some(key.into());
        self
    }
}

impl AuthorizerResponse {
    /// Allows the request's own ARN for `principal_id`.
    pub fn allow(principal_id: impl Into<String>) -> Self {
        Self::policy(Policy::new(principal_id).allow_request())
    }

    /// Denies the request's own ARN for `principal_id` (API Gateway answers 403).
    pub fn deny(principal_id: impl Into<String>) -> Self {
        Self::policy(Policy::new(principal_id).deny_request())
    }

    /// Any policy.
    pub fn policy(policy: Policy) -> Self {
        Self(Repr::Policy(policy))
    }

    /// HTTP API 2.0's simple response.
    pub fn simple(authorized: bool) -> Self {
        Self(Repr::Simple {
            authorized,
            context: Map::new(),
        })
    }

    /// The `Unauthorized` error (API Gateway answers 401).
    pub fn unauthorized() -> Self {
        Self(Repr::Unauthorized)
    }

    /// Adds a context entry (to the policy or the simple response; nothing to an
    /// `unauthorized` answer).
    pub fn context(self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        match self.0 {
            Repr::Policy(p) => Self(Repr::Policy(p.context(key, value))),
            Repr::Simple {
                authorized,
                mut context,
            } => {
                context.insert(key.into(), value.into());
                Self(Repr::Simple { authorized, context })
            }
            Repr::Unauthorized => self,
        }
    }

    /// Whether this answer lets the request through.
    pub fn is_authorized(&self) -> bool {
        match &self.0 {
            Repr::Policy(p) => p.statements.iter().any(|s| s.allow) && !p.statements.iter().any(|s| !s.allow),
            Repr::Simple { authorized, .. } => *authorized,
            Repr::Unauthorized => false,
        }
    }

    /// The JSON API Gateway expects for an event of `kind` on `arn`, or `None` for the
    /// `Unauthorized` error.
    pub(crate) fn render(self, kind: AuthorizerKind, arn: &str) -> Option<Value> {
        let v2 = kind == AuthorizerKind::HttpApiV2;
        match self.0 {
            Repr::Unauthorized if v2 => Some(json!({ "isAuthorized": false })),
            Repr::Unauthorized => None,
            Repr::Simple { authorized, context } if v2 => {
                let mut out = Map::new();
                out.insert("isAuthorized".into(), Value::Bool(authorized));
                if !context.is_empty() {
                    out.insert("context".into(), Value::Object(context));
                }
                Some(Value::Object(out))
            }
            Repr::Simple { authorized, context } => {
                let mut p = Policy::new("anonymous");
                p.context = context;
                let p = if authorized {
                    p.allow_request()
                } else {
                    p.deny_request()
                };
                Some(render_policy(p, arn, false))
            }
            Repr::Policy(p) => Some(render_policy(p, arn, v2)),
        }
    }
}

fn render_policy(p: Policy, arn: &str, v2: bool) -> Value {
    let statements: Vec<Value> = p
        .statements
        .into_iter()
        .map(|s| {
            let resources: Vec<Value> = s
                .resources
                .into_iter()
                .map(|r| match r {
                    Resource::Request => Value::String(arn.to_owned()),
                    Resource::Arn(a) => Value::String(a),
                })
                .collect();
            json!({
                "Action": "execute-api:Invoke",
                "Effect": if s.allow { "Allow" } else { "Deny" },
                "Resource": resources,
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("principalId".into(), Value::String(p.principal_id));
    out.insert(
        "policyDocument".into(),
        json!({ "Version": "2012-10-17", "Statement": statements }),
    );
    let context: Map<String, Value> = p
        .context
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            // REST and WebSocket refuse nested values; HTTP API takes them.
            Value::Object(_) | Value::Array(_) if !v2 => (k, Value::String(v.to_string())),
            v => (k, v),
        })
        .collect();
    if !context.is_empty() {
        out.insert("context".into(), Value::Object(context));
    }
    if let (Some(key), false) = (p.usage_identifier_key, v2) {
        out.insert("usageIdentifierKey".into(), Value::String(key));
    }
    Value::Object(out)
}
