//! The whole XAA flow over real HTTP, in HTTP and in TLS mode: login pages with a cookie jar,
//! code + PKCE, token exchange, jwt-bearer, and todo CRUD.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use xaa_core::urn;

use crate::harness::*;

async fn walk_the_flow(lab: &TestLab) {
    // 1. SSO at the IdP: real login pages, code + PKCE, no state and no nonce (as the tutorial app).
    let login = lab.login("alice@acme.example").await;
    let (header, id_token) = decode(&login.id_token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], "idp-2026-01");
    assert_eq!(id_token["iss"], lab.idp());
    assert_eq!(id_token["aud"], CLIENT);
    assert_eq!(id_token["sub"], "alice@acme.example");
    assert_eq!(id_token["email"], "alice@acme.example");
    assert_eq!(id_token["email_verified"], true);
    assert_eq!(id_token["name"], "Alice Adams");
    assert!(id_token.get("nonce").is_none(), "no nonce claim when none was requested");
    for claim in ["exp", "iat", "auth_time"] {
        assert!(id_token[claim].is_i64(), "{claim}");
    }

    // 2. Token exchange: ID token -> ID-JAG.
    let resp = lab.idp_token(&lab.exchange_params(&login.id_token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["issued_token_type"], urn::TOKEN_TYPE_ID_JAG);
    assert_eq!(body["token_type"], "N_A");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "todos.read todos.write");
    assert!(body.get("refresh_token").is_none());
    let id_jag = body["access_token"].as_str().unwrap();
    let (header, claims) = decode(id_jag);
    assert_eq!(header["typ"], "oauth-id-jag+jwt");
    assert_eq!(header["kid"], "idp-2026-01");
    assert_eq!(claims["iss"], lab.idp());
    assert_eq!(claims["sub"], "alice@acme.example");
    assert_eq!(claims["aud"], lab.authz());
    assert_eq!(claims["client_id"], RESOURCE_CLIENT);
    assert_eq!(claims["resource"], lab.api());
    assert_eq!(claims["scope"], "todos.read todos.write");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    assert!(claims["jti"].as_str().unwrap().len() >= 16);

    // 3. jwt-bearer: ID-JAG -> access token.
    let resp = lab.as_token(&lab.bearer_params(id_jag)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["scope"], "todos.read todos.write");
    assert!(body.get("refresh_token").is_none());
    let access_token = body["access_token"].as_str().unwrap().to_owned();
    let (header, claims) = decode(&access_token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], "resource-as-2026-01");
    assert_eq!(claims["iss"], lab.authz());
    assert_eq!(claims["aud"], lab.api());
    assert_eq!(claims["sub"], "customer1:alice@acme.example", "{{tenant}}:{{user}}, as xaa.dev's AS");
    assert_eq!(claims["app_org"], "customer1");
    assert_eq!(claims["client_id"], RESOURCE_CLIENT);
    assert_eq!(claims["scope"], "todos.read todos.write");
    assert!(claims["jti"].is_string());

    // 4. The todo API: list (seeded), create, read, update, delete.
    let list = lab.todo_json("/api/todos", &access_token).await;
    assert_eq!(list["success"], true);
    assert_eq!(list["count"], 4, "a new user starts with the four seed todos");
    assert_eq!(list["user"]["sub"], "customer1:alice@acme.example");
    assert_eq!(list["data"][0]["title"], "Read the ID-JAG draft, section 4");
    assert_eq!(list["data"][0]["completed"], true);

    let created = lab.create_todo(&access_token, "Ship the XAA lab").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let id = created["data"]["id"].as_i64().unwrap();
    let path = format!("/api/todos/{id}");
    assert_eq!(created["data"], json!({ "id": id, "title": "Ship the XAA lab", "completed": false }));

    let done = lab.todo(Method::PATCH, &path, &access_token).json(&json!({ "completed": true })).send().await.unwrap();
    assert_eq!(done.json::<Value>().await.unwrap()["data"]["completed"], true);
    let one = lab.todo_json(&path, &access_token).await;
    assert_eq!(one["data"], json!({ "id": id, "title": "Ship the XAA lab", "completed": true }));
    let stats = lab.todo_json("/api/todos/stats", &access_token).await;
    assert_eq!(stats["data"], json!({ "total": 5, "completed": 2, "incomplete": 3 }));

    let deleted = lab.todo(Method::DELETE, &path, &access_token).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let gone = lab.todo(Method::GET, &path, &access_token).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn whole_flow_over_http() {
    let lab = TestLab::start().await;
    assert!(lab.idp().starts_with("http://localhost:"));
    walk_the_flow(&lab).await;
}

