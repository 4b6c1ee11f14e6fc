//! Bring your own resource, over HTTP as a browser would: the console's "Test your resource app"
//! wizard (`/resources`) and the flow explorer against the developer's own resource server (from
//! [`crate::byor_server`]), with the lab's authorization server and with their own.

use reqwest::StatusCode;
use serde_json::Value;

use crate::byor_server::{Metadata, MiddlewareConfig, OwnAs, ResourceServer};
use crate::harness::*;

/// The page's text with askama's HTML escapes undone.
pub fn unescape(html: &str) -> String {
    let named = html.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    named.replace("&#34;", "\"").replace("&#39;", "'").replace("&#60;", "<").replace("&#62;", ">").replace("&#38;", "&")
}

/// The text of the element with `id` up to the next tag.
pub fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    unescape(html[start..].split('<').next().unwrap())
}

/// The element with `id` and everything after it up to `</ol>` (a list of checks or hints).
pub fn list_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id}"));
    unescape(html[start..].split("</ol>").next().unwrap())
}

/// Posts the wizard with `fields` (plus the CSRF token and, unless given, the join code).
pub async fn register(lab: &TestLab, browser: &reqwest::Client, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let page = browser.get(format!("{}/resources", lab.console())).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    if !fields.iter().any(|(k, _)| *k == "join_code") {
        form.push(("join_code", lab.lab.join_code()));
    }
    form.extend_from_slice(fields);
    let resp = browser.post(format!("{}/resources", lab.console())).form(&form).send().await.unwrap();
    // A registration answers 303 to the app's page (post/redirect/get).
    let resp = see_other(browser, lab.console(), resp).await;
    (resp.status(), resp.text().await.unwrap())
}

/// The app id in a registration page.
pub fn app_id(page: &str) -> String {
    let start = page.find("href=\"/explorer/resources/").expect("a link to the explorer") + 26;
    page[start..].split('"').next().unwrap().to_owned()
}

/// Steps 1 to 3 of the explorer for app `id`, as `email`; returns the CSRF token.
pub async fn sign_in_and_get_a_token(lab: &TestLab, browser: &reqwest::Client, id: &str, email: &str) -> String {
    let base = format!("{}/explorer/resources/{id}", lab.console());
    let page = browser.get(&base).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let start =
        browser.post(format!("{base}/start")).form(&[("csrf", csrf.as_str()), ("email", email)]).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start);
    assert!(authorize.contains(&format!("client_id={id}-tester")), "{authorize}");
    let callback = login_via_pages(lab.idp(), browser, &authorize, email).await;
    assert!(callback.starts_with(&format!("{base}/callback?")), "{callback}");
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    for n in [2, 3] {
        let resp = browser.post(format!("{base}/step/{n}")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(location(&resp), format!("/explorer/resources/{id}#step-{n}"));
    }
    csrf
}

/// Step 4 with `endpoint`; returns the explorer page.
pub async fn call_endpoint(lab: &TestLab, browser: &reqwest::Client, id: &str, csrf: &str, endpoint: &str) -> String {
    let base = format!("{}/explorer/resources/{id}", lab.console());
    let resp =
        browser.post(format!("{base}/step/4")).form(&[("csrf", csrf), ("endpoint", endpoint)]).send().await.unwrap();
    assert_eq!(location(&resp), format!("/explorer/resources/{id}#step-4"));
    browser.get(&base).send().await.unwrap().text().await.unwrap()
}

fn items_api<'a>(name: &'a str, base_url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("base_url", base_url),
        ("health_path", "/health"),
        ("authorization_server", "lab"),
        ("scopes", "items.read"),
        ("endpoints", "GET /api/items\nPOST /api/items"),
    ]
}

