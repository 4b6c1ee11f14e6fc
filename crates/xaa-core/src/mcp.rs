//! The MCP StreamableHTTP wire as the lab's requestors and its trace see it: JSON-RPC 2.0
//! messages POSTed as JSON, answered either as one JSON body or as a `text/event-stream` whose
//! `data:` lines carry the messages (MCP 2025-03-26 and later, "Streamable HTTP").

use serde_json::{Value, json};

/// The `Accept` header every POST to an MCP endpoint must carry (both types).
pub const ACCEPT: &str = "application/json, text/event-stream";
/// The protocol version the lab's requestors ask for in `initialize`.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// The header naming the negotiated protocol version on every request after `initialize`.
pub const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";

/// A JSON-RPC request.
pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

/// A JSON-RPC notification (no `id`, no answer but `202 Accepted`).
pub fn notification(method: &str) -> Value {
    json!({ "jsonrpc": "2.0", "method": method })
}

/// The `initialize` request of a client called `client_name`.
pub fn initialize(id: u64, client_name: &str) -> Value {
    request(
        id,
        "initialize",
        json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": { "name": client_name, "version": env!("CARGO_PKG_VERSION") },
        }),
    )
}

/// The JSON-RPC messages in an SSE body: each event's `data:` lines joined, parsed as JSON.
pub fn sse_messages(body: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut data: Vec<&str> = Vec::new();
    for line in body.lines().chain(std::iter::once("")) {
        if line.is_empty() {
            if let Ok(v) = serde_json::from_str(&data.join("\n")) {
                out.push(v);
            }
            data.clear();
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push(d.strip_prefix(' ').unwrap_or(d));
        }
    }
    out
}

/// The JSON-RPC answer in a response body of `content_type`: the JSON body itself, or the last
/// message with an `id` (the response) of an event stream, else its last message.
pub fn answer(content_type: &str, body: &[u8]) -> Option<Value> {
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("text/event-stream") {
        let messages = sse_messages(&String::from_utf8_lossy(body));
        let response = messages.iter().rev().find(|m| m.get("id").is_some_and(|i| !i.is_null())).cloned();
        return response.or_else(|| messages.last().cloned());
    }
    serde_json::from_slice(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_event_stream_answers() {
        let msg = json!({"jsonrpc": "2.0", "id": 2, "result": {"ok": true}});
        assert_eq!(answer("application/json", msg.to_string().as_bytes()), Some(msg.clone()));
        let sse = format!(
            "event: message\ndata: {}\n\nid: 7\ndata: {}\n\n",
            json!({"jsonrpc": "2.0", "method": "notifications/progress"}),
            msg
        );
        assert_eq!(answer("text/event-stream; charset=utf-8", sse.as_bytes()), Some(msg));
        assert_eq!(sse_messages("data: {\"a\":\ndata: 1}\n").as_slice(), [json!({"a": 1})]);
        assert_eq!(answer("text/event-stream", b": keep-alive\n\n"), None);
        assert_eq!(answer("text/plain", b"nope"), None);
    }

    #[test]
    fn builds_requests_and_notifications() {
        assert_eq!(initialize(1, "t")["params"]["protocolVersion"], PROTOCOL_VERSION);
        assert!(notification("notifications/initialized").get("id").is_none());
        assert_eq!(request(3, "tools/list", json!({}))["id"], 3);
    }
}
