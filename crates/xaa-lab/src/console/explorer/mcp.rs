//! Step 4 against the todo API's MCP server (`{todo_api}/mcp`): when step 2 asked for the MCP
//! resource, the access token is the MCP server's, and the explorer speaks MCP over
//! StreamableHTTP as a client would: `initialize`, `notifications/initialized`, then the chosen
//! call. Each JSON-RPC exchange is shown as it went over the wire; the checks are the MCP
//! server's, from the trace.

use serde_json::{Value, json};
use xaa_core::mcp;
use xaa_core::secret::random_token;

use super::StepRecord;
use crate::console::ConsoleState;
use crate::console::view::EventView;

/// The MCP calls step 4 offers, after the REST endpoints.
pub(super) const ACTIONS: [&str; 3] = ["MCP: list resources", "MCP: read todo0://todos", "MCP: call list_todos"];
/// The scopes step 2 asks for when the target is the MCP server.
pub(super) const SCOPE: &str = "todos.read todos.write mcp.access";

/// The MCP server's URL, which is its resource identifier.
pub(super) fn server_url(st: &ConsoleState) -> String {
    format!("{}/mcp", st.urls.todo_api)
}

/// The JSON-RPC request of a step-4 choice, or `None` for a REST endpoint.
pub(super) fn action(endpoint: &str) -> Option<Value> {
    let (method, params) = match ACTIONS.iter().position(|a| *a == endpoint)? {
        0 => ("resources/list", json!({})),
        1 => ("resources/read", json!({ "uri": "todo0://todos" })),
        _ => ("tools/call", json!({ "name": "list_todos", "arguments": {} })),
    };
    Some(mcp::request(2, method, params))
}

/// One JSON-RPC exchange as shown, and what came back.
struct Exchange {
    request: String,
    response: String,
    status: String,
    ok: bool,
    answer: Option<Value>,
    request_id: String,
}

