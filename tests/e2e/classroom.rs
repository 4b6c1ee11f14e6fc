//! Classroom mode: the exercises (one page per break-it switch) and the banner every console page
//! shows while a switch is on or the lab clock is moved.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use reqwest::Method;
use serde_json::json;

use crate::browser::Browser;
use crate::harness::*;

pub(crate) async fn page(lab: &TestLab, path: &str) -> (u16, String) {
    let resp = lab.http.get(format!("{}{path}", lab.console())).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Every console page the banner must appear on (the admin pages without a session show the
/// sign-in page, which is a console page too).
const PAGES: [&str; 7] =
    ["/", "/trace", "/explorer", "/inspect", "/exercises", "/exercises/id-jag-expired", "/admin/login"];

#[tokio::test]
async fn exercises_name_the_failing_check_and_the_banner_follows_switches_and_clock() {
    let lab = TestLab::start().await;
    let (status, index) = page(&lab, "/exercises").await;
    assert_eq!(status, 200);
    for name in ["id-jag-expired", "id-jag-wrong-typ", "id-jag-untrusted-key", "refuse-next-grant", "short-lifetimes"] {
        assert!(index.contains(&format!("href=\"/exercises/{name}\"")), "{name} listed");
    }
    // Neither the index nor an exercise gives the answer away before it is asked for.
    assert!(!index.contains("Failing check") && !index.contains("<code>typ</code>"), "{index}");
    let (status, unasked) = page(&lab, "/exercises/id-jag-wrong-typ").await;
    assert_eq!(status, 200);
    for answer in [
        "id=\"failed-check\"",
        "id=\"expected-answer\"",
        "id=\"what-happens\"",
        "before the signature is even looked at",
        "Token confusion",
    ] {
        assert!(!unasked.contains(answer), "{answer} shown before it is asked for");
    }
    assert!(unasked.contains("Show the answer without predicting"));
    let (status, typ) = page(&lab, "/exercises/id-jag-wrong-typ?reveal=1").await;
    assert_eq!(status, 200);
    assert!(!typ.contains("id=\"rests-on\""), "no citation sent after this description");
    let (_, refused) = page(&lab, "/exercises/refuse-next-grant?reveal=1").await;
    assert!(refused.contains(">break-it switch</span>"), "a switch is labelled as one");
    assert!(typ.contains("id=\"failed-check\">typ<"), "the check's name");
    assert!(typ.contains("Token confusion"), "the attack");
    assert!(typ.contains("href=\"/admin#switch-id-jag-wrong-typ\""), "the way to turn it on");
    assert!(typ.contains("href=\"/explorer#step-3\""), "the step to run");
    let (status, missing) = page(&lab, "/exercises/break-everything").await;
    assert_eq!(status, 404);
    assert!(missing.contains("There is no break-it switch called “break-everything”"), "{missing}");
    let (_, escaped) = page(&lab, "/exercises/%3Cscript%3E").await;
    assert!(
        !escaped.contains("“<script>”") && escaped.contains("“&#60;script&#62;”"),
        "the name is escaped: {escaped}"
    );

    for path in PAGES {
        let (status, html) = page(&lab, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("id=\"lab-status\""), "no banner on {path} while the lab is itself");
    }
    let resp = lab
        .admin(Method::PUT, "/api/admin/switches/id-jag-expired")
        .json(&json!({ "client_id": CLIENT }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    for path in PAGES {
        let (_, html) = page(&lab, path).await;
        assert!(html.contains("id=\"lab-status\""), "banner on {path}");
        assert!(html.contains("<code>id-jag-expired</code></a> for"), "which switch, on {path}");
        assert!(html.contains(CLIENT), "for whom, on {path}");
    }
    let (_, exercise) = page(&lab, "/exercises/id-jag-expired").await;
    assert!(exercise.contains("id=\"switch-state\">ON"), "the exercise says its switch is on");
    lab.admin(Method::DELETE, "/api/admin/switches/id-jag-expired").send().await.unwrap();
    let (_, home) = page(&lab, "/").await;
    assert!(!home.contains("id=\"lab-status\""));

    // The lab clock moved by IT: the banner says by how much; moved back, it goes.
    let moved = lab.admin(Method::POST, "/api/admin/clock").json(&json!({ "advance": 3600 })).send().await.unwrap();
    assert_eq!(moved.status(), 200);
    let (_, trace) = page(&lab, "/trace").await;
    assert!(trace.contains("The lab clock is moved +1 h 0 min 0 s from the wall clock"), "clock offset shown");
    lab.admin(Method::POST, "/api/admin/clock").json(&json!({ "advance": -3600 })).send().await.unwrap();
    let (_, trace) = page(&lab, "/trace").await;
    assert!(!trace.contains("id=\"lab-status\""));
}

/// Waits until the console page's banner is present (or absent), reloading: the banner is
/// rendered with the page.
async fn wait_for_banner(b: &fantoccini::Client, url: &str, present: bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        b.goto(url).await.unwrap();
        let found = b.find_all(Locator::Id("lab-status")).await.unwrap();
        if found.is_empty() != present {
            return match found.first() {
                Some(e) => e.text().await.unwrap(),
                None => String::new(),
            };
        }
        assert!(std::time::Instant::now() < deadline, "banner present = {present} never came");
    }
}

#[tokio::test]
async fn an_exercise_page_and_the_switch_banner_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let console = lab.console().to_owned();

    b.goto(&format!("{console}/exercises")).await.unwrap();
    b.find(Locator::Css("#exercise-id-jag-untrusted-key a")).await.unwrap().click().await.unwrap();
    let title = b.wait().for_element(Locator::Id("exercise-title")).await.unwrap().text().await.unwrap();
    assert_eq!(title, "An ID-JAG signed with an unknown key");
    // Predict first: nothing of the answer is on the page yet.
    assert!(b.find(Locator::Id("failed-check")).await.is_err(), "the answer waits to be asked for");
    b.find(Locator::Css("#outcome option[value='400-invalid_grant']")).await.unwrap().click().await.unwrap();
    b.find(Locator::Id("check")).await.unwrap().send_keys("signature").await.unwrap();
    b.find(Locator::Id("save-prediction")).await.unwrap().click().await.unwrap();
    let mine = b.wait().for_element(Locator::Id("your-prediction")).await.unwrap().text().await.unwrap();
    assert_eq!(mine, "Your prediction: 400 invalid_grant; check signature. Now run it.");
    assert!(b.find(Locator::Id("failed-check")).await.is_err(), "still hidden after predicting");
    // Then the answer, on request, held against the prediction.
    b.find(Locator::Id("show-answer")).await.unwrap().click().await.unwrap();
    let verdict = b.wait().for_element(Locator::Id("verdict")).await.unwrap().text().await.unwrap();
    assert_eq!(verdict, "You predicted 400 invalid_grant: right. You named check signature: not quite it is kid.");
    let happens = b.find(Locator::Id("what-happens")).await.unwrap().text().await.unwrap();
    assert!(happens.contains("untrusted-demo"), "{happens}");
    assert_eq!(b.find(Locator::Id("failed-check")).await.unwrap().text().await.unwrap(), "kid");
    assert!(b.find(Locator::Id("attack")).await.unwrap().text().await.unwrap().starts_with("Key substitution"));
    // Requiring kid is the lab's choice, and the page says so.
    let tag = b.find(Locator::Css("#rests-on .decision-tag")).await.unwrap().text().await.unwrap();
    assert_eq!(tag, "lab decision A13");
    let rests_on = b.find(Locator::Id("rests-on")).await.unwrap().text().await.unwrap();
    assert!(rests_on.contains(xaa_core::spec::LAB_A13.why) && rests_on.contains("RFC 7515 §4.1.4"), "{rests_on}");
    let run = b.find(Locator::Id("run-step")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert_eq!(run, "/explorer#step-3");
    browser.screenshot("exercise-untrusted-key").await;

    let home = format!("{console}/");
    wait_for_banner(b, &home, false).await;
    let resp =
        lab.admin(Method::PUT, "/api/admin/switches/todo-api-unavailable").json(&json!({})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let banner = wait_for_banner(b, &home, true).await;
    assert!(banner.contains("todo-api-unavailable for every client"), "{banner}");
    browser.screenshot("banner-switch-on").await;
    // The banner links to the switch's exercise.
    b.find(Locator::Css("#lab-status a.lab-switch")).await.unwrap().click().await.unwrap();
    let title = b.wait().for_element(Locator::Id("exercise-title")).await.unwrap().text().await.unwrap();
    assert_eq!(title, "The todo API is down");
    let resp = lab.admin(Method::DELETE, "/api/admin/switches/todo-api-unavailable").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    wait_for_banner(b, &home, false).await;
    browser.close().await;
}

/// The text of the element with `id` in a page (credentials are plain ids and tokens).
pub(crate) fn by_id(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\">")).unwrap_or_else(|| panic!("no #{id}")) + id.len() + 6;
    html[start..].split('<').next().unwrap().to_owned()
}

/// A participant's browser with the console's CSRF cookie, and the token for the join form.
async fn join_form(lab: &TestLab) -> (reqwest::Client, String) {
    let browser = lab.browser();
    let page = browser.get(format!("{}/join", lab.console())).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains("room-42"), "the page never shows the join code");
    (browser, hidden(&html, "csrf"))
}

/// Posts the join form; a registration is followed to the page its `303` names.
async fn join(lab: &TestLab, browser: &reqwest::Client, csrf: &str, code: &str, name: &str) -> (u16, String) {
    let form = [("csrf", csrf), ("join_code", code), ("name", name), ("redirect_uris", REDIRECT)];
    let resp = browser
        .post(format!("{}/join", lab.console()))
        .header("origin", lab.console())
        .form(&form)
        .send()
        .await
        .unwrap();
    let resp = see_other(browser, lab.console(), resp).await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn registered_names(lab: &TestLab) -> Vec<String> {
    let list: serde_json::Value =
        lab.admin(Method::GET, "/api/admin/clients").send().await.unwrap().json().await.unwrap();
    list["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["registered"] == true)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

fn classroom(c: &mut xaa_lab::LabConfig) {
    c.join_code = Some("room-42".into());
}

#[tokio::test]
async fn a_participant_registers_with_the_join_code_and_runs_the_flow() {
    let lab = TestLab::start_configured(classroom).await;
    assert_eq!(lab.lab.join_code(), "room-42");
    assert_eq!(lab.lab.ready_json()["join_code"], "room-42");
    let (browser, csrf) = join_form(&lab).await;
    let resp = browser
        .post(format!("{}/join", lab.console()))
        .header("origin", lab.console())
        .form(&[
            ("csrf", csrf.as_str()),
            ("join_code", " room-42 "),
            ("name", "Ada's <App>"),
            ("redirect_uris", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    // Post/redirect/get: a refresh of the page does not register again.
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/join/registered");
    let resp = see_other(&browser, lab.console(), resp).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store", "the page holds secrets");
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<App>"), "the name is escaped");
    let again = browser.get(format!("{}/join/registered", lab.console())).send().await.unwrap().text().await.unwrap();
    assert_eq!(by_id(&again, "client-secret"), by_id(&html, "client-secret"), "a refresh shows the same app");
    // Another browser, and this one after ten minutes, see no secret.
    let stranger = lab.browser().get(format!("{}/join/registered", lab.console())).send().await.unwrap();
    let stranger = stranger.text().await.unwrap();
    assert!(stranger.contains("id=\"gone\"") && !stranger.contains("client-secret"), "{stranger}");
    let (client_id, secret) = (by_id(&html, "client-id"), by_id(&html, "client-secret"));
    let (resource_id, resource_secret) = (by_id(&html, "resource-client-id"), by_id(&html, "resource-client-secret"));
    let dotenv = by_id(&html, "dotenv");
    for line in
        [format!("CLIENT_ID={client_id}"), format!("IDP_URL={}", lab.idp()), format!("AUTH_SERVER_URL={}", lab.authz())]
    {
        assert!(dotenv.contains(&line), "{line} in {dotenv}");
    }
    assert!(registered_names(&lab).await.contains(&"Ada's <App>".to_owned()), "IT sees the app");

    // Its credentials run the real flow.
    let login = lab.login_as(&client_id, &secret, REDIRECT, "ada@acme.example").await;
    let exchange = with(
        &with(&lab.exchange_params(&login.id_token), "client_id", Some(&client_id)),
        "client_secret",
        Some(&secret),
    );
    let te: serde_json::Value = lab.idp_token(&exchange).await.json().await.unwrap();
    let jag = te["access_token"].as_str().expect("an ID-JAG").to_owned();
    let bearer =
        with(&with(&lab.bearer_params(&jag), "client_id", Some(&resource_id)), "client_secret", Some(&resource_secret));
    let at: serde_json::Value = lab.as_token(&bearer).await.json().await.unwrap();
    let token = at["access_token"].as_str().expect("an access token").to_owned();
    assert_eq!(lab.todo(Method::GET, "/api/todos", &token).send().await.unwrap().status(), 200);

    // IT still governs it: a revoked connection refuses the next exchange.
    let revoke = format!("/api/admin/connections?client_id={client_id}");
    assert_eq!(lab.admin(Method::DELETE, &revoke).send().await.unwrap().status(), 200);
    let d = assert_oauth_error(lab.idp_token(&exchange).await, 400, "invalid_target").await;
    assert!(d.contains(&client_id), "{d}");

    lab.clock.advance(10 * 60);
    let later = browser.get(format!("{}/join/registered", lab.console())).send().await.unwrap().text().await.unwrap();
    assert!(later.contains("id=\"gone\"") && !later.contains(&secret), "shown for ten minutes only");
}

#[tokio::test]
async fn joins_are_refused_for_a_wrong_code_a_foreign_origin_the_rate_and_the_cap() {
    let lab = TestLab::start_configured(|c| {
        classroom(c);
        c.max_joins = 3;
        c.joins_per_minute = 2;
    })
    .await;
    let (browser, csrf) = join_form(&lab).await;

    let (status, html) = join(&lab, &browser, &csrf, "room-41", "Wrong").await;
    assert_eq!(status, 403);
    assert!(html.contains("That is not this lab&#39;s join code") || html.contains("That is not this lab"), "{html}");
    let (status, html) = join(&lab, &browser, "not-the-token", "room-42", "No CSRF").await;
    assert_eq!(status, 400);
    assert!(html.contains("open too long"), "{html}");
    let foreign = browser
        .post(format!("{}/join", lab.console()))
        .header("origin", "http://localhost:3000")
        .form(&[("csrf", csrf.as_str()), ("join_code", "room-42"), ("name", "Foreign"), ("redirect_uris", REDIRECT)])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let (status, html) = join(&lab, &browser, &csrf, "room-42", "").await;
    assert_eq!(status, 400, "an invalid registration takes no place");
    assert!(html.contains("application name"), "{html}");
    assert!(registered_names(&lab).await.is_empty(), "nothing was created");

    // Two a minute (lab clock), three in all.
    assert_eq!(join(&lab, &browser, &csrf, "room-42", "One").await.0, 200);
    assert_eq!(join(&lab, &browser, &csrf, "room-42", "Two").await.0, 200);
    let resp = browser
        .post(format!("{}/join", lab.console()))
        .header("origin", lab.console())
        .form(&[("csrf", csrf.as_str()), ("join_code", "room-42"), ("name", "Three"), ("redirect_uris", REDIRECT)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "60");
    assert!(resp.text().await.unwrap().contains("at most 2 a minute"));
    lab.clock.advance(60);
    assert_eq!(join(&lab, &browser, &csrf, "room-42", "Three").await.0, 200);
    lab.clock.advance(60);
    let (status, html) = join(&lab, &browser, &csrf, "room-42", "Four").await;
    assert_eq!(status, 403);
    assert!(html.contains("already has 3 participant apps"), "{html}");
    assert_eq!(registered_names(&lab).await, ["One", "Two", "Three"]);

    // The admin page shows the code and the count.
    let page = lab.browser();
    page.get(format!("{}/admin?token={}", lab.console(), lab.lab.admin_token())).send().await.unwrap();
    let admin = page.get(format!("{}/admin", lab.console())).send().await.unwrap().text().await.unwrap();
    assert!(admin.contains("<code>room-42</code></strong> (3 of at most 3 registered this run)"), "{admin}");
}

#[tokio::test]
async fn a_participant_joins_in_chromium() {
    let lab = TestLab::start_configured(classroom).await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&format!("{}/join", lab.console())).await.unwrap();
    b.find(Locator::Id("join_code")).await.unwrap().send_keys("room-99").await.unwrap();
    b.find(Locator::Id("name")).await.unwrap().send_keys("Grace's app").await.unwrap();
    b.find(Locator::Id("register")).await.unwrap().click().await.unwrap();
    let refused = b.wait().for_element(Locator::Id("message")).await.unwrap().text().await.unwrap();
    assert!(refused.contains("not this lab's join code"), "{refused}");
    let code = b.find(Locator::Id("join_code")).await.unwrap();
    code.clear().await.unwrap();
    code.send_keys("room-42").await.unwrap();
    b.find(Locator::Id("register")).await.unwrap().click().await.unwrap();
    let client_id = b.wait().for_element(Locator::Id("client-id")).await.unwrap().text().await.unwrap();
    let dotenv = b.find(Locator::Id("dotenv")).await.unwrap().text().await.unwrap();
    assert!(dotenv.contains(&format!("CLIENT_ID={client_id}")), "{dotenv}");
    browser.screenshot("join-registered").await;
    let secret = b.find(Locator::Id("client-secret")).await.unwrap().text().await.unwrap();
    // Each credential shown once has its copy button.
    for id in ["client-id", "client-secret", "resource-client-id", "resource-client-secret", "dotenv"] {
        let copy = b.find(Locator::Id(&format!("copy-{id}"))).await.unwrap();
        assert_eq!(copy.text().await.unwrap(), "Copy", "{id}");
    }
    b.find(Locator::Id("copy-client-secret")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.find(Locator::Id("copy-client-secret")).await.unwrap().text().await.unwrap() != "Copied" {
        assert!(Instant::now() < deadline, "the copy button never said it copied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A refresh reloads the page the registration redirected to: nothing is posted again.
    b.refresh().await.unwrap();
    assert_eq!(b.wait().for_element(Locator::Id("client-secret")).await.unwrap().text().await.unwrap(), secret);
    assert_eq!(b.current_url().await.unwrap().path(), "/join/registered");
    assert_eq!(registered_names(&lab).await, ["Grace's app"]);
    let login = lab.login_as(&client_id, &secret, REDIRECT, "grace@acme.example").await;
    let exchange = with(
        &with(&lab.exchange_params(&login.id_token), "client_id", Some(&client_id)),
        "client_secret",
        Some(&secret),
    );
    assert_eq!(lab.idp_token(&exchange).await.status(), 200);
    browser.close().await;
}

/// Posts `/explorer/as` with `fields`; returns where it sent the browser.
async fn explorer_as(lab: &TestLab, browser: &reqwest::Client, fields: &[(&str, &str)]) -> String {
    let page = browser.get(format!("{}/explorer", lab.console())).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let resp = browser.post(format!("{}/explorer/as", lab.console())).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    location(&resp)
}

#[tokio::test]
async fn a_participant_without_node_runs_the_four_steps_as_their_own_app() {
    let lab = TestLab::start_configured(classroom).await;
    let (browser, csrf) = join_form(&lab).await;
    let (status, registered) = join(&lab, &browser, &csrf, "room-42", "Ada's notes").await;
    assert_eq!(status, 200);
    let client_id = by_id(&registered, "client-id");
    // The page's primary action posts the app's credentials to the explorer.
    let run_as = registered.split("id=\"run-as\"").nth(1).expect("the run-as form").split("</form>").next().unwrap();
    let field = |name: &str| hidden(run_as, name);
    assert_eq!(field("client_id"), client_id);
    assert!(run_as.contains("id=\"run-as-app\">Run the four steps as Ada&#39;s notes</button>"), "{run_as}");
    let credentials =
        ["client_id", "client_secret", "resource_client_id", "resource_client_secret"].map(|n| (n, field(n)));
    let mut form: Vec<(&str, &str)> = vec![("as", "app")];
    form.extend(credentials.iter().map(|(n, v)| (*n, v.as_str())));
    assert_eq!(explorer_as(&lab, &browser, &form).await, "/explorer#step-1");

    let console = lab.console();
    let page = browser.get(format!("{console}/explorer")).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains(&format!("Running as <strong>Ada&#39;s notes</strong> (client <code>{client_id}</code>)")),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    let start = browser
        .post(format!("{console}/explorer/start"))
        .form(&[("csrf", csrf.as_str()), ("email", "ada@acme.example")])
        .send()
        .await
        .unwrap();
    let authorize = location(&start);
    assert!(authorize.contains(&format!("client_id={client_id}&")), "{authorize}");
    let callback = login_via_pages(lab.idp(), &browser, &authorize, "ada@acme.example").await;
    assert!(callback.starts_with(&format!("{console}/explorer/callback?")), "{callback}");
    browser.get(&callback).send().await.unwrap();
    for step in ["2", "3", "4"] {
        let form = [("csrf", csrf.as_str()), ("endpoint", "GET /api/todos")];
        browser.post(format!("{console}/explorer/step/{step}")).form(&form).send().await.unwrap();
    }
    let page = browser.get(format!("{console}/explorer")).send().await.unwrap().text().await.unwrap();
    for n in 1..=4 {
        assert!(page.contains(&format!("id=\"status-{n}\">200")), "step {n} ran as the app: {page}");
    }
    assert!(!page.contains(&credentials[1].1) && !page.contains(&credentials[3].1), "no secret on the page");
    // Start over keeps the app; the teacher's room shows its steps on its own row.
    browser.post(format!("{console}/explorer/reset")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    let page = browser.get(format!("{console}/explorer")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"acting-as-app\"") && !page.contains("id=\"status-1\""));
    let teacher = lab.browser();
    teacher.get(format!("{console}/admin?token={}", lab.lab.admin_token())).send().await.unwrap();
    let room = teacher.get(format!("{console}/admin/room")).send().await.unwrap().text().await.unwrap();
    let row = room
        .split(&format!("<tr data-client=\"{client_id}\">"))
        .nth(1)
        .expect("the app's row")
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains("<td class=\"last\">") && row.contains("<span class=\"badge ok\">200</span>"), "{row}");
    assert!(!row.contains("no request yet"), "{row}");

    // Back to the lab's own requestor.
    assert_eq!(explorer_as(&lab, &browser, &[("as", "lab")]).await, "/explorer#step-1");
    let page = browser.get(format!("{console}/explorer")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("client <code>lab-explorer</code>") && !page.contains("id=\"acting-as-app\""));
}

#[tokio::test]
async fn the_explorer_says_why_it_cannot_run_as_an_app() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let console = lab.console();
    let app = registered_app(&lab, "No callback").await;
    let cases = [
        (
            vec![("as", "app"), ("client_id", "x"), ("client_secret", "")],
            "incomplete",
            "To run as your app, give all four credentials from your .env: CLIENT_ID, CLIENT_SECRET, RESOURCE_CLIENT_ID and RESOURCE_CLIENT_SECRET.",
        ),
        (
            vec![
                ("as", "app"),
                ("client_id", "nobody"),
                ("client_secret", "s"),
                ("resource_client_id", "r"),
                ("resource_client_secret", "s"),
            ],
            "unknown-client",
            "The lab&#39;s IdP has no client with that CLIENT_ID. Copy it from the page /join showed, or join again.",
        ),
        (
            vec![
                ("as", "app"),
                ("client_id", &app.0),
                ("client_secret", &app.1),
                ("resource_client_id", &app.2),
                ("resource_client_secret", &app.3),
            ],
            "no-callback",
            "That app&#39;s redirect URIs do not include the explorer&#39;s callback",
        ),
    ];
    for (fields, param, text) in cases {
        assert_eq!(explorer_as(&lab, &browser, &fields).await, format!("/explorer?as_error={param}#acting-as"));
        let page =
            browser.get(format!("{console}/explorer?as_error={param}")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("id=\"as-error\">{text}")), "{param}: {page}");
        assert!(page.contains("<details id=\"as-your-app\" open>"), "the form stays open");
        assert!(page.contains("client <code>lab-explorer</code>"), "nothing changed");
    }
    let forged =
        browser.post(format!("{console}/explorer/as")).form(&[("csrf", "forged"), ("as", "app")]).send().await.unwrap();
    assert_eq!(location(&forged), "/explorer#acting-as", "a forged form changes nothing");
}

/// Registers an app through the admin API; returns (client id, secret, resource id, resource secret).
async fn registered_app(lab: &TestLab, name: &str) -> (String, String, String, String) {
    let body = json!({ "name": name, "redirect_uris": [REDIRECT] });
    let r: serde_json::Value =
        lab.admin(Method::POST, "/api/admin/clients").json(&body).send().await.unwrap().json().await.unwrap();
    let s = |k: &str| r[k].as_str().unwrap().to_owned();
    (s("client_id"), s("client_secret"), s("resource_client_id"), s("resource_client_secret"))
}

/// Signs in and exchanges as the app; returns the ID-JAG.
async fn exchange_as(lab: &TestLab, app: &(String, String, String, String), email: &str) -> String {
    let login = lab.login_as(&app.0, &app.1, REDIRECT, email).await;
    let params =
        with(&with(&lab.exchange_params(&login.id_token), "client_id", Some(&app.0)), "client_secret", Some(&app.1));
    let te: serde_json::Value = lab.idp_token(&params).await.json().await.unwrap();
    te["access_token"].as_str().unwrap().to_owned()
}

async fn bearer_as(lab: &TestLab, app: &(String, String, String, String), jag: &str) -> reqwest::Response {
    let params = with(&with(&lab.bearer_params(jag), "client_id", Some(&app.2)), "client_secret", Some(&app.3));
    lab.as_token(&params).await
}

#[tokio::test]
async fn the_room_lists_progress_and_refusals_and_exports_csv() {
    let lab = TestLab::start().await;
    let ada = registered_app(&lab, "Ada").await;
    let bob = registered_app(&lab, "Bob, \"the builder\"").await;
    let jag = exchange_as(&lab, &ada, "ada@acme.example").await;
    assert_eq!(bearer_as(&lab, &ada, &jag).await.status(), 200);
    assert_eq!(bearer_as(&lab, &ada, &jag).await.status(), 400, "a replayed ID-JAG");
    exchange_as(&lab, &bob, "bob@acme.example").await;

    let browser = lab.browser();
    assert_eq!(browser.get(format!("{}/admin/room", lab.console())).send().await.unwrap().status(), 303, "admin only");
    browser.get(format!("{}/admin?token={}", lab.console(), lab.lab.admin_token())).send().await.unwrap();
    let html = browser.get(format!("{}/admin/room", lab.console())).send().await.unwrap().text().await.unwrap();
    let row = |id: &str| {
        let start = html.find(&format!("<tr data-client=\"{id}\">")).unwrap_or_else(|| panic!("a row for {id}"));
        html[start..].split("</tr>").next().unwrap().to_owned()
    };
    let ada_row = row(&ada.0);
    assert!(ada_row.contains("failed check <code>jti</code>"), "{ada_row}");
    assert!(ada_row.contains("jwt-bearer <span class=\"badge bad\">400</span>"), "{ada_row}");
    assert!(ada_row.contains("data-status=\"passed\""), "habits turned green: {ada_row}");
    let bob_row = row(&bob.0);
    assert!(bob_row.contains("token exchange <span class=\"badge ok\">200</span>"), "{bob_row}");
    assert!(!html.contains("data-client=\"my-requestor\""), "fixture clients are not in the room");

    let resp = browser.get(format!("{}/admin/room.csv", lab.console())).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("client_id,name,Signs users in with PKCE (S256),"), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "{csv}");
    let ada_line = lines.iter().find(|l| l.starts_with(&ada.0)).unwrap();
    assert!(ada_line.ends_with(",jwt-bearer,400,jwt-bearer,invalid_grant,jti"), "{ada_line}");
    let bob_line = lines.iter().find(|l| l.starts_with(&bob.0)).unwrap();
    assert!(bob_line.contains(",\"Bob, \"\"the builder\"\"\","), "quoted: {bob_line}");
}

#[tokio::test]
async fn the_room_updates_a_row_without_reload_in_chromium() {
    let lab = TestLab::start().await;
    let ada = registered_app(&lab, "Ada").await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&format!("{}/admin?token={}", lab.console(), lab.lab.admin_token())).await.unwrap();
    b.goto(&format!("{}/admin/room", lab.console())).await.unwrap();
    let last = format!("tr[data-client='{}'] td.last", ada.0);
    let before = b.wait().for_element(Locator::Css(&last)).await.unwrap().text().await.unwrap();
    assert_eq!(before, "no request yet");
    let live = b.find(Locator::Id("live")).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while live.text().await.unwrap() != "● live" {
        assert!(std::time::Instant::now() < deadline, "the stream never opened");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.execute("window.notReloaded = true", vec![]).await.unwrap();

    let jag = exchange_as(&lab, &ada, "ada@acme.example").await;
    assert_eq!(bearer_as(&lab, &ada, &jag).await.status(), 200);
    assert_eq!(bearer_as(&lab, &ada, &jag).await.status(), 400);
    let refusal = format!("tr[data-client='{}'] td.refusal", ada.0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        // The row is replaced as the stream delivers it: read it in one script call.
        let js = format!("var c = document.querySelector(\"{refusal}\"); return c ? c.textContent : ''");
        let text = b.execute(&js, vec![]).await.unwrap().as_str().unwrap_or_default().to_owned();
        if text.contains("failed check jti") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the row never showed the refusal: {text}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pkce = format!("tr[data-client='{}'] td.habit", ada.0);
    let js = format!("return document.querySelector(\"{pkce}\").dataset.status");
    assert_eq!(b.execute(&js, vec![]).await.unwrap(), json!("passed"), "PKCE turned green");
    let same_page = b.execute("return window.notReloaded === true", vec![]).await.unwrap();
    assert_eq!(same_page, json!(true), "updated without a reload");
    browser.screenshot("room-live").await;
    browser.close().await;
}

/// The description an exercise page promises, HTML entities undone.
async fn promised_description(lab: &TestLab, name: &str) -> String {
    promised(lab, name, "expected-description").await
}

/// The text of the element `id` of exercise `name`'s page, HTML entities undone.
pub(crate) async fn promised(lab: &TestLab, name: &str, id: &str) -> String {
    let (status, html) = page(lab, &format!("/exercises/{name}?reveal=1")).await;
    assert_eq!(status, 200);
    let escaped = by_id(&html, id);
    escaped.replace("&#39;", "'").replace("&#34;", "\"").replace("&quot;", "\"").replace("&amp;", "&")
}

/// The parts of `promised` between its `…` appear in `actual`, in order.
pub(crate) fn assert_matches(name: &str, promised: &str, actual: &str) {
    let mut rest = actual;
    for part in promised.split('…').map(str::trim).filter(|p| !p.is_empty()) {
        let at = rest.find(part).unwrap_or_else(|| panic!("{name}: {part:?} not in {actual:?}"));
        rest = &rest[at + part.len()..];
    }
}

/// Each exercise's promised description is what the servers really answer.
#[tokio::test]
async fn exercises_promise_the_descriptions_the_servers_send() {
    let lab = TestLab::start().await;
    for name in [
        "id-jag-expired",
        "id-jag-wrong-typ",
        "id-jag-wrong-aud",
        "id-jag-foreign-client-id",
        "id-jag-untrusted-key",
        "refuse-next-grant",
    ] {
        let on = lab.admin(Method::PUT, &format!("/api/admin/switches/{name}")).json(&json!({})).send().await.unwrap();
        assert_eq!(on.status(), 200);
        let login = lab.login("alice@acme.example").await;
        let jag = lab.id_jag(&login.id_token).await;
        let actual = assert_oauth_error(lab.as_token(&lab.bearer_params(&jag)).await, 400, "invalid_grant").await;
        assert_matches(name, &promised_description(&lab, name).await, &actual);
        lab.admin(Method::DELETE, &format!("/api/admin/switches/{name}")).send().await.unwrap();
    }
    // short-lifetimes: the API's refusal once the lab clock moved 5 minutes.
    lab.admin(Method::PUT, "/api/admin/switches/short-lifetimes").json(&json!({})).send().await.unwrap();
    let token = lab.full_chain("alice@acme.example").await;
    lab.admin(Method::POST, "/api/admin/clock").json(&json!({ "advance": 301 })).send().await.unwrap();
    let resp = lab.todo(Method::GET, "/api/todos", &token).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    let actual = body["error_description"].as_str().unwrap_or_default().to_owned();
    assert_matches("short-lifetimes", &promised_description(&lab, "short-lifetimes").await, &actual);
}
