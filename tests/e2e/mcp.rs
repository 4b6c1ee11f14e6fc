//! The todo API over MCP (`io.modelcontextprotocol/enterprise-managed-authorization`), driven by
//! the official Rust MCP SDK `rmcp`: its enterprise-managed helper runs the two XAA exchanges
//! (token exchange at the IdP, jwt-bearer at the AS) for the MCP resource, and its StreamableHTTP
//! client talks to `{todo_api}/mcp`. Also every refusal at the door, exactly.

use std::collections::HashSet;

use oauth2::ClientSecret;
use reqwest::{Response, StatusCode};
use rmcp::model::{CallToolRequestParams, CallToolResult, ReadResourceRequestParams, ResourceContents};
use rmcp::service::RunningService;
use rmcp::transport::auth::enterprise::{
    EmaAccessToken, EmaAuthorizationServer, EmaClientAuthentication, EmaError, EmaExchangeRequest,
};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, auth::default_oauth_http_client};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use xaa_core::dpop::{DpopKey, sign_proof};
use xaa_core::urn;

use crate::harness::*;

const ALICE: &str = "alice@acme.example";
const ALL_SCOPES: [&str; 3] = ["todos.read", "todos.write", "mcp.access"];
const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}"#;
const BOTH: &str = "application/json, text/event-stream";

fn mcp_url(lab: &TestLab) -> String {
    format!("{}/mcp", lab.api())
}

fn metadata_url(lab: &TestLab) -> String {
    format!("{}/.well-known/oauth-protected-resource/mcp", lab.api())
}

