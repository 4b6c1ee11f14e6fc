//! Bounded disk: what an unauthenticated request may make the lab store. Oversized authorization
//! request parameters and oversized client metadata (RFC 7591, and the console's registration) are
//! refused, naming the limit, before anything is stored; open registration is capped per server;
//! the audit log keeps a bounded number of entries for a bounded time, and credits a token exchange
//! to no client unless that client authenticated.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::harness::*;

const STATE: &str = "st-42";

/// The standard authorize URL of the bring-your-own client with `extra` parameters.
fn authorize(lab: &TestLab, extra: &[(&str, &str)]) -> String {
    lab.authorize_url(CLIENT, REDIRECT, extra)
}

/// Whether `resp` sets the IdP's login transaction cookie (which it does only for a login page).
fn sets_login_cookie(resp: &Response) -> bool {
    resp.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("xaa_idp_authorize="))
}

/// Length and modification time of the IdP's database files: unchanged means nothing was written.
fn idp_files(dir: &std::path::Path) -> Vec<Option<(u64, std::time::SystemTime)>> {
    ["idp.sqlite", "idp.sqlite-wal"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).ok().map(|m| (m.len(), m.modified().unwrap())))
        .collect()
}

/// A lab keeping its SQLite files in a fresh directory of its own.
async fn lab_on_disk(name: &str) -> (TestLab, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("xaa-e2e-bounds-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = xaa_lab::Storage::Dir(dir.clone());
    (TestLab::start_configured(|c| c.storage = storage).await, dir)
}

#[tokio::test]
async fn an_oversized_state_gets_the_error_page_not_a_redirect() {
    let lab = TestLab::start().await;
    let resp = lab.browser().get(authorize(&lab, &[("state", &"s".repeat(1025))])).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none(), "no redirect");
    assert!(!sets_login_cookie(&resp));
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = resp.text().await.unwrap();
    for needle in [
        "Invalid sign-in request",
        "The application sent a state of 1025 bytes; this IdP accepts at most 1024.",
        "keep state short",
    ] {
        assert!(html.contains(needle), "{needle:?} missing in {html}");
    }
    assert!(!html.contains(&"s".repeat(1025)), "the state is not echoed");

    // 1024 bytes are accepted, and echoed after the login.
    let state = "s".repeat(1024);
    let loc = lab.login_redirect(&lab.browser(), &authorize(&lab, &[("state", &state)]), "alice@acme.example").await;
    assert_eq!(query_param(&loc, "state"), Some(state));
    assert!(query_param(&loc, "code").is_some(), "{loc}");
}

#[tokio::test]
async fn an_oversized_nonce_scope_or_login_hint_is_an_invalid_request_redirect() {
    let lab = TestLab::start().await;
    let cases = [
        ("nonce", "n".repeat(513), "nonce has 513 bytes; this IdP accepts at most 512"),
        ("scope", format!("openid {}", "x".repeat(1018)), "scope has 1025 bytes; this IdP accepts at most 1024"),
        (
            "login_hint",
            format!("{}@acme.example", "a".repeat(242)),
            "login_hint has 255 bytes; this IdP accepts at most 254",
        ),
    ];
    for (name, value, description) in cases {
        let url = format!("{}&state={STATE}", authorize(&lab, &[(name, &value)]));
        let url = if name == "scope" { url.replacen("scope=openid+profile+email&", "", 1) } else { url };
        let resp = lab.browser().get(url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{name}");
        assert!(!sets_login_cookie(&resp), "{name}");
        let loc = location(&resp);
        assert!(loc.starts_with(&format!("{REDIRECT}?")), "{loc}");
        assert_eq!(query_param(&loc, "error").as_deref(), Some("invalid_request"), "{loc}");
        assert_eq!(query_param(&loc, "error_description").as_deref(), Some(description), "{loc}");
        assert_eq!(query_param(&loc, "state").as_deref(), Some(STATE), "{loc}");
        assert_eq!(query_param(&loc, "iss").as_deref(), Some(lab.idp()), "{loc}");
        assert!(query_param(&loc, "code").is_none(), "{loc}");
    }
    // At the limits, the login page opens and the nonce reaches the ID token.
    let nonce = "n".repeat(512);
    let hint = format!("{}@acme.example", "a".repeat(241));
    let scope = format!("openid+{}", "x".repeat(1017));
    let url = authorize(&lab, &[("nonce", &nonce), ("login_hint", &hint)]).replacen(
        "scope=openid+profile+email",
        &format!("scope={scope}"),
        1,
    );
    let browser = lab.browser();
    let resp = browser.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains(&format!("value=\"{hint}\"")), "login_hint prefilled");
    let loc = lab.login_redirect(&browser, &url, "alice@acme.example").await;
    let code = query_param(&loc, "code").expect("a code");
    let params = code_grant(&code, REDIRECT, CLIENT, SECRET);
    let resp = lab.idp_token(&params).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(decode(body["id_token"].as_str().unwrap()).1["nonce"], nonce.as_str());
}

