//! The IT admin pages in headless Chromium: sign in with the admin token, register a requestor,
//! revoke its connection, and turn a break-it switch on, checking each effect over real HTTP.

use fantoccini::Locator;
use reqwest::Method;
use serde_json::Value;

use crate::browser::Browser;
use crate::harness::*;

/// The page's one-line message once it contains `expected`: the click navigates, so an element of
/// the previous page may still be found (or go stale) for a moment.
async fn wait_for_message(b: &fantoccini::Client, expected: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok(e) = b.find(Locator::Id("message")).await
            && let Ok(text) = e.text().await
            && text.contains(expected)
        {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "no message containing {expected:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn dotenv_value(dotenv: &str, name: &str) -> String {
    dotenv.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn register_revoke_and_break_it_through_the_admin_pages_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let console = lab.console().to_owned();

    let (client_id, dotenv) = register_through_the_admin_pages(&lab, &browser).await;

    // Its credentials work for the real flow.
    let secret = dotenv_value(&dotenv, "CLIENT_SECRET");
    let login = lab.login_as(&client_id, &secret, REDIRECT, "alice@acme.example").await;
    let exchange = with(
        &with(&lab.exchange_params(&login.id_token), "client_id", Some(&client_id)),
        "client_secret",
        Some(&secret),
    );
    assert_eq!(lab.idp_token(&exchange).await.status(), 200);

    // Revoke its connection on the admin page: the next exchange gets invalid_target.
    b.goto(&format!("{console}/admin")).await.unwrap();
    let revoke = format!("tr[data-client='{client_id}'] button[name=revoke]");
    b.find(Locator::Css(&revoke)).await.unwrap().click().await.unwrap();
    wait_for_message(b, "invalid_target").await;
    assert!(b.find_all(Locator::Css(&format!("tr[data-client='{client_id}']"))).await.unwrap().is_empty());
    let d = assert_oauth_error(lab.idp_token(&exchange).await, 400, "invalid_target").await;
    assert!(d.contains(&client_id), "{d}");

    // Turn the todo API off for every client.
    let row = "#switch-todo-api-unavailable button[value=on]";
    b.find(Locator::Css(row)).await.unwrap().click().await.unwrap();
    wait_for_message(b, "todo-api-unavailable is on").await;
    assert!(browser.text().await.contains("ON for every client"));
    browser.screenshot("admin-switch-on").await;
    let token = lab.full_chain("bob@acme.example").await;
    assert_eq!(lab.todo(Method::GET, "/api/todos", &token).send().await.unwrap().status(), 503);
    let switches: Value = lab.admin(Method::GET, "/api/admin/switches").send().await.unwrap().json().await.unwrap();
    let on: Vec<&str> = switches["switches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["on"] == true)
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(on, ["todo-api-unavailable"]);

    // The audit page lists the refusal.
    b.goto(&format!("{console}/admin/audit?outcome=refused")).await.unwrap();
    let audit = b.wait().for_element(Locator::Id("audit")).await.unwrap().text().await.unwrap();
    assert!(audit.contains("invalid_target") && audit.contains(&client_id), "{audit}");
    browser.screenshot("admin-audit").await;
    browser.close().await;
}

/// Signs in to the admin pages (a wrong token first, then the banner's link) and registers a
/// requestor; its client id and `.env`.
pub async fn register_through_the_admin_pages(lab: &TestLab, browser: &Browser) -> (String, String) {
    let b = &browser.client;
    let console = lab.console().to_owned();
    // Without the token: the sign-in page, which refuses a wrong token.
    b.goto(&format!("{console}/admin")).await.unwrap();
    assert!(b.current_url().await.unwrap().path().starts_with("/admin/login"));
    b.find(Locator::Id("token")).await.unwrap().send_keys("not-the-token").await.unwrap();
    b.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Css("p.msg.bad")).await.unwrap();
    assert!(browser.text().await.contains("That is not the admin token"));

    // The banner's link signs the browser in.
    b.goto(&format!("{console}/admin?token={}", lab.lab.admin_token())).await.unwrap();
    b.wait().for_element(Locator::Id("connections")).await.unwrap();
    assert_eq!(b.title().await.unwrap(), "IT admin · XAA Lab");

    // Register a requestor.
    b.find(Locator::Id("register-link")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("register")).await.unwrap();
    b.find(Locator::Id("name")).await.unwrap().send_keys("Workshop Notes").await.unwrap();
    b.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("registered")).await.unwrap();
    let client_id = b.find(Locator::Id("client-id")).await.unwrap().text().await.unwrap();
    assert!(client_id.starts_with("workshop-notes-"), "{client_id}");
    let dotenv = b.find(Locator::Id("dotenv")).await.unwrap().text().await.unwrap();
    assert_eq!(dotenv_value(&dotenv, "CLIENT_ID"), client_id);
    assert_eq!(dotenv_value(&dotenv, "RESOURCE_CLIENT_ID"), format!("{client_id}-at-todo0"));
    assert_eq!(dotenv_value(&dotenv, "AUTH_SERVER_URL"), lab.authz());
    browser.screenshot("admin-registered").await;
    (client_id, dotenv)
}