/// The IdP and the AS as rmcp's helper knows them: issuers and token endpoints from their
/// discovery documents, the bring-your-own client's credentials (Basic at the IdP, post at the AS).
async fn servers(lab: &TestLab) -> (EmaAuthorizationServer, EmaAuthorizationServer) {
    let idp = lab.idp_discovery().await;
    let as_meta: Value = lab
        .http
        .get(format!("{}/.well-known/oauth-authorization-server", lab.authz()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint = |m: &Value| m["token_endpoint"].as_str().unwrap().to_owned();
    let secret = |s: &str| ClientSecret::new(s.to_owned());
    (
        EmaAuthorizationServer::new(idp["issuer"].as_str().unwrap(), endpoint(&idp), CLIENT)
            .with_client_authentication(EmaClientAuthentication::ClientSecretBasic(secret(SECRET))),
        EmaAuthorizationServer::new(as_meta["issuer"].as_str().unwrap(), endpoint(&as_meta), RESOURCE_CLIENT)
            .with_client_authentication(EmaClientAuthentication::ClientSecretPost(secret(RESOURCE_SECRET))),
    )
}

/// Logs alice in at the lab IdP and lets rmcp's enterprise-managed helper get a token for
/// `resource` with `scopes`.
async fn ema_token(lab: &TestLab, resource: &str, scopes: &[&str]) -> Result<EmaAccessToken, EmaError> {
    let login = lab.login_as(CLIENT, SECRET, REDIRECT, ALICE).await;
    let (idp, authz) = servers(lab).await;
    let http = default_oauth_http_client().unwrap();
    EmaExchangeRequest::new_with_id_token(idp, authz, resource, &login.id_token)
        .with_scopes(scopes.iter().copied())
        .exchange(&http, &http)
        .await
}

/// An MCP access token for alice with `scopes`.
async fn mcp_token(lab: &TestLab, scopes: &[&str]) -> String {
    let token = ema_token(lab, &mcp_url(lab), scopes).await.expect("the enterprise-managed exchanges succeed");
    token.access_token.secret().clone()
}

/// rmcp's StreamableHTTP client, initialized against the lab's MCP server with `token`.
async fn connect(lab: &TestLab, token: &str) -> RunningService<RoleClient, ()> {
    let config = StreamableHttpClientTransportConfig::with_uri(mcp_url(lab)).auth_header(token);
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    ().serve(transport).await.expect("MCP initialize")
}

fn args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// The JSON a tool answered with (one text content block).
fn tool_json(r: &CallToolResult) -> Value {
    assert_eq!(r.is_error, Some(false), "tool failed: {r:?}");
    serde_json::from_str(&r.content[0].as_text().expect("text content").text).unwrap()
}

fn tool_error(r: &CallToolResult) -> String {
    assert_eq!(r.is_error, Some(true), "tool succeeded: {r:?}");
    r.content[0].as_text().expect("text content").text.clone()
}

/// The titles of the todos of a `todo0://` resource.
async fn resource_titles(client: &RunningService<RoleClient, ()>, uri: &str) -> Vec<String> {
    let read = client.read_resource(ReadResourceRequestParams::new(uri)).await.unwrap();
    let ResourceContents::TextResourceContents { uri: got, mime_type, text, .. } = &read.contents[0] else {
        panic!("text contents expected: {read:?}");
    };
    assert_eq!((got.as_str(), mime_type.as_deref()), (uri, Some("application/json")));
    let todos: Vec<Value> = serde_json::from_str(text).unwrap();
    todos.iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect()
}

/// A raw JSON-RPC POST to `/mcp` (for the refusals rmcp's client would hide).
async fn post(lab: &TestLab, token: Option<&str>, accept: &str) -> Response {
    let mut req = lab
        .http
        .post(mcp_url(lab))
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(INITIALIZE);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

fn www_authenticate(resp: &Response) -> String {
    resp.headers()["www-authenticate"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn rmcp_client_reads_and_writes_todos_through_the_whole_xaa_flow() {
    let lab = TestLab::start().await;
    let ema = ema_token(&lab, &mcp_url(&lab), &ALL_SCOPES).await.unwrap();
    assert_eq!(ema.scopes, ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect::<HashSet<_>>());
    let token = ema.access_token.secret().clone();
    let (header, claims) = decode(&token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["aud"], mcp_url(&lab));
    assert_eq!(claims["client_id"], RESOURCE_CLIENT);
    assert_eq!(claims["scope"], "mcp.access todos.read todos.write");

    let client = connect(&lab, &token).await;
    let info = client.peer_info().expect("initialize result");
    assert_eq!(info.server_info.as_ref().map(|i| i.name.as_str()), Some("todo0-mcp"));
    let resources: Vec<String> = client.list_all_resources().await.unwrap().into_iter().map(|r| r.uri).collect();
    assert_eq!(resources, ["todo0://todos", "todo0://todos/completed", "todo0://todos/incomplete"]);
    let tools: Vec<String> = client.list_all_tools().await.unwrap().into_iter().map(|t| t.name.into_owned()).collect();
    assert_eq!(tools.iter().collect::<HashSet<_>>().len(), 3);
    for t in ["list_todos", "create_todo", "complete_todo"] {
        assert!(tools.contains(&t.to_owned()), "{t} in {tools:?}");
    }

    // The same todos as the REST API shows the same user.
    let rest = lab.full_chain(ALICE).await;
    let rest_titles = |body: Value| -> Vec<String> {
        body["data"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect()
    };
    let before = rest_titles(lab.todo_json("/api/todos", &rest).await);
    assert!(!before.is_empty());
    assert_eq!(resource_titles(&client, "todo0://todos").await, before);

    let listed = client.call_tool(CallToolRequestParams::new("list_todos")).await.unwrap();
    assert_eq!(tool_json(&listed)["count"], before.len());

    let created = client
        .call_tool(
            CallToolRequestParams::new("create_todo").with_arguments(args(json!({"title": "Ship the MCP server"}))),
        )
        .await
        .unwrap();
    let todo = tool_json(&created)["todo"].clone();
    assert_eq!((todo["title"].as_str(), todo["completed"].as_bool()), (Some("Ship the MCP server"), Some(false)));
    // The write landed in the REST API's store.
    let after = rest_titles(lab.todo_json("/api/todos", &rest).await);
    assert_eq!(after.last().map(String::as_str), Some("Ship the MCP server"));
    assert_eq!(after.len(), before.len() + 1);
    assert!(resource_titles(&client, "todo0://todos/incomplete").await.contains(&"Ship the MCP server".to_owned()));

    let done = client
        .call_tool(CallToolRequestParams::new("complete_todo").with_arguments(args(json!({"id": todo["id"]}))))
        .await
        .unwrap();
    assert_eq!(tool_json(&done)["todo"]["completed"], true);
    let rest_todo = lab.todo_json(&format!("/api/todos/{}", todo["id"]), &rest).await;
    assert_eq!(rest_todo["data"]["completed"], true);
    assert!(resource_titles(&client, "todo0://todos/completed").await.contains(&"Ship the MCP server".to_owned()));
    let completed = client
        .call_tool(CallToolRequestParams::new("list_todos").with_arguments(args(json!({"filter": "completed"}))))
        .await
        .unwrap();
    let completed = tool_json(&completed);
    assert!(completed["todos"].as_array().unwrap().iter().all(|t| t["completed"] == true));

    // Tool-level refusals: unknown id, empty title; an unknown resource is a JSON-RPC error.
    let missing = client
        .call_tool(CallToolRequestParams::new("complete_todo").with_arguments(args(json!({"id": 999_999}))))
        .await
        .unwrap();
    assert_eq!(tool_error(&missing), "no todo with id 999999");
    let empty = client
        .call_tool(CallToolRequestParams::new("create_todo").with_arguments(args(json!({"title": "  "}))))
        .await
        .unwrap();
    assert_eq!(tool_error(&empty), "title must be 1 to 500 characters");
    let unknown = client.read_resource(ReadResourceRequestParams::new("todo0://nope")).await.unwrap_err();
    assert!(unknown.to_string().contains("no resource \"todo0://nope\""), "{unknown}");
    client.cancel().await.unwrap();
}

/// MCP's runtime scope challenge: calling a writing tool without `todos.write` is a 403
/// `insufficient_scope` naming every scope to ask for; reading keeps working with that token.
#[tokio::test]
async fn without_todos_write_the_write_tools_get_a_scope_challenge() {
    let lab = TestLab::start().await;
    let token = mcp_token(&lab, &["todos.read", "mcp.access"]).await;
    let client = connect(&lab, &token).await;
    let listed = client.call_tool(CallToolRequestParams::new("list_todos")).await.unwrap();
    let before = tool_json(&listed)["count"].clone();
    let err = client
        .call_tool(CallToolRequestParams::new("create_todo").with_arguments(args(json!({"title": "x"}))))
        .await
        .unwrap_err()
        .to_string();
    // rmcp's client recognises the challenge (RFC 6750 insufficient_scope).
    assert!(err.ends_with("error: Insufficient scope"), "{err}");
    let _ = client.cancel().await;
    let client = connect(&lab, &token).await;
    let listed = client.call_tool(CallToolRequestParams::new("list_todos")).await.unwrap();
    assert_eq!(tool_json(&listed)["count"], before, "nothing was written");
    client.cancel().await.unwrap();

    for (name, arguments) in [("create_todo", json!({"title": "x"})), ("complete_todo", json!({"id": 1}))] {
        let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": name, "arguments": arguments}});
        let resp =
            lab.http.post(mcp_url(&lab)).bearer_auth(&token).header("accept", BOTH).json(&call).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{name}");
        let description = "this request needs scope \"todos.read mcp.access todos.write\"; the access token has \"mcp.access todos.read\" (RFC 6750 §3.1)";
        assert_eq!(
            www_authenticate(&resp),
            format!(
                "Bearer realm=\"todo-mcp\", resource_metadata=\"{}\", error=\"insufficient_scope\", error_description=\"{}\", scope=\"todos.read mcp.access todos.write\"",
                metadata_url(&lab),
                description.replace('"', "'").replace('§', "Section ")
            )
        );
        assert_eq!(
            resp.json::<Value>().await.unwrap()["error"]["data"],
            json!({"error": "insufficient_scope", "error_description": description})
        );
    }
}

/// A DPoP-bound MCP token for alice with `todos.read mcp.access`, from the real chain: the token
/// exchange for the MCP resource (no proof, so no `cnf` in the ID-JAG), then the jwt-bearer grant
/// with a proof of `key` (draft-04 §9.8.1.2.3).
async fn dpop_bound_mcp_token(lab: &TestLab, key: &DpopKey) -> String {
    let login = lab.login(ALICE).await;
    let exchange = TokenExchangeRequest::for_id_jag(
        &login.id_token,
        SubjectTokenType::IdToken,
        Issuer::new(lab.authz()),
        ResourceUri::new(mcp_url(lab)),
        "todos.read mcp.access",
    );
    let resp = lab.idp_token(&owned(exchange.to_form_posting(CLIENT, SECRET))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let jag = resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let token_url = format!("{}/token", lab.authz());
    let proof = sign_proof(key, "POST", &token_url, lab.now(), "token-proof", None, None).unwrap();
    let resp = lab.http.post(&token_url).form(&lab.bearer_params(&jag)).header("DPoP", proof).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!((body["token_type"].as_str(), body["scope"].as_str()), (Some("DPoP"), Some("mcp.access todos.read")));
    let token = body["access_token"].as_str().unwrap().to_owned();
    let claims = decode(&token).1;
    assert_eq!((&claims["aud"], &claims["cnf"]), (&json!(mcp_url(lab)), &json!({ "jkt": key.thumbprint() })));
    token
}

/// The MCP server's gate with a DPoP-bound token (RFC 9449 §7.1): the `DPoP` scheme and a fresh
/// proof of the token's key for every message; as Bearer, with a replayed proof, or for a writing
/// tool without `todos.write`, it refuses with a `DPoP` challenge and a JSON-RPC error, exactly.
#[tokio::test]
async fn a_dpop_bound_token_opens_the_mcp_server_only_with_a_fresh_proof_of_its_key() {
    let lab = TestLab::start().await;
    let key = DpopKey::generate().unwrap();
    let token = dpop_bound_mcp_token(&lab, &key).await;
    let jkt = key.thumbprint();
    let url = mcp_url(&lab);
    let send = |scheme: &str, proof: Option<&str>, message: &str| {
        let mut req = lab
            .http
            .post(&url)
            .header("authorization", format!("{scheme} {token}"))
            .header("content-type", "application/json")
            .header("accept", BOTH)
            .body(message.to_owned());
        if let Some(p) = proof {
            req = req.header("DPoP", p);
        }
        req.send()
    };
    let proof = |jti: &str| sign_proof(&key, "POST", &url, lab.now(), jti, Some(&token), None).unwrap();

    let used = proof("mcp-1");
    let resp = send("DPoP", Some(&used), INITIALIZE).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap()["result"]["serverInfo"]["name"], "todo0-mcp");
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_todos","arguments":{}}}"#;
    let resp = send("DPoP", Some(&proof("mcp-2")), list).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let listed: Value = resp.json().await.unwrap();
    let text = listed["result"]["content"][0]["text"].as_str().unwrap();
    assert_eq!(serde_json::from_str::<Value>(text).unwrap()["count"], 4);

    // The challenge and the JSON-RPC error of a refusal, exactly.
    let refused = |status: StatusCode, error: &str, message: &str, description: &str, scope: Option<&str>| {
        let scope = scope.map(|s| format!(", scope=\"{s}\"")).unwrap_or_default();
        let challenge = format!(
            "DPoP realm=\"todo-mcp\", resource_metadata=\"{}\", error=\"{error}\", error_description=\"{}\"{scope}, algs=\"ES256 PS256 RS256 EdDSA\"",
            metadata_url(&lab),
            description.replace('"', "'").replace('§', "Section ")
        );
        let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": message,
            "data": {"error": error, "error_description": description}}});
        (status, challenge, body)
    };
    let got = |resp: Response| async move {
        let (status, challenge) = (resp.status(), www_authenticate(&resp));
        (status, challenge, resp.json::<Value>().await.unwrap())
    };

    // As a Bearer token.
    let as_bearer = format!(
        "the access token is bound to the DPoP key with thumbprint cnf.jkt \"{jkt}\": send it as Authorization: DPoP <access token> with a DPoP proof of that key, not as a Bearer token (RFC 9449 §7.1)"
    );
    assert_eq!(
        got(send("Bearer", None, INITIALIZE).await.unwrap()).await,
        refused(StatusCode::UNAUTHORIZED, "invalid_token", "Invalid or expired access token", &as_bearer, None)
    );
    // A proof used before.
    let replayed = "the DPoP proof's jti \"mcp-1\" was already used: a proof is accepted only once (RFC 9449 §11.1)";
    assert_eq!(
        got(send("DPoP", Some(&used), INITIALIZE).await.unwrap()).await,
        refused(StatusCode::UNAUTHORIZED, "invalid_dpop_proof", "Invalid DPoP proof", replayed, None)
    );
    // A writing tool: the runtime scope challenge, in the DPoP scheme.
    let create =
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_todo","arguments":{"title":"x"}}}"#;
    let needs = "this request needs scope \"todos.read mcp.access todos.write\"; the access token has \"mcp.access todos.read\" (RFC 6750 §3.1)";
    assert_eq!(
        got(send("DPoP", Some(&proof("mcp-3")), create).await.unwrap()).await,
        refused(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            &format!("Forbidden: insufficient scope: {needs}"),
            needs,
            Some("todos.read mcp.access todos.write")
        )
    );
}

#[tokio::test]
async fn no_token_and_a_bad_token_are_401_with_the_metadata_url() {
    let lab = TestLab::start().await;
    let resp = post(&lab, None, BOTH).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        www_authenticate(&resp),
        format!("Bearer realm=\"todo-mcp\", resource_metadata=\"{}\"", metadata_url(&lab))
    );
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"jsonrpc": "2.0", "error": {"code": -32000, "message": "Unauthorized: No access token provided"}, "id": null})
    );

    let resp = post(&lab, Some("not-a-jwt"), BOTH).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = www_authenticate(&resp);
    let prefix = format!(
        "Bearer realm=\"todo-mcp\", resource_metadata=\"{}\", error=\"invalid_token\", error_description=\"",
        metadata_url(&lab)
    );
    assert!(challenge.starts_with(&prefix), "{challenge}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Invalid or expired access token");
    assert_eq!((body["jsonrpc"].as_str(), body["id"].is_null()), (Some("2.0"), true));
    assert_eq!(body["error"]["code"], -32000);
    assert_eq!(body["error"]["data"]["error"], "invalid_token");

    // An expired MCP token: the lab clock moves, nobody sleeps.
    let token = mcp_token(&lab, &ALL_SCOPES).await;
    lab.clock.advance(7200 + 61);
    let resp = post(&lab, Some(&token), BOTH).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Invalid or expired access token");
    assert!(body["error"]["data"]["error_description"].as_str().unwrap().contains("exp"), "{body}");
}

