//! No dead ends on any of the five servers: a path a server does not serve gets a styled page with
//! a way back (a browser) or an exact JSON 404 (a program), a trailing-slash typo is redirected,
//! and every server has a favicon, so no page load logs a 404.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};

use crate::browser::Browser;
use crate::harness::*;

/// `(name, base URL)` of the five servers.
fn servers(lab: &TestLab) -> [(&'static str, String); 5] {
    [
        ("IdP", lab.idp().to_owned()),
        ("resource AS", lab.authz().to_owned()),
        ("todo API", lab.api().to_owned()),
        ("console", lab.console().to_owned()),
        ("Lab Notes", lab.notes().to_owned()),
    ]
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn every_server_answers_an_unknown_path_with_a_page_or_exact_json() {
    let lab = TestLab::start().await;
    let http = no_redirects();
    for (name, base) in servers(&lab) {
        let page = http.get(format!("{base}/no/such/page")).header(ACCEPT, "text/html").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{name}");
        assert!(page.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{name}");
        let html = page.text().await.unwrap();
        assert!(html.contains("Nothing at <code>/no/such/page</code>"), "{name}: {html}");
        assert!(html.contains("href=\"/"), "{name} links somewhere it serves: {html}");

        let json = http.get(format!("{base}/no/such/page")).send().await.unwrap();
        assert_eq!(json.status(), StatusCode::NOT_FOUND, "{name}");
        assert_eq!(
            json.text().await.unwrap(),
            r#"{"error":"not_found","error_description":"there is no GET /no/such/page here"}"#,
            "{name}"
        );
    }
}

#[tokio::test]
async fn every_server_has_a_favicon() {
    let lab = TestLab::start().await;
    for (name, base) in servers(&lab) {
        let icon = reqwest::get(format!("{base}/favicon.ico")).await.unwrap();
        assert_eq!(icon.status(), StatusCode::OK, "{name}");
        assert_eq!(icon.headers()[CONTENT_TYPE], "image/svg+xml", "{name}");
        assert!(icon.text().await.unwrap().starts_with("<svg"), "{name}");
    }
    // A tab icon is no part of any flow: the live trace records none.
    let trace: serde_json::Value =
        reqwest::get(format!("{}/trace.json", lab.console())).await.unwrap().json().await.unwrap();
    assert!(!trace.to_string().contains("favicon"), "{trace}");
}

#[tokio::test]
async fn a_trailing_slash_typo_is_redirected() {
    let lab = TestLab::start().await;
    let http = no_redirects();
    let console = lab.console();
    for (typo, target) in [("/explorer/", "/explorer"), ("/admin/", "/admin"), ("/exercises/?x=1", "/exercises?x=1")] {
        let resp = http.get(format!("{console}{typo}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT, "{typo}");
        assert_eq!(resp.headers()[LOCATION], target, "{typo}");
    }
    let resp = http.get(format!("{}/notes/", lab.notes())).send().await.unwrap();
    assert_eq!((resp.status(), resp.headers()[LOCATION].to_str().unwrap()), (StatusCode::PERMANENT_REDIRECT, "/notes"));
    // A form post is never redirected: it gets its 404.
    let post = http.post(format!("{console}/inspect/")).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_lost_learner_finds_the_way_back_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&format!("{}/explorer/", lab.console())).await.unwrap();
    assert_eq!(b.current_url().await.unwrap().path(), "/explorer");
    b.goto(&format!("{}/no-such-page", lab.console())).await.unwrap();
    assert!(browser.text().await.contains("Nothing at /no-such-page"));
    b.find(fantoccini::Locator::LinkText("the home page")).await.unwrap().click().await.unwrap();
    assert_eq!(b.current_url().await.unwrap().path(), "/");
    browser.close().await;
}