#[tokio::test]
async fn lab_as_mode_runs_the_four_steps_against_your_resource() {
    let lab = TestLab::start().await;
    let authz = lab.authz().to_owned();
    let rs = ResourceServer::start(lab.clock.clone(), |url| MiddlewareConfig {
        issuer: authz.clone(),
        audience: format!("{url}/"),
        demand_typ_jwt: false,
    })
    .await;
    let browser = lab.browser();
    let base_url = format!("{}/", rs.url);
    let resp = {
        let page = browser.get(format!("{}/resources", lab.console())).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        register(&lab, &browser, &items_api("Items API", &base_url)).await
    };
    let (status, page) = resp;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"registered\""));
    assert_eq!(text_of(&page, "base-url"), base_url, "kept exactly as entered");
    assert_eq!(text_of(&page, "health"), format!("GET {}/health: 200 OK", rs.url));
    assert_eq!(text_of(&page, "token-endpoint"), format!("{authz}/token"));
    assert_eq!(text_of(&page, "token-endpoint-source"), "the lab's authorization server");
    let id = app_id(&page);
    assert_eq!(text_of(&page, "client-id"), format!("{id}-tester"));
    let secret = text_of(&page, "client-secret");
    let as_client = text_of(&page, "as-client-id");
    assert!(secret.len() >= 24 && as_client.starts_with(&format!("{id}-tester-at-")), "{as_client}");
    // Its clients and IT's connection exist; the lab AS governs the resource with its scopes.
    assert!(lab.lab.idp_client(&format!("{id}-tester")).is_some());
    assert!(lab.lab.resource_client(&as_client).is_some());
    let conn = lab.lab.connections().into_iter().find(|c| c.client_id == format!("{id}-tester")).unwrap();
    assert_eq!((conn.authorization_server.as_str(), conn.resource.as_str()), (authz.as_str(), base_url.as_str()));
    assert!(lab.lab.protected_resources().iter().any(|r| r.resource == base_url && r.scopes == ["items.read"]));
    // The page is linked from the console's home and listed on the wizard.
    let home = browser.get(lab.console()).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/resources\""));
    let list = browser.get(format!("{}/resources", lab.console())).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("<a href=\"/resources/{id}\">Items API</a>")));

    let csrf = sign_in_and_get_a_token(&lab, &browser, &id, "alice@acme.example").await;
    let page = call_endpoint(&lab, &browser, &id, &csrf, "GET /api/items").await;
    for n in 1..=4 {
        assert!(page.contains(&format!("id=\"status-{n}\">200 OK")), "step {n}: {}", unescape(&page));
    }
    let step2 = unescape(&page);
    assert!(step2.contains(&format!("audience={authz}\n&resource={base_url}\n&scope=items.read")), "{step2}");
    let response = text_of(&page, "response-4");
    assert!(response.contains("\"first\""));
    let seen = rs.accepted.lock().unwrap().clone().expect("the resource accepted a token");
    assert_eq!(seen["aud"], Value::from(base_url.clone()), "aud = the resource URL, trailing slash kept");
    assert_eq!((seen["iss"].as_str(), seen["scope"].as_str()), (Some(authz.as_str()), Some("items.read")));

    // The endpoint picker: another endpoint, no new sign-in; the scope it lacks is named.
    let page = call_endpoint(&lab, &browser, &id, &csrf, "POST /api/items").await;
    assert!(page.contains("id=\"status-4\">403 insufficient_scope"), "{}", unescape(&page));
    assert!(
        text_of(&page, "response-4").contains("www-authenticate: Bearer realm=\"byor\", error=\"insufficient_scope\"")
    );
    let hints = list_of(&page, "hints");
    assert!(hints.contains("<strong>scope</strong>: Missing scope: the endpoint asks for \"items.write\" and the token carries \"items.read\""), "{hints}");
    assert!(page.contains("<option selected>POST /api/items</option>"));
    let page = call_endpoint(&lab, &browser, &id, &csrf, "GET /api/items").await;
    assert!(page.contains("id=\"status-4\">200 OK") && !page.contains("id=\"hints\""));
}

