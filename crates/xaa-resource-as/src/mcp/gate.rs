//! The MCP server's front door, in the order of xaa.dev's MCP server: the bearer token first
//! (RFC 6750, with the REST API's validation, for the MCP resource identifier and scopes
//! `todos.read` + `mcp.access`), then the `Accept` header the StreamableHTTP transport requires.
//! Refusals carry a JSON-RPC error body (code -32000) as the MCP TypeScript SDK's servers do.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{metadata_url, resource_id};
use crate::state::TodoState;
use crate::todos::bearer::{Audience, BearerError, authorize_for};
use crate::{SCOPE_MCP, SCOPE_READ};

/// JSON-RPC error code the MCP SDKs use for transport-level refusals.
const TRANSPORT_ERROR: i64 = -32000;

fn rpc_error(status: StatusCode, message: &str, data: Option<Value>) -> Response {
    let mut error = json!({ "code": TRANSPORT_ERROR, "message": message });
    if let Some(d) = data {
        error["data"] = d;
    }
    (status, Json(json!({ "jsonrpc": "2.0", "error": error, "id": null }))).into_response()
}

/// The bearer refusal as a JSON-RPC error, with the RFC 6750 challenge.
fn refusal(e: BearerError) -> Response {
    let message = match (e.status, e.error) {
        (StatusCode::UNAUTHORIZED, None) => "Unauthorized: No access token provided".to_owned(),
        (StatusCode::UNAUTHORIZED, _) => "Invalid or expired access token".to_owned(),
        (StatusCode::FORBIDDEN, _) => format!("Forbidden: insufficient scope: {}", e.description),
        _ => format!("Bad Request: {}", e.description),
    };
    let data = e.error.map(|code| json!({ "error": code, "error_description": e.description }));
    let mut resp = rpc_error(e.status, &message, data);
    if let Some(v) = e.challenge() {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// Whether the `Accept` header lists both `application/json` and `text/event-stream`
/// (MCP 2025-03-26 "Streamable HTTP", sending messages to the server, item 2).
fn accepts_both(headers: &HeaderMap) -> bool {
    let types: Vec<String> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .collect();
    types.iter().any(|t| t == "application/json") && types.iter().any(|t| t == "text/event-stream")
}

/// Admits a request to `/mcp` only with a valid access token for the MCP server, handing its
/// claims to the handler in the request's extensions.
pub(crate) async fn gate(State(st): State<Arc<TodoState>>, mut req: Request, next: Next) -> Response {
    let resource = resource_id(&st);
    let metadata = metadata_url(&st);
    let audience = Audience { realm: "todo-mcp", resource: &resource, metadata: &metadata };
    let claims = match authorize_for(&st, audience, req.headers(), req.uri(), &[SCOPE_READ, SCOPE_MCP]) {
        Ok(c) => c,
        Err(e) => return refusal(e),
    };
    if req.method() == Method::POST && !accepts_both(req.headers()) {
        return rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
            None,
        );
    }
    req.extensions_mut().insert(claims);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_needs_both_media_types() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT, v.parse().unwrap());
            m
        };
        assert!(accepts_both(&h("application/json, text/event-stream")));
        assert!(accepts_both(&h("text/event-stream;q=0.9,Application/JSON")));
        assert!(!accepts_both(&h("application/json")));
        assert!(!accepts_both(&h("*/*")));
        assert!(!accepts_both(&HeaderMap::new()));
    }
}
