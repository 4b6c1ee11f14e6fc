//! Bad input gets a clear error, not a 500 (issue 10), and the IdP's two new pages:
//!
//! - a redirect URI with a control character or whitespace is refused at every registration (RFC
//!   7591 at the IdP and the AS, the admin API and page), and one stored before (an older
//!   `idp.sqlite`) gets an error page at `/authorize` and `/session/end`, never a broken redirect,
//!   and never after the session ended;
//! - `/session/end` without an `id_token_hint` of the signed-in user asks the user to confirm
//!   (RP-Initiated Logout 1.0 §6) and ends the session only on the confirmation's POST;
//! - a client that registered itself (open RFC 7591 registration) gets a code only once the user
//!   allows it; clients IT registered never ask.
//!
//! Over HTTP first, then the two pages in headless Chromium.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::admin::{admin_browser_session, assert_admin_error};
use crate::browser::Browser;
use crate::harness::*;

const ALICE: &str = "alice@acme.example";
const BOB: &str = "bob@acme.example";
const LOGOUT_TO: &str = "http://localhost:3000";
const INJECTED: &str = "http://localhost:3000/cb\r\nX-Injected: 1";
const INJECTED_SHOWN: &str = "http://localhost:3000/cb??X-Injected: 1";
const CONFIRM_FORM: &str = "<form method=\"post\" action=\"/session/end/confirm\" id=\"confirm-logout\">";
const CONSENT_FORM: &str = "<form method=\"post\" action=\"/consent\" id=\"consent\">";
const SELF_REGISTERED: &str = "This app registered itself with the Lab IdP (open dynamic registration, RFC 7591). IT did not approve it: allow it only if you trust it.";
const SIGN_OUT_EXPIRED: &str =
    "The sign-out page is no longer valid (it expired, was already used, or was opened in another browser).";
const SIGN_IN_EXPIRED: &str =
    "The sign-in page is no longer valid (it expired, was already used, or was opened in another browser).";

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

/// A 303 to `to` (exactly) that clears the IdP session cookie.
fn signed_out_to(resp: &Response, to: &str) {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(resp), to);
    let cleared = set_cookies(resp, "xaa_idp_session");
    assert!(cleared.len() == 1 && cleared[0].starts_with("xaa_idp_session=;"), "{cleared:?}");
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
        .form(&code_grant(code, REDIRECT, client, secret))
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
    let client = xaa_lab::idp::IdpClient {
        client_id: xaa_core::ids::ClientId::new(id),
        client_secret: xaa_core::secret::Secret::new("stored-secret").into(),
        name: "Stored App".into(),
        redirect_uris: owned(redirect_uris),
        post_logout_redirect_uris: owned(post_logout),
        grant_types: Vec::new(),
        registration: xaa_lab::idp::Registration::It,
    };
    lab.lab.register_idp_client(client).await.unwrap();
}

/// Registers a client at the IdP's open `POST /register`; returns its id and secret.
async fn open_client(lab: &TestLab, name: &str) -> (String, String) {
    let body = json!({ "client_name": name, "redirect_uris": [REDIRECT] });
    let resp = lab.http.post(format!("{}/register", lab.idp())).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let reg: Value = resp.json().await.unwrap();
    (reg["client_id"].as_str().unwrap().to_owned(), reg["client_secret"].as_str().unwrap().to_owned())
}

/// Signs `email` in to `url`'s client in `browser` through the pages; returns what the code step
/// answered.
async fn through_login(lab: &TestLab, browser: &Client, url: &str, email: &str) -> Response {
    let html = page(browser.get(url).send().await.unwrap(), 200).await;
    let (login, csrf) = (hidden(&html, "login"), hidden(&html, "csrf"));
    let post = |step: &str, value: &str| {
        let form = [("login", login.as_str()), ("csrf", csrf.as_str()), (step, value)];
        browser.post(format!("{}/login/{step}", lab.idp())).form(&form).send()
    };
    assert_eq!(post("email", email).await.unwrap().status(), StatusCode::OK);
    post("code", "123456").await.unwrap()
}

