//! The "Test your resource app" wizard's refusals, the health check, deletion and persistence:
//! each refusal is the wizard again with the exact message and status, and creates nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;

use crate::byor::{app_id, call_endpoint, register, sign_in_and_get_a_token, text_of, unescape};
use crate::byor_server::{MiddlewareConfig, ResourceServer, unreachable_url};
use crate::harness::*;

/// The wizard's alert message.
fn message(page: &str) -> String {
    text_of(page, "message")
}

fn fields<'a>(name: &'a str, base_url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("name", name), ("base_url", base_url), ("scopes", "items.read"), ("endpoints", "GET /api/items")]
}

async fn resource_server(lab: &TestLab) -> ResourceServer {
    let authz = lab.authz().to_owned();
    ResourceServer::start(lab.clock.clone(), |url| MiddlewareConfig {
        issuer: authz,
        audience: url.to_owned(),
        demand_typ_jwt: false,
    })
    .await
}

#[tokio::test]
async fn refusals_are_the_wizard_again_with_what_to_change() {
    let lab = TestLab::start().await;
    let rs = resource_server(&lab).await;
    let browser = lab.browser();
    let before = lab.lab.idp_clients().len();

    let forged = browser
        .post(format!("{}/resources", lab.console()))
        .form(&[("csrf", "forged"), ("join_code", lab.lab.join_code()), ("name", "X")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert_eq!(message(&forged.text().await.unwrap()), "This page was open too long; press Register again.");

    let mut wrong_code = fields("Items", &rs.url);
    wrong_code.push(("join_code", "not-the-code"));
    let (status, page) = register(&lab, &browser, &wrong_code).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&page),
        "That is not this lab's join code. Ask your teacher for it (it is in the lab's start-up banner)."
    );

    let (status, page) = register(&lab, &browser, &fields("Items", "localhost:5000")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&page),
        "The registration was refused: the base URL \"localhost:5000\" is not an absolute http or https URL without query or fragment (for example http://localhost:5000)."
    );
    assert!(page.contains("value=\"localhost:5000\""), "what was typed is kept");

    let mut bad_endpoint = fields("Items", &rs.url);
    bad_endpoint[3] = ("endpoints", "FETCH /api/items");
    let (status, page) = register(&lab, &browser, &bad_endpoint).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&page),
        "The registration was refused: endpoint \"FETCH /api/items\" is not METHOD /path (methods: GET, POST, PUT, PATCH, DELETE)."
    );

    let mut no_scope = fields("Items", &rs.url);
    no_scope[2] = ("scopes", "");
    let (status, page) = register(&lab, &browser, &no_scope).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&page),
        "The registration was refused: name at least one scope your resource checks (for example todos.read)."
    );

    let authz = lab.authz().to_owned();
    let mut lab_as_as_own = fields("Items", &rs.url);
    lab_as_as_own.extend([("authorization_server", "own"), ("issuer", authz.as_str()), ("target_client_id", "x")]);
    let (status, page) = register(&lab, &browser, &lab_as_as_own).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&page),
        format!(
            "The registration was refused: {authz} is the lab's own authorization server: choose \"the lab's authorization server\" instead."
        )
    );
    let mut no_target = fields("Items", &rs.url);
    no_target.extend([("authorization_server", "own"), ("issuer", "http://127.0.0.1:9/as")]);
    let (status, page) = register(&lab, &browser, &no_target).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&page).starts_with("The registration was refused: the target client id"), "{}", message(&page));
    assert_eq!(lab.lab.idp_clients().len(), before, "no refusal created a client");

    let (status, _) = register(&lab, &browser, &fields("Items", &rs.url)).await;
    assert_eq!(status, StatusCode::OK);
    let v2 = format!("{}/v2", rs.url);
    let mut same_name = fields("ITEMS", &v2);
    same_name.push(("connect_anyway", "1"));
    let (status, page) = register(&lab, &browser, &same_name).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&page),
        "The registration was refused: a resource app named \"Items\" is registered already: choose another name, or delete it first."
    );
    let (status, page) = register(&lab, &browser, &fields("Other", &rs.url)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&page),
        format!(
            "The registration was refused: the resource \"{}\" is governed by {authz} already: give your resource another URL, or delete the app that registered it.",
            rs.url
        )
    );
    assert_eq!(lab.lab.idp_clients().len(), before + 1, "one app, one test client");

    // The explorer refuses a forged form by sending the browser back, having run nothing.
    let explored = format!("{}/explored", rs.url);
    let mut anyway = fields("Explored", &explored);
    anyway.push(("connect_anyway", "1"));
    let (_, page) = register(&lab, &browser, &anyway).await;
    let id = app_id(&page);
    let step = format!("{}/explorer/resources/{id}/step/2", lab.console());
    let resp = browser.post(&step).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), format!("/explorer/resources/{id}#step-2"));
    let page = browser.get(format!("{}/explorer/resources/{id}", lab.console())).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("id=\"status-"), "no step ran");
    let start = format!("{}/explorer/resources/nope/start", lab.console());
    let resp = browser.post(&start).form(&[("csrf", "x"), ("email", "a@b.example")]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.text().await.unwrap(), "There is no resource app \"nope\". Register yours at /resources.");

    for path in ["/resources/nope", "/explorer/resources/nope"] {
        let resp = browser.get(format!("{}{path}", lab.console())).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        let body = unescape(&resp.text().await.unwrap());
        assert!(body.contains("There is no resource app \"nope\""), "{body}");
    }
}

