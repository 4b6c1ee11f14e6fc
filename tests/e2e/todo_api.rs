//! The todo API as an RFC 6750 protected resource (checklist §8.1): challenges, scopes, the header
//! method only; and its input validation (JSON errors, never a 500).

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use xaa_core::dpop::{DpopKey, sign_proof};

use crate::harness::*;

const ALICE: &str = "alice@acme.example";
const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

/// A request to the todo API at `path`, without a token.
fn api(lab: &TestLab, method: Method, path: &str) -> RequestBuilder {
    lab.http.request(method, format!("{}{path}", lab.api()))
}

/// A request with `Authorization: Bearer <token>`.
fn authed(lab: &TestLab, method: Method, path: &str, token: &str) -> RequestBuilder {
    lab.todo(method, path, token)
}

/// An access token for alice with only `todos.read`.
async fn read_only_token(lab: &TestLab) -> String {
    let login = lab.login(ALICE).await;
    let jag = lab.id_jag(&login.id_token).await;
    let params = with(&lab.bearer_params(&jag), "scope", Some("todos.read"));
    let resp = lab.as_token(&params).await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "todos.read");
    body["access_token"].as_str().unwrap().to_owned()
}

/// The `WWW-Authenticate` challenge of `resp`, read as bytes (see `challenges_are_ascii`).
fn challenge(resp: &Response) -> String {
    let value = &resp.headers()["www-authenticate"];
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// Sends `req` and asserts a JSON error `{"success": false, "error": error, ...}` with `status`.
async fn json_error(req: RequestBuilder, status: u16, error: &str) -> Value {
    error_body(req.send().await.unwrap(), status, error).await
}

/// Asserts `status` and a JSON body `{"success": false, "error": error, "error_description": …}`.
async fn error_body(resp: Response, status: u16, error: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "HTTP status");
    let content_type = resp.headers()["content-type"].as_bytes();
    assert!(content_type.starts_with(b"application/json"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(!description.is_empty(), "{body}");
    body
}

/// `json_error` for 400 `invalid_request`.
async fn bad_request(req: RequestBuilder) -> Value {
    json_error(req, 400, "invalid_request").await
}

/// `refusal` for 401 `invalid_token`.
async fn invalid_token(req: RequestBuilder) -> String {
    refusal(req, 401, "invalid_token").await
}

/// Sends `req` and asserts an RFC 6750 §3 refusal: status, a Bearer challenge with
/// `error="<error>"`, and the same error in the JSON body. Returns the challenge.
async fn refusal(req: RequestBuilder, status: u16, error: &str) -> String {
    let resp = req.send().await.unwrap();
    let c = challenge(&resp);
    assert!(c.starts_with("Bearer realm=\"todo-api\""), "{c}");
    assert!(c.contains("resource_metadata=\""), "{c}");
    assert!(c.contains(&format!("error=\"{error}\"")), "{c}");
    error_body(resp, status, error).await;
    c
}

/// Sends `req`, asserts `status` and `success: true`, and returns the body.
async fn ok(req: RequestBuilder, status: u16) -> Value {
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), status, "HTTP status");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], true, "{body}");
    body
}

/// The user's todo list.
async fn list(lab: &TestLab, path: &str, token: &str) -> Value {
    ok(authed(lab, GET, path, token), 200).await
}

/// How many todos the token's user has.
async fn count(lab: &TestLab, token: &str) -> u64 {
    let listing = list(lab, "/api/todos", token).await;
    listing["count"].as_u64().unwrap()
}

/// The path of the user's first todo.
async fn first_path(lab: &TestLab, token: &str) -> String {
    let listing = list(lab, "/api/todos", token).await;
    format!("/api/todos/{}", listing["data"][0]["id"])
}

// ---- RFC 6750 authentication ----