#[tokio::test]
async fn a_token_without_mcp_access_is_403_insufficient_scope() {
    let lab = TestLab::start().await;
    let token = mcp_token(&lab, &["todos.read", "todos.write"]).await;
    assert_eq!(decode(&token).1["aud"], mcp_url(&lab));
    let resp = post(&lab, Some(&token), BOTH).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let description = "this request needs scope \"todos.read mcp.access\"; the access token has \"todos.read todos.write\" (RFC 6750 §3.1)";
    assert_eq!(
        www_authenticate(&resp),
        format!(
            "Bearer realm=\"todo-mcp\", resource_metadata=\"{}\", error=\"insufficient_scope\", error_description=\"{}\", scope=\"todos.read mcp.access\"",
            metadata_url(&lab),
            description.replace('"', "'").replace('§', "Section ")
        )
    );
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"jsonrpc": "2.0", "id": null, "error": {
            "code": -32000,
            "message": format!("Forbidden: insufficient scope: {description}"),
            "data": {"error": "insufficient_scope", "error_description": description},
        }})
    );
}

#[tokio::test]
async fn accept_without_both_media_types_is_406() {
    let lab = TestLab::start().await;
    let token = mcp_token(&lab, &ALL_SCOPES).await;
    for accept in ["application/json", "text/event-stream", "*/*"] {
        let resp = post(&lab, Some(&token), accept).await;
        assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE, "{accept}");
        assert_eq!(
            resp.json::<Value>().await.unwrap(),
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000,
                "message": "Not Acceptable: Client must accept both application/json and text/event-stream"}})
        );
    }
    // With both, the same token initializes, answered as plain JSON (stateless, no session).
    let resp = post(&lab, Some(&token), BOTH).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert!(resp.headers().get("mcp-session-id").is_none());
    let body: Value = resp.json().await.unwrap();
    assert_eq!((body["id"].as_i64(), body["result"]["serverInfo"]["name"].as_str()), (Some(1), Some("todo0-mcp")));
}

