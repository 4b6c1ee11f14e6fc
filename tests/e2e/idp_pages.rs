//! Bad input gets a clear error, not a 500 (issue 10): a redirect URI with a control character
//! or whitespace is refused at every registration (RFC 7591 at the IdP and the AS, the admin API
//! and page), and one stored before (an older `idp.sqlite`) gets an error page at `/authorize` and
//! `/session/end`, never a broken redirect, and never after the session ended.

use std::time::Duration;

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::admin::{admin_browser_session, assert_admin_error};
use crate::harness::*;

const ALICE: &str = "alice@acme.example";
const INJECTED: &str = "http://localhost:3000/cb\r\nX-Injected: 1";
const INJECTED_SHOWN: &str = "http://localhost:3000/cb??X-Injected: 1";

/// Redirect URIs no registration may accept: the URI, as the refusal shows it (RFC 6749 §5.2
/// characters only), and what it contains.
const UNSENDABLE: [(&str, &str, &str); 7] = [
    (INJECTED, INJECTED_SHOWN, "the control character U+000D"),
    ("http://localhost:3000/c\tb", "http://localhost:3000/c?b", "the control character U+0009"),
    ("http://localhost:3000/c\0b", "http://localhost:3000/c?b", "the control character U+0000"),
    ("http://localhost:3000/c\u{7f}b", "http://localhost:3000/c?b", "the control character U+007F"),
    ("http://localhost:3000/c\u{85}b", "http://localhost:3000/c?b", "the control character U+0085"),
    ("http://localhost:3000/my cb", "http://localhost:3000/my cb", "the whitespace character U+0020"),
    ("http://localhost:3000/c\u{a0}b", "http://localhost:3000/c?b", "the whitespace character U+00A0"),
];

/// The exact `error_description` for a redirect URI shown as `shown` containing `found`.
fn refusal(shown: &str, found: &str) -> String {
    format!(
        "redirect URI '{shown}' contains {found}: a redirect URI has no control characters or whitespace (RFC 3986 Section 2, Appendix C)"
    )
}

/// The page's text as a reader sees it (askama escapes these five).
fn unescaped(html: &str) -> String {
    html.replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn assert_has(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing in {text}");
    }
}

/// An HTML page with `status`, never a redirect; returns it unescaped.
async fn page(resp: Response, status: u16) -> String {
    assert_eq!(resp.status().as_u16(), status);
    assert!(resp.headers().get("location").is_none(), "no redirect");
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    unescaped(&resp.text().await.unwrap())
}

/// The IdP error page with `status`, `title` and `message`.
async fn error_page(resp: Response, status: u16, title: &str, message: &str) -> String {
    let html = page(resp, status).await;
    assert_has(&html, &[&format!("<h1>{title}</h1>"), &format!("<p class=\"error\" role=\"alert\">{message}</p>")]);
    html
}

/// The `Set-Cookie` headers of `resp` for `name`.
fn set_cookies(resp: &Response, name: &str) -> Vec<String> {
    let all = resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned());
    all.filter(|c| c.starts_with(&format!("{name}="))).collect()
}

fn session_end(lab: &TestLab, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("{}/session/end?{query}", lab.idp())
}

/// Whether `browser` has an IdP session: single sign-on answers the fixture client with a code.
async fn signed_in(lab: &TestLab, browser: &Client) -> bool {
    let resp = browser.get(lab.authorize_url(CLIENT, REDIRECT, &[])).send().await.unwrap();
    match resp.status() {
        StatusCode::SEE_OTHER => query_param(&location(&resp), "code").is_some(),
        StatusCode::OK => false,
        other => panic!("authorize answered {other}"),
    }
}

/// A fresh browser with `email` signed in (through the fixture client's sign-in).
async fn browser_of(lab: &TestLab, email: &str) -> Client {
    let browser = lab.browser();
    lab.login_redirect(&browser, &lab.authorize_url(CLIENT, REDIRECT, &[]), email).await;
    browser
}

