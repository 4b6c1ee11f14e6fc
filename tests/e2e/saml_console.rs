//! The console registers SAML service providers, as xaa.dev's "Register Client" form does with its
//! OIDC | SAML tabs: the registration form's optional SAML part and the client page's SAML form,
//! both through the admin API's code path. A registered SP signs a user in at `/saml/sso` and its
//! client exchanges the assertion; every refusal shows the IdP's exact text and leaves nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::Value;

use crate::admin::{admin_browser_session, client_ids, connections};
use crate::browser::Browser;
use crate::harness::*;
use crate::saml::{EMAIL, SP_ENTITY, assertion_xml, saml_exchange, saml_login, service_provider};

const SP: &str = "https://notes-saml.example/saml/metadata";
const ACS: &str = "https://notes-saml.example/saml/acs";

/// `text` as the console's templates escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&#34;").replace('\'', "&#39;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Posts the registration form, from the console's own page, with `saml` fields added.
async fn post_register(
    lab: &TestLab,
    browser: &reqwest::Client,
    csrf: &str,
    name: &str,
    saml: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("csrf", csrf),
        ("name", name),
        ("redirect_uris", REDIRECT),
        ("scopes", "todos.read"),
        ("scopes", "todos.write"),
    ];
    form.extend_from_slice(saml);
    let url = format!("{}/admin/register", lab.console());
    browser.post(url).header("origin", lab.console()).form(&form).send().await.unwrap()
}

/// Posts the client page's SAML form; the page it redirects to.
async fn post_saml_form(lab: &TestLab, browser: &reqwest::Client, csrf: &str, client: &str, sp: [&str; 3]) -> String {
    let form = [("csrf", csrf), ("saml_entity_id", sp[0]), ("saml_acs_url", sp[1]), ("saml_name_id_format", sp[2])];
    let url = format!("{}/admin/clients/{client}/saml", lab.console());
    let resp = browser.post(url).header("origin", lab.console()).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("/admin/clients/{client}?")), "{location}");
    browser.get(format!("{}{location}", lab.console())).send().await.unwrap().text().await.unwrap()
}

/// The SP `entity_id`/`acs_url` signs alice in; `client` exchanges the assertion with `secret`.
async fn exchange_as_sp(lab: &TestLab, entity_id: &str, acs_url: &str, client: &str, secret: &str) -> Value {
    let sp = service_provider(lab, entity_id, acs_url).await;
    let posted = saml_login(lab, &sp, EMAIL).await;
    assert_eq!(posted.action, acs_url);
    sp.parse_base64_response(&posted.saml_response, &[&posted.request_id]).unwrap();
    let params = saml_exchange(lab, &URL_SAFE_NO_PAD.encode(assertion_xml(&posted.saml_response)));
    let params = with(&with(&params, "client_id", Some(client)), "client_secret", Some(secret));
    let resp = lab.idp_token(&params).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    decode(body["access_token"].as_str().unwrap()).1
}

