//! The explorer says what state it is in: steps that cannot run yet look it, a run the explorer no
//! longer holds (the lab restarted, or the run was forgotten) is said rather than shown as an empty
//! page, and an ID token that expired on the lab clock offers to sign in again. Time moves on the
//! lab clock; nothing sleeps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Browser, explorer_sign_in, explorer_step};
use crate::harness::*;

/// A client whose cookie jar holds an explorer session id from before a restart.
fn browser_from_before_a_restart(lab: &TestLab) -> reqwest::Client {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let console: reqwest::Url = lab.console().parse().unwrap();
    jar.add_cookie_str("xaa_console_explorer=an-earlier-run.0123456789abcdef; Path=/", &console);
    reqwest::Client::builder().cookie_provider(jar).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn page(lab: &TestLab, client: &reqwest::Client, query: &str) -> String {
    let resp = client.get(format!("{}/explorer{query}", lab.console())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.unwrap()
}

/// Posts step 2 from `client`'s page; returns where it was sent.
async fn post_step_2(lab: &TestLab, client: &reqwest::Client) -> String {
    let csrf = hidden(&page(lab, client, "").await, "csrf");
    let form = [("csrf", csrf.as_str()), ("subject", "id_token")];
    let resp = client.post(format!("{}/explorer/step/2", lab.console())).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    location(&resp)
}

#[tokio::test]
async fn a_run_from_before_a_restart_is_said_to_be_gone() {
    let lab = TestLab::start().await;
    let client = browser_from_before_a_restart(&lab);
    let shown = page(&lab, &client, "").await;
    assert!(
        shown.contains("<div class=\"msg bad\" role=\"alert\" id=\"lost\">The lab restarted since this browser last ran the explorer"),
        "{shown}"
    );
    assert_eq!(post_step_2(&lab, &client).await, "/explorer?lost=restarted#step-1");
    // A browser that kept no session at all posts step 2: the run is gone, and the page says so.
    let fresh = lab.browser();
    assert_eq!(post_step_2(&lab, &fresh).await, "/explorer?lost=forgotten#step-1");
    let shown = page(&lab, &fresh, "?lost=forgotten").await;
    assert!(shown.contains("id=\"lost\">The explorer no longer holds this browser&#39;s run"), "{shown}");
    // A made-up value says nothing.
    assert!(!page(&lab, &fresh, "?lost=anything").await.contains("id=\"lost\""));
}

#[tokio::test]
async fn the_explorer_shows_what_cannot_run_yet_and_offers_to_sign_in_again_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&format!("{}/explorer", lab.console())).await.unwrap();
    // Steps 2 to 4 cannot run before the sign-in, and look it: not the colour or cursor of a button.
    let looks = b
        .execute(
            "const look = id => { const s = getComputedStyle(document.getElementById(id));\n\
             return [document.getElementById(id).disabled, s.cursor, s.backgroundColor]; };\n\
             return ['run-1', 'run-2', 'run-3', 'run-4'].map(look)",
            vec![],
        )
        .await
        .unwrap();
    let run_1 = &looks[0];
    assert_eq!((&run_1[0], &run_1[1]), (&json!(false), &json!("pointer")), "{looks}");
    for n in 1..4 {
        let step = &looks[n];
        assert_eq!((&step[0], &step[1]), (&json!(true), &json!("not-allowed")), "step {}: {looks}", n + 1);
        assert_ne!(step[2], run_1[2], "step {} has the colour of a button that runs: {looks}", n + 1);
    }

    // The ID token expires during a discussion: step 2 says so and offers to sign in again.
    explorer_sign_in(&lab, &browser, "heidi@acme.example").await;
    assert!(b.find(Locator::Id("expired-id-token")).await.is_err(), "a fresh ID token");
    lab.clock.advance(xaa_lab::idp::Lifetimes::default().id_token + 1);
    b.goto(&format!("{}/explorer", lab.console())).await.unwrap();
    let expired = b.find(Locator::Id("expired-id-token")).await.unwrap().text().await.unwrap();
    assert!(
        expired.starts_with("The ID token from step 1 expired at ") && expired.contains(" UTC (lab clock)"),
        "{expired}"
    );
    browser.screenshot("console-flow-explorer-expired-id-token").await;
    // This page shows step 1's earlier answer too: mark it, so only the page the IdP sends back
    // (unmarked) counts as the return.
    b.execute("document.documentElement.dataset.before = 'again'", vec![]).await.unwrap();
    b.find(Locator::Id("sign-in-again")).await.unwrap().click().await.unwrap();
    // The IdP signs the user in again (its login pages, or at once with its session): a new ID token.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = b.execute("return document.documentElement.dataset.before === 'again'", vec![]).await;
        if left.is_ok_and(|v| v == serde_json::Value::Bool(false)) && b.find(Locator::Id("status-1")).await.is_ok() {
            break;
        }
        if b.find(Locator::Id("code")).await.is_ok() {
            b.find(Locator::Id("code")).await.unwrap().send_keys("112233").await.unwrap();
            b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
        } else if b.current_url().await.unwrap().as_str().starts_with(lab.idp())
            && b.find(Locator::Id("email")).await.is_ok()
        {
            // The email page, pre-filled from the explorer.
            b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
        }
        assert!(Instant::now() < deadline, "never came back from the IdP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(b.find(Locator::Id("expired-id-token")).await.is_err(), "the new ID token is fresh");
    assert_eq!(explorer_step(b, 2).await, "200 OK");
    browser.close().await;
}