/// What a teacher needs at a projector: the admin token never shown in clear, a change that comes
/// back to its own section (its message there, not at the top of a long page), buttons that reset
/// or delete in the colour of danger, clock steps that say what they expire, and a room page in
/// large print.
#[tokio::test]
async fn the_admin_pages_work_at_a_projector_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let console = lab.console().to_owned();
    b.goto(&format!("{console}/admin")).await.unwrap();
    let token_field = b.find(Locator::Id("token")).await.unwrap();
    assert_eq!(token_field.attr("type").await.unwrap().as_deref(), Some("password"));
    b.goto(&format!("{console}/admin?token={}", lab.lab.admin_token())).await.unwrap();
    b.wait().for_element(Locator::Id("connections")).await.unwrap();

    // The clock's steps say what each expires, from the lab's own lifetimes.
    let steps = b.find(Locator::Id("clock-steps")).await.unwrap().text().await.unwrap();
    for line in [
        "+1 min 31 s expires tokens issued while the short-lifetimes switch is on (30 s, plus the 60 s leeway)",
        "+6 min 1 s expires ID-JAGs (300 s, plus the 60 s leeway)",
        "+11 min 1 s expires ID tokens (600 s, plus the 60 s leeway)",
        "+2 h 1 min 1 s expires access tokens (7200 s, plus the 60 s leeway)",
    ] {
        assert!(steps.contains(line), "{line} in {steps}");
    }
    let before = lab.now();
    b.find(Locator::Css("#clock-steps button[value='361']")).await.unwrap().click().await.unwrap();
    let message = wait_for_message(b, "The lab clock moved 361 s").await;
    assert!(message.contains("it now reads"), "{message}");
    assert_eq!(lab.now() - before, 361);
    // Back at the clock's section, its message under its heading, the page scrolled there.
    let placed = b
        .execute(
            "const m = document.getElementById('message'); \
             return [location.hash, m.previousElementSibling.id, window.scrollY > 0]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(placed, serde_json::json!(["#clock-section", "clock-section", true]));
    // A refresh does not post again: the redirect made it a GET.
    b.refresh().await.unwrap();
    b.wait().for_element(Locator::Id("clock-steps")).await.unwrap();
    assert_eq!(lab.now() - before, 361, "the refresh moved nothing");

    // Reset is as red as Revoke.
    let colours = b
        .execute(
            "const bg = css => getComputedStyle(document.querySelector(css)).backgroundColor; \
             return [bg('#reset-room'), bg('button[name=revoke]'), bg('#clock-steps button')]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(colours[0], colours[1], "{colours}");
    assert_ne!(colours[0], colours[2], "{colours}");
    browser.screenshot("admin-clock-section").await;

    // The room, in large print: the join code readable from the back of the room.
    b.goto(&format!("{console}/admin/room")).await.unwrap();
    let sizes = b
        .execute(
            "const px = el => parseFloat(getComputedStyle(el).fontSize); \
             return [px(document.getElementById('room-join-code')), px(document.querySelector('#room th')), \
             px(document.getElementById('join-banner'))]",
            vec![],
        )
        .await
        .unwrap();
    let sizes: Vec<f64> = sizes.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(sizes[0] >= 40.0 && sizes[1] >= 20.0 && sizes[2] >= 28.0, "{sizes:?}");
    let banner = b.find(Locator::Id("join-banner")).await.unwrap().text().await.unwrap();
    assert_eq!(banner, format!("Join at {console}/join with the code {}", lab.lab.join_code()));
    browser.screenshot("admin-room-large-print").await;
    browser.close().await;
}