#[tokio::test]
async fn the_registration_form_registers_a_saml_sp_that_signs_in_and_exchanges() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let csrf = admin_browser_session(&lab, &browser).await;
    let saml = [("saml_entity_id", SP), ("saml_acs_url", ACS), ("saml_name_id_format", "persistent")];
    let resp = post_register(&lab, &browser, &csrf, "SAML Notes", &saml).await;
    assert_eq!(resp.status(), StatusCode::OK, "the registered client's page, with its secret, once");
    let page = resp.text().await.unwrap();
    let shown = |id: &str| {
        let marker = format!("<code id=\"{id}\">");
        page[page.find(&marker).unwrap() + marker.len()..].split('<').next().unwrap().to_owned()
    };
    let (id, secret) = (shown("client-id"), shown("client-secret"));
    assert!(id.starts_with("saml-notes-"), "{id}");

    // The registered page shows the SP, the IdP's SAML endpoints and how to exchange.
    let idp = lab.idp();
    for shown in [
        format!("<code id=\"saml-entity-id\">{SP}</code>"),
        format!("<code id=\"saml-acs-url\">{ACS}</code>"),
        "<code id=\"saml-name-id-format\">persistent</code>".into(),
        format!("<code id=\"saml-sso\">{idp}/saml/sso</code>"),
        format!("<code id=\"saml-metadata\">{idp}/saml/metadata</code>"),
        "subject_token_type=urn:ietf:params:oauth:token-type:saml2".into(),
    ] {
        assert!(page.contains(&shown), "{shown} in {page}");
    }

    // The SP signs alice in; the new client exchanges the assertion with its own credentials.
    let claims = exchange_as_sp(&lab, SP, ACS, &id, &secret).await;
    assert_eq!(claims["client_id"], format!("{id}-at-todo0"));
    assert_eq!(claims["sub_id"]["nameid_format"], "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent");

    // An OIDC-only registration (no SAML fields) has no SP.
    let resp = post_register(&lab, &browser, &csrf, "Plain Notes", &[("saml_name_id_format", "emailAddress")]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(page.contains("id=\"saml-none\""), "{page}");
}

#[tokio::test]
async fn refused_saml_parts_show_the_exact_reason_and_register_nothing() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let csrf = admin_browser_session(&lab, &browser).await;
    let (before_clients, before_connections) = (client_ids(&lab).await, connections(&lab).await);
    let taken = format!(
        "SAML service provider \"{SP_ENTITY}\": the entityID is another client's SAML service provider, or this client's SP comes from the fixtures"
    );
    let cases = [
        (
            [SP, ACS, "transient"],
            format!(
                "SAML service provider \"{SP}\": NameID format \"transient\" is not supported; use \"emailAddress\" or \"persistent\" (a transient NameID cannot identify the same user at the resource)"
            ),
        ),
        (
            [SP, "javascript:alert(1)", "emailAddress"],
            format!(
                "SAML service provider \"{SP}\": the ACS URL \"javascript:alert(1)\" is not an absolute http(s) URL"
            ),
        ),
        (
            [SP, "", "emailAddress"],
            format!("SAML service provider \"{SP}\": the ACS URL \"\" is not an absolute http(s) URL"),
        ),
        (
            ["", ACS, "emailAddress"],
            "a SAML service provider needs an entityID (the Audience of its assertions)".into(),
        ),
        // Only the store knows the entityID is taken: the client made first is undone.
        ([SP_ENTITY, ACS, "persistent"], taken.clone()),
    ];
    for (sp, message) in &cases {
        let saml = [("saml_entity_id", sp[0]), ("saml_acs_url", sp[1]), ("saml_name_id_format", sp[2])];
        let resp = post_register(&lab, &browser, &csrf, "Refused Notes", &saml).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{message}");
        let page = resp.text().await.unwrap();
        let shown = format!("<p class=\"msg bad\" role=\"alert\" id=\"error\">{}</p>", escaped(message));
        assert!(page.contains(&shown), "{shown} in {page}");
        assert!(page.contains(&format!("value=\"{}\"", escaped(sp[1]))), "the form keeps what was typed: {page}");
        assert_eq!(client_ids(&lab).await, before_clients, "no client is left by {message}");
        assert_eq!(connections(&lab).await, before_connections, "no connection is left by {message}");
    }

    // The client page's form: the same checks, then a registration, then a refused replacement.
    let page = post_saml_form(&lab, &browser, &csrf, NOTES_CLIENT, [SP, ACS, "transient"]).await;
    assert!(page.contains(&escaped(&cases[0].1)), "{page}");
    assert!(page.contains("id=\"saml-none\""), "nothing registered: {page}");
    let page = post_saml_form(&lab, &browser, &csrf, NOTES_CLIENT, [SP, ACS, "emailAddress"]).await;
    let ok = format!("SAML service provider \"{SP}\" is registered for \"{NOTES_CLIENT}\" (ACS {ACS}).");
    assert!(page.contains(&escaped(&ok)), "{page}");
    assert!(page.contains(&format!("<code id=\"saml-entity-id\">{SP}</code>")), "{page}");
    let page = post_saml_form(&lab, &browser, &csrf, NOTES_CLIENT, [SP_ENTITY, ACS, "persistent"]).await;
    assert!(page.contains(&escaped(&taken)), "{page}");
    assert!(page.contains(&format!("<code id=\"saml-entity-id\">{SP}</code>")), "the SP is unchanged: {page}");
    let claims = exchange_as_sp(&lab, SP, ACS, NOTES_CLIENT, NOTES_SECRET).await;
    assert_eq!(claims["sub_id"]["nameid"], EMAIL);

    // Without the form token, or from another origin, nothing is registered.
    let form =
        [("saml_entity_id", "https://other.example/sp"), ("saml_acs_url", ACS), ("saml_name_id_format", "persistent")];
    let url = format!("{}/admin/clients/{NOTES_CLIENT}/saml", lab.console());
    let resp = browser.post(&url).header("origin", lab.console()).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(resp.headers()["location"].to_str().unwrap().contains("form+token+expired"));
    let mut with_csrf = form.to_vec();
    with_csrf.push(("csrf", &csrf));
    let resp = browser.post(&url).header("origin", "http://evil.example").form(&with_csrf).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let page = browser.get(format!("{}/admin/clients/{NOTES_CLIENT}", lab.console())).send().await.unwrap();
    assert!(page.text().await.unwrap().contains(&format!("<code id=\"saml-entity-id\">{SP}</code>")));
}

