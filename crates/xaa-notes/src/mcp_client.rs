//! The todos through the todo API's MCP server, as an MCP client would get them: both XAA
//! exchanges for the MCP server's resource identifier (`{todo_api}/mcp`, scopes including
//! `mcp.access`), then JSON-RPC over StreamableHTTP: `initialize`, `notifications/initialized`,
//! `resources/read todo0://todos`.
//!
//! A small JSON-RPC client rather than an MCP SDK: every call goes through [`OAuthHttp`], so it is
//! logged and traced like the app's other outbound calls, and the lab binary carries no MCP client
//! stack. It reads both answer forms of the transport (JSON or an event stream).

use serde_json::{Value, json};
use xaa_core::id_jag_reuse::Published;
use xaa_core::ids::ResourceUri;
use xaa_core::mcp;

use crate::oauth_http::OAuthHttp;
use crate::state::NotesState;
use crate::store::Session;
use crate::todo_client::Todo;
use crate::xaa::{self, Step, Target, XaaError};

/// The scopes Lab Notes asks for at the MCP server.
pub(crate) const MCP_SCOPE: &str = "todos.read todos.write mcp.access";
/// The resource Lab Notes reads.
pub(crate) const TODOS_URI: &str = "todo0://todos";

/// Todos read through MCP, with what the page tells about the calls.
#[derive(Clone, Debug)]
pub(crate) struct McpListing {
    pub(crate) todos: Vec<Todo>,
    pub(crate) server: String,
    pub(crate) protocol_version: String,
    pub(crate) scope: String,
    /// The ID-JAG re-use policy the authorization server published for the MCP server at the grant.
    pub(crate) reuse: Published,
}

/// The MCP server's URL, which is also its resource identifier.
pub(crate) fn server_url(st: &NotesState) -> String {
    format!("{}/mcp", st.config.todo_api)
}

/// Runs both exchanges for the MCP server and reads `todo0://todos`.
pub(crate) async fn list(st: &NotesState, session: &Session) -> Result<McpListing, XaaError> {
    let url = server_url(st);
    let resource = ResourceUri::new(url.as_str());
    let token = xaa::fresh_token_for(st, session, Target { resource: &resource, scope: MCP_SCOPE }).await?;
    let init = rpc(st, &url, &token.token, &mcp::initialize(1, "lab-notes"), None).await?.unwrap_or(Value::Null);
    let version = init["protocolVersion"].as_str().unwrap_or(mcp::PROTOCOL_VERSION).to_owned();
    let server = init["serverInfo"]["name"].as_str().unwrap_or("(unnamed)").to_owned();
    rpc(st, &url, &token.token, &mcp::notification("notifications/initialized"), Some(&version)).await?;
    let read = mcp::request(2, "resources/read", json!({ "uri": TODOS_URI }));
    let result = rpc(st, &url, &token.token, &read, Some(&version)).await?.unwrap_or(Value::Null);
    let text = result["contents"][0]["text"].as_str().unwrap_or("");
    let todos = serde_json::from_str(text).map_err(|e| XaaError::Unreachable {
        step: Step::Mcp,
        detail: format!("{TODOS_URI} did not hold a todo list: {e}"),
    })?;
    Ok(McpListing { todos, server, protocol_version: version, scope: token.scope, reuse: token.reuse })
}

/// POSTs one JSON-RPC message; the `result` of a response, `None` for an accepted notification.
async fn rpc(
    st: &NotesState,
    url: &str,
    token: &str,
    message: &Value,
    version: Option<&str>,
) -> Result<Option<Value>, XaaError> {
    let step = Step::Mcp;
    let unreachable = |detail: String| XaaError::Unreachable { step, detail };
    let http = OAuthHttp::of(st).map_err(|e| unreachable(e.to_string()))?;
    let mut builder = http.client().post(url).header("accept", mcp::ACCEPT).bearer_auth(token).json(message);
    if let Some(v) = version {
        builder = builder.header(mcp::PROTOCOL_VERSION_HEADER, v);
    }
    let req = builder.build().map_err(|e| unreachable(e.to_string()))?;
    let resp = http.send(req).await.map_err(|e| unreachable(e.to_string()))?;
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let bytes = resp.bytes().await.map_err(|e| unreachable(e.to_string()))?;
    if status == 202 && message.get("id").is_none() {
        return Ok(None);
    }
    let answer = mcp::answer(&content_type, &bytes).unwrap_or(Value::Null);
    let error = &answer["error"];
    if !(200..300).contains(&status) || !error.is_null() {
        let code = error["data"]["error"].as_str().map(str::to_owned).unwrap_or_else(|| match error["code"].as_i64() {
            Some(c) => format!("JSON-RPC error {c}"),
            None => "(no error code)".to_owned(),
        });
        let said = error["data"]["error_description"].as_str().or(error["message"].as_str()).unwrap_or("");
        return Err(XaaError::Refused { step, status, error: code, description: said.to_owned() });
    }
    Ok(Some(answer["result"].clone()))
}