#[tokio::test]
async fn each_failure_hint_names_what_the_middleware_got_wrong() {
    let lab = TestLab::start().await;
    let authz = lab.authz().to_owned();
    let rs = ResourceServer::start(lab.clock.clone(), |url| MiddlewareConfig {
        issuer: authz.clone(),
        audience: format!("{url}/"),
        demand_typ_jwt: false,
    })
    .await;
    let browser = lab.browser();
    let (status, page) = register(&lab, &browser, &items_api("Hints API", &rs.url)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let id = app_id(&page);
    let csrf = sign_in_and_get_a_token(&lab, &browser, &id, "bob@acme.example").await;
    let call = || call_endpoint(&lab, &browser, &id, &csrf, "GET /api/items");

    // Registered without a trailing slash; the middleware expects one.
    let page = call().await;
    assert!(page.contains("id=\"status-4\">401 invalid_token"));
    let hints = list_of(&page, "hints");
    assert!(hints.contains(&format!(
        "<strong>aud</strong>: Audience mismatch by a trailing slash: the token's aud is \"{0}\", your resource URL exactly as registered, and your middleware expects \"{0}/\".",
        rs.url
    )), "{hints}");

    rs.set(|c| {
        c.audience = rs.url.clone();
        c.demand_typ_jwt = true;
    });
    let hints = list_of(&call().await, "hints");
    assert!(hints.contains("<strong>typ</strong>: The token's header typ is \"at+jwt\": access tokens are typed at+jwt (RFC 9068 §2.1)."), "{hints}");

    rs.set(|c| {
        c.demand_typ_jwt = false;
        c.issuer = "https://issuer.elsewhere.example".into();
    });
    let hints = list_of(&call().await, "hints");
    assert!(
        hints.contains(&format!(
            "<strong>iss</strong>: Wrong issuer or keys: the token was issued by \"{authz}\" and signed with key \""
        )),
        "{hints}"
    );
    assert!(hints.contains(&format!("from the JWKS at {authz}/jwks.")), "{hints}");

    rs.set(|c| c.issuer = authz.clone());
    assert!(call().await.contains("id=\"status-4\">200 OK"));

    // Two hours on (the lab AS's access tokens live 7200 s): expired, on the lab clock.
    lab.clock.advance(7300);
    let hints = list_of(&call().await, "hints");
    assert!(hints.contains("<strong>exp</strong>: The token expired at "), "{hints}");
    assert!(hints.contains("run step 3 again for a fresh one"), "{hints}");
}

#[tokio::test]
async fn own_as_mode_sends_the_id_jag_to_your_authorization_server() {
    let lab = TestLab::start().await;
    let own = OwnAs::start(lab.clock.clone(), lab.idp(), "byor-target-client", Metadata::Rfc8414).await;
    let issuer = own.issuer.clone();
    let rs = ResourceServer::start(lab.clock.clone(), |url| MiddlewareConfig {
        issuer: issuer.clone(),
        audience: url.to_owned(),
        demand_typ_jwt: false,
    })
    .await;
    let browser = lab.browser();
    let mut fields = items_api("Own AS API", &rs.url);
    fields.extend([
        ("authorization_server", "own"),
        ("issuer", issuer.as_str()),
        ("target_client_id", "byor-target-client"),
    ]);
    fields.retain(|(k, v)| !(*k == "authorization_server" && *v == "lab"));
    let (status, page) = register(&lab, &browser, &fields).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let origin = issuer.trim_end_matches("/as");
    assert_eq!(text_of(&page, "token-endpoint"), format!("{issuer}/token"));
    assert_eq!(
        text_of(&page, "token-endpoint-source"),
        format!("RFC 8414 authorization server metadata ({origin}/.well-known/oauth-authorization-server/as)")
    );
    assert_eq!(text_of(&page, "jwks-uri"), format!("{issuer}/jwks"));
    assert_eq!(text_of(&page, "as-client-id"), "byor-target-client");
    assert!(!page.contains("id=\"as-client-secret\""), "no lab AS client in own-AS mode");
    let id = app_id(&page);

    let csrf = sign_in_and_get_a_token(&lab, &browser, &id, "carol@acme.example").await;
    let page = call_endpoint(&lab, &browser, &id, &csrf, "GET /api/items").await;
    for n in 1..=4 {
        assert!(page.contains(&format!("id=\"status-{n}\">200 OK")), "step {n}: {}", unescape(&page));
    }
    let jag = own.id_jags.lock().unwrap()[0].clone();
    assert_eq!(jag["aud"], Value::from(issuer.clone()), "aud = your issuer");
    assert_eq!(jag["client_id"], "byor-target-client");
    assert_eq!(jag["iss"], Value::from(lab.idp()));
    assert_eq!(jag["resource"], Value::from(rs.url.clone()));
    let seen = rs.accepted.lock().unwrap().clone().unwrap();
    assert_eq!((seen["iss"].clone(), seen["aud"].clone()), (Value::from(issuer), Value::from(rs.url.clone())));
    assert!(text_of(&page, "request-3").starts_with("POST /as/token HTTP/1.1"));
}

#[tokio::test]
async fn discovery_falls_back_to_openid_connect_then_to_the_token_path() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    for (name, metadata) in [("OIDC AS", Metadata::OidcOnly), ("Bare AS", Metadata::None)] {
        let own = OwnAs::start(lab.clock.clone(), lab.idp(), "target", metadata).await;
        let issuer = own.issuer.clone();
        let rs = ResourceServer::start(lab.clock.clone(), |url| MiddlewareConfig {
            issuer: issuer.clone(),
            audience: url.to_owned(),
            demand_typ_jwt: false,
        })
        .await;
        let fields = [
            ("name", name),
            ("base_url", rs.url.as_str()),
            ("authorization_server", "own"),
            ("issuer", issuer.as_str()),
            ("target_client_id", "target"),
            ("scopes", "items.read"),
            ("endpoints", "GET /api/items"),
        ];
        let (status, page) = register(&lab, &browser, &fields).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let origin = issuer.trim_end_matches("/as");
        let discovery = list_of(&page, "discovery");
        assert!(
            discovery.contains(&format!("{origin}/.well-known/oauth-authorization-server/as: 404 Not Found")),
            "{discovery}"
        );
        let source = text_of(&page, "token-endpoint-source");
        match metadata {
            Metadata::OidcOnly => {
                assert_eq!(source, format!("OpenID Connect discovery ({issuer}/.well-known/openid-configuration)"))
            }
            _ => {
                assert_eq!(source, format!("fallback: no metadata found, so {{issuer}}/token ({issuer}/token)"));
                assert!(discovery.contains(&format!("{issuer}/.well-known/openid-configuration: 404 Not Found")));
            }
        }
        assert_eq!(text_of(&page, "token-endpoint"), format!("{issuer}/token"));
        let id = app_id(&page);
        let csrf = sign_in_and_get_a_token(&lab, &browser, &id, "dave@acme.example").await;
        let page = call_endpoint(&lab, &browser, &id, &csrf, "GET /api/items").await;
        assert!(page.contains("id=\"status-3\">200 OK") && page.contains("id=\"status-4\">200 OK"), "{name}");
    }
}