#[tokio::test]
async fn an_unreachable_health_check_is_shown_with_connect_anyway() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let down = unreachable_url();
    let (status, page) = register(&lab, &browser, &fields("Down API", &down)).await;
    assert_eq!(status, StatusCode::OK, "shown, not an error page");
    let health = unescape(&page);
    assert!(health.contains(&format!("Health check failed: GET {down}/health: not reachable.")), "{health}");
    assert!(page.contains("id=\"connect-anyway\""));
    assert!(!page.contains("id=\"apps\""), "nothing registered");

    let mut anyway = fields("Down API", &down);
    anyway.push(("connect_anyway", "1"));
    let (status, page) = register(&lab, &browser, &anyway).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text_of(&page, "health"), format!("GET {down}/health: not reachable (connected anyway)"));
    assert!(page.contains("id=\"registered\""));
}

/// A TCP listener that counts the connections made to it and closes each at once (so every
/// health check against it is "not reachable").
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    (url, count)
}

#[tokio::test]
async fn the_wizard_is_no_port_scanner() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let (url, probes) = counting_listener().await;

    // Sixty registrations in a minute: twenty calls go out, the rest are refused before calling.
    let mut statuses = Vec::new();
    for i in 0..60 {
        let (status, page) = register(&lab, &browser, &fields(&format!("Scan {i}"), &url)).await;
        statuses.push(status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(
                message(&page),
                "The wizard calls people's servers at most 20 times a minute, for the whole room. Try again in 60 s."
            );
        } else {
            assert!(unescape(&page).contains(&format!("GET {url}/health: not reachable.")), "no reason given");
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 20);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 40);
    assert_eq!(probes.load(Ordering::SeqCst), 20, "calls that went out");
    lab.clock.advance(60);
    assert_eq!(register(&lab, &browser, &fields("After a minute", &url)).await.0, StatusCode::OK);
    assert_eq!(probes.load(Ordering::SeqCst), 21);

    // Link-local and metadata addresses are refused before any call (no budget taken either).
    for (base, ip) in [("http://169.254.169.254", "169.254.169.254"), ("http://[fd00:ec2::254]:80", "fd00:ec2::254")] {
        let (status, page) = register(&lab, &browser, &fields("Metadata", base)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            message(&page),
            format!(
                "The registration was refused: {base}/health reaches {ip}, a link-local or cloud metadata address: the lab does not call those (start it with --allow-link-local to allow them)."
            )
        );
    }
    let mut own = fields("Own AS at metadata", &url);
    own.extend([("authorization_server", "own"), ("issuer", "http://169.254.169.254/as"), ("target_client_id", "t")]);
    let (status, page) = register(&lab, &browser, &own).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&page).contains("http://169.254.169.254/as reaches 169.254.169.254"), "{page}");
    assert_eq!(probes.load(Ordering::SeqCst), 21, "nothing was called");
}

