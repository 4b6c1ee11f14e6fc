//! The MCP server's front door, in the order of xaa.dev's MCP server: the bearer token first
//! (RFC 6750, the REST API's [`Authorized`] extractor, for the MCP resource identifier and scopes
//! `todos.read` + `mcp.access` ([`UseMcp`]), plus `todos.write` for a call of a writing tool
//! ([`WriteOverMcp`]): MCP's runtime scope challenge, a 403 `insufficient_scope` naming the scopes
//! to ask for), then the `Accept` header the StreamableHTTP transport requires. Refusals carry a
//! JSON-RPC error body (code -32000) as the MCP TypeScript SDK's servers do.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::rpc_error;
use crate::bearer::{Authorized, UseMcp, WriteOverMcp};
use crate::state::TodoState;

/// The tools that write todos: calling one needs `todos.write` too.
const WRITE_TOOLS: [&str; 2] = ["create_todo", "complete_todo"];
/// Largest JSON-RPC POST body read (the todo API's messages are small).
const MAX_BODY: usize = 256 * 1024;

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

/// Whether a JSON-RPC body (one message or a batch) calls a writing tool.
fn calls_write_tool(body: &[u8]) -> bool {
    let writes = |m: &Value| {
        m["method"] == "tools/call" && m["params"]["name"].as_str().is_some_and(|n| WRITE_TOOLS.contains(&n))
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(batch)) => batch.iter().any(writes),
        Ok(message) => writes(&message),
        Err(_) => false,
    }
}

/// Admits a request to `/mcp` only with a valid access token for the MCP server, handing its
/// claims to the handler in the request's extensions.
pub(crate) async fn gate(State(st): State<Arc<TodoState>>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let message = format!("Payload Too Large: a JSON-RPC message may have at most {MAX_BODY} bytes");
        return rpc_error(StatusCode::PAYLOAD_TOO_LARGE, &message, None);
    };
    let authorized = if calls_write_tool(&bytes) {
        Authorized::<WriteOverMcp>::from_request_parts(&mut parts, &st).await.map(|a| a.claims)
    } else {
        Authorized::<UseMcp>::from_request_parts(&mut parts, &st).await.map(|a| a.claims)
    };
    let claims = match authorized {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    if parts.method == Method::POST && !accepts_both(&parts.headers) {
        return rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
            None,
        );
    }
    parts.extensions.insert(claims);
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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

    #[test]
    fn finds_calls_of_writing_tools() {
        let call = |name: &str| json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}});
        assert!(calls_write_tool(call("create_todo").to_string().as_bytes()));
        assert!(calls_write_tool(json!([call("list_todos"), call("complete_todo")]).to_string().as_bytes()));
        assert!(!calls_write_tool(call("list_todos").to_string().as_bytes()));
        assert!(!calls_write_tool(br#"{"method":"resources/read","params":{"name":"create_todo"}}"#));
        assert!(!calls_write_tool(b"not json"));
    }
}
