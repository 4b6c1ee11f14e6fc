//! The todo API over MCP (the `io.modelcontextprotocol/enterprise-managed-authorization`
//! extension, as xaa.dev's MCP server): StreamableHTTP at `POST {todo_api}/mcp`, stateless and
//! answering plain JSON (no SSE) so each JSON-RPC exchange is one readable HTTP exchange. Its
//! resource identifier is the MCP server URL; tokens need `todos.read` and `mcp.access`. RFC 9728
//! metadata at `/.well-known/oauth-protected-resource/mcp`.

mod gate;
#[cfg(test)]
mod router_tests;
mod server;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value, json};
use xaa_core::ids::ResourceUri;

use crate::state::TodoState;
use crate::{SCOPE_MCP, SCOPE_READ, SCOPE_WRITE};

/// The path of the MCP endpoint on the todo API's origin.
pub const MCP_PATH: &str = "/mcp";

/// The MCP server's resource identifier: its URL, `{todo_api}/mcp`.
pub(crate) fn resource_id(st: &TodoState) -> ResourceUri {
    ResourceUri::new(format!("{}{MCP_PATH}", st.config.resource))
}

/// Its RFC 9728 metadata URL (the well-known suffix inserted before the path, §3.1).
pub(crate) fn metadata_url(st: &TodoState) -> String {
    format!("{}/.well-known/oauth-protected-resource{MCP_PATH}", st.config.resource)
}

/// JSON-RPC error code the MCP SDKs use for transport-level refusals.
const TRANSPORT_ERROR: i64 = -32000;

/// A transport-level refusal as the MCP SDKs' servers send it: a JSON-RPC error (code -32000)
/// with a null `id`.
pub(crate) fn rpc_error(status: StatusCode, message: &str, data: Option<Value>) -> Response {
    let mut error = json!({ "code": TRANSPORT_ERROR, "message": message });
    if let Some(d) = data {
        error["data"] = d;
    }
    (status, Json(json!({ "jsonrpc": "2.0", "error": error, "id": null }))).into_response()
}

/// The MCP endpoint and its protected-resource metadata.
pub(crate) fn router(st: Arc<TodoState>) -> Router<Arc<TodoState>> {
    // Stateless and JSON: every request is served alone (no `Mcp-Session-Id`), answered with
    // `application/json` unless the handler streams notifications first.
    // No Host allow-list: the endpoint takes only bearer tokens, which a DNS-rebinding page has
    // not got, and the lab may be reached under a public host name.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts();
    let server = st.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(server::TodoMcp::new(server.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(MCP_PATH, mcp)
        .route_layer(axum::middleware::from_fn_with_state(st, gate::gate))
        .route(&format!("/.well-known/oauth-protected-resource{MCP_PATH}"), get(protected_resource))
}

/// `GET /.well-known/oauth-protected-resource/mcp` (RFC 9728 §3).
async fn protected_resource(State(st): State<Arc<TodoState>>) -> Json<Value> {
    Json(json!({
        "resource": resource_id(&st),
        "authorization_servers": [st.config.authorization_server],
        "scopes_supported": [SCOPE_READ, SCOPE_WRITE, SCOPE_MCP],
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": xaa_core::dpop::DPOP_ALGS,
        "resource_name": "Lab Todo MCP server",
    }))
}