#[tokio::test]
async fn no_token_gets_a_bare_bearer_challenge() {
    let lab = TestLab::start().await;
    let prm = format!("{}/.well-known/oauth-protected-resource", lab.api());
    let metadata = format!("resource_metadata=\"{prm}\"");
    let basic = api(&lab, GET, "/api/todos").basic_auth(CLIENT, Some(SECRET));
    let requests = [
        api(&lab, GET, "/api/todos"),
        api(&lab, POST, "/api/todos").json(&json!({ "title": "x" })),
        api(&lab, DELETE, "/api/todos/1"),
        basic, // another scheme is no bearer token either
    ];
    for req in requests {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 401);
        let c = challenge(&resp);
        assert!(c.starts_with("Bearer realm=\"todo-api\""), "{c}");
        assert!(c.contains(&metadata), "{c}");
        assert!(!c.contains("error="), "RFC 6750 §3.1: no error attribute: {c}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["success"], false);
    }
}

// ---- DPoP-bound tokens (RFC 9449 §7.1) ----

/// A DPoP-bound access token for alice from the real chain: a token exchange without a proof (so
/// no `cnf` in the ID-JAG), then the jwt-bearer grant with a proof of `key` (draft-04 §9.8.1.2.3:
/// the proof is validated and the access token bound to its key).
async fn dpop_bound_token(lab: &TestLab, key: &DpopKey) -> String {
    let login = lab.login(ALICE).await;
    let jag = lab.id_jag(&login.id_token).await;
    assert!(decode(&jag).1.get("cnf").is_none(), "the exchange carried no proof");
    let token_url = format!("{}/token", lab.authz());
    let proof = sign_proof(key, "POST", &token_url, lab.now(), "token-proof", None, None).unwrap();
    let resp = lab.http.post(&token_url).form(&lab.bearer_params(&jag)).header("DPoP", proof).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(decode(&token).1["cnf"], json!({ "jkt": key.thumbprint() }));
    token
}

/// The exact `DPoP` challenge of the todo API (RFC 9449 §7.1) for `error` and `description`,
/// the description made wire-safe as in every challenge.
fn dpop_challenge(lab: &TestLab, error: &str, description: &str) -> String {
    format!(
        "DPoP realm=\"todo-api\", resource_metadata=\"{}/.well-known/oauth-protected-resource\", error=\"{error}\", error_description=\"{}\", algs=\"ES256 PS256 RS256 EdDSA\"",
        lab.api(),
        description.replace('"', "'").replace('§', "Section ")
    )
}

/// Sends `req` and asserts a 401 refusal with exactly the `DPoP` challenge and JSON body for
/// `error` and `description`.
async fn dpop_refusal(lab: &TestLab, req: RequestBuilder, error: &str, description: &str) {
    let resp = req.send().await.unwrap();
    assert_eq!(challenge(&resp), dpop_challenge(lab, error, description));
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({ "success": false, "error": error, "error_description": description }));
}