/// Posts the consent page's form with `decision`.
async fn answer(lab: &TestLab, browser: &Client, consent_page: &str, decision: &str) -> Response {
    let form = [("login", hidden(consent_page, "login")), ("csrf", hidden(consent_page, "csrf"))];
    let form = [&form[..], &[("decision", decision.to_owned())]].concat();
    browser.post(format!("{}/consent", lab.idp())).form(&form).send().await.unwrap()
}

/// Posts the logout confirmation page's form.
async fn confirm(lab: &TestLab, browser: &Client, confirmation: &str) -> Response {
    let form = [("logout", hidden(confirmation, "logout")), ("csrf", hidden(confirmation, "csrf"))];
    browser.post(format!("{}/session/end/confirm", lab.idp())).form(&form).send().await.unwrap()
}

/// A 303 to the bring-your-own redirect URI with `state` and `iss`; returns the Location.
fn back_to_client(lab: &TestLab, resp: &Response, state: &str) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let loc = location(resp);
    assert!(loc.starts_with(&format!("{REDIRECT}?")), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some(state), "{loc}");
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(lab.idp()), "{loc}");
    loc
}

// --- redirect URIs with control characters or whitespace ---

#[tokio::test]
async fn open_registration_refuses_control_characters_and_whitespace_in_redirect_uris() {
    let lab = TestLab::start().await;
    let before = lab.lab.idp_clients().len();
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
    assert_eq!(lab.lab.idp_clients().len(), before, "nothing was registered");
}

#[tokio::test]
async fn the_admin_api_refuses_control_characters_and_whitespace_in_redirect_uris() {
    let lab = TestLab::start().await;
    let before = lab.lab.idp_clients().len();
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
    assert_eq!(lab.lab.idp_clients().len(), before, "nothing was registered");
}