#[tokio::test]
async fn the_saml_part_of_the_registration_form_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let console = lab.console().to_owned();
    b.goto(&format!("{console}/admin?token={}", lab.lab.admin_token())).await.unwrap();
    b.wait().for_element(Locator::Id("connections")).await.unwrap();
    b.goto(&format!("{console}/admin/register")).await.unwrap();
    b.wait().for_element(Locator::Id("register")).await.unwrap();
    b.find(Locator::Id("name")).await.unwrap().send_keys("Chromium SAML").await.unwrap();
    b.find(Locator::Id("saml_entity_id")).await.unwrap().send_keys(SP).await.unwrap();
    b.find(Locator::Id("saml_acs_url")).await.unwrap().send_keys(ACS).await.unwrap();
    b.find(Locator::Css("#saml_name_id_format option[value=persistent]")).await.unwrap().click().await.unwrap();
    browser.screenshot("admin-register-saml-form").await;
    b.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("registered")).await.unwrap();
    let client_id = b.find(Locator::Id("client-id")).await.unwrap().text().await.unwrap();
    // Shown once, on this page (the IdP keeps its hash).
    let secret = b.find(Locator::Id("client-secret")).await.unwrap().text().await.unwrap();
    assert_eq!(b.find(Locator::Id("saml-entity-id")).await.unwrap().text().await.unwrap(), SP);
    assert_eq!(b.find(Locator::Id("saml-name-id-format")).await.unwrap().text().await.unwrap(), "persistent");
    browser.screenshot("admin-registered-saml").await;

    // The client page's form replaces the ACS URL.
    let acs = "https://notes-saml.example/saml/acs2";
    let field = b.find(Locator::Css("#saml-form #saml_acs_url")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(acs).await.unwrap();
    b.find(Locator::Id("saml-submit")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("message")).await.unwrap();
    assert!(browser.text().await.contains(&format!("is registered for \"{client_id}\" (ACS {acs})")));
    assert_eq!(b.find(Locator::Id("saml-acs-url")).await.unwrap().text().await.unwrap(), acs);
    browser.screenshot("admin-client-saml").await;
    browser.close().await;

    exchange_as_sp(&lab, SP, acs, &client_id, &secret).await;
}