/// The measured attacks: thousands of `GET /authorize` with a 60 KB `state` grew `idp.sqlite` by
/// hundreds of MB; 5,000 ordinary ones stored 5,000 pending logins (14 MB). Now no authorization
/// request writes a byte, accepted or refused (issue 21, item 3): the login waits in a signed
/// cookie until its email is submitted, and only that writes.
#[tokio::test]
async fn authorization_requests_write_nothing_to_disk_until_the_email_is_submitted() {
    let (lab, dir) = lab_on_disk("authorize").await;
    // One request first, so the files exist and the test sees writes as changes.
    let resp = lab.browser().get(authorize(&lab, &[("state", STATE)])).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let before = idp_files(&dir);
    assert!(before.iter().all(Option::is_some), "{before:?}");

    let big = "x".repeat(60 * 1024);
    for i in 0..20 {
        for _ in 0..10 {
            let state = format!("{STATE}-{i}");
            let resp = lab.browser().get(authorize(&lab, &[("state", &state)])).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            assert!(sets_login_cookie(&resp), "the login page's transaction is in its cookie");
        }
        for param in ["state", "nonce", "login_hint", "scope"] {
            let resp = lab.browser().get(authorize(&lab, &[(param, &big)])).send().await.unwrap();
            assert!(!sets_login_cookie(&resp), "{param}");
            assert!(resp.status() == StatusCode::BAD_REQUEST || resp.status() == StatusCode::SEE_OTHER, "{param}");
        }
    }
    assert_eq!(idp_files(&dir), before, "authorization requests changed the IdP's database");

    // The email form is the first write (the check above would have seen one).
    let browser = lab.browser();
    let html = browser.get(authorize(&lab, &[])).send().await.unwrap().text().await.unwrap();
    let form =
        [("csrf", hidden(&html, "csrf")), ("login", hidden(&html, "login")), ("email", "alice@acme.example".into())];
    let resp = browser.post(format!("{}/login/email", lab.idp())).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(idp_files(&dir), before, "the submitted email stored the login");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The transaction cookie is the IdP's: one whose payload was changed, or that names another
/// login, gets the expired page and stores nothing; the real one moves the login to the database
/// (the `xaa_idp_login` cookie names it from then on) and is removed.
#[tokio::test]
async fn a_forged_login_transaction_is_refused() {
    let lab = TestLab::start().await;
    let resp = lab.http.get(authorize(&lab, &[("state", STATE)])).send().await.unwrap();
    let cookie = |resp: &Response, name: &str| {
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie"))
    };
    let (transaction, csrf_cookie) = (cookie(&resp, "xaa_idp_authorize"), cookie(&resp, "xaa_idp_csrf"));
    let html = resp.text().await.unwrap();
    let (csrf, login) = (hidden(&html, "csrf"), hidden(&html, "login"));
    let post = |cookies: String, login: String| {
        let form = [("csrf", csrf.clone()), ("login", login), ("email", "alice@acme.example".to_owned())];
        lab.http.post(format!("{}/login/email", lab.idp())).header("cookie", cookies).form(&form).send()
    };
    let (payload, tag) = transaction.split_once('.').unwrap();
    let flipped = if payload.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{flipped}.{tag}", &payload[..payload.len() - 1]);
    for (cookies, login, why) in [
        (format!("{csrf_cookie}; {forged}"), login.clone(), "a changed payload"),
        (format!("{csrf_cookie}; {transaction}"), "another-login".to_owned(), "another login's form"),
        (csrf_cookie.clone(), login.clone(), "no transaction"),
    ] {
        let resp = post(cookies, login).await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{why}");
        assert!(resp.text().await.unwrap().contains("This sign-in has expired"), "{why}");
    }
    let resp = post(format!("{csrf_cookie}; {transaction}"), login.clone()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(cookie(&resp, "xaa_idp_login"), format!("xaa_idp_login={login}"));
    assert_eq!(cookie(&resp, "xaa_idp_authorize"), "xaa_idp_authorize=", "removed");
    assert!(resp.text().await.unwrap().contains("alice@acme.example"));
}

/// POSTs `body` as JSON to `{base}/register`.
async fn register_at(lab: &TestLab, base: &str, body: &Value) -> Response {
    lab.http.post(format!("{base}/register")).json(body).send().await.unwrap()
}

/// The client ids the admin API lists (the IdP's clients).
async fn idp_client_ids(lab: &TestLab) -> Vec<String> {
    let body: Value = lab.admin(Method::GET, "/api/admin/clients").send().await.unwrap().json().await.unwrap();
    body["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap().to_owned()).collect()
}

/// `n` distinct redirect URIs of `len` bytes each.
fn uris(n: usize, len: usize) -> Vec<String> {
    (0..n).map(|i| format!("{REDIRECT}/{i:0>w$}", w = len - REDIRECT.len() - 1)).collect()
}

#[tokio::test]
async fn oversized_client_metadata_is_refused_at_both_servers_naming_the_limit() {
    let lab = TestLab::start().await;
    let before = idp_client_ids(&lab).await;
    let ok = uris(1, 40);
    let big = "x".repeat(60 * 1024);
    let redirect = "invalid_redirect_uri";
    let metadata = "invalid_client_metadata";
    let cases = [
        (
            json!({ "redirect_uris": uris(11, 40) }),
            redirect,
            "redirect_uris has 11 members; this server accepts at most 10",
        ),
        (
            json!({ "redirect_uris": uris(1, 2049) }),
            redirect,
            "a member of redirect_uris has 2049 bytes; this server accepts at most 2048",
        ),
        (
            json!({ "redirect_uris": ok, "post_logout_redirect_uris": uris(11, 40) }),
            redirect,
            "post_logout_redirect_uris has 11 members; this server accepts at most 10",
        ),
        (
            json!({ "redirect_uris": ok, "client_name": "n".repeat(101) }),
            metadata,
            "client_name has 101 characters; this server accepts at most 100",
        ),
        (
            json!({ "redirect_uris": ok, "scope": "s".repeat(1025) }),
            metadata,
            "scope has 1025 bytes; this server accepts at most 1024",
        ),
        (
            json!({ "redirect_uris": ok, "contacts": vec!["it@acme.example"; 11] }),
            metadata,
            "contacts has 11 members; this server accepts at most 10",
        ),
        (
            json!({ "redirect_uris": ok, "grant_types": vec!["authorization_code"; 11] }),
            metadata,
            "grant_types has 11 members; this server accepts at most 10",
        ),
        (
            json!({ "redirect_uris": ok, "logo_uri": big }),
            metadata,
            "logo_uri has 61450 bytes of JSON; this server accepts at most 4096",
        ),
    ];
    for base in [lab.idp(), lab.authz()] {
        for (body, error, description) in &cases {
            let d = assert_oauth_error(register_at(&lab, base, body).await, 400, error).await;
            assert_eq!(&d, description, "{base}");
        }
        // A body over 64 KiB is not read.
        let resp = register_at(&lab, base, &json!({ "redirect_uris": [REDIRECT], "x": "x".repeat(64 * 1024) })).await;
        let d = assert_oauth_error(resp, 400, metadata).await;
        assert_eq!(d, "the client metadata is larger than 64 KiB or could not be read");
        // At the limits, a registration is accepted.
        let at_limits = json!({
            "redirect_uris": uris(10, 2048),
            "client_name": "n".repeat(100),
            "contacts": vec!["it@acme.example"; 10],
        });
        assert_eq!(register_at(&lab, base, &at_limits).await.status(), StatusCode::CREATED, "{base}");
    }
    assert_eq!(idp_client_ids(&lab).await.len(), before.len() + 1, "only the one at the limits");
}

#[tokio::test]
async fn the_console_registration_obeys_the_same_limits() {
    let lab = TestLab::start().await;
    let before = idp_client_ids(&lab).await;
    let cases = [
        (
            json!({ "name": "Many", "redirect_uris": uris(11, 40) }),
            "invalid_redirect_uri",
            "redirect_uris has 11 members; this server accepts at most 10",
        ),
        (
            json!({ "name": "Long", "redirect_uris": uris(1, 2049) }),
            "invalid_redirect_uri",
            "a member of redirect_uris has 2049 bytes; this server accepts at most 2048",
        ),
        (
            json!({ "name": "Logout", "redirect_uris": [REDIRECT], "post_logout_redirect_uris": uris(11, 40) }),
            "invalid_redirect_uri",
            "post_logout_redirect_uris has 11 members; this server accepts at most 10",
        ),
        (
            json!({ "name": "Scopes", "redirect_uris": [REDIRECT], "scopes": vec!["todos.read"; 11] }),
            "invalid_request",
            "scopes has 11 members; this server accepts at most 10",
        ),
    ];
    for (body, error, description) in cases {
        let resp = lab.admin(Method::POST, "/api/admin/clients").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body, json!({ "error": error, "error_description": description }));
    }
    assert_eq!(idp_client_ids(&lab).await, before, "nothing registered");
}

/// The body of a 201 registration.
async fn registered(resp: Response) -> Value {
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

/// The exact refusal past the cap of `max` open registrations.
async fn assert_full(resp: Response, max: usize) {
    let d = assert_oauth_error(resp, 403, "access_denied").await;
    assert_eq!(
        d,
        format!(
            "open registration is full: this server holds {max} clients registered without the admin token (the lab's --max-open-registrations); delete one in the lab console, or register there with the admin token (RFC 7591 Section 3)"
        )
    );
}

#[tokio::test]
async fn open_registration_is_capped_per_server_and_a_deletion_frees_a_slot() {
    let lab = TestLab::start_configured(|c| c.max_open_registrations = 2).await;
    let at_idp = json!({ "client_name": "Open", "redirect_uris": [REDIRECT] });
    let at_as = json!({ "client_name": "Open at the AS" });
    let mut idp_ids = Vec::new();
    let mut as_ids = Vec::new();
    for _ in 0..2 {
        idp_ids.push(registered(register_at(&lab, lab.idp(), &at_idp).await).await["client_id"].clone());
        as_ids.push(registered(register_at(&lab, lab.authz(), &at_as).await).await["client_id"].clone());
    }
    assert_full(register_at(&lab, lab.idp(), &at_idp).await, 2).await;
    assert_full(register_at(&lab, lab.authz(), &at_as).await, 2).await;
    let listed = idp_client_ids(&lab).await;
    assert_eq!(listed.len(), 3 + 2, "the fixtures and the two open registrations: {listed:?}");

    // The console registers with the admin token: not capped, and it takes no open slot.
    let body = json!({ "name": "Console App", "redirect_uris": [REDIRECT] });
    let resp = lab.admin(Method::POST, "/api/admin/clients").json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_full(register_at(&lab, lab.idp(), &at_idp).await, 2).await;
    assert_full(register_at(&lab, lab.authz(), &at_as).await, 2).await;

    // Deleting an open registration frees its slot, at each server.
    for id in [&idp_ids[0], &as_ids[0]] {
        let resp =
            lab.admin(Method::DELETE, &format!("/api/admin/clients/{}", id.as_str().unwrap())).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{id}");
    }
    registered(register_at(&lab, lab.idp(), &at_idp).await).await;
    registered(register_at(&lab, lab.authz(), &at_as).await).await;
    assert_full(register_at(&lab, lab.idp(), &at_idp).await, 2).await;
    assert_full(register_at(&lab, lab.authz(), &at_as).await, 2).await;

    // An AS client a connection names is not deleted from under it.
    let resp = lab.admin(Method::DELETE, &format!("/api/admin/clients/{RESOURCE_CLIENT}")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "error": "invalid_request",
            "error_description": format!("\"{RESOURCE_CLIENT}\" is the resource AS client of \"{CLIENT}\"'s connection: revoke that connection first"),
        })
    );
}

/// The cap counts what is stored, so it holds across a restart.
#[tokio::test]
async fn the_open_registration_cap_survives_a_restart() {
    let (lab, dir) = lab_on_disk("cap").await;
    let at_idp = json!({ "redirect_uris": [REDIRECT] });
    registered(register_at(&lab, lab.idp(), &at_idp).await).await;
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let again = TestLab::start_configured(|c| {
        c.storage = storage;
        c.max_open_registrations = 1;
    })
    .await;
    assert_full(register_at(&again, again.idp(), &at_idp).await, 1).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `jti`s of the audit log's entries, newest first.
async fn audit_jtis(lab: &TestLab) -> Vec<String> {
    let resp = lab.admin(Method::GET, "/api/admin/audit").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["entries"].as_array().unwrap().iter().map(|e| e["jti"].as_str().unwrap().to_owned()).collect()
}

/// Signs alice in and exchanges her ID token; returns the ID-JAG's `jti`.
async fn exchange_once(lab: &TestLab) -> String {
    let login = lab.login("alice@acme.example").await;
    let jag = lab.id_jag(&login.id_token).await;
    decode(&jag).1["jti"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_audit_log_keeps_the_newest_entries_within_its_age() {
    let keep = xaa_lab::idp::AuditRetention { max_entries: 3, max_age: 3600 };
    let lab = TestLab::start_configured(|c| c.audit_retention = keep).await;
    let mut jtis = Vec::new();
    for _ in 0..5 {
        jtis.push(exchange_once(&lab).await);
    }
    assert_eq!(audit_jtis(&lab).await, [jtis[4].clone(), jtis[3].clone(), jtis[2].clone()], "the newest three of five");

    // Half an hour later, one more: still three, the count drops the oldest.
    lab.clock.advance(1800);
    jtis.push(exchange_once(&lab).await);
    assert_eq!(audit_jtis(&lab).await, [jtis[5].clone(), jtis[4].clone(), jtis[3].clone()]);

    // An hour after the first five, they are past the age: only the last two remain.
    lab.clock.advance(1801);
    jtis.push(exchange_once(&lab).await);
    assert_eq!(audit_jtis(&lab).await, [jtis[6].clone(), jtis[5].clone()]);

    // The export and the page show the same two.
    let csv = lab.admin(Method::GET, "/api/admin/audit?format=csv").send().await.unwrap().text().await.unwrap();
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv:?}");
    // As a CSV cell: a random jti that starts with '-' is defused like a formula; the tenant follows.
    let cell = |jti: &str| format!(",{},customer1", xaa_lab::observe::csv::field(jti));
    assert!(rows[0].ends_with(&cell(&jtis[6])) && rows[1].ends_with(&cell(&jtis[5])), "{csv:?}");
    let browser = lab.browser();
    let signed_in =
        browser.get(format!("{}/admin?token={}", lab.console(), lab.lab.admin_token())).send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let page = browser.get(format!("{}/admin/audit", lab.console())).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert_eq!(html.matches("<span class=\"badge ok\">issued</span>").count(), 2, "{html}");
}

#[test]
fn lab_help_documents_the_bounds_flags_and_their_defaults() {
    let out = std::process::Command::new(crate::binary::lab_binary()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--max-open-registrations <N>",
        "403 access_denied",
        "[default: 200]",
        "--audit-max-entries <N>",
        "[default: 10000]",
        "--audit-max-age-days <DAYS>",
        "[default: 7]",
        "--trace-budget-mb <MIB>",
        "[default: 4]",
        "--max-connections <N>",
        "--max-connections-per-address <N>",
        "default: half of --max-connections",
        "--idle-timeout <SECONDS>",
        "never used, kept alive between requests",
        "[default: 90]",
        "--header-timeout <SECONDS>",
        "once its first byte has",
        "[default: 15]",
    ] {
        assert!(help.contains(needle), "{needle:?} missing in {help}");
    }
    let zero =
        std::process::Command::new(crate::binary::lab_binary()).args(["--audit-max-entries", "0"]).output().unwrap();
    assert!(!zero.status.success());
    assert!(String::from_utf8_lossy(&zero.stderr).contains("0 is not in 1.."), "{zero:?}");
}

#[tokio::test]
async fn the_lab_binary_caps_open_registration_as_told() {
    let dir = crate::binary::temp_dir("bounds-binary-cap");
    let lab = crate::binary::Running::start(&["--max-open-registrations", "1"], &dir);
    let http = reqwest::Client::new();
    let idp = lab.ready["idp"].as_str().unwrap().to_owned();
    let body = json!({ "redirect_uris": [REDIRECT] });
    let first = http.post(format!("{idp}/register")).json(&body).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_full(http.post(format!("{idp}/register")).json(&body).send().await.unwrap(), 1).await;
    let (ok, _, _) = lab.interrupt();
    assert!(ok);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The audit log's entries as the API returns them, newest first (`query` filters).
async fn audit_entries(lab: &TestLab, query: &str) -> Vec<Value> {
    let resp = lab.admin(Method::GET, &format!("/api/admin/audit?{query}")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.unwrap()["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_token_exchange_whose_client_fails_authentication_is_credited_to_no_client() {
    let lab = TestLab::start().await;
    let login = lab.login("alice@acme.example").await;
    // A wrong secret for my-requestor (client_secret_post), then an unknown client (Basic).
    let wrong = with(&lab.exchange_params(&login.id_token), "client_secret", Some("not-the-secret"));
    let d = assert_oauth_error(lab.idp_token(&wrong).await, 401, "invalid_client").await;
    assert_eq!(
        d,
        format!("client authentication failed: wrong client_secret for client '{CLIENT}' (client_secret_post)")
    );
    let no_creds = with(&with(&lab.exchange_params(&login.id_token), "client_id", None), "client_secret", None);
    let resp = lab
        .http
        .post(format!("{}/token", lab.idp()))
        .basic_auth("nobody", Some("guess"))
        .form(&no_creds)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Basic realm=\"token\"");
    let unknown = assert_oauth_error(resp, 401, "invalid_client").await;
    assert_eq!(unknown, "client authentication failed: unknown client 'nobody'");

    let entries = audit_entries(&lab, "").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    let expected = |id: &Value, reason: String| {
        json!({
            "id": id, "at": lab.now(), "client_id": "", "user": "", "audience": lab.authz(), "resource": lab.api(),
            "scope": "todos.read todos.write", "outcome": "refused", "error": "invalid_client", "reason": reason, "jti": "",
            "tenant": "",
        })
    };
    assert_eq!(
        entries[0],
        expected(&entries[0]["id"], format!("unauthenticated request (claimed client_id 'nobody'): {unknown}"))
    );
    assert_eq!(
        entries[1],
        expected(&entries[1]["id"], format!("unauthenticated request (claimed client_id '{CLIENT}'): {d}"))
    );

    // Neither the filter, the CSV nor the page credits my-requestor.
    assert_eq!(audit_entries(&lab, &format!("client_id={CLIENT}")).await, Vec::<Value>::new());
    assert_eq!(audit_entries(&lab, "client_id=nobody").await, Vec::<Value>::new());
    let csv = lab.admin(Method::GET, "/api/admin/audit?format=csv").send().await.unwrap().text().await.unwrap();
    let row = csv.split("\r\n").nth(2).unwrap();
    assert_eq!(
        row,
        format!(
            "{},{},,,{},{},todos.read todos.write,refused,invalid_client,unauthenticated request (claimed client_id '{CLIENT}'): {d},,",
            entries[1]["id"],
            lab.now(),
            lab.authz(),
            lab.api()
        )
    );
    let browser = lab.browser();
    browser.get(format!("{}/admin?token={}", lab.console(), lab.lab.admin_token())).send().await.unwrap();
    let html = browser.get(format!("{}/admin/audit", lab.console())).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("<em class=\"unauthenticated\">unauthenticated</em>").count(), 2, "{html}");
    assert!(!html.contains(&format!("<code>{CLIENT}</code>")), "{html}");
    assert!(html.contains("unauthenticated request (claimed client_id &#39;my-requestor&#39;)"), "{html}");

    // The report card did not grade my-requestor on them.
    let card: Value =
        lab.admin(Method::GET, &format!("/api/admin/clients/{CLIENT}")).send().await.unwrap().json().await.unwrap();
    for item in card["report_card"]["items"].as_array().unwrap() {
        if ["audience_and_resource", "token_types"].contains(&item["item"].as_str().unwrap()) {
            assert_eq!(item["status"], "not yet seen", "{item}");
        }
    }

    // Once it authenticates, an exchange is its own, issued or refused.
    lab.id_jag(&login.id_token).await;
    let refused = with(&lab.exchange_params(&login.id_token), "scope", Some("todos.admin"));
    let reason = assert_oauth_error(lab.idp_token(&refused).await, 400, "invalid_scope").await;
    let mine = audit_entries(&lab, &format!("client_id={CLIENT}")).await;
    let outcomes: Vec<(&str, &str)> =
        mine.iter().map(|e| (e["outcome"].as_str().unwrap(), e["reason"].as_str().unwrap())).collect();
    assert_eq!(outcomes, [("refused", reason.as_str()), ("issued", "")]);

    // A refusal after authentication (a grant it did not register) is credited to it as well.
    let reg = json!({ "client_name": "Sign-in only", "redirect_uris": [REDIRECT] });
    let reg = registered(register_at(&lab, lab.idp(), &reg).await).await;
    let (id, secret) = (reg["client_id"].as_str().unwrap(), reg["client_secret"].as_str().unwrap());
    let theirs = lab.login_as(id, secret, REDIRECT, "alice@acme.example").await;
    let params =
        with(&with(&lab.exchange_params(&theirs.id_token), "client_id", Some(id)), "client_secret", Some(secret));
    let reason = assert_oauth_error(lab.idp_token(&params).await, 400, "unauthorized_client").await;
    let theirs = audit_entries(&lab, &format!("client_id={id}")).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(
        (theirs[0]["error"].as_str(), theirs[0]["reason"].as_str()),
        (Some("unauthorized_client"), Some(reason.as_str()))
    );
}
