//! The console's admin JSON API (`/api/admin/*`) over real HTTP: the admin token, registering a
//! requestor and using its credentials for the whole flow, governing its connection, the ID-JAG
//! audit log, refused registrations, the report card, and deleting a requestor.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::harness::*;

/// What the admin API shows for a registered client's IdP secret after its registration.
const SHOWN_ONCE: &str = "shown once at registration; delete the app and register it again to get a new one";

const ALICE: &str = "alice@acme.example";
const BOB: &str = "bob@acme.example";
/// The fixture requestors: the notes app, the bring-your-own client and the flow explorer.
const FIXTURE_CLIENTS: usize = 3;

type Params = Vec<(String, String)>;

/// A string member of `v`, or a panic naming it.
pub fn text<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name].as_str().unwrap_or_else(|| panic!("no string {name:?} in {v}"))
}

/// Status and JSON body of an admin API request.
pub async fn admin_json(lab: &TestLab, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = lab.admin(method, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}")))
}

/// The ids of the audit entries `GET /api/admin/audit?{query}` returns, in order.
pub async fn audit_ids(lab: &TestLab, query: &str) -> Vec<Value> {
    let (status, body) = admin_json(lab, Method::GET, &format!("/api/admin/audit?{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{query}");
    body["entries"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect()
}

/// Asserts an admin API refusal: status and the exact `{"error", "error_description"}` body.
pub async fn assert_admin_error(resp: Response, status: u16, error: &str, description: &str) {
    assert_eq!(resp.status().as_u16(), status, "HTTP status");
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({ "error": error, "error_description": description }));
}

/// Registers a requestor named `name` with the tutorial's redirect URI; returns the 201 body.
pub async fn register(lab: &TestLab, name: &str) -> Value {
    let body = json!({ "name": name, "redirect_uris": [REDIRECT] });
    let (status, reg) = admin_json(lab, Method::POST, "/api/admin/clients", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    reg
}

/// The client ids `GET /api/admin/clients` lists.
pub async fn client_ids(lab: &TestLab) -> Vec<String> {
    let (status, body) = admin_json(lab, Method::GET, "/api/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
    body["clients"].as_array().unwrap().iter().map(|c| text(c, "client_id").to_owned()).collect()
}

/// `GET /api/admin/connections`.
pub async fn connections(lab: &TestLab) -> Vec<Value> {
    let (status, body) = admin_json(lab, Method::GET, "/api/admin/connections", None).await;
    assert_eq!(status, StatusCode::OK);
    body["connections"].as_array().unwrap().clone()
}

/// The standard exchange parameters with the registered requestor's IdP credentials.
fn exchange_params_of(lab: &TestLab, reg: &Value, id_token: &str) -> Params {
    let params = with(&lab.exchange_params(id_token), "client_id", Some(text(reg, "client_id")));
    with(&params, "client_secret", Some(text(reg, "client_secret")))
}

/// jwt-bearer parameters with the registered requestor's resource-AS credentials.
fn bearer_params_of(lab: &TestLab, reg: &Value, assertion: &str) -> Params {
    let params = with(&lab.bearer_params(assertion), "client_id", Some(text(reg, "resource_client_id")));
    with(&params, "client_secret", Some(text(reg, "resource_client_secret")))
}

/// Token exchange that must succeed; returns the body.
async fn exchanged(lab: &TestLab, params: &[(String, String)]) -> Value {
    let resp = lab.idp_token(params).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Signs alice in to the registered requestor through the real pages.
async fn login_registered(lab: &TestLab, reg: &Value, email: &str) -> Login {
    lab.login_as(text(reg, "client_id"), text(reg, "client_secret"), REDIRECT, email).await
}

#[tokio::test]
async fn the_admin_api_needs_the_admin_token() {
    let lab = TestLab::start().await;
    let url = format!("{}/api/admin/clients", lab.console());
    let expected = json!({
        "error": "unauthorized",
        "error_description": "the admin API needs the admin token lab printed at start: Authorization: Bearer <admin_token>",
    });
    let wrong_token = format!("{}x", lab.lab.admin_token());
    let attempts = [
        lab.http.get(&url),
        lab.http.get(&url).bearer_auth("not-the-admin-token"),
        lab.http.get(&url).bearer_auth(&wrong_token),
        lab.http.get(&url).basic_auth("admin", Some(lab.lab.admin_token())),
        lab.http.post(&url).json(&json!({ "name": "Sneaky", "redirect_uris": [REDIRECT] })),
    ];
    for attempt in attempts {
        let resp = attempt.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()["www-authenticate"], "Bearer realm=\"lab-admin\"");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body, expected);
    }
    // Other admin endpoints are behind the same token.
    for path in ["/api/admin/connections", "/api/admin/audit", "/api/admin/clients/my-requestor"] {
        let resp = lab.http.get(format!("{}{path}", lab.console())).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // The refused POST registered nothing.
    let (status, body) = admin_json(&lab, Method::GET, "/api/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
    let clients = body["clients"].as_array().unwrap();
    assert_eq!(clients.len(), FIXTURE_CLIENTS, "{body}");
    let mine = clients.iter().find(|c| c["client_id"] == CLIENT).expect("the bring-your-own client is listed");
    assert_eq!(mine["registered"], false);
    assert_eq!(mine["redirect_uris"], json!([REDIRECT]));
    assert_eq!(mine["resource_client_id"], RESOURCE_CLIENT);
}

#[tokio::test]
async fn a_registered_requestor_runs_the_whole_flow_with_its_own_credentials() {
    let lab = TestLab::start().await;
    let reg = register(&lab, "Workshop Todo App").await;
    let client_id = text(&reg, "client_id").to_owned();
    let resource_client_id = text(&reg, "resource_client_id").to_owned();
    assert!(client_id.starts_with("workshop-todo-app-"), "{client_id}");
    assert_eq!(resource_client_id, format!("{client_id}-at-todo0"));
    assert_eq!(reg["name"], "Workshop Todo App");
    assert_eq!(reg["authorization_server"], lab.authz());
    assert_eq!(reg["resource"], lab.api());
    assert_eq!(reg["scopes"], json!(["todos.read", "todos.write"]));
    let secret = text(&reg, "client_secret");
    let resource_secret = text(&reg, "resource_client_secret");
    assert!(secret.len() >= 24 && resource_secret.len() >= 24 && secret != resource_secret, "{reg}");
    assert_eq!(reg["env"]["IDP_URL"], lab.idp());
    assert_eq!(reg["env"]["AUTH_SERVER_URL"], lab.authz());
    assert_eq!(reg["env"]["TODO_RESOURCE_SERVER"], lab.api());
    assert_eq!(reg["env"]["REDIRECT_URI"], REDIRECT);
    assert_eq!(reg["env"]["CLIENT_ID"], client_id.as_str());
    assert_eq!(reg["env"]["CLIENT_SECRET"], secret);
    assert_eq!(reg["env"]["RESOURCE_CLIENT_ID"], resource_client_id.as_str());
    assert_eq!(reg["env"]["RESOURCE_CLIENT_SECRET"], resource_secret);
    let dotenv = text(&reg, "dotenv");
    assert!(dotenv.starts_with(&format!("IDP_URL={}\n", lab.idp())), "{dotenv}");
    assert!(dotenv.contains(&format!("\nCLIENT_ID={client_id}\nCLIENT_SECRET={secret}\n")), "{dotenv}");
    assert!(dotenv.contains(&format!("\nRESOURCE_CLIENT_SECRET={resource_secret}\n")), "{dotenv}");

    // Listed, as registered, with its connection; GET by id answers the same credentials, but the
    // IdP client secret only as its placeholder (the IdP keeps its hash: shown once, above).
    let (_, list) = admin_json(&lab, Method::GET, "/api/admin/clients", None).await;
    let listed = list["clients"].as_array().unwrap().iter().find(|c| c["client_id"] == client_id.as_str()).unwrap();
    assert_eq!(listed["registered"], true);
    assert_eq!(listed["resource_client_id"], resource_client_id.as_str());
    assert_eq!(listed["connections"][0]["scopes"], json!(["todos.read", "todos.write"]));
    let (status, one) = admin_json(&lab, Method::GET, &format!("/api/admin/clients/{client_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["client_secret"], SHOWN_ONCE);
    assert_eq!(one["env"]["CLIENT_SECRET"], SHOWN_ONCE);
    assert_eq!(one["resource_client_secret"], resource_secret);
    assert_eq!(one["dotenv"], dotenv.replace(secret, SHOWN_ONCE));
    let fixture = admin_json(&lab, Method::GET, &format!("/api/admin/clients/{NOTES_CLIENT}"), None).await.1;
    assert_eq!(fixture["client_secret"], NOTES_SECRET, "a configured client's secret is in the lab's .env anyway");

    // Sign in through the real pages, exchange with its IdP credentials.
    let login = login_registered(&lab, &reg, ALICE).await;
    let body = exchanged(&lab, &exchange_params_of(&lab, &reg, &login.id_token)).await;
    let jag = text(&body, "access_token").to_owned();
    let (_, claims) = decode(&jag);
    assert_eq!(claims["client_id"], resource_client_id.as_str(), "the ID-JAG names its resource-AS client");
    assert_eq!(claims["email"], ALICE);

    // Another requestor's resource-AS credentials cannot redeem it (and do not burn it).
    let d = assert_oauth_error(lab.as_token(&lab.bearer_params(&jag)).await, 400, "invalid_grant").await;
    assert!(d.contains(&resource_client_id), "{d}");

    // Its own resource-AS credentials can; the access token reads the todo API.
    let resp = lab.as_token(&bearer_params_of(&lab, &reg, &jag)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let token: Value = resp.json().await.unwrap();
    let access_token = text(&token, "access_token");
    assert_eq!(decode(access_token).1["client_id"], resource_client_id.as_str());
    let todos = lab.todo(Method::GET, "/api/todos", access_token).send().await.unwrap();
    assert_eq!(todos.status(), StatusCode::OK);
    let todos: Value = todos.json().await.unwrap();
    assert_eq!(todos["success"], true, "{todos}");
    assert_eq!(lab.create_todo(access_token, "from a registered app").await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn revoking_narrowing_and_widening_a_connection_apply_to_the_next_exchange() {
    let lab = TestLab::start().await;
    let reg = register(&lab, "Governed App").await;
    let client_id = text(&reg, "client_id").to_owned();
    let resource_client_id = text(&reg, "resource_client_id").to_owned();
    let login = login_registered(&lab, &reg, ALICE).await;
    let params = exchange_params_of(&lab, &reg, &login.id_token);
    exchanged(&lab, &params).await;

    // Revoke: the next exchange is invalid_target; the connection is gone from the policy.
    let revoke = format!("/api/admin/connections?client_id={client_id}");
    let (status, body) = admin_json(&lab, Method::DELETE, &revoke, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "revoked": 1 })));
    let d = assert_oauth_error(lab.idp_token(&params).await, 400, "invalid_target").await;
    assert!(d.contains(&format!("has not connected client '{client_id}' to resource '{}'", lab.api())), "{d}");
    assert!(connections(&lab).await.iter().all(|c| c["client_id"] != client_id.as_str()));
    let again = lab.admin(Method::DELETE, &revoke).send().await.unwrap();
    assert_admin_error(again, 404, "not_found", &format!("client \"{client_id}\" has no such connection")).await;
    // The bring-your-own client's connection is untouched.
    let mine = lab.login(ALICE).await;
    assert_eq!(lab.idp_token(&lab.exchange_params(&mine.id_token)).await.status(), StatusCode::OK);

    // Granting again finds the AS client registration made for it (`<id>-at-todo0`): read only.
    let grant = json!({ "client_id": client_id, "scopes": ["todos.read"] });
    let (status, granted) = admin_json(&lab, Method::PUT, "/api/admin/connections", Some(grant)).await;
    assert_eq!(status, StatusCode::OK);
    let expected = json!({
        "tenant": "customer1", "client_id": client_id, "authorization_server": lab.authz(), "resource": lab.api(),
        "scopes": ["todos.read"], "resource_client_id": resource_client_id, "users": [],
    });
    assert_eq!(granted, expected);
    assert!(connections(&lab).await.contains(&expected));

    // Asking for read and write is invalid_scope; read alone is granted, and only reads.
    let d = assert_oauth_error(lab.idp_token(&params).await, 400, "invalid_scope").await;
    assert!(d.contains("scope 'todos.write' is not allowed") && d.contains("(allowed: 'todos.read')"), "{d}");
    let body = exchanged(&lab, &with(&params, "scope", Some("todos.read"))).await;
    assert_eq!(body["scope"], "todos.read");
    let resp = lab.as_token(&bearer_params_of(&lab, &reg, text(&body, "access_token"))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let token: Value = resp.json().await.unwrap();
    let access_token = text(&token, "access_token");
    assert_eq!(token["scope"], "todos.read");
    assert_eq!(lab.todo(Method::GET, "/api/todos", access_token).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(lab.create_todo(access_token, "not allowed").await.status(), StatusCode::FORBIDDEN);
    // Without a scope, the exchange gets what the connection allows now.
    let body = exchanged(&lab, &with(&params, "scope", None)).await;
    assert_eq!(body["scope"], "todos.read");

    // Widen again (the resource-AS client id is known now): read and write.
    let widen = json!({ "client_id": client_id, "scopes": ["todos.read", "todos.write"] });
    let (status, widened) = admin_json(&lab, Method::PUT, "/api/admin/connections", Some(widen)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(widened["scopes"], json!(["todos.read", "todos.write"]));
    assert_eq!(widened["resource_client_id"], resource_client_id.as_str());
    let body = exchanged(&lab, &params).await;
    assert_eq!(body["scope"], "todos.read todos.write");

    // A scope the resource does not define is refused, and the policy is unchanged.
    let bad = json!({ "client_id": client_id, "scopes": ["todos.admin"] });
    let resp = lab.admin(Method::PUT, "/api/admin/connections").json(&bad).send().await.unwrap();
    let d = format!("scope \"todos.admin\" is not defined by {} (its scopes: todos.read todos.write)", lab.api());
    assert_admin_error(resp, 400, "invalid_request", &d).await;
    assert_eq!(exchanged(&lab, &params).await["scope"], "todos.read todos.write");
}

#[tokio::test]
async fn the_audit_log_lists_issued_and_refused_exchanges_newest_first() {
    let lab = TestLab::start().await;
    let (status, empty) = admin_json(&lab, Method::GET, "/api/admin/audit", None).await;
    assert_eq!((status, empty), (StatusCode::OK, json!({ "entries": [] })));

    // Issued: alice through the bring-your-own client.
    let alice = lab.login(ALICE).await;
    let issued_at = lab.now();
    let body = exchanged(&lab, &lab.exchange_params(&alice.id_token)).await;
    let jti = decode(text(&body, "access_token")).1["jti"].as_str().unwrap().to_owned();

    // Refused: bob through the notes app, asking for a scope nobody defines.
    lab.clock.advance(5);
    let bob = lab.0.sign_in(NOTES_CLIENT, BOB).await.unwrap();
    let params = with(
        &with(
            &with(&lab.exchange_params(&bob.id_token), "client_id", Some(NOTES_CLIENT)),
            "client_secret",
            Some(NOTES_SECRET),
        ),
        "scope",
        Some("todos.admin"),
    );
    let reason = assert_oauth_error(lab.idp_token(&params).await, 400, "invalid_scope").await;

    let (status, log) = admin_json(&lab, Method::GET, "/api/admin/audit", None).await;
    assert_eq!(status, StatusCode::OK);
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{log}");
    let (refused, issued) = (&entries[0], &entries[1]);
    assert!(refused["id"].as_i64().unwrap() > issued["id"].as_i64().unwrap(), "newest first: {log}");
    assert_eq!(
        issued,
        &json!({
            "id": issued["id"], "at": issued_at, "client_id": CLIENT, "user": ALICE, "audience": lab.authz(),
            "resource": lab.api(), "scope": "todos.read todos.write", "outcome": "issued", "error": "",
            "reason": "", "jti": jti, "tenant": "customer1",
        })
    );
    assert_eq!(
        refused,
        &json!({
            "id": refused["id"], "at": issued_at + 5, "client_id": NOTES_CLIENT, "user": BOB,
            "audience": lab.authz(), "resource": lab.api(), "scope": "todos.admin", "outcome": "refused",
            "error": "invalid_scope", "reason": reason, "jti": "", "tenant": "customer1",
        })
    );

    // Filters.
    let only = |query: &'static str| audit_ids(&lab, query);
    assert_eq!(only("outcome=refused").await, [refused["id"].clone()]);
    assert_eq!(only("outcome=issued").await, [issued["id"].clone()]);
    assert_eq!(only("client_id=my-requestor").await, [issued["id"].clone()]);
    assert_eq!(only("client_id=lab-notes&outcome=issued").await, Vec::<Value>::new());
    assert_eq!(only("user=BOB%40acme.example").await, [refused["id"].clone()]);
    assert_eq!(only("client_id=&user=&outcome=").await, [refused["id"].clone(), issued["id"].clone()]);
    assert_eq!(only("limit=1").await, [refused["id"].clone()]);
    assert_eq!(only("format=json&client_id=nobody").await, Vec::<Value>::new());
    let resp = lab.admin(Method::GET, "/api/admin/audit?format=xml").send().await.unwrap();
    assert_admin_error(resp, 400, "invalid_request", "format \"xml\" is unknown: use json or csv").await;

    // CSV export: the header, then one RFC 4180 row per entry, newest first.
    let resp = lab.admin(Method::GET, "/api/admin/audit?format=csv").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(resp.headers()["content-disposition"], "attachment; filename=\"id-jag-audit.csv\"");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines.len(), 4, "header, two rows, and the final CRLF: {csv:?}");
    assert_eq!(lines[0], "id,at,client_id,user,audience,resource,scope,outcome,error,reason,jti,tenant");
    let quoted_reason = format!("\"{}\"", reason.replace('"', "\"\""));
    let reason_field = if reason.contains(',') { quoted_reason } else { reason.clone() };
    assert_eq!(
        lines[1],
        format!(
            "{},{},lab-notes,{BOB},{},{},todos.admin,refused,invalid_scope,{reason_field},,customer1",
            refused["id"],
            issued_at + 5,
            lab.authz(),
            lab.api()
        )
    );
    // A jti is random base64url: one that starts with '-' is defused like a formula (1 time in 64).
    let jti_field = xaa_lab::observe::csv::field(&jti);
    assert_eq!(
        lines[2],
        format!(
            "{},{issued_at},my-requestor,{ALICE},{},{},todos.read todos.write,issued,,,{jti_field},customer1",
            issued["id"],
            lab.authz(),
            lab.api()
        )
    );
    assert_eq!(lines[3], "");
    let resp = lab.admin(Method::GET, "/api/admin/audit?format=csv&outcome=refused").send().await.unwrap();
    let csv = resp.text().await.unwrap();
    assert_eq!(csv.split("\r\n").count(), 3, "{csv:?}");
    assert!(csv.contains(",refused,invalid_scope,") && !csv.contains(",issued,"), "{csv:?}");
}

#[tokio::test]
async fn refused_registrations_leave_nothing_behind() {
    let lab = TestLab::start().await;
    let before_clients = client_ids(&lab).await;
    let before_connections = connections(&lab).await;
    assert_eq!(before_clients.len(), FIXTURE_CLIENTS);
    let api = lab.api();
    let cases: Vec<(Value, &str, String)> = vec![
        (
            json!({ "name": "", "redirect_uris": [REDIRECT] }),
            "invalid_request",
            "the application name must have 1 to 100 characters".into(),
        ),
        (
            json!({ "name": "   ", "redirect_uris": [REDIRECT] }),
            "invalid_request",
            "the application name must have 1 to 100 characters".into(),
        ),
        (
            json!({ "name": "x".repeat(101), "redirect_uris": [REDIRECT] }),
            "invalid_request",
            "the application name must have 1 to 100 characters".into(),
        ),
        (
            json!({ "name": "No Redirect", "redirect_uris": [] }),
            "invalid_redirect_uri",
            "at least one redirect URI is required (matched exactly at sign-in)".into(),
        ),
        (
            json!({ "name": "Blank Redirect", "redirect_uris": ["  "] }),
            "invalid_redirect_uri",
            "at least one redirect URI is required (matched exactly at sign-in)".into(),
        ),
        (
            json!({ "name": "Fragment", "redirect_uris": ["http://localhost:3000/cb#top"] }),
            "invalid_redirect_uri",
            "redirect URI 'http://localhost:3000/cb#top' must not contain a fragment (RFC 6749 Section 3.1.2)".into(),
        ),
        (
            json!({ "name": "No Authority", "redirect_uris": ["http:evil.example/cb"] }),
            "invalid_redirect_uri",
            "redirect URI 'http:evil.example/cb' has no authority: write '//' and the host after 'http:' (RFC 3986 Section 3.2)".into(),
        ),
        (
            json!({ "name": "Userinfo", "redirect_uris": [REDIRECT], "post_logout_redirect_uris": ["http://user:pw@localhost/cb"] }),
            "invalid_redirect_uri",
            "redirect URI 'http://user:pw@localhost/cb' must not carry userinfo (a user name or password before '@') (RFC 3986 Section 3.2.1)".into(),
        ),
        (
            json!({ "name": "Relative", "redirect_uris": ["/auth/callback"] }),
            "invalid_redirect_uri",
            "redirect URI '/auth/callback' is not an absolute URI: relative URL without a base".into(),
        ),
        (
            json!({ "name": "Logout", "redirect_uris": [REDIRECT], "post_logout_redirect_uris": ["ftp://localhost/"] }),
            "invalid_redirect_uri",
            "redirect URI 'ftp://localhost/' must use http or https (RFC 6749 Section 3.1.2)".into(),
        ),
        (
            json!({ "name": "Admin Scope", "redirect_uris": [REDIRECT], "scopes": ["todos.read", "todos.admin"] }),
            "invalid_request",
            format!("scope \"todos.admin\" is not defined by {api} (its scopes: todos.read todos.write)"),
        ),
        (
            json!({ "name": "No Scope", "redirect_uris": [REDIRECT], "scopes": [] }),
            "invalid_request",
            "choose at least one scope".into(),
        ),
        (
            json!({ "name": "Other API", "redirect_uris": [REDIRECT], "resource": "https://api.other.example" }),
            "invalid_request",
            format!("\"https://api.other.example\" is not a resource of {}", lab.authz()),
        ),
    ];
    for (body, error, description) in cases {
        let resp = lab.admin(Method::POST, "/api/admin/clients").json(&body).send().await.unwrap();
        assert_admin_error(resp, 400, error, &description).await;
    }
    // Bodies that are not a registration at all.
    let missing_name = lab.admin(Method::POST, "/api/admin/clients").json(&json!({ "redirect_uris": [REDIRECT] }));
    let as_form = lab.admin(Method::POST, "/api/admin/clients").form(&[("name", "Form"), ("redirect_uris", REDIRECT)]);
    let not_json = lab.admin(Method::POST, "/api/admin/clients").header("content-type", "application/json").body("{");
    for (req, says) in [(missing_name, "missing field `name`"), (as_form, "Content-Type"), (not_json, "EOF")] {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
        let d = text(&body, "error_description");
        assert!(d.contains(says), "{says:?} not in {d:?}");
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    }
    assert_eq!(client_ids(&lab).await, before_clients, "no client was created");
    assert_eq!(connections(&lab).await, before_connections, "no connection was created");

    // A valid registration still works afterwards, and is the only addition.
    let reg = register(&lab, "Valid After All").await;
    let after = client_ids(&lab).await;
    assert_eq!(after.len(), FIXTURE_CLIENTS + 1);
    assert!(after.contains(&text(&reg, "client_id").to_owned()));
}

/// The report card's items, in the order it lists them.
const CARD_ITEMS: [&str; 6] =
    ["pkce", "audience_and_resource", "token_types", "resource_credentials", "single_use", "handles_n_a"];

/// The report card items of `client_id`, by item name.
pub(crate) async fn report_card(lab: &TestLab, client_id: &str) -> serde_json::Map<String, Value> {
    let (status, body) = admin_json(lab, Method::GET, &format!("/api/admin/clients/{client_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["report_card"]["client_id"], client_id);
    let items = body["report_card"]["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| text(i, "item")).collect();
    assert_eq!(names, CARD_ITEMS, "the six habits, in order");
    items.iter().map(|i| (text(i, "item").to_owned(), i.clone())).collect()
}

/// Asserts one card item's status, counts and evidence.
pub(crate) fn card_item(
    card: &serde_json::Map<String, Value>,
    item: &str,
    status: &str,
    passed: u64,
    failed: u64,
    evidence: &str,
) {
    let i = &card[item];
    assert_eq!(i["status"], status, "{item}: {i}");
    assert_eq!((i["passed"].as_u64(), i["failed"].as_u64()), (Some(passed), Some(failed)), "{item}: {i}");
    assert_eq!(i["evidence"], evidence, "{item}: {i}");
}

#[tokio::test]
async fn the_report_card_grades_a_requestor_from_its_real_traffic() {
    let lab = TestLab::start().await;
    let card = report_card(&lab, CLIENT).await;
    for item in CARD_ITEMS {
        let i = &card[item];
        assert_eq!(i["status"], "not yet seen", "{i}");
        assert!(!text(i, "title").is_empty() && !text(i, "spec").is_empty() && !text(i, "hint").is_empty(), "{i}");
    }
    // Each item names its level, and the decision it rests on when it rests on one.
    assert_eq!((&card["pkce"]["level"], card["pkce"].get("decision")), (&json!("MUST"), None));
    assert_eq!(card["single_use"]["level"], "lab decision");
    assert_eq!(card["single_use"]["decision"]["label"], "lab decision A2");

    // A good flow: sign-in with PKCE, exchange, jwt-bearer, the API with the access token.
    let login = lab.login(ALICE).await;
    let jag = lab.id_jag(&login.id_token).await;
    let access_token = lab.access_token(&jag).await;
    assert_eq!(lab.todo(Method::GET, "/api/todos", &access_token).send().await.unwrap().status(), StatusCode::OK);
    let card = report_card(&lab, CLIENT).await;
    let audience = format!("audience \"{}\", resource \"{}\"", lab.authz(), lab.api());
    let types = "requested_token_type urn:ietf:params:oauth:token-type:id-jag, subject_token_type urn:ietf:params:oauth:token-type:id_token";
    card_item(&card, "pkce", "passed", 1, 0, "/authorize with code_challenge_method S256");
    card_item(&card, "audience_and_resource", "passed", 1, 0, &audience);
    card_item(&card, "token_types", "passed", 1, 0, types);
    card_item(&card, "resource_credentials", "passed", 1, 0, "authenticated as the ID-JAG's client_id");
    card_item(&card, "single_use", "passed", 1, 0, "a fresh ID-JAG");
    card_item(&card, "handles_n_a", "passed", 1, 0, "sent the ID-JAG as the jwt-bearer assertion");
    // Another client's card is untouched.
    assert!(report_card(&lab, NOTES_CLIENT).await.values().all(|i| i["status"] == "not yet seen"));

    // Replaying the ID-JAG: refused, and single use fails.
    let d = assert_oauth_error(lab.as_token(&lab.bearer_params(&jag)).await, 400, "invalid_grant").await;
    assert!(d.contains("already used"), "{d}");
    let card = report_card(&lab, CLIENT).await;
    card_item(&card, "single_use", "failed", 1, 1, "presented an ID-JAG that was already used");
    card_item(&card, "resource_credentials", "passed", 2, 0, "authenticated as the ID-JAG's client_id");

    // A token exchange without resource: audience and resource fails (token types still pass).
    let resp = lab.idp_token(&with(&lab.exchange_params(&login.id_token), "resource", None)).await;
    assert_eq!(resp.status(), StatusCode::OK, "the IdP itself allows it (the connection has one resource)");
    let card = report_card(&lab, CLIENT).await;
    let no_resource = format!("audience \"{}\", resource missing", lab.authz());
    card_item(&card, "audience_and_resource", "failed", 1, 1, &no_resource);
    card_item(&card, "token_types", "passed", 2, 0, types);

    // Calling the API with the ID-JAG as a bearer token: handles N_A fails.
    let resp = lab.todo(Method::GET, "/api/todos", &jag).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let card = report_card(&lab, CLIENT).await;
    card_item(&card, "handles_n_a", "failed", 1, 1, "called the API with the ID-JAG as a bearer token");
    card_item(&card, "pkce", "passed", 1, 0, "/authorize with code_challenge_method S256");
}

#[tokio::test]
async fn a_deleted_requestor_can_no_longer_sign_in_exchange_or_redeem() {
    let lab = TestLab::start().await;
    let reg = register(&lab, "Short Lived").await;
    let client_id = text(&reg, "client_id").to_owned();
    let resource_client_id = text(&reg, "resource_client_id").to_owned();
    let login = login_registered(&lab, &reg, ALICE).await;
    let params = exchange_params_of(&lab, &reg, &login.id_token);
    let body = exchanged(&lab, &params).await;
    let jag = text(&body, "access_token").to_owned();

    // Fixture clients cannot be deleted; unknown ones are 404.
    let resp = lab.admin(Method::DELETE, &format!("/api/admin/clients/{CLIENT}")).send().await.unwrap();
    let fixture = format!("client \"{CLIENT}\" comes from the fixtures and cannot be deleted");
    assert_admin_error(resp, 400, "invalid_request", &fixture).await;
    let resp = lab.admin(Method::DELETE, "/api/admin/clients/nobody").send().await.unwrap();
    assert_admin_error(resp, 404, "not_found", "no client \"nobody\"").await;

    let resp = lab.admin(Method::DELETE, &format!("/api/admin/clients/{client_id}")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.text().await.unwrap(), "");

    // Gone from the list, the policy and GET by id; a second delete is 404.
    let ids = client_ids(&lab).await;
    assert_eq!(ids.len(), FIXTURE_CLIENTS);
    assert!(!ids.contains(&client_id), "{ids:?}");
    assert!(connections(&lab).await.iter().all(|c| c["client_id"] != client_id.as_str()));
    let resp = lab.admin(Method::GET, &format!("/api/admin/clients/{client_id}")).send().await.unwrap();
    assert_admin_error(resp, 404, "not_found", &format!("no client \"{client_id}\"")).await;
    let resp = lab.admin(Method::DELETE, &format!("/api/admin/clients/{client_id}")).send().await.unwrap();
    assert_admin_error(resp, 404, "not_found", &format!("no client \"{client_id}\"")).await;

    // Sign-in: the IdP no longer knows the application.
    let resp = lab.browser().get(lab.authorize_url(&client_id, REDIRECT, &[])).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none(), "never a redirect for an unknown client");
    let page = resp.text().await.unwrap();
    assert!(page.contains("Unknown application") && page.contains(&client_id), "{page}");

    // Its IdP credentials are refused.
    let d = assert_oauth_error(lab.idp_token(&params).await, 401, "invalid_client").await;
    assert!(d.contains(&format!("unknown client '{client_id}'")), "{d}");
    // Its resource-AS credentials are refused, even with the ID-JAG issued before the deletion.
    let d = assert_oauth_error(lab.as_token(&bearer_params_of(&lab, &reg, &jag)).await, 401, "invalid_client").await;
    assert!(d.contains(&format!("unknown client '{resource_client_id}'")), "{d}");

    // The fixtures still work.
    let token = lab.full_chain(ALICE).await;
    assert_eq!(lab.todo(Method::GET, "/api/todos", &token).send().await.unwrap().status(), StatusCode::OK);
}

/// Signs `browser` in to the admin pages with the banner's link; returns the console's CSRF token.
pub async fn admin_browser_session(lab: &TestLab, browser: &reqwest::Client) -> String {
    let signed_in =
        browser.get(format!("{}/admin?token={}", lab.console(), lab.lab.admin_token())).send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("xaa_console_admin="), "{cookie}");
    assert!(!cookie.contains(lab.lab.admin_token()), "the cookie holds a session id, never the token");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let page = browser.get(format!("{}/admin", lab.console())).send().await.unwrap().text().await.unwrap();
    hidden(&page, "csrf")
}

/// Cookies on localhost ignore ports: a page on another port must not be able to post the
/// console's forms, and the cookie alone never opens the JSON API.
#[tokio::test]
async fn pages_of_other_origins_and_cookies_cannot_drive_the_admin() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let csrf = admin_browser_session(&lab, &browser).await;
    let form = [("csrf", csrf.as_str()), ("name", "todo-api-unavailable"), ("action", "on")];
    let url = format!("{}/admin/switches", lab.console());
    for other in ["http://localhost:3000", "http://evil.example", "null"] {
        let resp = browser.post(&url).header("origin", other).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{other}");
        let body = resp.text().await.unwrap();
        assert!(body.contains("sent by a page of another site or port"), "{body}");
    }
    let referer = browser.post(&url).header("referer", "http://localhost:3000/x").form(&form).send().await.unwrap();
    assert_eq!(referer.status(), StatusCode::FORBIDDEN);
    let (_, switches) = admin_json(&lab, Method::GET, "/api/admin/switches", None).await;
    assert!(switches["switches"].as_array().unwrap().iter().all(|s| s["on"] == false), "nothing was switched on");
    // The console's own page may.
    let resp = browser.post(&url).header("origin", lab.console()).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, switches) = admin_json(&lab, Method::GET, "/api/admin/switches", None).await;
    let on: Vec<&Value> = switches["switches"].as_array().unwrap().iter().filter(|s| s["on"] == true).collect();
    assert_eq!(on.len(), 1);
    // The admin cookie does not open the API: only the bearer token does (any case of "Bearer").
    let api = format!("{}/api/admin/keys/rotate", lab.console());
    let resp = browser.post(&api).header("origin", lab.console()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = lab
        .http
        .get(format!("{}/api/admin/clients", lab.console()))
        .header("authorization", format!("bearer {}", lab.lab.admin_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Signing out ends the session.
    let resp = browser
        .post(format!("{}/admin/logout", lab.console()))
        .header("origin", lab.console())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = browser.get(format!("{}/admin", lab.console())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(resp.headers()["location"].to_str().unwrap().starts_with("/admin/login"));
}

/// Twenty registrations at once: every one keeps its connection (policy changes are serialised).
#[tokio::test]
async fn concurrent_registrations_keep_every_connection() {
    let lab = TestLab::start().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let request = lab
            .admin(Method::POST, "/api/admin/clients")
            .json(&json!({ "name": format!("Parallel {i}"), "redirect_uris": [REDIRECT] }));
        tasks.push(tokio::spawn(async move { request.send().await.unwrap().json::<Value>().await.unwrap() }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap()["client_id"].as_str().unwrap().to_owned());
    }
    let connected: Vec<String> =
        connections(&lab).await.iter().map(|c| c["client_id"].as_str().unwrap().to_owned()).collect();
    for id in &ids {
        assert!(connected.contains(id), "{id} lost its connection");
    }
    assert_eq!(connected.len(), ids.len() + 6, "the fixtures' six connections (REST and MCP) and twenty new ones");
}

/// Client mistakes on the admin API are JSON 4xx answers, never a crash.
#[tokio::test]
async fn the_admin_api_answers_mistakes_with_json() {
    let lab = TestLab::start().await;
    let clock = lab.admin(Method::POST, "/api/admin/clock").json(&json!({ "advance": i64::MIN }));
    assert_admin_error(
        clock.send().await.unwrap(),
        400,
        "invalid_request",
        "move the clock by at most ten years (315360000 s) either way",
    )
    .await;
    let before = lab.now();
    assert_eq!(lab.now(), before, "the clock did not move");
    let body = lab.admin(Method::PUT, "/api/admin/switches/todo-api-slow").body("{not json").send().await.unwrap();
    assert_eq!(body.status(), StatusCode::BAD_REQUEST);
    let err: Value = body.json().await.unwrap();
    assert_eq!(err["error"], "invalid_request");
    assert!(err["error_description"].as_str().unwrap().starts_with("the body must be"), "{err}");
    let unknown = lab.admin(Method::GET, "/api/admin/nothing/here").send().await.unwrap();
    assert_admin_error(unknown, 404, "not_found", "no admin API at /api/admin/nothing/here (see the README)").await;
    // A control character in the page to return to is dropped, not echoed into a header.
    let browser = lab.browser();
    let csrf = {
        let page = browser.get(format!("{}/admin/login", lab.console())).send().await.unwrap().text().await.unwrap();
        hidden(&page, "csrf")
    };
    let resp = browser
        .post(format!("{}/admin/login", lab.console()))
        .form(&[("csrf", csrf.as_str()), ("next", "/admin\nX-Injected: 1"), ("token", lab.lab.admin_token())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/admin");
}

/// Registered apps and IT's policy live in the data dir: after a restart (on other ports, as
/// every test lab has) the app signs in and exchanges again, and a revocation still holds.
#[tokio::test]
async fn registrations_and_the_policy_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("xaa-e2e-admin-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let lab = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    let reg = register(&lab, "Persistent App").await;
    let revoke = format!("/api/admin/connections?client_id={CLIENT}");
    assert_eq!(lab.admin(Method::DELETE, &revoke).send().await.unwrap().status(), StatusCode::OK);
    let narrow = json!({ "client_id": NOTES_CLIENT, "scopes": ["todos.read"] });
    assert_eq!(admin_json(&lab, Method::PUT, "/api/admin/connections", Some(narrow)).await.0, StatusCode::OK);
    let old_authz = lab.authz().to_owned();
    let old_ports = [lab.lab.listening_on("resource-as").unwrap(), lab.lab.listening_on("todo-api").unwrap()];
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;

    // Hold the old ports, so the new lab surely runs on others.
    let _held: Vec<std::net::TcpListener> =
        old_ports.iter().filter_map(|a| std::net::TcpListener::bind(a).ok()).collect();
    let again = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    assert_ne!(again.authz(), old_authz, "other ports this time");
    let (status, card) =
        admin_json(&again, Method::GET, &format!("/api/admin/clients/{}", text(&reg, "client_id")), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(card["client_secret"], SHOWN_ONCE);
    assert_eq!(card["resource_client_secret"], reg["resource_client_secret"]);
    assert_eq!(card["authorization_server"], again.authz(), "the connection follows the new URLs");
    let login = login_registered(&again, &reg, ALICE).await;
    let jag = exchanged(&again, &exchange_params_of(&again, &reg, &login.id_token)).await;
    let resp = again.as_token(&bearer_params_of(&again, &reg, text(&jag, "access_token"))).await;
    assert_eq!(resp.status(), StatusCode::OK, "its AS client survived too");
    // IT's changes to the fixture clients held.
    let mine = again.login(ALICE).await;
    assert_oauth_error(again.idp_token(&again.exchange_params(&mine.id_token)).await, 400, "invalid_target").await;
    let notes = connections(&again).await.into_iter().find(|c| c["client_id"] == NOTES_CLIENT).unwrap();
    assert_eq!(notes["scopes"], json!(["todos.read"]));
    assert_eq!(notes["resource"], again.api());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Opening the lab to the network (`--bind 0.0.0.0`) leaves the console and its admin API on
/// loopback unless `--console-bind` says otherwise.
#[tokio::test]
async fn the_console_stays_on_loopback_when_the_lab_is_opened() {
    use std::net::{IpAddr, Ipv4Addr};
    let open = TestLab::start_configured(|c| c.bind = IpAddr::V4(Ipv4Addr::UNSPECIFIED)).await;
    assert_eq!(open.lab.listening_on("idp").unwrap().ip(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(open.lab.listening_on("console").unwrap().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    let chosen = TestLab::start_configured(|c| c.console_bind = IpAddr::V4(Ipv4Addr::UNSPECIFIED)).await;
    assert_eq!(chosen.lab.listening_on("console").unwrap().ip(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(chosen.lab.listening_on("idp").unwrap().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
}

/// A known admin API path asked with another method answers 405 in JSON too.
#[tokio::test]
async fn a_wrong_method_on_the_admin_api_is_a_json_405() {
    let lab = TestLab::start().await;
    let resp = lab.admin(Method::PATCH, "/api/admin/clock").send().await.unwrap();
    assert_admin_error(resp, 405, "method_not_allowed", "/api/admin/clock does not answer PATCH").await;
}