#[tokio::test]
async fn the_admin_register_page_explains_a_control_character_in_a_redirect_uri() {
    let lab = TestLab::start().await;
    let before = lab.lab.idp_clients().len();
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
    assert_eq!(lab.lab.idp_clients().len(), before, "nothing was registered");
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

// --- the logout confirmation (RP-Initiated Logout 1.0 §6) ---

#[tokio::test]
async fn a_sign_out_without_id_token_hint_asks_first_and_ends_only_on_confirmation() {
    let lab = TestLab::start().await;
    let alice = browser_of(&lab, ALICE).await;
    let url = session_end(&lab, &[("client_id", CLIENT), ("post_logout_redirect_uri", LOGOUT_TO), ("state", "bye")]);
    let resp = alice.get(&url).send().await.unwrap();
    assert!(set_cookies(&resp, "xaa_idp_session").is_empty(), "nothing ends yet");
    let confirmation = page(resp, 200).await;
    assert_has(
        &confirmation,
        &[
            "<h1>Sign out of the Lab IdP?</h1>",
            "<span class=\"app\">Your requestor app</span> asks to end your Lab IdP session as <strong id=\"signed-in-as\">alice@acme.example</strong>.",
            CONFIRM_FORM,
            "<button type=\"submit\" id=\"sign-out\">Sign out</button>",
            "Did not ask to sign out? Close this tab: you stay signed in.",
        ],
    );
    assert!(signed_in(&lab, &alice).await, "showing the page ended nothing");

    signed_out_to(&confirm(&lab, &alice, &confirmation).await, "http://localhost:3000?state=bye");
    assert!(!signed_in(&lab, &alice).await, "the confirmation ended the session");
}

#[tokio::test]
async fn a_bare_sign_out_request_asks_first_then_shows_the_signed_out_page() {
    let lab = TestLab::start().await;
    let alice = browser_of(&lab, ALICE).await;
    let get = alice.get(format!("{}/session/end", lab.idp())).send().await.unwrap();
    let post = alice.post(format!("{}/session/end", lab.idp())).form(&[("state", "x")]).send().await.unwrap();
    for resp in [get, post] {
        let confirmation = page(resp, 200).await;
        assert_has(
            &confirmation,
            &[
                "A request asks to end your Lab IdP session as <strong id=\"signed-in-as\">alice@acme.example</strong>.",
                CONFIRM_FORM,
            ],
        );
    }
    assert!(signed_in(&lab, &alice).await);
    let confirmation = page(alice.get(format!("{}/session/end", lab.idp())).send().await.unwrap(), 200).await;
    let resp = confirm(&lab, &alice, &confirmation).await;
    assert_eq!(set_cookies(&resp, "xaa_idp_session").len(), 1, "the cookie is cleared");
    assert_has(&page(resp, 200).await, &["<h1>You are signed out</h1>"]);
    assert!(!signed_in(&lab, &alice).await);
}

#[tokio::test]
async fn another_users_id_token_hint_asks_first_and_the_signed_in_users_ends_at_once() {
    let lab = TestLab::start().await;
    let (alice, alices_hint) = browser_and_id_token(&lab, CLIENT, SECRET, ALICE).await;
    let bobs_hint = lab.login(BOB).await.id_token;
    let to = ("post_logout_redirect_uri", LOGOUT_TO);
    let resp = alice.get(session_end(&lab, &[("id_token_hint", bobs_hint.as_str()), to])).send().await.unwrap();
    let confirmation = page(resp, 200).await;
    assert_has(
        &confirmation,
        &["<span class=\"app\">Your requestor app</span> asks", "alice@acme.example", CONFIRM_FORM],
    );
    assert!(signed_in(&lab, &alice).await, "bob's token does not end alice's session");

    let resp = alice.get(session_end(&lab, &[("id_token_hint", alices_hint.as_str()), to])).send().await.unwrap();
    signed_out_to(&resp, LOGOUT_TO);
    assert!(!signed_in(&lab, &alice).await);
}

#[tokio::test]
async fn the_confirmation_needs_its_csrf_token_and_its_session_and_works_once() {
    let lab = TestLab::start().await;
    let alice = browser_of(&lab, ALICE).await;
    let bob = browser_of(&lab, BOB).await;
    let url = session_end(&lab, &[("client_id", CLIENT), ("post_logout_redirect_uri", LOGOUT_TO)]);
    let confirmation = page(alice.get(&url).send().await.unwrap(), 200).await;
    let logout = hidden(&confirmation, "logout");
    let post = |browser: &Client, csrf: &str| {
        let form = [("logout", logout.clone()), ("csrf", csrf.to_owned())];
        browser.post(format!("{}/session/end/confirm", lab.idp())).form(&form).send()
    };
    let expired = |resp| error_page(resp, 400, "This sign-out has expired", SIGN_OUT_EXPIRED);

    expired(post(&alice, "not-the-token").await.unwrap()).await;
    expired(post(&lab.browser(), &hidden(&confirmation, "csrf")).await.unwrap()).await;
    expired(post(&bob, &hidden(&confirmation, "csrf")).await.unwrap()).await;
    assert!(signed_in(&lab, &alice).await && signed_in(&lab, &bob).await, "no session ended");

    signed_out_to(&confirm(&lab, &alice, &confirmation).await, LOGOUT_TO);
    expired(confirm(&lab, &alice, &confirmation).await).await;
    assert!(signed_in(&lab, &bob).await, "only alice's session ended");
}

#[tokio::test]
async fn the_confirmation_and_consent_forms_refuse_posts_from_other_origins() {
    let lab = TestLab::start().await;
    let alice = browser_of(&lab, ALICE).await;
    let url = session_end(&lab, &[("client_id", CLIENT)]);
    let confirmation = page(alice.get(&url).send().await.unwrap(), 200).await;
    let (shady, _) = open_client(&lab, "Shady App").await;
    let consent = page(alice.get(lab.authorize_url(&shady, REDIRECT, &[])).send().await.unwrap(), 200).await;
    let forms = [
        (
            "/session/end/confirm",
            vec![("logout", hidden(&confirmation, "logout")), ("csrf", hidden(&confirmation, "csrf"))],
        ),
        (
            "/consent",
            vec![
                ("login", hidden(&consent, "login")),
                ("csrf", hidden(&consent, "csrf")),
                ("decision", "allow".into()),
            ],
        ),
    ];
    for (path, form) in &forms {
        let url = format!("{}{path}", lab.idp());
        for (header, other) in
            [("origin", "http://localhost:3000"), ("origin", "null"), ("referer", "http://localhost:3000/x")]
        {
            let resp = alice.post(&url).header(header, other).form(form).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path} {header}: {other}");
            assert_has(&resp.text().await.unwrap(), &["sent by a page of another site or port"]);
        }
    }
    assert!(signed_in(&lab, &alice).await, "the session survived");
    // The IdP's own pages may.
    let (path, form) = &forms[0];
    let resp = alice.post(format!("{}{path}", lab.idp())).header("origin", lab.idp()).form(form).send().await.unwrap();
    assert_has(&page(resp, 200).await, &["<h1>You are signed out</h1>"]);
    assert!(!signed_in(&lab, &alice).await);
}

