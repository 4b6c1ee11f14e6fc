//! RFC 7591 dynamic client registration at the IdP and at the resource authorization server: the
//! defaults, one test per refusal (exact error code, `Cache-Control: no-store`), the metadata
//! documents, and a DCR'd pair of clients running the whole flow once IT connects them.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use xaa_core::urn;

use crate::harness::*;

const ALICE: &str = "alice@acme.example";

/// POSTs `body` as JSON to `{base}/register`.
async fn register_at(lab: &TestLab, base: &str, body: &Value) -> Response {
    lab.http.post(format!("{base}/register")).json(body).send().await.unwrap()
}

/// Asserts a 201 registration (RFC 7591 §3.2.1) and returns the body.
async fn created(resp: Response) -> Value {
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    let body: Value = resp.json().await.unwrap();
    let id = body["client_id"].as_str().unwrap_or_default();
    assert!(id.starts_with("dcr-") && id.len() > 4, "{body}");
    assert!(body["client_secret"].as_str().unwrap_or_default().len() >= 24, "{body}");
    body
}

/// Registers at the IdP; returns the body.
async fn idp_client(lab: &TestLab, body: Value) -> Value {
    created(register_at(lab, lab.idp(), &body).await).await
}

/// Registers at the resource AS; returns the body.
async fn as_client(lab: &TestLab, body: Value) -> Value {
    created(register_at(lab, lab.authz(), &body).await).await
}

/// `body` without the generated members, for exact comparison.
fn metadata(body: &Value) -> Value {
    let mut m = body.as_object().unwrap().clone();
    for k in ["client_id", "client_secret"] {
        m.remove(k);
    }
    Value::Object(m)
}

/// POSTs `body` to `{base}/register` and asserts an RFC 7591 §3.2.2 error; returns the description.
async fn refused_at(lab: &TestLab, base: &str, body: Value, error: &str) -> String {
    assert_oauth_error(register_at(lab, base, &body).await, 400, error).await
}

/// Asserts `d` contains every one of `words`.
fn says(d: &str, words: &[&str]) {
    for w in words {
        assert!(d.contains(w), "{w:?} not in {d:?}");
    }
}