#[tokio::test]
async fn whole_flow_over_tls() {
    let lab = TestLab::start_tls().await;
    assert!(lab.idp().starts_with("https://localhost:"));
    assert!(lab.lab.ca_cert().unwrap().exists(), "the CA is written for NODE_EXTRA_CA_CERTS");
    walk_the_flow(&lab).await;
}

#[tokio::test]
async fn todos_are_per_user() {
    let lab = TestLab::start().await;
    let alice = lab.full_chain("alice@acme.example").await;
    let bob = lab.full_chain("bob@acme.example").await;
    let created: Value = lab.create_todo(&alice, "Alice's secret plan").await.json().await.unwrap();
    let id = created["data"]["id"].as_i64().unwrap();
    let bob_sees = lab.todo(Method::GET, &format!("/api/todos/{id}"), &bob).send().await.unwrap();
    assert_eq!(bob_sees.status(), StatusCode::NOT_FOUND);
    let bob_list = lab.todo_json("/api/todos", &bob).await;
    assert_eq!(bob_list["count"], 4);
    assert_eq!(bob_list["user"]["sub"], "customer1:bob@acme.example");
}

#[tokio::test]
async fn discovery_documents_and_jwks() {
    let lab = TestLab::start().await;
    let get = |url: String| {
        let http = lab.http.clone();
        async move { http.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let idp = get(format!("{}/.well-known/openid-configuration", lab.idp())).await;
    assert_eq!(idp["issuer"], lab.idp());
    assert_eq!(idp["token_endpoint"], format!("{}/token", lab.idp()));
    assert_eq!(idp["end_session_endpoint"], format!("{}/session/end", lab.idp()));
    assert_eq!(idp["identity_chaining_requested_token_types_supported"], json!([urn::TOKEN_TYPE_ID_JAG]));
    assert_eq!(idp["grant_types_supported"], json!(["authorization_code", "refresh_token", urn::GRANT_TOKEN_EXCHANGE]));
    assert_eq!(idp["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(idp["token_endpoint_auth_methods_supported"], json!(["client_secret_basic", "client_secret_post"]));
    assert_eq!(idp["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(idp["subject_types_supported"], json!(["public"]));
    assert_eq!(idp["response_types_supported"], json!(["code"]));

    for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
        let meta = get(format!("{}{path}", lab.authz())).await;
        assert_eq!(meta["issuer"], lab.authz());
        assert_eq!(meta["grant_types_supported"], json!([urn::GRANT_JWT_BEARER]));
        assert_eq!(meta["authorization_grant_profiles_supported"], json!([urn::GRANT_PROFILE_ID_JAG]));
        assert_eq!(meta["jwks_uri"], format!("{}/jwks", lab.authz()));
        assert_eq!(meta["dpop_signing_alg_values_supported"], json!(["ES256", "PS256", "RS256", "EdDSA"]));
    }

    let prm = get(format!("{}/.well-known/oauth-protected-resource", lab.api())).await;
    assert_eq!(prm["resource"], lab.api());
    assert_eq!(prm["authorization_servers"], json!([lab.authz()]));
    assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    assert_eq!(prm["dpop_signing_alg_values_supported"], json!(["ES256", "PS256", "RS256", "EdDSA"]));

    let jwks = get(format!("{}/jwks", lab.idp())).await;
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kid"].as_str(), key["kty"].as_str(), key["use"].as_str(), key["alg"].as_str()),
        (Some("idp-2026-01"), Some("RSA"), Some("sig"), Some("RS256"))
    );
    assert!(key.get("d").is_none() && key.get("p").is_none(), "public parts only");
}

#[tokio::test]
async fn todos_survive_a_restart_with_a_data_dir() {
    let dir = std::env::temp_dir().join(format!("xaa-e2e-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let lab = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    let token = lab.full_chain("alice@acme.example").await;
    assert_eq!(lab.create_todo(&token, "Remember me").await.status(), StatusCode::CREATED);
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;
    assert!(dir.join("idp.sqlite").exists() && dir.join("resource.sqlite").exists());

    let again = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    let token = again.full_chain("alice@acme.example").await;
    let list = again.todo_json("/api/todos", &token).await;
    assert_eq!(list["count"], 5);
    assert_eq!(list["data"][4]["title"], "Remember me");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_notes_app_works_over_tls() {
    let lab = TestLab::start_tls().await;
    assert!(lab.notes().starts_with("https://localhost:"));
    let browser = lab.notes_login("alice@acme.example").await;
    let (status, html) = lab.notes_page(&browser, "/notes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("alice@acme.example"));
    assert_eq!(
        html.matches("class=\"todo-title\"").count(),
        4,
        "the four seed todos, through both exchanges over HTTPS"
    );
}

#[tokio::test]
async fn the_test_lab_builder_shapes_users_connections_and_time() {
    use xaa_lab::testing::{TestLab as Lab, TestLabError};
    let lab = Lab::builder()
        .clock_at(2_000_000_000)
        .user("zoe@example.org", "Zoe Zed")
        .fixtures(|f| f.connections.retain(|c| c.client_id != CLIENT))
        .start()
        .await
        .unwrap();
    assert_eq!(lab.now(), 2_000_000_000);
    let signed_in = lab.sign_in(CLIENT, "zoe@example.org").await.unwrap();
    let (_, claims) = decode(&signed_in.id_token);
    assert_eq!((claims["name"].as_str(), claims["iat"].as_i64()), (Some("Zoe Zed"), Some(2_000_000_000)));
    match lab.exchange(CLIENT, &signed_in.id_token, "todos.read").await {
        Err(TestLabError::Refused { step: "token exchange", status: 400, body }) => {
            assert!(body.contains("invalid_target"), "{body}")
        }
        other => panic!("the connection was removed, so the exchange is refused: {other:?}"),
    }
    // The notes client still has its connection: the whole chain through the library helpers.
    let notes = lab.sign_in(NOTES_CLIENT, "zoe@example.org").await.unwrap();
    let jag = lab.exchange(NOTES_CLIENT, &notes.id_token, "todos.read").await.unwrap();
    let at = lab.jwt_bearer(NOTES_CLIENT, &jag).await.unwrap();
    assert_eq!(lab.todos(&at).await.unwrap()["count"], 4);
    lab.clock.advance(7200 + 61);
    assert!(matches!(lab.todos(&at).await, Err(TestLabError::Refused { status: 401, .. })));

    // A short-lifetime profile: every token lives 30 s.
    let short = Lab::builder().lifetimes(xaa_lab::LabLifetimes::short(30)).start().await.unwrap();
    let s = short.sign_in(CLIENT, "zoe@example.org").await.unwrap();
    let jag = short.exchange(CLIENT, &s.id_token, "todos.read").await.unwrap();
    let (_, c) = decode(&jag);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 30);
    let at = short.jwt_bearer(CLIENT, &jag).await.unwrap();
    assert_eq!(decode(&at).1["exp"].as_i64().unwrap() - decode(&at).1["iat"].as_i64().unwrap(), 30);
}

/// Runs sign-in, exchange and jwt-bearer in a deterministic lab on `ports` (or ephemeral ones);
/// returns the lab's ports and the three tokens.
async fn deterministic_run(ports: Option<xaa_lab::Ports>) -> (xaa_lab::Ports, [String; 3]) {
    let mut builder = xaa_lab::testing::TestLab::builder().deterministic(42);
    if let Some(p) = ports {
        builder = builder.configure(move |c| c.ports = p);
    }
    let lab = builder.start().await.unwrap();
    let port = |u: &str| u.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let urls = lab.lab.urls();
    let ports = xaa_lab::Ports {
        console: port(&urls.console),
        idp: port(&urls.idp),
        authorization_server: port(&urls.authorization_server),
        todo_api: port(&urls.todo_api),
        notes: port(&urls.notes),
    };
    assert_eq!(lab.now(), xaa_lab::DETERMINISTIC_EPOCH);
    let s = lab.sign_in(CLIENT, "alice@acme.example").await.unwrap();
    let jag = lab.exchange(CLIENT, &s.id_token, "todos.read").await.unwrap();
    let at = lab.jwt_bearer(CLIENT, &jag).await.unwrap();
    lab.lab.shutdown(std::time::Duration::from_secs(1)).await;
    (ports, [s.id_token, jag, at])
}

#[tokio::test]
async fn deterministic_mode_issues_byte_identical_tokens() {
    let (ports, first) = deterministic_run(None).await;
    let (_, second) = deterministic_run(Some(ports)).await;
    assert_eq!(first, second, "same seed, clock and ports: the same bytes");
    let (_, claims) = decode(&first[1]);
    assert_eq!(claims["iat"], xaa_lab::DETERMINISTIC_EPOCH);
    assert_eq!(claims["jti"], decode(&second[1]).1["jti"]);
}