// --- consent for self-registered clients ---

#[tokio::test]
async fn a_self_registered_client_needs_the_users_consent_but_clients_it_registered_do_not() {
    let lab = TestLab::start().await;
    let (shady, secret) = open_client(&lab, "Shady Notes").await;
    let alice = lab.browser();
    let resp = through_login(&lab, &alice, &lab.authorize_url(&shady, REDIRECT, &[("state", "c1")]), ALICE).await;
    assert_eq!(set_cookies(&resp, "xaa_idp_session").len(), 1, "signed in at the IdP");
    let consent = page(resp, 200).await;
    assert_has(
        &consent,
        &[
            "<h1>Allow <span class=\"app\">Shady Notes</span>?</h1>",
            "It asks to sign you in as <strong id=\"signed-in-as\">alice@acme.example</strong>.",
            SELF_REGISTERED,
            &format!("<code id=\"client-id\">{shady}</code>"),
            "<code id=\"redirect-host\">localhost:3000</code>",
            "<li><code>openid</code>: sign you in with your user identifier</li><li><code>profile</code>: your name</li><li><code>email</code>: your email address</li>",
            CONSENT_FORM,
        ],
    );
    let loc = back_to_client(&lab, &answer(&lab, &alice, &consent, "allow").await, "c1");
    let tokens = redeem(&lab, &shady, &secret, &query_param(&loc, "code").expect("a code")).await;
    assert_eq!(decode(tokens["id_token"].as_str().unwrap()).1["sub"], ALICE);

    // IT's clients never ask, not even with prompt=consent: the fixtures and a console registration.
    let body = json!({ "name": "IT Approved", "redirect_uris": [REDIRECT] });
    let reg: Value =
        lab.admin(Method::POST, "/api/admin/clients").json(&body).send().await.unwrap().json().await.unwrap();
    let approved = reg["client_id"].as_str().unwrap();
    for client in [CLIENT, approved] {
        let url = lab.authorize_url(client, REDIRECT, &[("prompt", "consent"), ("state", "it")]);
        let loc = back_to_client(&lab, &alice.get(url).send().await.unwrap(), "it");
        assert!(query_param(&loc, "code").is_some(), "{client}: {loc}");
    }
    let bob = lab.browser();
    let url = lab.authorize_url(approved, REDIRECT, &[("state", "b")]);
    let resp = through_login(&lab, &bob, &url, BOB).await;
    assert!(query_param(&back_to_client(&lab, &resp, "b"), "code").is_some());
}

#[tokio::test]
async fn denying_consent_sends_access_denied_and_is_not_remembered() {
    let lab = TestLab::start().await;
    let (shady, _) = open_client(&lab, "Shady Notes").await;
    let alice = lab.browser();
    let url = lab.authorize_url(&shady, REDIRECT, &[("state", "d1")]);
    let consent = page(through_login(&lab, &alice, &url, ALICE).await, 200).await;
    let resp = answer(&lab, &alice, &consent, "deny").await;
    let login = set_cookies(&resp, "xaa_idp_login");
    assert!(login.len() == 1 && login[0].starts_with("xaa_idp_login=;"), "the login ended: {login:?}");
    let loc = back_to_client(&lab, &resp, "d1");
    assert_eq!(query_param(&loc, "error").as_deref(), Some("access_denied"), "{loc}");
    assert_eq!(query_param(&loc, "error_description").as_deref(), Some("the user did not allow the application"));
    assert_eq!(query_param(&loc, "code"), None);
    // Signed in still, and asked again.
    let again = page(alice.get(&url).send().await.unwrap(), 200).await;
    assert_has(&again, &[CONSENT_FORM, SELF_REGISTERED]);
}