#[tokio::test]
async fn a_registration_redirects_and_shows_the_secrets_to_its_browser_only() {
    let lab = TestLab::start().await;
    let rs = resource_server(&lab).await;
    let browser = lab.browser();
    let page = browser.get(format!("{}/resources", lab.console())).send().await.unwrap().text().await.unwrap();
    let mut form = vec![("csrf".to_owned(), hidden(&page, "csrf")), ("join_code".into(), lab.lab.join_code().into())];
    form.extend(fields("PRG API", &rs.url).into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
    let resp = browser.post(format!("{}/resources", lab.console())).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    let id = to.strip_prefix("/resources/").expect("the app's page").to_owned();
    let page = browser.get(format!("{}{to}", lab.console())).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await.unwrap();
    let secret = text_of(&page, "client-secret");
    assert!(page.contains("id=\"run-steps\"") && page.contains(&format!("href=\"/explorer/resources/{id}\"")));
    let again = browser.get(format!("{}{to}", lab.console())).send().await.unwrap().text().await.unwrap();
    assert_eq!(text_of(&again, "client-secret"), secret, "a refresh shows them again, registering nothing");
    assert_eq!(lab.lab.idp_clients().iter().filter(|c| c.client_id.to_string().starts_with(&id)).count(), 1);
    let other = lab.browser().get(format!("{}{to}", lab.console())).send().await.unwrap().text().await.unwrap();
    assert!(!other.contains(&secret) && other.contains("(shown once, at registration)"));
    lab.clock.advance(10 * 60);
    let later = browser.get(format!("{}{to}", lab.console())).send().await.unwrap().text().await.unwrap();
    assert!(!later.contains(&secret), "ten minutes only");
}

#[tokio::test]
async fn deleting_an_app_removes_its_clients_connection_and_governance() {
    let lab = TestLab::start().await;
    let rs = resource_server(&lab).await;
    let browser = lab.browser();
    let (_, page) = register(&lab, &browser, &fields("Gone API", &rs.url)).await;
    let id = app_id(&page);
    let as_client = text_of(&page, "as-client-id");
    let csrf = hidden(&page, "csrf");
    let delete = format!("{}/resources/{id}/delete", lab.console());

    // IT cannot delete the test client on its own: the app goes as a whole.
    let resp = lab.admin(reqwest::Method::DELETE, &format!("/api/admin/clients/{id}-tester")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "error": "invalid_request", "error_description":
        format!("\"{id}-tester\" is the test client of the resource app \"Gone API\": delete the app at /resources/{id}") })
    );
    let resp = lab.admin(reqwest::Method::DELETE, &format!("/api/admin/clients/{as_client}")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let resp = browser.post(&delete).form(&[("csrf", csrf.as_str()), ("join_code", "wrong")]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(lab.lab.idp_client(&format!("{id}-tester")).is_some(), "a refused deletion deletes nothing");
    let resp =
        browser.post(&delete).form(&[("csrf", "forged"), ("join_code", lab.lab.join_code())]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(message(&resp.text().await.unwrap()), "This page was open too long; press Delete again.");

    let resp = browser
        .post(&delete)
        .form(&[("csrf", csrf.as_str()), ("join_code", lab.lab.join_code())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/resources#registered");
    assert!(lab.lab.idp_client(&format!("{id}-tester")).is_none());
    assert!(lab.lab.resource_client(&as_client).is_none());
    assert!(!lab.lab.connections().iter().any(|c| c.resource == rs.url));
    assert!(!lab.lab.protected_resources().iter().any(|r| r.resource == rs.url));
    assert!(!lab.lab.authorization_servers().iter().flat_map(|s| &s.resources).any(|r| r.resource == rs.url));
    let resp = browser.get(format!("{}/resources/{id}", lab.console())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = browser
        .post(&delete)
        .form(&[("csrf", csrf.as_str()), ("join_code", lab.lab.join_code())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "deleting twice");

    // IT's reset without keeping registrations deletes resource apps too.
    let (_, page) = register(&lab, &browser, &fields("Reset API", &rs.url)).await;
    let id = app_id(&page);
    let reset =
        lab.admin(reqwest::Method::POST, "/api/admin/reset").json(&serde_json::json!({ "keep_registrations": false }));
    assert_eq!(reset.send().await.unwrap().status(), StatusCode::OK);
    let resp = browser.get(format!("{}/resources/{id}", lab.console())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(lab.lab.idp_client(&format!("{id}-tester")).is_none());
    assert!(!lab.lab.protected_resources().iter().any(|r| r.resource == rs.url));
}

/// Registrations live in the data dir: after a restart (same ports, as `lab` runs) the app is
/// listed and the four steps run again.
#[tokio::test]
async fn resource_apps_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("xaa-e2e-byor-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ports =
        xaa_lab::Ports { console: free(), idp: free(), authorization_server: free(), todo_api: free(), notes: free() };
    let configure = |c: &mut xaa_lab::LabConfig| {
        c.storage = xaa_lab::Storage::Dir(dir.clone());
        c.ports = ports;
    };
    let lab = TestLab::start_configured(configure).await;
    let rs = resource_server(&lab).await;
    let (_, page) = register(&lab, &lab.browser(), &fields("Kept API", &rs.url)).await;
    let id = app_id(&page);
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;

    let again = TestLab::start_configured(configure).await;
    let browser = again.browser();
    let list = browser.get(format!("{}/resources", again.console())).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("<a href=\"/resources/{id}\">Kept API</a>")), "{list}");
    let csrf = sign_in_and_get_a_token(&again, &browser, &id, "erin@acme.example").await;
    let page = call_endpoint(&again, &browser, &id, &csrf, "GET /api/items").await;
    for n in 1..=4 {
        assert!(page.contains(&format!("id=\"status-{n}\">200 OK")), "step {n}: {}", unescape(&page));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
