//! Step 4 against an MCP server, the lab's (`{todo_api}/mcp`) or a registered one: the explorer
//! speaks MCP over Streamable HTTP as a client starts to, with the access token as a bearer token:
//! `initialize`, `notifications/initialized` (with the negotiated `MCP-Protocol-Version`, and the
//! `mcp-session-id` the server gave, if any), then the chosen request. Each exchange is shown as it
//! went over the wire; the session stops at the first that fails, and succeeds when the last
//! answers a JSON-RPC `result`.

use serde_json::{Value, json};
use xaa_core::mcp;

use super::http::{Answered, Outgoing, call};
use super::step::StepRecord;
use crate::config::Urls;
use crate::console::ConsoleState;

/// The scopes step 2 asks for when the target is the lab's MCP server.
pub(crate) const SCOPE: &str = "todos.read todos.write mcp.access";
/// The name the explorer gives itself in `initialize`.
const CLIENT_NAME: &str = "lab-explorer";

/// A request step 4 can end an MCP session with, as the endpoint picker names it.
#[derive(Debug)]
pub(crate) struct Action {
    pub(crate) label: &'static str,
    method: &'static str,
    /// The URI of `resources/read`, or the tool of `tools/call`.
    argument: &'static str,
}

/// The calls step 4 offers at the lab's MCP server, after the REST endpoints.
pub(crate) const LAB_ACTIONS: [Action; 3] = [
    Action { label: "MCP: list resources", method: "resources/list", argument: "" },
    Action { label: "MCP: read todo0://todos", method: "resources/read", argument: "todo0://todos" },
    Action { label: "MCP: call list_todos", method: "tools/call", argument: "list_todos" },
];
/// The call step 4 offers at a registered MCP server.
pub(crate) const LIST_RESOURCES: Action =
    Action { label: "MCP resources/list", method: "resources/list", argument: "" };

impl Action {
    /// Its JSON-RPC request (id 2: `initialize` was 1).
    fn request(&self) -> Value {
        let params = match self.method {
            "resources/read" => json!({ "uri": self.argument }),
            "tools/call" => json!({ "name": self.argument, "arguments": {} }),
            _ => json!({}),
        };
        mcp::request(2, self.method, params)
    }
}

/// The lab's MCP server: its URL is its resource identifier.
pub(crate) fn server_url(urls: &Urls) -> String {
    format!("{}/mcp", urls.todo_api)
}

/// One exchange of the session: the HTTP call, refused also by a JSON-RPC error.
async fn post(st: &ConsoleState, url: &str, out: Outgoing<'_>) -> (StepRecord, Answered) {
    let (mut record, answered) = call(st, "POST", url, out).await;
    let rpc_error = answered.json.as_ref().and_then(|a| a.get("error")).filter(|e| !e.is_null());
    if let Some(e) = rpc_error {
        let label = e["data"]["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("JSON-RPC error {}", e["code"].as_i64().unwrap_or(0)));
        record.status = format!("{} {label}", answered.status);
        record.ok = false;
    }
    (record, answered)
}

/// Runs the session at `url` with `token`, ending in `action`; `traced`: the lab serves it.
pub(crate) async fn session(
    st: &ConsoleState,
    url: &str,
    token: &str,
    action: &Action,
    traced: bool,
) -> (StepRecord, Answered) {
    let mut headers = vec![("Accept", mcp::ACCEPT.to_owned())];
    let out =
        |json, headers| Outgoing { headers, bearer: Some(token), json: Some(json), traced, ..Outgoing::default() };
    let (first, answered) = post(st, url, out(mcp::initialize(1, CLIENT_NAME), headers.clone())).await;
    let mut exchanges = vec![first];
    let mut last = answered;
    if exchanges[0].ok {
        let version = last.json.as_ref().and_then(|a| a["result"]["protocolVersion"].as_str());
        headers.push(("MCP-Protocol-Version", version.unwrap_or(mcp::PROTOCOL_VERSION).to_owned()));
        if let Some(session) = &last.mcp_session {
            headers.push(("mcp-session-id", session.clone()));
        }
        for message in [mcp::notification("notifications/initialized"), action.request()] {
            let (record, answered) = post(st, url, out(message, headers.clone())).await;
            let ok = record.ok;
            exchanges.push(record);
            last = answered;
            if !ok {
                break;
            }
        }
    }
    (joined(exchanges, &last), last)
}

/// The session's exchanges as one step: numbered, and the last one's status, checks and tokens.
fn joined(exchanges: Vec<StepRecord>, last: &Answered) -> StepRecord {
    let answered_result = last.json.as_ref().is_some_and(|a| a.get("result").is_some());
    let join = |f: fn(&StepRecord) -> &str| {
        exchanges.iter().enumerate().map(|(i, e)| format!("# {}\n{}", i + 1, f(e))).collect::<Vec<_>>().join("\n\n")
    };
    let (request, response) = (join(|e| &e.request), join(|e| &e.response));
    let ok = exchanges.len() == 3 && exchanges.iter().all(|e| e.ok) && answered_result;
    let final_exchange = exchanges.into_iter().next_back().unwrap_or_default();
    StepRecord { request, response, ok, ..final_exchange }
}

/// The code to do the same at the lab's MCP server `url`.
pub(crate) fn snippets(url: &str) -> Vec<(&'static str, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(status: &str, ok: bool) -> StepRecord {
        StepRecord {
            request: format!("POST {status}"),
            response: status.to_owned(),
            ok,
            status: status.to_owned(),
            ..StepRecord::default()
        }
    }

    #[test]
    fn each_action_is_its_json_rpc_request() {
        assert_eq!(LAB_ACTIONS[0].request(), mcp::request(2, "resources/list", json!({})));
        assert_eq!(LAB_ACTIONS[1].request()["params"], json!({ "uri": "todo0://todos" }));
        assert_eq!(LAB_ACTIONS[2].request()["params"], json!({ "name": "list_todos", "arguments": {} }));
        assert_eq!(LIST_RESOURCES.request()["method"], "resources/list");
    }

    #[test]
    fn a_session_succeeds_when_all_three_exchanges_did_and_the_last_has_a_result() {
        let result = Answered { json: Some(json!({ "jsonrpc": "2.0", "id": 2, "result": {} })), ..Answered::default() };
        let three = || vec![exchange("200 OK", true), exchange("202 Accepted", true), exchange("200 OK", true)];
        let step = joined(three(), &result);
        assert!(step.ok);
        assert_eq!(step.request, "# 1\nPOST 200 OK\n\n# 2\nPOST 202 Accepted\n\n# 3\nPOST 200 OK");
        assert!(!joined(three(), &Answered::default()).ok, "no JSON-RPC result");
        let refused = joined(vec![exchange("401 invalid_token", false)], &Answered::default());
        assert_eq!((refused.ok, refused.status.as_str()), (false, "401 invalid_token"));
    }
}
