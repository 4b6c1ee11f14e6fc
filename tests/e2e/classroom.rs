//! Classroom mode: the exercises (one page per break-it switch) and the banner every console page
//! shows while a switch is on or the lab clock is moved.

use fantoccini::Locator;
use reqwest::Method;
use serde_json::json;

use crate::browser::Browser;
use crate::harness::*;

async fn page(lab: &TestLab, path: &str) -> (u16, String) {
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
    let (status, typ) = page(&lab, "/exercises/id-jag-wrong-typ").await;
    assert_eq!(status, 200);
    assert!(typ.contains("id=\"failed-check\">typ<"), "the check's name");
    assert!(typ.contains("Token confusion"), "the attack");
    assert!(typ.contains("href=\"/admin#switch-id-jag-wrong-typ\""), "the way to turn it on");
    assert!(typ.contains("href=\"/explorer#step-3\""), "the step to run");
    let (status, missing) = page(&lab, "/exercises/break-everything").await;
    assert_eq!(status, 404);
    assert!(missing.contains("There is no break-it switch called “break-everything”"), "{missing}");
    let (_, escaped) = page(&lab, "/exercises/%3Cscript%3E").await;
    assert!(!escaped.contains("<script>") && escaped.contains("script"), "the name is escaped");

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
    let summary = b.find(Locator::Css("#predict summary")).await.unwrap();
    summary.click().await.unwrap();
    let predict = b.find(Locator::Css("#predict details")).await.unwrap().text().await.unwrap();
    assert!(predict.contains("untrusted-demo"), "{predict}");
    assert_eq!(b.find(Locator::Id("failed-check")).await.unwrap().text().await.unwrap(), "kid");
    assert!(b.find(Locator::Id("attack")).await.unwrap().text().await.unwrap().starts_with("Key substitution"));
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