#[tokio::test]
async fn an_allow_is_remembered_per_user_client_and_scopes() {
    let lab = TestLab::start().await;
    let (shady, _) = open_client(&lab, "Shady Notes").await;
    let (other, _) = open_client(&lab, "Other Self-Registered").await;
    let url = lab.authorize_url(&shady, REDIRECT, &[("state", "r")]);
    let alice = lab.browser();
    let consent = page(through_login(&lab, &alice, &url, ALICE).await, 200).await;
    back_to_client(&lab, &answer(&lab, &alice, &consent, "allow").await, "r");

    // The same session, a new session, and after the IdP session ended: no page.
    let loc = back_to_client(&lab, &alice.get(&url).send().await.unwrap(), "r");
    assert!(query_param(&loc, "code").is_some());
    let resp = through_login(&lab, &lab.browser(), &url, ALICE).await;
    assert!(query_param(&back_to_client(&lab, &resp, "r"), "code").is_some(), "kept across sessions");

    // Another user, another client, or a scope not allowed yet: asked.
    let bob = page(through_login(&lab, &lab.browser(), &url, BOB).await, 200).await;
    assert_has(&bob, &[CONSENT_FORM, "<strong id=\"signed-in-as\">bob@acme.example</strong>"]);
    let another = page(alice.get(lab.authorize_url(&other, REDIRECT, &[])).send().await.unwrap(), 200).await;
    assert_has(&another, &[CONSENT_FORM, "Other Self-Registered"]);
    let wider = lab
        .authorize_url(&shady, REDIRECT, &[])
        .replace("scope=openid+profile+email", "scope=openid+email+offline_access");
    let wider = page(alice.get(wider).send().await.unwrap(), 200).await;
    assert_has(
        &wider,
        &[CONSENT_FORM, "<code>offline_access</code>: keep access while you are away (a refresh token)"],
    );
}

#[tokio::test]
async fn prompt_consent_asks_again_and_prompt_none_cannot_skip_consent() {
    let lab = TestLab::start().await;
    let (shady, _) = open_client(&lab, "Shady Notes").await;
    let alice = browser_of(&lab, ALICE).await;
    let silent = lab.authorize_url(&shady, REDIRECT, &[("prompt", "none"), ("state", "n")]);
    let loc = back_to_client(&lab, &alice.get(&silent).send().await.unwrap(), "n");
    assert_eq!(query_param(&loc, "error").as_deref(), Some("consent_required"), "{loc}");
    assert_eq!(
        query_param(&loc, "error_description").as_deref(),
        Some("the user has not allowed this application yet")
    );

    // Signed in already: the page comes straight away, for the signed-in user.
    let consent = page(alice.get(lab.authorize_url(&shady, REDIRECT, &[])).send().await.unwrap(), 200).await;
    assert_has(&consent, &[CONSENT_FORM, "<strong id=\"signed-in-as\">alice@acme.example</strong>"]);
    assert_eq!(answer(&lab, &alice, &consent, "allow").await.status(), StatusCode::SEE_OTHER);
    let loc = back_to_client(&lab, &alice.get(&silent).send().await.unwrap(), "n");
    assert!(query_param(&loc, "code").is_some(), "allowed: prompt=none gets a code");

    let forced = lab.authorize_url(&shady, REDIRECT, &[("prompt", "consent"), ("state", "f")]);
    let consent = page(alice.get(&forced).send().await.unwrap(), 200).await;
    assert_has(&consent, &[CONSENT_FORM, SELF_REGISTERED]);
    back_to_client(&lab, &answer(&lab, &alice, &consent, "allow").await, "f");
    // prompt=consent on the login path too, as discovery says.
    let metadata: Value = lab.idp_discovery().await;
    assert_eq!(metadata["prompt_values_supported"], json!(["none", "login", "consent"]));
    let url = lab.authorize_url(&shady, REDIRECT, &[("prompt", "consent")]);
    let resp = through_login(&lab, &lab.browser(), &url, ALICE).await;
    assert_has(&page(resp, 200).await, &[CONSENT_FORM]);
}