/// A resource that is an MCP server: its URL and resource URIs are stored and shown, and step 4
/// can list its resources (`initialize`, `notifications/initialized`, `resources/list`).
#[tokio::test]
async fn an_mcp_resource_lists_its_resources_in_step_4() {
    let lab = TestLab::start().await;
    let authz = lab.authz().to_owned();
    let rs = ResourceServer::start(lab.clock.clone(), |url| MiddlewareConfig {
        issuer: authz,
        audience: url.to_owned(),
        demand_typ_jwt: false,
    })
    .await;
    let browser = lab.browser();
    let mcp_url = format!("{}/mcp", rs.url);
    let mut fields = items_api("MCP API", &rs.url);
    fields.extend([("mcp", "yes"), ("mcp_url", mcp_url.as_str()), ("mcp_resources", "items://first")]);
    let (status, page) = register(&lab, &browser, &fields).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(text_of(&page, "mcp-url"), mcp_url);
    let id = app_id(&page);
    let csrf = sign_in_and_get_a_token(&lab, &browser, &id, "grace@acme.example").await;
    let page = call_endpoint(&lab, &browser, &id, &csrf, "MCP resources/list").await;
    assert!(page.contains("id=\"status-4\">200 OK"), "{}", unescape(&page));
    let request = text_of(&page, "request-4");
    assert!(
        request.contains("\"method\": \"initialize\"") && request.contains("mcp-session-id: session-1"),
        "{request}"
    );
    let response = text_of(&page, "response-4");
    assert!(response.contains("data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"resources\":[{\"uri\":\"items://first\",\"name\":\"first\"}]}}"), "{response}");
    assert!(page.contains("<option selected>MCP resources/list</option>"));
}