#[tokio::test]
async fn an_oversized_message_is_413() {
    let lab = TestLab::start().await;
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x".repeat(300 * 1024)}});
    let resp = lab.http.post(mcp_url(&lab)).header("accept", BOTH).json(&big).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000,
            "message": "Payload Too Large: a JSON-RPC message may have at most 262144 bytes"}})
    );
}

/// Clients of 2025-03-26 and later: each gets its version back from `initialize`, and a later
/// request naming it in `MCP-Protocol-Version` is served without a session.
#[tokio::test]
async fn clients_of_each_protocol_version_since_2025_03_26_are_served() {
    let lab = TestLab::start().await;
    let token = mcp_token(&lab, &ALL_SCOPES).await;
    for version in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let init = INITIALIZE.replace("2025-06-18", version);
        let resp = lab
            .http
            .post(mcp_url(&lab))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("accept", BOTH)
            .body(init)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{version}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["result"]["protocolVersion"], version);
        let list = lab
            .http
            .post(mcp_url(&lab))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("accept", BOTH)
            .header("mcp-protocol-version", version)
            .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), StatusCode::OK, "{version}");
        let body: Value = list.json().await.unwrap();
        assert_eq!(body["result"]["tools"].as_array().map(Vec::len), Some(3), "{version}: {body}");
    }
}