#[tokio::test]
async fn the_consent_form_is_bound_to_its_request_browser_and_user() {
    let lab = TestLab::start().await;
    let (shady, _) = open_client(&lab, "Shady Notes").await;
    let (other, other_secret) = open_client(&lab, "Other Self-Registered").await;
    let (alice, hint) = browser_and_id_token(&lab, CLIENT, SECRET, ALICE).await;
    let first = page(alice.get(lab.authorize_url(&shady, REDIRECT, &[])).send().await.unwrap(), 200).await;
    let expired = |resp| error_page(resp, 400, "This sign-in has expired", SIGN_IN_EXPIRED);

    // A wrong CSRF token, or another browser (without the login cookie), gets nothing.
    let wrong = [("login", hidden(&first, "login")), ("csrf", "nope".into()), ("decision", "allow".into())];
    expired(alice.post(format!("{}/consent", lab.idp())).form(&wrong).send().await.unwrap()).await;
    expired(answer(&lab, &browser_of(&lab, BOB).await, &first, "allow").await).await;

    // A request for another client in the same browser: the first page's answer no longer counts.
    let url = lab.authorize_url(&other, REDIRECT, &[("state", "o")]);
    let second = page(alice.get(&url).send().await.unwrap(), 200).await;
    expired(answer(&lab, &alice, &first, "allow").await).await;
    let loc = back_to_client(&lab, &answer(&lab, &alice, &second, "allow").await, "o");
    redeem(&lab, &other, &other_secret, &query_param(&loc, "code").unwrap()).await;
    // Used once.
    expired(answer(&lab, &alice, &second, "allow").await).await;

    // Only while the user it was shown to is signed in: alice signs out meanwhile (another tab).
    let third = page(alice.get(lab.authorize_url(&shady, REDIRECT, &[])).send().await.unwrap(), 200).await;
    let out = alice.get(session_end(&lab, &[("id_token_hint", hint.as_str())])).send().await.unwrap();
    assert_eq!((out.status(), set_cookies(&out, "xaa_idp_session").len()), (StatusCode::OK, 1), "signed out");
    let resp = answer(&lab, &alice, &third, "allow").await;
    error_page(
        resp,
        400,
        "This sign-in has expired",
        "You are no longer signed in as the user this page was shown to.",
    )
    .await;
}

// --- in headless Chromium ---

/// Waits until the page has an element `css` whose text contains `text`.
async fn wait_for_text(b: &fantoccini::Client, css: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = b.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && t.contains(text)
        {
            return;
        }
        let url = b.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        assert!(Instant::now() < deadline, "no {css} with {text:?} at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_logout_confirmation_page_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    // Signed in to Lab Notes, so signed in at the IdP.
    b.goto(&format!("{}/auth/login", lab.notes())).await.unwrap();
    b.wait().for_element(Locator::Id("email")).await.unwrap();
    b.find(Locator::Id("email")).await.unwrap().send_keys("grace@acme.example").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("code")).await.unwrap();
    b.find(Locator::Id("code")).await.unwrap().send_keys("135790").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_text(b, "#user-email", "grace@acme.example").await;

    // A sign-out request without id_token_hint, as a forged link would send: the IdP asks.
    let home = format!("{}/", lab.notes());
    let url = session_end(&lab, &[("client_id", NOTES_CLIENT), ("post_logout_redirect_uri", &home), ("state", "q")]);
    b.goto(&url).await.unwrap();
    wait_for_text(b, "h1", "Sign out of the Lab IdP?").await;
    assert_eq!(b.title().await.unwrap(), "Sign out? · XAA Lab");
    let text = browser.text().await;
    assert_has(&text, &["Lab Notes asks to end your Lab IdP session as grace@acme.example.", "you stay signed in"]);
    browser.screenshot("idp-logout-confirm").await;

    // Leaving the page ends nothing: Lab Notes signs in again without the login pages.
    b.goto(&format!("{}/auth/login", lab.notes())).await.unwrap();
    wait_for_text(b, "#user-email", "grace@acme.example").await;

    b.goto(&url).await.unwrap();
    b.wait().for_element(Locator::Id("sign-out")).await.unwrap().click().await.unwrap();
    wait_for_text(b, "main h1", "Your thoughts, organized.").await;
    let landed = b.current_url().await.unwrap();
    assert_eq!(query_param(landed.as_str(), "state").as_deref(), Some("q"), "{landed}");
    // Signed out at the IdP: signing in to Lab Notes shows the login page again.
    b.goto(&format!("{}/auth/login", lab.notes())).await.unwrap();
    b.wait().for_element(Locator::Id("email")).await.unwrap();
    assert!(browser.text().await.contains("to continue to Lab Notes"));
    browser.close().await;
}

