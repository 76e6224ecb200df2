//! The quick start's WebSocket routes: `$connect` records the connection (in the fleet table
//! with `LIFT_TABLE`, in memory otherwise), `$disconnect` forgets it, and the `broadcast` route
//! sends a message to every connection of the sender's tenant through the API Gateway
//! Management API. (`$default`'s echo is in `lib.rs`.) With a JWT configured
//! (`QUICKSTART_JWT_SECRET` / `QUICKSTART_JWKS_URL`), `$connect` requires a verified token or
//! API Gateway authorizer identity, and records its subject and tenant.

use std::sync::Arc;

use axum::handler::Handler;
use axum::http::StatusCode;
use lift::tenant::TenantLayer;
use lift::websocket::{self, ConnectionStore, Management, MemoryConnectionStore};
use lift::{App, Context, Error, Json, State, WebSocket};
use serde_json::{json, Value};

use crate::Settings;

type Store = Arc<dyn ConnectionStore>;

/// The name the quick start's connections are kept under in the fleet table.
const API_NAME: &str = "quickstart";

/// Registers the WebSocket routes and what they share: the connection store and the
/// management client (its endpoint from each event, or `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`).
pub(crate) fn routes(app: App, settings: &Settings) -> App {
    let store: Store = match &settings.table {
        Some(table) => Arc::new(lift::dynamodb::DynamoConnectionStore::new(table, API_NAME)),
        None => Arc::new(MemoryConnectionStore::new()),
    };
    let app = app.with_state(store).with_state(Management::from_env());
    // With a JWT configured, `$connect` is authenticated (a token in `Authorization`, or what an
    // API Gateway authorizer verified) and the connection recorded with its subject and tenant;
    // without one, connections are anonymous, as before.
    let app = match &settings.jwt {
        Some(verifier) => app.websocket(
            "$connect",
            connect
                .layer(TenantLayer::new(crate::tenancy::resolver()))
                .layer(crate::auth::layer(Some(verifier))),
        ),
        None => app.websocket("$connect", connect),
    };
    app.websocket("$disconnect", disconnect)
        .websocket("broadcast", broadcast)
}

/// Records the connection with the invocation's tenant and principal (503 when the store
/// cannot: API Gateway then refuses the connection).
async fn connect(ctx: Context, ws: WebSocket, State(store): State<Store>) -> Result<StatusCode, Error> {
    let c = websocket::connect(&*store, &ctx, &ws).await?;
    tracing::info!(connection_id = %c.connection_id, tenant = c.tenant.as_deref().unwrap_or(""), "WebSocket connected");
    Ok(StatusCode::OK)
}

async fn disconnect(ctx: Context, ws: WebSocket, State(store): State<Store>) -> Result<StatusCode, Error> {
    websocket::disconnect(&*store, &ctx, &ws).await?;
    tracing::info!(connection_id = %ws.connection_id, "WebSocket disconnected");
    Ok(StatusCode::OK)
}

/// `{"action": "broadcast", "message": ...}`: sends `{"from", "message"}` to every connection
/// of the sender's tenant (as recorded at `$connect`), and answers with what happened.
async fn broadcast(
    ctx: Context,
    ws: WebSocket,
    State(store): State<Store>,
    State(management): State<Management>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    let sender = store
        .get(&ws.connection_id)
        .await
        .map_err(websocket::ConnectionStoreError::into_error)?
        .ok_or_else(|| Error::new(StatusCode::CONFLICT, "not_connected", "this connection is not recorded"))?;
    let data = json!({ "from": ws.connection_id, "message": body.get("message").cloned().unwrap_or(Value::Null) });
    let api = management.for_event(&ctx, &ws)?;
    let report = websocket::broadcast(&*store, &api, sender.tenant.as_deref(), data.to_string().as_bytes())
        .await
        .map_err(websocket::ConnectionStoreError::into_error)?;
    Ok(Json(json!({
        "sent": report.sent,
        "gone": report.gone,
        "failed": report.failed.len(),
    })))
}
