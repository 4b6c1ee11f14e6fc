//! The console's live trace and token inspector over HTTP: flows linked across components,
//! checks recorded, secrets masked, exports, server-sent events, and the CSRF-protected inspector.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::*;

async fn trace_json(lab: &TestLab, query: &str) -> Vec<Value> {
    let url = format!("{}/trace.json{query}", lab.lab.urls().console);
    let body: Value = lab.http.get(url).send().await.unwrap().json().await.unwrap();
    body["events"].as_array().unwrap().clone()
}

fn received<'a>(events: &'a [Value], step: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["step"] == step && e["direction"] == "received")
        .unwrap_or_else(|| panic!("no received {step} in {events:?}"))
}

#[tokio::test]
async fn a_notes_flow_is_traced_as_one_flow_with_checks_and_no_secrets() {
    let lab = TestLab::start().await;
    let browser = lab.notes_login("alice@acme.example").await;
    let (status, _) = lab.notes_page(&browser, "/notes").await;
    assert_eq!(status, StatusCode::OK);

    let events = trace_json(&lab, "").await;
    let grant = received(&events, "code grant");
    let exchange = received(&events, "token exchange");
    let bearer = received(&events, "jwt-bearer");
    let api = received(&events, "todo API");
    let flow = exchange["flow"].as_u64().unwrap();
    assert!(flow > 0);
    for e in [grant, bearer, api] {
        assert_eq!(e["flow"].as_u64(), Some(flow), "one flow from sign-in to API: {e}");
    }
    assert_eq!(exchange["client_id"], NOTES_CLIENT);
    assert_eq!(exchange["subject"], "alice@acme.example");
    assert_eq!(bearer["client_id"], NOTES_RESOURCE_CLIENT);

    let names = |e: &Value| {
        e["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(
        names(bearer),
        [
            "client",
            "format",
            "alg",
            "typ",
            "iss",
            "kid",
            "signature",
            "aud",
            "client_id",
            "exp",
            "iat",
            "jti",
            "sub",
            "cnf",
            "tenant",
            "resource",
            "scope",
            "jti"
        ]
    );
    assert!(names(exchange).contains(&"policy".to_owned()));
    assert!(names(api).contains(&"scope".to_owned()));
    assert!(bearer["checks"].as_array().unwrap().iter().all(|c| c["passed"] == true));

    // Tokens are decoded for display, but no secret or token is stored in full.
    let jag = exchange["tokens"].as_array().unwrap().iter().find(|t| t["field"] == "access_token").unwrap();
    assert_eq!(jag["header"]["typ"], "oauth-id-jag+jwt");
    assert_eq!(jag["claims"]["aud"], lab.authz());
    let dump = serde_json::to_string(&events).unwrap();
    assert!(!dump.contains("lab-notes-secret-not-for-production"));
    assert!(!dump.contains("lab-notes-at-todo0-secret-not-for-production"));
    let secret = exchange["request"].as_array().unwrap().iter().find(|p| p[0] == "client_secret").unwrap();
    assert!(secret[1].as_str().unwrap().contains("chars"), "{secret}");
    let subject = exchange["request"].as_array().unwrap().iter().find(|p| p[0] == "subject_token").unwrap();
    assert!(subject[1].as_str().unwrap().len() < 40, "the ID token is masked: {subject}");

    // Filters, one flow's exports.
    assert!(trace_json(&lab, "?user=bob%40acme.example").await.is_empty());
    let only_alice = trace_json(&lab, "?user=alice%40acme.example").await;
    assert!(only_alice.iter().all(|e| e["subject"] == "alice@acme.example") && !only_alice.is_empty());
    let console = &lab.lab.urls().console;
    let mermaid =
        lab.http.get(format!("{console}/trace/flows/{flow}/mermaid")).send().await.unwrap().text().await.unwrap();
    assert!(mermaid.starts_with("sequenceDiagram\n"), "{mermaid}");
    for line in ["participant", "(token exchange)", "(jwt-bearer)", "(todo API)", "-->>"] {
        assert!(mermaid.contains(line), "{line} in {mermaid}");
    }
    let page = lab.http.get(format!("{console}/trace/flows/{flow}")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Sequence diagram of flow") && page.contains("sequenceDiagram"));
    let json: Value =
        lab.http.get(format!("{console}/trace/flows/{flow}/json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(json["flow"], flow);
    assert_eq!(
        lab.http.get(format!("{console}/trace/flows/999999")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_refusal_points_at_the_failed_check() {
    let lab = TestLab::start().await;
    let login = lab.login("alice@acme.example").await;
    let jag = lab.id_jag(&login.id_token).await;
    lab.access_token(&jag).await;
    assert_eq!(lab.as_token(&lab.bearer_params(&jag)).await.status(), StatusCode::BAD_REQUEST);
    let events = trace_json(&lab, "").await;
    let replay = events.iter().rev().find(|e| e["step"] == "jwt-bearer").unwrap();
    assert_eq!(replay["status"], 400);
    assert_eq!(replay["response"]["error"], "invalid_grant");
    let failed: Vec<&Value> = replay["checks"].as_array().unwrap().iter().filter(|c| c["passed"] == false).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "jti");
    // The export names what each check rests on: jti on lab decision A2, the signature on a MUST.
    assert_eq!(failed[0]["level"], "lab decision");
    assert_eq!(failed[0]["decision"]["label"], "lab decision A2");
    assert_eq!(failed[0]["decision"]["why"], xaa_core::spec::LAB_A2.why);
    let signature = replay["checks"].as_array().unwrap().iter().find(|c| c["name"] == "signature").unwrap();
    assert_eq!((&signature["level"], signature.get("decision")), (&json!("MUST"), None), "{signature}");
}

#[tokio::test]
async fn the_trace_streams_server_sent_events() {
    let lab = TestLab::start().await;
    let mut stream = lab.http.get(format!("{}/trace/events", lab.lab.urls().console)).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    lab.http.get(format!("{}/jwks", lab.idp())).send().await.unwrap();
    let chunk =
        tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.expect("an event arrives").unwrap().unwrap();
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.contains("event: request") && text.contains("\"step\":\"keys\""), "{text}");
}

async fn inspect(lab: &TestLab, browser: &reqwest::Client, token: &str) -> (StatusCode, String) {
    let console = &lab.lab.urls().console;
    let form = browser.get(format!("{console}/inspect")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&form, "csrf");
    let resp = browser
        .post(format!("{console}/inspect"))
        .form(&[("csrf", csrf.as_str()), ("token", token)])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_inspector_judges_tokens_like_their_receivers() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let login = lab.login("alice@acme.example").await;
    let jag = lab.id_jag(&login.id_token).await;

    let (status, page) = inspect(&lab, &browser, &jag).await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "ID-JAG (Identity Assertion JWT Authorization Grant)",
        "id=\"accepted\"",
        "resource authorization server",
        "Unique id; the resource AS refuses it a second time, unless the resource allows re-use until exp.",
    ] {
        assert!(page.contains(text), "{text}");
    }
    let (_, page) = inspect(&lab, &browser, &login.id_token).await;
    assert!(page.contains("<h3 style=\"margin-top:0\">ID token</h3>") && page.contains("id=\"accepted\""));
    let at = lab.access_token(&jag).await;
    let (_, page) = inspect(&lab, &browser, &at).await;
    assert!(page.contains("Access token (RFC 9068)") && page.contains("id=\"accepted\""));
    // A DPoP-bound access token alone is not enough for the todo API: it needs a proof.
    let key = xaa_core::dpop::DpopKey::generate().unwrap();
    let token_url = format!("{}/token", lab.authz());
    let proof = xaa_core::dpop::sign_proof(&key, "POST", &token_url, lab.now(), "p-1", None, None).unwrap();
    let jag = lab.id_jag(&login.id_token).await;
    let resp = lab.http.post(&token_url).form(&lab.bearer_params(&jag)).header("DPoP", proof).send().await.unwrap();
    let bound: Value = resp.json().await.unwrap();
    let (_, page) = inspect(&lab, &browser, bound["access_token"].as_str().unwrap()).await;
    assert!(
        page.contains("id=\"refusal\"") && page.contains("✗ <strong>cnf</strong>"),
        "a bound token alone is refused"
    );

    // Tampered: another claim under the same signature.
    let (_, claims) = decode(&jag);
    let mut claims = claims.as_object().unwrap().clone();
    claims.insert("scope".into(), "todos.admin".into());
    let forged = sign(&untrusted_key("idp-2026-01"), "oauth-id-jag+jwt", &claims);
    let tampered = format!("{}.{}", &forged[..forged.rfind('.').unwrap()], &jag[jag.rfind('.').unwrap() + 1..]);
    let (_, page) = inspect(&lab, &browser, &tampered).await;
    assert!(page.contains("id=\"refusal\""), "tampered token refused");
    assert!(page.contains("✗ <strong>signature</strong>"), "the failed check is the signature");

    let (_, page) = inspect(&lab, &browser, "hello").await;
    assert!(page.contains("This is not a JWT"));
    let wrong = browser
        .post(format!("{}/inspect", lab.lab.urls().console))
        .form(&[("csrf", "forged"), ("token", jag.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
}

/// Drives the flow explorer through its four steps in `browser`; returns the final page.
async fn explore(lab: &TestLab, browser: &reqwest::Client, email: &str) -> String {
    let console = &lab.lab.urls().console;
    let page = browser.get(format!("{console}/explorer")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let start = browser
        .post(format!("{console}/explorer/start"))
        .form(&[("csrf", csrf.as_str()), ("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start);
    assert!(authorize.contains("client_id=lab-explorer") && authorize.contains("prompt=login"), "{authorize}");
    let callback = login_via_pages(lab.idp(), browser, &authorize, email).await;
    assert!(callback.starts_with(&format!("{console}/explorer/callback?")), "{callback}");
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    for step in ["2", "3", "4"] {
        let resp = browser
            .post(format!("{console}/explorer/step/{step}"))
            .form(&[("csrf", csrf.as_str()), ("endpoint", "GET /api/todos")])
            .send()
            .await
            .unwrap();
        assert!(location(&resp).starts_with("/explorer#step-"), "{}", location(&resp));
    }
    browser.get(format!("{console}/explorer")).send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn the_flow_explorer_runs_the_four_steps() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let page = explore(&lab, &browser, "alice@acme.example").await;
    for n in 1..=4 {
        assert!(page.contains(&format!("id=\"status-{n}\">200")), "step {n} succeeded");
    }
    // Step 1: the code grant with Basic auth, masked; the ID token decoded and explained.
    assert!(page.contains("POST /token HTTP/1.1") && page.contains("Authorization: Basic "));
    assert!(page.contains("The client the ID token was issued to"));
    // Step 2: the exchange's exact parameters, the ID-JAG decoded, the IdP's checks (policy).
    assert!(page.contains("requested_token_type=urn:ietf:params:oauth:token-type:id-jag"));
    assert!(page.contains("ID-JAG (Identity Assertion JWT Authorization Grant) in <code>access_token</code>"));
    assert!(page.contains("<strong>policy</strong>"));
    // Step 3: the authorization server's checks, in order, all passed.
    assert!(page.contains("id=\"checks-3\""));
    assert!(page.contains("✓ <strong>signature</strong>") && !page.contains("✗"));
    // Steps 2 and 3: the explorer's own check of each token response's resource.
    for n in [2, 3] {
        let own =
            page.split(&format!("id=\"client-checks-{n}\"")).nth(1).expect("the explorer's checks").split("</ol>");
        let own = own.into_iter().next().unwrap();
        assert!(own.contains("✓ <strong>resource</strong>: the response&#39;s resource ("), "step {n}: {own}");
    }
    // Step 4: the todo API's answer.
    assert!(page.contains("&#34;success&#34;: true") || page.contains("\"success\": true"), "the API answered");
    // Code in four languages, with secrets as variables only.
    for lang in ["<h4>curl</h4>", "<h4>JavaScript</h4>", "<h4>Python</h4>", "<h4>Rust</h4>"] {
        assert!(page.contains(lang), "{lang}");
    }
    assert!(page.contains("$CLIENT_SECRET") || page.contains("CLIENT_SECRET"));
    assert!(!page.contains("lab-explorer-secret-not-for-production"), "no secret on the page");
    assert!(!page.contains("lab-explorer-at-todo0-secret-not-for-production"));

    // Start over clears the chain.
    let csrf = hidden(&page, "csrf");
    browser
        .post(format!("{}/explorer/reset", lab.lab.urls().console))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let fresh = browser.get(format!("{}/explorer", lab.lab.urls().console)).send().await.unwrap().text().await.unwrap();
    assert!(!fresh.contains("id=\"status-1\""));
    assert!(fresh.contains("id=\"run-2\" disabled"));
}

#[tokio::test]
async fn the_explorer_shows_a_refusal_with_the_failed_check() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let keep = lab.lab.connections().into_iter().filter(|c| c.client_id != "lab-explorer").collect();
    lab.lab.set_connections(keep).await.unwrap();
    let page = explore(&lab, &browser, "alice@acme.example").await;
    assert!(page.contains("id=\"status-2\">400 invalid_target"), "the exchange is refused");
    assert!(page.contains("✗ <strong>policy</strong>"));
    assert!(page.contains("id=\"run-3\" disabled"), "no ID-JAG, so step 3 cannot run");
}

/// The explorer checks the `resource` of each token response as a requestor must: a resource it
/// did not ask for fails the step and the token is discarded, so the next step cannot run.
#[tokio::test]
async fn the_explorer_discards_a_token_for_a_resource_not_asked_for() {
    use xaa_lab::faults::{Fault, WRONG_RESOURCE};
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let failed = format!(
        "✗ <strong>resource</strong>: the response names resource &#34;{WRONG_RESOURCE}&#34;, which was not asked for (asked for: {}); the token must not be used",
        lab.api()
    );
    lab.break_it(Fault::ExchangeWrongResource, &[]);
    let page = explore(&lab, &browser, "alice@acme.example").await;
    assert!(page.contains("id=\"status-2\">200 OK, token discarded: resource not asked for"), "{page}");
    assert!(page.contains(&failed), "step 2 shows the failed check: {page}");
    assert!(page.contains("id=\"run-3\" disabled"), "no ID-JAG kept, so step 3 cannot run");
    lab.mend(Fault::ExchangeWrongResource);

    lab.break_it(Fault::GrantWrongResource, &[]);
    let page = explore(&lab, &browser, "alice@acme.example").await;
    assert!(page.contains("id=\"status-2\">200 OK</span>"), "step 2 passes");
    assert!(page.contains("id=\"status-3\">200 OK, token discarded: resource not asked for"), "{page}");
    assert!(page.contains(&failed), "step 3 shows the failed check");
    assert!(page.contains("id=\"run-4\" disabled"), "no access token kept, so step 4 cannot run");
    let events = lab.lab.trace_events(&xaa_lab::observe::trace::TraceFilter::default());
    assert!(events.iter().all(|e| e.step != "todo API"), "no todo API call was made");
}

/// Issue 21: polling the trace must not starve the protocol endpoints. `trace.json` pages like
/// the trace page (the newest 20 flows, `older` pages back) and both answer `304` to a client
/// that sends the `ETag` back, until the trace changes.
#[tokio::test]
async fn trace_json_pages_like_the_trace_page_and_answers_304_until_the_trace_changes() {
    let lab = TestLab::start().await;
    for i in 0..25 {
        let url = lab.authorize_url(NOTES_CLIENT, &format!("{}/auth/callback", lab.notes()), &[]);
        lab.http
            .get(url.replace(&format!("client_id={NOTES_CLIENT}"), &format!("client_id=app-{i}")))
            .send()
            .await
            .unwrap();
    }
    let console = lab.console();
    let resp = lab.http.get(format!("{console}/trace.json")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");
    let page: Value = resp.json().await.unwrap();
    let flows = page["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 20, "the newest 20 flows");
    let clients: Vec<&str> =
        page["events"].as_array().unwrap().iter().filter_map(|e| e["client_id"].as_str()).collect();
    assert!(clients.contains(&"app-24") && !clients.contains(&"app-0"), "{clients:?}");
    assert!(page["paging"].as_str().unwrap().contains("If-None-Match"));
    let older = page["older"].as_str().unwrap();
    let page2: Value = lab.http.get(format!("{console}{older}")).send().await.unwrap().json().await.unwrap();
    let clients2: Vec<&str> =
        page2["events"].as_array().unwrap().iter().filter_map(|e| e["client_id"].as_str()).collect();
    assert!(clients2.contains(&"app-0") && !clients2.contains(&"app-24"), "older flows: {clients2:?}");
    assert_eq!(page2["older"], Value::Null);

    // The same page again, with its ETag: 304 and no body, for the JSON and the HTML page alike.
    for path in ["/trace.json", "/trace"] {
        let first = lab.http.get(format!("{console}{path}")).send().await.unwrap();
        let etag = first.headers()["etag"].clone();
        assert_eq!(first.headers()["cache-control"], "no-cache", "{path}");
        let again =
            lab.http.get(format!("{console}{path}")).header("if-none-match", etag.clone()).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"], etag, "{path}");
        assert!(again.bytes().await.unwrap().is_empty(), "{path}");
    }
    let resp = lab.http.get(format!("{console}/trace.json")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    // A new request changes the trace: the old ETag gets the new page.
    lab.http.get(format!("{}/jwks", lab.idp())).send().await.unwrap();
    let resp = lab.http.get(format!("{console}/trace.json")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(resp.headers()["etag"].to_str().unwrap(), etag);
    // Another filter is another page, with another ETag.
    let filtered = lab.http.get(format!("{console}/trace.json?client=app-3")).header("if-none-match", &etag).send();
    let filtered = filtered.await.unwrap();
    assert_eq!(filtered.status(), StatusCode::OK);
    let only: Value = filtered.json().await.unwrap();
    assert!(only["events"].as_array().unwrap().iter().all(|e| e["client_id"] == "app-3"));
}

/// Issue 19: a flow's protocol calls come first; page loads, redirects, sign-in forms and
/// discovery are folded away (closed) with their count; every row has its time.
#[tokio::test]
async fn the_trace_page_shows_protocol_calls_first_folds_the_rest_and_times_every_row() {
    let lab = TestLab::start().await;
    let browser = lab.notes_login("alice@acme.example").await;
    assert_eq!(lab.notes_page(&browser, "/notes").await.0, StatusCode::OK);
    lab.http.get(format!("{}/.well-known/openid-configuration", lab.idp())).send().await.unwrap();
    lab.http.get(format!("{}/jwks", lab.idp())).send().await.unwrap();
    let page = lab.http.get(format!("{}/trace", lab.console())).send().await.unwrap().text().await.unwrap();
    let sections: Vec<&str> = page.split("<section class=\"trace-flow\"").skip(1).collect();
    let notes = sections.iter().find(|s| s.contains("<code>lab-notes</code> · alice")).expect("the notes flow");
    let (calls, others) = notes.split_once("<details class=\"others\"").unwrap();
    let summaries = |html: &str| -> Vec<String> {
        html.split("<summary>").skip(1).map(|s| s.split("</summary>").next().unwrap().to_owned()).collect()
    };
    let rows = summaries(calls);
    for step in ["<strong>login</strong>", "code grant", "token exchange", "jwt-bearer", "todo API"] {
        assert!(rows.iter().any(|r| r.contains(step)), "{step} among the calls: {rows:#?}");
    }
    assert!(
        rows[0].contains("GET localhost") && rows[0].contains("/authorize"),
        "the authorization request: {rows:#?}"
    );
    assert!(others.starts_with(" hidden"), "a flow of protocol calls only folds nothing");
    // Flow 0, the requests that name no client: the key fetch first, the rest folded.
    let other = sections.iter().find(|s| s.starts_with(" id=\"flow-0\"")).expect("flow 0");
    let (calls, folded) = other.split_once("<details class=\"others\"").unwrap();
    let (calls, folded_rows) = (summaries(calls), summaries(folded));
    assert!(calls.iter().all(|r| r.contains("<strong>keys</strong>")) && !calls.is_empty(), "{calls:#?}");
    assert!(folded.starts_with(">"), "folded, closed and shown: {folded}");
    for path in ["/login/email", "/login/code", "/.well-known/openid-configuration", "/notes"] {
        assert!(folded_rows.iter().any(|r| r.contains(path)), "{path} folded: {folded_rows:#?}");
    }
    let count: usize = folded.split("class=\"others-n\">").nth(1).unwrap().split('<').next().unwrap().parse().unwrap();
    assert_eq!(count, folded.matches("<details id=\"ev-").count(), "the count is of the folded rows");
    // A time on every row: HH:MM:SS.mmm on the lab clock.
    let rows = page.matches("<details id=\"ev-").count();
    let times: Vec<&str> = page
        .split("<time class=\"when\" title=\"lab clock, UTC\">")
        .skip(1)
        .map(|t| t.split('<').next().unwrap())
        .collect();
    assert_eq!(times.len(), rows, "every row has a time");
    assert!(times.iter().all(|t| t.len() == 12 && t.as_bytes()[2] == b':' && t.as_bytes()[8] == b'.'), "{times:?}");
}