#[tokio::test]
async fn the_consent_page_in_chromium() {
    let lab = TestLab::start().await;
    // A self-registered app whose redirect URI is the console's home page, so the browser lands
    // on a real page with the authorization response in its URL.
    let home = format!("{}/", lab.console());
    let body = json!({ "client_name": "Shady Notes", "redirect_uris": [home] });
    let reg: Value =
        lab.http.post(format!("{}/register", lab.idp())).json(&body).send().await.unwrap().json().await.unwrap();
    let (shady, secret) = (reg["client_id"].as_str().unwrap(), reg["client_secret"].as_str().unwrap());
    let browser = Browser::start().await;
    let b = &browser.client;
    let landed = |state: &'static str| async move {
        wait_for_text(b, "#dotenv", "IDP_URL=").await;
        let url = b.current_url().await.unwrap().to_string();
        assert_eq!(query_param(&url, "state").as_deref(), Some(state), "{url}");
        url
    };

    b.goto(&lab.authorize_url(shady, &home, &[("state", "one")])).await.unwrap();
    b.wait().for_element(Locator::Id("email")).await.unwrap().send_keys("heidi@acme.example").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("code")).await.unwrap().send_keys("112233").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_text(b, "h1", "Allow Shady Notes?").await;
    assert_eq!(b.title().await.unwrap(), "Allow Shady Notes? · XAA Lab");
    let text = browser.text().await;
    assert_has(&text, &["It asks to sign you in as heidi@acme.example.", SELF_REGISTERED, shady]);
    let host = lab.console().trim_start_matches("http://");
    assert_eq!(b.find(Locator::Id("redirect-host")).await.unwrap().text().await.unwrap(), host);
    let scopes = b.find(Locator::Id("scopes")).await.unwrap().text().await.unwrap();
    assert_has(
        &scopes,
        &["openid: sign you in with your user identifier", "profile: your name", "email: your email address"],
    );
    browser.screenshot("idp-consent").await;

    // Deny: back to the app with access_denied.
    b.find(Locator::Id("deny")).await.unwrap().click().await.unwrap();
    let url = landed("one").await;
    assert_eq!(query_param(&url, "error").as_deref(), Some("access_denied"), "{url}");

    // Asked again; Allow: a code the app redeems.
    b.goto(&lab.authorize_url(shady, &home, &[("state", "two")])).await.unwrap();
    b.wait().for_element(Locator::Id("allow")).await.unwrap().click().await.unwrap();
    let url = landed("two").await;
    let code = query_param(&url, "code").expect("a code");
    let resp = lab
        .http
        .post(format!("{}/token", lab.idp()))
        .basic_auth(shady, Some(secret))
        .form(&xaa_core::oauth::GrantRequest::to_form(&xaa_core::oauth::AuthorizationCodeRequest {
            code,
            redirect_uri: home.clone(),
            code_verifier: VERIFIER.to_owned(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Remembered: the next sign-in goes straight back.
    b.goto(&lab.authorize_url(shady, &home, &[("state", "three")])).await.unwrap();
    let url = landed("three").await;
    assert!(query_param(&url, "code").is_some(), "{url}");
    browser.close().await;
}