/// Redeems `code` of `client` (the standard PKCE verifier); returns the token response.
async fn redeem(lab: &TestLab, client: &str, secret: &str, code: &str) -> Value {
    let resp = lab
        .http
        .post(format!("{}/token", lab.idp()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", client),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// A fresh browser with `email` signed in, and the ID token of that sign-in (for `client`).
async fn browser_and_id_token(lab: &TestLab, client: &str, secret: &str, email: &str) -> (Client, String) {
    let browser = lab.browser();
    let loc = lab.login_redirect(&browser, &lab.authorize_url(client, REDIRECT, &[]), email).await;
    let code = query_param(&loc, "code").expect("a code");
    let tokens = redeem(lab, client, secret, &code).await;
    (browser, tokens["id_token"].as_str().unwrap().to_owned())
}

/// A client stored before registration refused such URIs, as an older lab's `idp.sqlite` holds it.
async fn store_client(lab: &TestLab, id: &str, redirect_uris: &[&str], post_logout: &[&str]) {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    let client = xaa_idp::IdpClient {
        client_id: id.to_owned(),
        client_secret: xaa_core::secret::Secret::new("stored-secret"),
        name: "Stored App".into(),
        redirect_uris: owned(redirect_uris),
        post_logout_redirect_uris: owned(post_logout),
        grant_types: Vec::new(),
    };
    lab.lab.idp.register_client(client).await.unwrap();
}

// --- redirect URIs with control characters or whitespace ---

#[tokio::test]
async fn open_registration_refuses_control_characters_and_whitespace_in_redirect_uris() {
    let lab = TestLab::start().await;
    let before = lab.lab.idp.clients().len();
    for base in [lab.idp(), lab.authz()] {
        for (uri, shown, found) in UNSENDABLE {
            let bodies = [
                json!({ "redirect_uris": [uri] }),
                json!({ "redirect_uris": [REDIRECT], "post_logout_redirect_uris": [uri] }),
            ];
            for body in bodies {
                let resp = lab.http.post(format!("{base}/register")).json(&body).send().await.unwrap();
                let description = assert_oauth_error(resp, 400, "invalid_redirect_uri").await;
                assert_eq!(description, refusal(shown, found), "{base}: {body}");
            }
        }
    }
    assert_eq!(lab.lab.idp.clients().len(), before, "nothing was registered");
}

#[tokio::test]
async fn the_admin_api_refuses_control_characters_and_whitespace_in_redirect_uris() {
    let lab = TestLab::start().await;
    let before = lab.lab.idp.clients().len();
    for (uri, shown, found) in UNSENDABLE {
        let bodies = [
            json!({ "name": "Bad URI", "redirect_uris": [uri] }),
            json!({ "name": "Bad URI", "redirect_uris": [REDIRECT], "post_logout_redirect_uris": [uri] }),
        ];
        for body in bodies {
            let resp = lab.admin(Method::POST, "/api/admin/clients").json(&body).send().await.unwrap();
            assert_admin_error(resp, 400, "invalid_redirect_uri", &refusal(shown, found)).await;
        }
    }
    assert_eq!(lab.lab.idp.clients().len(), before, "nothing was registered");
}

#[tokio::test]
async fn the_admin_register_page_explains_a_control_character_in_a_redirect_uri() {
    let lab = TestLab::start().await;
    let before = lab.lab.idp.clients().len();
    let browser = lab.browser();
    let csrf = admin_browser_session(&lab, &browser).await;
    let cases = [
        ("http://localhost:3000/c\tb", "", "http://localhost:3000/c?b", "the control character U+0009"),
        (REDIRECT, "http://localhost:3000/c\u{7f}b", "http://localhost:3000/c?b", "the control character U+007F"),
    ];
    for (redirect, post_logout, shown, found) in cases {
        let form = [
            ("csrf", csrf.as_str()),
            ("name", "Tabbed App"),
            ("redirect_uris", redirect),
            ("post_logout_redirect_uris", post_logout),
            ("scopes", "todos.read"),
        ];
        let resp = browser.post(format!("{}/admin/register", lab.console())).form(&form).send().await.unwrap();
        let html = page(resp, 400).await;
        let alert = format!("<p class=\"msg bad\" role=\"alert\" id=\"error\">{}</p>", refusal(shown, found));
        assert_has(&html, &[&alert, "value=\"Tabbed App\""]);
    }
    assert_eq!(lab.lab.idp.clients().len(), before, "nothing was registered");
}

/// A client in an existing `idp.sqlite` with such a redirect URI: after a restart, `/authorize`
/// answers an error page (signed in or not), and a refused `/session/end` leaves the session.
#[tokio::test]
async fn a_stored_redirect_uri_with_control_characters_gets_an_error_page_not_a_500() {
    let dir = std::env::temp_dir().join(format!("xaa-e2e-idp-pages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let before = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    store_client(&before, "stored-app", &[INJECTED], &[INJECTED]).await;
    before.0.lab.shutdown(Duration::from_secs(1)).await;

    let lab = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    let url = lab.authorize_url("stored-app", INJECTED, &[("state", "s1")]);
    let message = format!(
        "Stored App is registered with a redirect URI the IdP cannot redirect to: {}.",
        refusal(INJECTED_SHOWN, "the control character U+000D")
    );
    let alice = browser_of(&lab, ALICE).await;
    for browser in [lab.browser(), alice.clone()] {
        let resp = browser.get(&url).send().await.unwrap();
        error_page(resp, 400, "Redirect URI cannot be used", &message).await;
    }

    let message = format!(
        "Stored App is registered with a post-logout redirect URI the IdP cannot redirect to: {}.",
        refusal(INJECTED_SHOWN, "the control character U+000D")
    );
    let url = session_end(&lab, &[("client_id", "stored-app"), ("post_logout_redirect_uri", INJECTED), ("state", "s")]);
    let resp = alice.get(&url).send().await.unwrap();
    assert!(set_cookies(&resp, "xaa_idp_session").is_empty(), "the session cookie stays");
    let html = error_page(resp, 400, "Post-logout redirect URI cannot be used", &message).await;
    assert_has(&html, &["You are still signed in."]);
    assert!(signed_in(&lab, &alice).await, "the session survived the refused sign-out");
    let _ = std::fs::remove_dir_all(&dir);
}

/// With an `id_token_hint` the session would end at once: the post-logout URI is checked first.
#[tokio::test]
async fn a_refused_sign_out_with_an_id_token_hint_leaves_the_session_intact() {
    let lab = TestLab::start().await;
    store_client(&lab, "stored-app", &[REDIRECT], &[INJECTED]).await;
    let (alice, hint) = browser_and_id_token(&lab, "stored-app", "stored-secret", ALICE).await;
    let message = format!(
        "Stored App is registered with a post-logout redirect URI the IdP cannot redirect to: {}.",
        refusal(INJECTED_SHOWN, "the control character U+000D")
    );
    for method in [Method::GET, Method::POST] {
        let params = [("id_token_hint", hint.as_str()), ("post_logout_redirect_uri", INJECTED), ("state", "s")];
        let resp = match method {
            Method::GET => alice.get(session_end(&lab, &params)).send().await.unwrap(),
            _ => alice.post(format!("{}/session/end", lab.idp())).form(&params).send().await.unwrap(),
        };
        assert!(set_cookies(&resp, "xaa_idp_session").is_empty(), "{method}: the session cookie stays");
        error_page(resp, 400, "Post-logout redirect URI cannot be used", &message).await;
        assert!(signed_in(&lab, &alice).await, "{method}: the session survived");
    }
}