#[tokio::test]
async fn rest_tokens_and_mcp_tokens_do_not_cross() {
    let lab = TestLab::start().await;
    let rest = lab.full_chain(ALICE).await;
    let resp = post(&lab, Some(&rest), BOTH).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Invalid or expired access token");
    let d = body["error"]["data"]["error_description"].as_str().unwrap();
    assert!(d.contains("aud") && d.contains(&mcp_url(&lab)), "{d}");

    let mcp = mcp_token(&lab, &ALL_SCOPES).await;
    let resp = lab.todo(reqwest::Method::GET, "/api/todos", &mcp).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(www_authenticate(&resp).contains("error=\"invalid_token\""));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn the_authorization_server_refuses_resources_it_does_not_govern() {
    let lab = TestLab::start().await;
    // An ID-JAG (signed as the lab IdP) for the MCP URL with a trailing slash.
    let mut claims = lab.id_jag_claims();
    let slashed = format!("{}/", mcp_url(&lab));
    claims.insert("resource".into(), json!(slashed));
    let jag = sign(&lab_keys().idp, urn::TYP_ID_JAG, &claims);
    let d = assert_oauth_error(lab.as_token(&lab.bearer_params(&jag)).await, 400, "invalid_grant").await;
    assert_eq!(
        d,
        format!(
            "resource '{slashed}' in the ID-JAG is not governed by this authorization server (lab decision A16, draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.4.1, RFC 8707 Section 2)"
        )
    );
    // The IdP already refuses to issue an ID-JAG for it.
    let err = ema_token(&lab, &slashed, &ALL_SCOPES).await.unwrap_err();
    assert!(matches!(err, EmaError::OAuthRejected { code: "invalid_target", status: 400, .. }), "{err:?}");
    // A real ID-JAG for the REST API cannot be turned into an MCP token with `resource`.
    let login = lab.login(ALICE).await;
    let params = with(&lab.bearer_params(&lab.id_jag(&login.id_token).await), "resource", Some(&mcp_url(&lab)));
    let d = assert_oauth_error(lab.as_token(&params).await, 400, "invalid_target").await;
    assert_eq!(
        d,
        format!(
            "resource '{}' is not one the ID-JAG grants ({}) (lab decision A4, RFC 8707 Section 2)",
            mcp_url(&lab),
            lab.api()
        )
    );
}

#[tokio::test]
async fn protected_resource_metadata_names_the_mcp_server() {
    let lab = TestLab::start().await;
    let meta: Value = lab.http.get(metadata_url(&lab)).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        meta,
        json!({
            "resource": mcp_url(&lab),
            "authorization_servers": [lab.authz()],
            "scopes_supported": ["todos.read", "todos.write", "mcp.access"],
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported": ["ES256", "PS256", "RS256", "EdDSA"],
            "resource_name": "Lab Todo MCP server",
        })
    );
    let rest: Value = lab
        .http
        .get(format!("{}/.well-known/oauth-protected-resource", lab.api()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["resource"], lab.api());
    let health = lab.http.get(format!("{}/health", lab.api())).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.unwrap(), json!({"status": "ok"}));
}