async fn post(st: &ConsoleState, token: &str, message: &Value, version: Option<&str>) -> Exchange {
    let url = server_url(st);
    let request_id = random_token(12);
    let host = url.split_once("://").and_then(|(_, r)| r.split_once('/')).map(|(h, _)| h).unwrap_or("");
    let mut request = format!(
        "POST /mcp HTTP/1.1\nHost: {host}\nAuthorization: {}\nAccept: {}\nContent-Type: application/json\n",
        st.trace.shown("authorization", &format!("Bearer {token}")),
        mcp::ACCEPT
    );
    let fail = |request: String, e: String| Exchange {
        request,
        response: format!("No answer: {e}"),
        status: "no answer".into(),
        ok: false,
        answer: None,
        request_id: String::new(),
    };
    let http = match st.http.get() {
        Ok(h) => h.clone(),
        Err(e) => return fail(request, e.to_string()),
    };
    let mut builder = http
        .post(&url)
        .header("x-lab-request-id", &request_id)
        .header("accept", mcp::ACCEPT)
        .bearer_auth(token)
        .json(message);
    if let Some(v) = version {
        builder = builder.header(mcp::PROTOCOL_VERSION_HEADER, v);
        request.push_str(&format!("MCP-Protocol-Version: {v}\n"));
    }
    request.push_str(&format!("\n{}", serde_json::to_string_pretty(message).unwrap_or_default()));
    let resp = match builder.send().await {
        Ok(r) => r,
        Err(e) => return fail(request, e.to_string()),
    };
    let status = resp.status();
    let header = |h: &str| resp.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header("content-type").unwrap_or_default();
    let headers: Vec<String> = ["content-type", "www-authenticate", "mcp-session-id"]
        .iter()
        .filter_map(|h| header(h).map(|v| format!("{h}: {v}")))
        .collect();
    let bytes = resp.bytes().await.unwrap_or_default();
    let answer = mcp::answer(&content_type, &bytes);
    let shown = answer.clone().map(|a| st.trace.masked_json(a));
    let response = format!(
        "HTTP/1.1 {} {}\n{}\n\n{}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        headers.join("\n"),
        shown.map(|b| serde_json::to_string_pretty(&b).unwrap_or_default()).unwrap_or_default()
    );
    let rpc_error = answer.as_ref().and_then(|a| a.get("error")).filter(|e| !e.is_null());
    let label = match rpc_error {
        Some(e) => e["data"]["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("JSON-RPC error {}", e["code"].as_i64().unwrap_or(0))),
        None => status.canonical_reason().unwrap_or("").to_owned(),
    };
    Exchange {
        request,
        response,
        status: format!("{} {label}", status.as_u16()),
        ok: status.is_success() && rpc_error.is_none(),
        answer,
        request_id,
    }
}

/// Runs the MCP session for `endpoint` (one of [`ACTIONS`]) with `token`.
pub(super) async fn call(st: &ConsoleState, token: &str, endpoint: &str) -> StepRecord {
    let Some(chosen) = action(endpoint) else { return record(st, Vec::new()) };
    let first = post(st, token, &mcp::initialize(1, "lab-explorer"), None).await;
    if !first.ok {
        return record(st, vec![first]);
    }
    let version = first
        .answer
        .as_ref()
        .and_then(|a| a["result"]["protocolVersion"].as_str())
        .unwrap_or(mcp::PROTOCOL_VERSION)
        .to_owned();
    let second = post(st, token, &mcp::notification("notifications/initialized"), Some(&version)).await;
    if !second.ok {
        return record(st, vec![first, second]);
    }
    let third = post(st, token, &chosen, Some(&version)).await;
    record(st, vec![first, second, third])
}

fn record(st: &ConsoleState, exchanges: Vec<Exchange>) -> StepRecord {
    let last = exchanges.last();
    let event = last.and_then(|e| st.trace.find_request(&e.request_id)).map(|e| EventView::from_event(&e));
    let join = |f: fn(&Exchange) -> &str| {
        exchanges.iter().enumerate().map(|(i, e)| format!("# {}\n{}", i + 1, f(e))).collect::<Vec<_>>().join("\n\n")
    };
    StepRecord {
        request: join(|e| &e.request),
        response: join(|e| &e.response),
        ok: !exchanges.is_empty() && exchanges.iter().all(|e| e.ok),
        status: last.map(|e| e.status.clone()).unwrap_or_else(|| "not an MCP call".into()),
        tokens: event.as_ref().map(|e| e.tokens.clone()).unwrap_or_default(),
        checks: event.map(|e| e.checks).unwrap_or_default(),
        client_checks: vec![],
        snippets: snippets(&server_url(st)),
    }
}

fn snippets(url: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "curl",
            format!(
                "curl -s {url} -H \"Authorization: Bearer $ACCESS_TOKEN\" \\
  -H 'Accept: application/json, text/event-stream' -H 'Content-Type: application/json' \\
  -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{{\"protocolVersion\":\"{v}\",\"capabilities\":{{}},\"clientInfo\":{{\"name\":\"me\",\"version\":\"1\"}}}}}}'
curl -s {url} -H \"Authorization: Bearer $ACCESS_TOKEN\" -H 'MCP-Protocol-Version: {v}' \\
  -H 'Accept: application/json, text/event-stream' -H 'Content-Type: application/json' \\
  -d '{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{{\"name\":\"list_todos\",\"arguments\":{{}}}}}}'",
                v = mcp::PROTOCOL_VERSION
            ),
        ),
        (
            "Rust (rmcp)",
            format!(
                "use rmcp::{{ServiceExt, model::ReadResourceRequestParams}};
use rmcp::transport::{{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig}};

let config = StreamableHttpClientTransportConfig::with_uri(\"{url}\").auth_header(access_token);
let client = ().serve(StreamableHttpClientTransport::with_client(reqwest::Client::new(), config)).await?;
let todos = client.read_resource(ReadResourceRequestParams::new(\"todo0://todos\")).await?;"
            ),
        ),
    ]
}