/// The whole chain with DPoP: the API takes the bound token with the `DPoP` scheme and a proof of
/// each request (reads and writes); as Bearer, without a proof, with a proof of another key, of
/// another request or used before, it is refused with an exact `DPoP` challenge and body.
#[tokio::test]
async fn a_dpop_bound_token_needs_the_dpop_scheme_and_a_fresh_proof_of_its_key() {
    let lab = TestLab::start().await;
    let key = DpopKey::generate().unwrap();
    let token = dpop_bound_token(&lab, &key).await;
    let jkt = key.thumbprint();

    let todos = format!("{}/api/todos", lab.api());
    let proof_of = |key: &DpopKey, method: &str, jti: &str| {
        sign_proof(key, method, &todos, lab.now(), jti, Some(&token), None).unwrap()
    };
    let with_dpop = |method: Method, proof: Option<&str>| {
        let req = api(&lab, method, "/api/todos").header("Authorization", format!("DPoP {token}"));
        match proof {
            Some(p) => req.header("DPoP", p),
            None => req,
        }
    };
    let used = proof_of(&key, "GET", "api-1");
    assert_eq!(ok(with_dpop(GET, Some(&used)), 200).await["count"], 4);
    let create = with_dpop(POST, Some(&proof_of(&key, "POST", "api-2"))).json(&json!({ "title": "Bound" }));
    assert_eq!(ok(create, 201).await["data"]["title"], "Bound");
    assert_eq!(ok(with_dpop(GET, Some(&proof_of(&key, "GET", "api-3"))), 200).await["count"], 5);

    // As a Bearer token.
    let as_bearer = format!(
        "the access token is bound to the DPoP key with thumbprint cnf.jkt \"{jkt}\": send it as Authorization: DPoP <access token> with a DPoP proof of that key, not as a Bearer token (RFC 9449 §7.1)"
    );
    dpop_refusal(&lab, authed(&lab, GET, "/api/todos", &token), "invalid_token", &as_bearer).await;
    // Without a proof.
    let no_proof = "the request carries no DPoP proof: a DPoP-bound access token is sent with a DPoP header holding a proof of the key it is bound to (RFC 9449 §7.1)";
    dpop_refusal(&lab, with_dpop(GET, None), "invalid_dpop_proof", no_proof).await;
    // With a proof of another key.
    let other = DpopKey::generate().unwrap();
    let another_key = format!(
        "the access token is bound to the DPoP key with thumbprint cnf.jkt \"{jkt}\" but the DPoP proof is signed with the key with thumbprint \"{}\"; a DPoP-bound token is presented with a proof of the key it is bound to (RFC 9449 §4.3 item 12, §6)",
        other.thumbprint()
    );
    dpop_refusal(&lab, with_dpop(GET, Some(&proof_of(&other, "GET", "api-4"))), "invalid_token", &another_key).await;
    // With a proof of another method.
    let another_method = "the DPoP proof's htm is \"POST\", not \"GET\" (RFC 9449 §4.3 item 8)";
    dpop_refusal(&lab, with_dpop(GET, Some(&proof_of(&key, "POST", "api-5"))), "invalid_dpop_proof", another_method)
        .await;
    // With a proof used before.
    let replayed = "the DPoP proof's jti \"api-1\" was already used: a proof is accepted only once (RFC 9449 §11.1)";
    dpop_refusal(&lab, with_dpop(GET, Some(&used)), "invalid_dpop_proof", replayed).await;
}

#[tokio::test]
async fn garbage_token_is_invalid_token() {
    let lab = TestLab::start().await;
    for junk in ["garbage", "a.b.c", "e30.e30.e30"] {
        invalid_token(authed(&lab, GET, "/api/todos", junk)).await;
    }
}

#[tokio::test]
async fn id_jag_as_bearer_is_invalid_token() {
    let lab = TestLab::start().await;
    let login = lab.login(ALICE).await;
    let jag = lab.id_jag(&login.id_token).await;
    let c = invalid_token(authed(&lab, GET, "/api/todos", &jag)).await;
    assert!(c.contains("ID-JAG"), "{c}");
}

#[tokio::test]
async fn id_token_as_bearer_is_invalid_token() {
    let lab = TestLab::start().await;
    let login = lab.login(ALICE).await;
    // The IdP's own access token (its userinfo token) is not for the todo API either.
    for token in [&login.id_token, &login.access_token] {
        invalid_token(authed(&lab, GET, "/api/todos", token)).await;
    }
}

#[tokio::test]
async fn access_token_signed_by_another_key_is_invalid_token() {
    let lab = TestLab::start().await;
    let (_, claims) = decode(&lab.full_chain(ALICE).await);
    let key = untrusted_key("resource-as-2026-01");
    let forged = sign(&key, "at+jwt", claims.as_object().unwrap());
    let c = invalid_token(authed(&lab, GET, "/api/todos", &forged)).await;
    assert!(c.contains("signature"), "{c}");
}

#[tokio::test]
async fn expired_access_token_is_invalid_token() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    assert_eq!(count(&lab, &token).await, 4);
    lab.clock.advance(7200 + 61);
    let c = invalid_token(authed(&lab, GET, "/api/todos", &token)).await;
    assert!(c.contains("expired"), "{c}");
}

