//! Step 4 against a registered MCP server: the JSON-RPC an MCP client starts with over Streamable
//! HTTP (`initialize`, `notifications/initialized`, then `resources/list`), with the access token
//! as a bearer token. Not an MCP client: just enough to see the server take the token and list
//! its resources (the lab's own MCP support lives with the todo API).

use serde_json::json;

use super::StepRecord;
use super::resource_call::{Answered, Outgoing, call_out};
use crate::console::ConsoleState;

/// The endpoint picker's entry for it.
pub(super) const MCP_LIST: &str = "MCP resources/list";
/// The MCP protocol revision the explorer asks for.
const PROTOCOL_VERSION: &str = "2025-06-18";

/// `initialize`, `notifications/initialized` and `resources/list` at `url`; the step shows all
/// three calls, and succeeds when the last answers a JSON-RPC `result`.
pub(super) async fn list_resources(st: &ConsoleState, url: &str, token: &str) -> (StepRecord, Answered) {
    let mut headers = vec![("accept", "application/json, text/event-stream".to_owned())];
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
            "clientInfo": { "name": "xaa-lab flow explorer", "version": env!("CARGO_PKG_VERSION") },
        },
    });
    let out = |json, headers| Outgoing { bearer: Some(token), json: Some(json), headers, ..Outgoing::default() };
    let (mut record, answered) = call_out(st, "POST", url, out(initialize, headers.clone())).await;
    if !record.ok {
        return (record, answered);
    }
    headers.push(("mcp-protocol-version", PROTOCOL_VERSION.to_owned()));
    if let Some(session) = &answered.mcp_session {
        headers.push(("mcp-session-id", session.clone()));
    }
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let (notified, _) = call_out(st, "POST", url, out(initialized, headers.clone())).await;
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "resources/list" });
    let (listed, answered) = call_out(st, "POST", url, out(list, headers)).await;
    for (r, what) in [(&notified, "notifications/initialized"), (&listed, "resources/list")] {
        record.request.push_str(&format!("\n\n# then {what}:\n{}", r.request));
        record.response.push_str(&format!("\n\n# {what}:\n{}", r.response));
    }
    let rpc_error = answered.json.as_ref().and_then(|j| j.get("error")).map(|e| e["code"].to_string());
    record.ok = listed.ok && rpc_error.is_none() && answered.json.as_ref().is_some_and(|j| j.get("result").is_some());
    record.status = match rpc_error {
        Some(code) => format!("{}, JSON-RPC error {code}", listed.status),
        None => listed.status,
    };
    (record, answered)
}
