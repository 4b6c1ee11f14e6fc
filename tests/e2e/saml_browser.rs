//! The SAML login pages in headless Chromium: an AuthnRequest (HTTP-Redirect binding) opens the
//! IdP's login pages, and after the code the auto-posting page delivers the `SAMLResponse` and
//! `RelayState` to a test ACS endpoint, where the test SP (`saml_sp`) validates it.

use std::time::Duration;

use axum::extract::{RawForm, State};
use axum::response::Html;
use fantoccini::Locator;
use tokio::sync::mpsc;

use crate::browser::Browser;
use crate::harness::*;
use crate::saml::{SP_ENTITY, authn_request_url, service_provider};

type Posts = mpsc::UnboundedSender<Vec<(String, String)>>;

/// The test SP's ACS: records the posted form.
async fn acs(State(posts): State<Posts>, RawForm(body): RawForm) -> Html<&'static str> {
    let _ = posts.send(form_urlencoded::parse(&body).into_owned().collect());
    Html("<!doctype html><title>ACS</title><h1>ACS received the SAML response</h1>")
}

#[tokio::test]
async fn the_login_pages_post_the_saml_response_to_the_acs() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let acs_url = format!("http://127.0.0.1:{}/saml/acs", listener.local_addr().unwrap().port());
    let (tx, mut posts) = mpsc::unbounded_channel();
    let app = axum::Router::new().route("/saml/acs", axum::routing::post(acs)).with_state(tx);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let registered = acs_url.clone();
    let lab = TestLab(
        xaa_lab::testing::TestLab::builder()
            .fixtures(move |f| f.saml_service_providers[0].acs_url = registered.clone())
            .start()
            .await
            .unwrap(),
    );
    let sp = service_provider(&lab, SP_ENTITY, &acs_url).await;
    let (url, request_id) = authn_request_url(&lab, &sp, "relay-7");

    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&url).await.unwrap();
    b.wait().for_element(Locator::Id("email")).await.unwrap();
    assert!(browser.text().await.contains("to continue to Your requestor app"));
    browser.screenshot("saml-login-email").await;
    b.find(Locator::Id("email")).await.unwrap().send_keys("carol@acme.example").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("code")).await.unwrap();
    b.find(Locator::Id("code")).await.unwrap().send_keys("135790").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();

    // The auto-posting page sends the browser on to the ACS by itself.
    let form =
        tokio::time::timeout(Duration::from_secs(15), posts.recv()).await.expect("the ACS is posted to").unwrap();
    b.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert_eq!(b.current_url().await.unwrap().as_str(), acs_url);
    assert!(browser.text().await.contains("ACS received the SAML response"));
    browser.screenshot("saml-acs").await;
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(field("RelayState").as_deref(), Some("relay-7"));
    let name_id = sp.parse_base64_response(&field("SAMLResponse").unwrap(), &[&request_id]).unwrap();
    assert_eq!(name_id.value, "carol@acme.example");
    browser.close().await;
}