#[tokio::test]
async fn read_only_token_cannot_write() {
    let lab = TestLab::start().await;
    let token = read_only_token(&lab).await;
    assert_eq!(count(&lab, &token).await, 4, "reads are allowed");
    let path = first_path(&lab, &token).await;
    let writes = [
        authed(&lab, POST, "/api/todos", &token).json(&json!({ "title": "nope" })),
        authed(&lab, PATCH, &path, &token).json(&json!({ "completed": true })),
        authed(&lab, DELETE, &path, &token),
    ];
    for req in writes {
        let c = refusal(req, 403, "insufficient_scope").await;
        assert!(c.contains("scope=\"todos.write\""), "{c}");
    }
    assert_eq!(count(&lab, &token).await, 4, "nothing was written");
}

#[tokio::test]
async fn token_in_the_query_or_twice_is_invalid_request() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    let query = format!("/api/todos?access_token={token}");
    let c = refusal(api(&lab, GET, &query), 400, "invalid_request").await;
    assert!(c.contains("query parameter"), "{c}");
    let c = refusal(authed(&lab, GET, &query, &token), 400, "invalid_request").await;
    assert!(c.contains("more than one"), "{c}");
    let twice = authed(&lab, GET, "/api/todos", &token).header("authorization", format!("Bearer {token}"));
    refusal(twice, 400, "invalid_request").await;
}

/// RFC 6750 §3: `error_description` MUST NOT include characters outside
/// %x20-21 / %x23-5B / %x5D-7E, so every challenge is plain printable ASCII.
#[tokio::test]
async fn challenges_are_ascii() {
    let lab = TestLab::start().await;
    let read_only = read_only_token(&lab).await;
    let requests = [
        authed(&lab, GET, "/api/todos", "garbage"),
        authed(&lab, DELETE, "/api/todos/1", &read_only),
        api(&lab, GET, "/api/todos?access_token=x"),
    ];
    for req in requests {
        let resp = req.send().await.unwrap();
        let raw = resp.headers()["www-authenticate"].as_bytes();
        let printable = raw.iter().all(|b| (0x20..=0x7e).contains(b));
        let shown = format!("{} {}", resp.status(), String::from_utf8_lossy(raw));
        assert!(printable, "non-ASCII in WWW-Authenticate: {shown}");
    }
}

// ---- validation ----

#[tokio::test]
async fn empty_title_is_rejected() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    let path = first_path(&lab, &token).await;
    for title in ["", "   "] {
        let body = json!({ "title": title });
        bad_request(authed(&lab, POST, "/api/todos", &token).json(&body)).await;
        bad_request(authed(&lab, PATCH, &path, &token).json(&body)).await;
    }
    assert_eq!(count(&lab, &token).await, 4);
}

#[tokio::test]
async fn invalid_json_body_is_400_not_500() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    let path = first_path(&lab, &token).await;
    let raw = |method: Method, path: &str, content_type: &str, body: &str| {
        let req = authed(&lab, method, path, &token).header("content-type", content_type);
        req.body(body.to_owned())
    };
    let json = "application/json";
    let requests = [
        raw(POST, "/api/todos", json, "{not json"),
        raw(POST, "/api/todos", json, "{}"),
        raw(POST, "/api/todos", json, r#"{"title": 42}"#),
        raw(POST, "/api/todos", json, ""),
        raw(POST, "/api/todos", "text/plain", r#"{"title": "x"}"#),
        raw(PATCH, &path, json, "[1, 2"),
        raw(PATCH, &path, json, r#"{"completed": "yes"}"#),
    ];
    for req in requests {
        bad_request(req).await;
    }
    assert_eq!(count(&lab, &token).await, 4);
}

#[tokio::test]
async fn non_numeric_id_is_400() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    let change = json!({ "completed": true });
    let requests = [
        authed(&lab, GET, "/api/todos/abc", &token),
        authed(&lab, PATCH, "/api/todos/1.5", &token).json(&change),
        authed(&lab, DELETE, "/api/todos/99999999999999999999", &token),
    ];
    for req in requests {
        bad_request(req).await;
    }
}

#[tokio::test]
async fn unknown_id_is_404() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    let change = json!({ "completed": true });
    let requests = [
        authed(&lab, GET, "/api/todos/987654", &token),
        authed(&lab, PATCH, "/api/todos/987654", &token).json(&change),
        authed(&lab, DELETE, "/api/todos/987654", &token),
        authed(&lab, GET, "/api/todos/-1", &token),
    ];
    for req in requests {
        json_error(req, 404, "not_found").await;
    }
}