/// The admin API's client ids.
async fn admin_client_ids(lab: &TestLab) -> Vec<String> {
    let body: Value = lab.admin(Method::GET, "/api/admin/clients").send().await.unwrap().json().await.unwrap();
    body["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_idp_registers_a_sign_in_client_with_defaults_and_echoes_its_metadata() {
    let lab = TestLab::start().await;
    let body = idp_client(
        &lab,
        json!({
            "client_name": "  DCR Todo App  ",
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": ["http://localhost:3000/"],
            "logo_uri": "https://app.example/logo.png",
        }),
    )
    .await;
    assert_eq!(
        metadata(&body),
        json!({
            "client_name": "DCR Todo App",
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": ["http://localhost:3000/"],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
            "logo_uri": "https://app.example/logo.png",
            "client_id_issued_at": lab.now(),
            "client_secret_expires_at": 0,
        })
    );
    // Two registrations get two different clients.
    let other = idp_client(&lab, json!({ "redirect_uris": [REDIRECT] })).await;
    assert_ne!(other["client_id"], body["client_id"]);
    assert_ne!(other["client_secret"], body["client_secret"]);
    assert_eq!(other["client_name"], "Unnamed client");

    // The admin API lists both as registered clients, with no connection.
    let listed: Value = lab.admin(Method::GET, "/api/admin/clients").send().await.unwrap().json().await.unwrap();
    let mine = listed["clients"].as_array().unwrap().iter().find(|c| c["client_id"] == body["client_id"]).unwrap();
    assert_eq!(mine["registered"], true);
    assert_eq!(mine["name"], "DCR Todo App");
    assert_eq!(mine["connections"], json!([]));
    assert!(admin_client_ids(&lab).await.contains(&other["client_id"].as_str().unwrap().to_owned()));
}

#[tokio::test]
async fn the_authorization_server_registers_a_jwt_bearer_client_by_default() {
    let lab = TestLab::start().await;
    let body = as_client(&lab, json!({})).await;
    assert_eq!(
        metadata(&body),
        json!({
            "client_name": "Unnamed client",
            "grant_types": [urn::GRANT_JWT_BEARER],
            "response_types": [],
            "token_endpoint_auth_method": "client_secret_basic",
            "client_id_issued_at": lab.now(),
            "client_secret_expires_at": 0,
        })
    );
    // The ID-JAG grant profile with both grants, and client_secret_post, are accepted and echoed.
    let body = as_client(
        &lab,
        json!({
            "client_name": "Profiled",
            "grant_types": [urn::GRANT_TOKEN_EXCHANGE, urn::GRANT_JWT_BEARER],
            "authorization_grant_profiles_supported": [urn::GRANT_PROFILE_ID_JAG],
            "token_endpoint_auth_method": "client_secret_post",
            "scope": "todos.read",
        }),
    )
    .await;
    assert_eq!(body["grant_types"], json!([urn::GRANT_TOKEN_EXCHANGE, urn::GRANT_JWT_BEARER]));
    assert_eq!(body["authorization_grant_profiles_supported"], json!([urn::GRANT_PROFILE_ID_JAG]));
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(body["scope"], "todos.read");
    // An AS client is not an IdP client.
    assert!(!admin_client_ids(&lab).await.contains(&body["client_id"].as_str().unwrap().to_owned()));
}

#[tokio::test]
async fn the_idp_needs_redirect_uris_for_sign_in() {
    let lab = TestLab::start().await;
    let d = refused_at(&lab, lab.idp(), json!({ "client_name": "No redirect" }), "invalid_redirect_uri").await;
    assert_eq!(d, "redirect_uris is required for the authorization_code grant (RFC 7591 Section 2)");
    let d = refused_at(&lab, lab.idp(), json!({ "redirect_uris": [] }), "invalid_redirect_uri").await;
    says(&d, &["redirect_uris is required"]);
    let no_code = json!({ "redirect_uris": [REDIRECT], "grant_types": ["authorization_code"], "response_types": [] });
    // An explicit empty response_types is filled with "code".
    let body = idp_client(&lab, no_code).await;
    assert_eq!(body["response_types"], json!(["code"]));
}

#[tokio::test]
async fn redirect_uris_must_be_absolute_http_without_fragment() {
    let lab = TestLab::start().await;
    let cases = [
        ("http://localhost:3000/cb#frag", "must not contain a fragment (RFC 6749 Section 3.1.2)"),
        ("/auth/callback", "is not an absolute URI"),
        ("javascript:alert(1)", "must use http or https"),
        ("com.example.app:/callback", "must use http or https"),
        ("http:evil.example/cb", "has no authority: write '//' and the host after 'http:' (RFC 3986 Section 3.2)"),
        (
            "http://user:pw@localhost/cb",
            "must not carry userinfo (a user name or password before '@') (RFC 3986 Section 3.2.1)",
        ),
    ];
    for (uri, why) in cases {
        let d = refused_at(&lab, lab.idp(), json!({ "redirect_uris": [REDIRECT, uri] }), "invalid_redirect_uri").await;
        says(&d, &[&format!("redirect URI '{uri}'"), why]);
        let body = json!({ "redirect_uris": [REDIRECT], "post_logout_redirect_uris": [uri] });
        let d = refused_at(&lab, lab.idp(), body, "invalid_redirect_uri").await;
        says(&d, &[&format!("redirect URI '{uri}'"), why]);
    }
    // The AS checks them as well.
    let body = json!({ "redirect_uris": ["http://localhost:3000/cb#frag"] });
    let d = refused_at(&lab, lab.authz(), body, "invalid_redirect_uri").await;
    says(&d, &["must not contain a fragment"]);
}

#[tokio::test]
async fn the_authorization_server_refuses_the_authorization_code_grant() {
    let lab = TestLab::start().await;
    let body = json!({ "redirect_uris": [REDIRECT], "grant_types": ["authorization_code"] });
    let d = refused_at(&lab, lab.authz(), body, "invalid_client_metadata").await;
    assert_eq!(
        d,
        format!(
            "grant type 'authorization_code' is not supported here (supported: {}, {}) (RFC 7591 Section 2)",
            urn::GRANT_JWT_BEARER,
            urn::GRANT_TOKEN_EXCHANGE
        )
    );
    let body = json!({ "grant_types": [urn::GRANT_JWT_BEARER, "client_credentials"] });
    let d = refused_at(&lab, lab.authz(), body, "invalid_client_metadata").await;
    says(&d, &["grant type 'client_credentials' is not supported here"]);
    // The IdP refuses grants it does not know either.
    let body = json!({ "redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "password"] });
    let d = refused_at(&lab, lab.idp(), body, "invalid_client_metadata").await;
    says(&d, &["grant type 'password' is not supported here", "authorization_code"]);
}

#[tokio::test]
async fn public_clients_are_refused_at_both_servers() {
    let lab = TestLab::start().await;
    for (base, extra) in [(lab.idp(), json!([REDIRECT])), (lab.authz(), json!([]))] {
        let body = json!({ "redirect_uris": extra, "token_endpoint_auth_method": "none" });
        let d = refused_at(&lab, base, body, "invalid_client_metadata").await;
        says(&d, &["token_endpoint_auth_method 'none' is not supported", "client_secret_basic or client_secret_post"]);
        let body = json!({ "redirect_uris": extra, "token_endpoint_auth_method": "private_key_jwt" });
        let d = refused_at(&lab, base, body, "invalid_client_metadata").await;
        says(&d, &["token_endpoint_auth_method 'private_key_jwt' is not supported"]);
    }
}

#[tokio::test]
async fn the_id_jag_grant_profile_needs_token_exchange_and_jwt_bearer() {
    let lab = TestLab::start().await;
    let profile = json!([urn::GRANT_PROFILE_ID_JAG]);
    let expected = format!(
        "a client supporting '{}' must list both '{}' and '{}' in grant_types ({} Section 8)",
        urn::GRANT_PROFILE_ID_JAG,
        urn::GRANT_TOKEN_EXCHANGE,
        urn::GRANT_JWT_BEARER,
        urn::DRAFT
    );
    let cases = [
        (lab.authz(), json!({ "authorization_grant_profiles_supported": profile })),
        (
            lab.authz(),
            json!({ "grant_types": [urn::GRANT_JWT_BEARER], "authorization_grant_profiles_supported": profile }),
        ),
        (
            lab.idp(),
            json!({
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", urn::GRANT_TOKEN_EXCHANGE],
                "authorization_grant_profiles_supported": profile,
            }),
        ),
    ];
    for (base, body) in cases {
        let d = refused_at(&lab, base, body, "invalid_client_metadata").await;
        assert_eq!(d, expected);
    }
    // At the IdP, with both grants (and sign-in), it is accepted.
    let body = idp_client(
        &lab,
        json!({
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", urn::GRANT_TOKEN_EXCHANGE, urn::GRANT_JWT_BEARER],
            "authorization_grant_profiles_supported": profile,
        }),
    )
    .await;
    assert_eq!(body["authorization_grant_profiles_supported"], profile);
    // Another profile alone constrains nothing.
    let body = as_client(&lab, json!({ "authorization_grant_profiles_supported": ["urn:example:other"] })).await;
    assert_eq!(body["grant_types"], json!([urn::GRANT_JWT_BEARER]));
}

#[tokio::test]
async fn response_types_must_match_the_grants() {
    let lab = TestLab::start().await;
    let body = json!({ "redirect_uris": [REDIRECT], "response_types": ["token"] });
    let d = refused_at(&lab, lab.idp(), body, "invalid_client_metadata").await;
    assert_eq!(
        d,
        "response_types must be ['code'] with the authorization_code grant and empty without it (RFC 7591 Section 2.1)"
    );
    let d = refused_at(&lab, lab.authz(), json!({ "response_types": ["code"] }), "invalid_client_metadata").await;
    says(&d, &["response_types must be ['code']"]);
}

#[tokio::test]
async fn a_registration_must_be_a_json_object_of_well_typed_metadata() {
    let lab = TestLab::start().await;
    for base in [lab.idp(), lab.authz()] {
        let url = format!("{base}/register");
        let form = lab.http.post(&url).form(&[("redirect_uris", REDIRECT)]).send().await.unwrap();
        assert_eq!(form.status(), StatusCode::BAD_REQUEST);
        assert_eq!(form.headers()["cache-control"], "no-store");
        let body: Value = form.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client_metadata", "{body}");
        says(body["error_description"].as_str().unwrap(), &["application/json", "RFC 7591"]);

        let broken = lab.http.post(&url).header("content-type", "application/json").body("{\"redirect_uris\": [");
        let d = assert_oauth_error(broken.send().await.unwrap(), 400, "invalid_client_metadata").await;
        says(&d, &["the body is not a JSON object", "RFC 7591 Section 3.1"]);

        let d = refused_at(&lab, base, json!([REDIRECT]), "invalid_client_metadata").await;
        assert_eq!(d, "the body must be a JSON object of client metadata (RFC 7591 Section 3.1)");

        let d = refused_at(&lab, base, json!({ "redirect_uris": REDIRECT }), "invalid_client_metadata").await;
        says(&d, &["client metadata has a wrong type", "RFC 7591 Section 2"]);
        let d = refused_at(&lab, base, json!({ "grant_types": "urn:x" }), "invalid_client_metadata").await;
        says(&d, &["client metadata has a wrong type"]);
    }
    // Nothing was registered at the IdP.
    assert_eq!(admin_client_ids(&lab).await.len(), 3);
}

/// Even the content-type refusal keeps to RFC 6749 §5.2's character set (which RFC 7591 §3.2.2 uses).
#[tokio::test]
async fn a_registration_error_description_is_wire_safe_even_for_the_content_type() {
    let lab = TestLab::start().await;
    for base in [lab.idp(), lab.authz()] {
        let resp = lab.http.post(format!("{base}/register")).form(&[("redirect_uris", REDIRECT)]).send().await.unwrap();
        let d = assert_oauth_error(resp, 400, "invalid_client_metadata").await;
        says(&d, &["application/json", "RFC 7591"]);
    }
}

#[tokio::test]
async fn both_metadata_documents_advertise_the_registration_endpoint() {
    let lab = TestLab::start().await;
    let get = |url: String| {
        let http = lab.http.clone();
        async move {
            let resp = http.get(&url).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{url}");
            resp.json::<Value>().await.unwrap()
        }
    };
    let idp = get(format!("{}/.well-known/openid-configuration", lab.idp())).await;
    assert_eq!(idp["registration_endpoint"], format!("{}/register", lab.idp()));
    for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
        let as_meta = get(format!("{}{path}", lab.authz())).await;
        assert_eq!(as_meta["registration_endpoint"], format!("{}/register", lab.authz()), "{path}");
        assert_eq!(as_meta["authorization_grant_profiles_supported"], json!([urn::GRANT_PROFILE_ID_JAG]));
    }
    // The advertised endpoints are the ones that register.
    let url = idp["registration_endpoint"].as_str().unwrap();
    let resp = lab.http.post(url).json(&json!({ "redirect_uris": [REDIRECT] })).send().await.unwrap();
    created(resp).await;
}

#[tokio::test]
async fn dcr_clients_need_an_it_connection_then_run_the_whole_flow() {
    let lab = TestLab::start().await;
    let idp = idp_client(
        &lab,
        json!({
            "client_name": "DCR Requestor",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", urn::GRANT_TOKEN_EXCHANGE],
        }),
    )
    .await;
    let at_as = as_client(
        &lab,
        json!({
            "client_name": "DCR Requestor at Todo0",
            "grant_types": [urn::GRANT_TOKEN_EXCHANGE, urn::GRANT_JWT_BEARER],
            "authorization_grant_profiles_supported": [urn::GRANT_PROFILE_ID_JAG],
        }),
    )
    .await;
    let client_id = idp["client_id"].as_str().unwrap().to_owned();
    let secret = idp["client_secret"].as_str().unwrap().to_owned();
    let resource_client_id = at_as["client_id"].as_str().unwrap().to_owned();
    let resource_secret = at_as["client_secret"].as_str().unwrap().to_owned();

    // It signs users in through the real pages right away (each user allows it once: it registered itself).
    let login = lab.login_as(&client_id, &secret, REDIRECT, ALICE).await;
    assert_eq!(decode(&login.id_token).1["aud"], client_id.as_str());

    // Its token exchange is invalid_target: IT has not connected it to anything.
    let params = with(
        &with(&lab.exchange_params(&login.id_token), "client_id", Some(&client_id)),
        "client_secret",
        Some(&secret),
    );
    let d = assert_oauth_error(lab.idp_token(&params).await, 400, "invalid_target").await;
    says(&d, &[&format!("the administrator has not connected client '{client_id}' to resource '{}'", lab.api())]);
    let d = assert_oauth_error(lab.idp_token(&with(&params, "resource", None)).await, 400, "invalid_target").await;
    says(&d, &[&format!("has not connected client '{client_id}' to the authorization server '{}'", lab.authz())]);

    // IT must say which client id it has at the AS.
    let grant = json!({ "client_id": client_id, "scopes": ["todos.read", "todos.write"] });
    let resp = lab.admin(Method::PUT, "/api/admin/connections").json(&grant).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    says(body["error_description"].as_str().unwrap(), &["resource_client_id"]);
    assert_oauth_error(lab.idp_token(&params).await, 400, "invalid_target").await;

    // Granted with the AS client id it registered there.
    let grant = json!({
        "client_id": client_id, "scopes": ["todos.read", "todos.write"], "resource_client_id": resource_client_id,
    });
    let resp = lab.admin(Method::PUT, "/api/admin/connections").json(&grant).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let connection: Value = resp.json().await.unwrap();
    assert_eq!(
        connection,
        json!({
            "tenant": "customer1", "client_id": client_id, "authorization_server": lab.authz(), "resource": lab.api(),
            "scopes": ["todos.read", "todos.write"], "resource_client_id": resource_client_id, "users": [],
        })
    );

    // The whole flow with the two DCR'd clients.
    let resp = lab.idp_token(&params).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let exchanged: Value = resp.json().await.unwrap();
    assert_eq!(exchanged["issued_token_type"], urn::TOKEN_TYPE_ID_JAG);
    assert_eq!(exchanged["token_type"], "N_A");
    let jag = exchanged["access_token"].as_str().unwrap().to_owned();
    assert_eq!(decode(&jag).1["client_id"], resource_client_id.as_str());

    // Only the AS client it names can redeem it; the IdP credentials are no AS credentials.
    let d = assert_oauth_error(lab.as_token(&lab.bearer_params(&jag)).await, 400, "invalid_grant").await;
    says(&d, &[&resource_client_id]);
    let idp_creds =
        with(&with(&lab.bearer_params(&jag), "client_id", Some(&client_id)), "client_secret", Some(&secret));
    let d = assert_oauth_error(lab.as_token(&idp_creds).await, 401, "invalid_client").await;
    says(&d, &[&format!("unknown client '{client_id}'")]);

    // client_secret_basic, as registered.
    let bearer = with(&with(&lab.bearer_params(&jag), "client_id", None), "client_secret", None);
    let resp = lab
        .http
        .post(format!("{}/token", lab.authz()))
        .basic_auth(&resource_client_id, Some(&resource_secret))
        .form(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let token: Value = resp.json().await.unwrap();
    let access_token = token["access_token"].as_str().unwrap();
    assert_eq!(token["scope"], "todos.read todos.write");
    let claims = decode(access_token).1;
    assert_eq!(claims["client_id"], resource_client_id.as_str());
    assert_eq!(claims["aud"], lab.api());

    let created = lab.create_todo(access_token, "written by a DCR'd client").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let list = lab.todo_json("/api/todos", access_token).await;
    assert_eq!(list["success"], true, "{list}");
    assert!(list.to_string().contains("written by a DCR'd client"), "{list}");

    // Deleting the IdP client leaves the AS client it was connected to: that was registered on its own.
    let resp = lab.admin(reqwest::Method::DELETE, &format!("/api/admin/clients/{client_id}")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let fresh = lab.0.sign_in("my-requestor", "alice@acme.example").await.unwrap();
    let jag = lab.id_jag(&fresh.id_token).await;
    let still = with(
        &with(&lab.bearer_params(&jag), "client_id", Some(&resource_client_id)),
        "client_secret",
        Some(&resource_secret),
    );
    // It still authenticates (not invalid_client); the ID-JAG is simply not for it.
    let d = assert_oauth_error(lab.as_token(&still).await, 400, "invalid_grant").await;
    says(&d, &["client_id"]);
}

/// A client uses only the grant types it registered (RFC 7591 §2): another is `unauthorized_client`.
#[tokio::test]
async fn registered_grant_types_are_enforced_at_both_token_endpoints() {
    let lab = TestLab::start().await;
    // Sign-in only (the default): its token exchange is refused before any policy check.
    let idp = idp_client(&lab, json!({ "client_name": "Sign-in only", "redirect_uris": [REDIRECT] })).await;
    let client_id = idp["client_id"].as_str().unwrap().to_owned();
    let secret = idp["client_secret"].as_str().unwrap().to_owned();
    let login = lab.login_as(&client_id, &secret, REDIRECT, ALICE).await;
    let params = with(
        &with(&lab.exchange_params(&login.id_token), "client_id", Some(&client_id)),
        "client_secret",
        Some(&secret),
    );
    let d = assert_oauth_error(lab.idp_token(&params).await, 400, "unauthorized_client").await;
    assert_eq!(
        d,
        format!(
            "client '{client_id}' registered the grant types authorization_code and may not use '{}' (RFC 6749 Section 5.2, RFC 7591 Section 2)",
            urn::GRANT_TOKEN_EXCHANGE
        )
    );

    // An AS client registered for token exchange only may not use jwt-bearer.
    let at_as = as_client(&lab, json!({ "grant_types": [urn::GRANT_TOKEN_EXCHANGE] })).await;
    let id = at_as["client_id"].as_str().unwrap();
    let jag = lab.id_jag(&lab.login(ALICE).await.id_token).await;
    let bearer =
        with(&with(&lab.bearer_params(&jag), "client_id", Some(id)), "client_secret", at_as["client_secret"].as_str());
    let d = assert_oauth_error(lab.as_token(&bearer).await, 400, "unauthorized_client").await;
    says(&d, &[id, urn::GRANT_JWT_BEARER]);
}