#[tokio::test]
async fn patch_with_only_a_title() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    let first = list(&lab, "/api/todos", &token).await["data"][0].clone();
    let id = first["id"].as_i64().unwrap();
    let path = format!("/api/todos/{id}");
    let rename = authed(&lab, PATCH, &path, &token).json(&json!({ "title": "  Renamed  " }));
    let patched = ok(rename, 200).await["data"].clone();
    let expected = json!({ "id": id, "title": "Renamed", "completed": first["completed"] });
    assert_eq!(patched, expected, "trimmed title, completed untouched");
    assert_eq!(list(&lab, &path, &token).await["data"], expected);
}

/// The ids in a listing, after checking every item has `completed == completed`.
fn ids_all(listing: &Value, completed: bool) -> Vec<Value> {
    let items = listing["data"].as_array().unwrap();
    let all = items.iter().all(|t| t["completed"] == completed);
    assert!(all, "{listing}");
    assert_eq!(listing["count"].as_u64(), Some(items.len() as u64));
    items.iter().map(|t| t["id"].clone()).collect()
}

#[tokio::test]
async fn completed_and_incomplete_filter() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    let (done_path, open_path) = ("/api/todos/completed", "/api/todos/incomplete");
    let done = ids_all(&list(&lab, done_path, &token).await, true);
    let open = ids_all(&list(&lab, open_path, &token).await, false);
    assert!(!done.is_empty() && !open.is_empty());
    assert_eq!(done.len() + open.len(), 4);

    let new = authed(&lab, POST, "/api/todos", &token).json(&json!({ "title": "Filter me" }));
    let id = ok(new, 201).await["data"]["id"].clone();
    let open_now = ids_all(&list(&lab, open_path, &token).await, false);
    assert_eq!(open_now.len(), open.len() + 1);
    assert!(open_now.contains(&id));

    let finish = authed(&lab, PATCH, &format!("/api/todos/{id}"), &token);
    ok(finish.json(&json!({ "completed": true })), 200).await;
    let done_now = ids_all(&list(&lab, done_path, &token).await, true);
    assert_eq!(done_now.len(), done.len() + 1);
    assert!(done_now.contains(&id));
    assert_eq!(ids_all(&list(&lab, open_path, &token).await, false), open);
}

#[tokio::test]
async fn overlong_title_is_rejected_and_nothing_is_written() {
    let lab = TestLab::start().await;
    let token = lab.full_chain(ALICE).await;
    let path = first_path(&lab, &token).await;
    let before = list(&lab, &path, &token).await;
    let with_title =
        |method: Method, path: &str, title: &str| authed(&lab, method, path, &token).json(&json!({ "title": title }));
    let huge = "x".repeat(100 * 1024);
    let body = bad_request(with_title(POST, "/api/todos", &huge)).await;
    let d = body["error_description"].as_str().unwrap();
    assert!(d.contains("500 characters"), "{d}");
    bad_request(with_title(POST, "/api/todos", &"é".repeat(501))).await;
    bad_request(with_title(PATCH, &path, &huge)).await;
    assert_eq!(count(&lab, &token).await, 4, "nothing was created");
    let after = list(&lab, &path, &token).await;
    assert_eq!(after["data"], before["data"], "nothing was changed");

    // The limit counts characters: exactly 500 two-byte characters are accepted.
    let created = ok(with_title(POST, "/api/todos", &"é".repeat(500)), 201).await;
    let title = created["data"]["title"].as_str().unwrap();
    assert_eq!(title.chars().count(), 500);
    assert_eq!(count(&lab, &token).await, 5);
}
