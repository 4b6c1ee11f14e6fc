//! `GET /authorize`, the login pages, the code grant at `POST /token`, SSO, the IdP cookies,
//! `/userinfo` and `/session/end`: error pages versus error redirects, PKCE, state and nonce.

use reqwest::{Client, IntoUrl, Response, StatusCode};
use serde_json::Value;

use crate::harness::*;

const ALICE: &str = "alice@acme.example";
const APP_NAME: &str = "Your requestor app";
const EMAIL_FORM: &str = "action=\"/login/email\"";
const CODE_FORM: &str = "action=\"/login/code\"";
const STATE: &str = "st-42";
const LOGOUT_TO: &str = "http://localhost:3000";

type Params = Vec<(String, String)>;
/// Parameter changes: replace (`Some`) or remove (`None`).
type Changes<'a> = &'a [(&'a str, Option<&'a str>)];

async fn get(browser: &Client, url: impl IntoUrl) -> Response {
    browser.get(url).send().await.unwrap()
}

fn header(resp: &Response, name: &str) -> String {
    let value = resp.headers().get(name).map(|v| v.to_str().unwrap());
    value.unwrap_or_default().to_owned()
}

fn assert_has(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing in {text}");
    }
}

fn changed(mut params: Params, changes: Changes<'_>) -> Params {
    for (name, value) in changes {
        params = with(&params, name, *value);
    }
    params
}

fn plain_url(lab: &TestLab) -> String {
    lab.authorize_url(CLIENT, REDIRECT, &[])
}

/// The standard authorize URL of the bring-your-own client with `changes`.
fn url_with(lab: &TestLab, changes: Changes<'_>) -> String {
    let url = plain_url(lab);
    let query = form_urlencoded::parse(url.split_once('?').unwrap().1.as_bytes());
    let params = changed(query.into_owned().collect(), changes);
    let mut query = form_urlencoded::Serializer::new(String::new());
    let query = query.extend_pairs(params).finish();
    format!("{}/authorize?{query}", lab.idp())
}

/// An HTML page with `status`, never a redirect; returns the page.
async fn page(resp: Response, status: u16) -> String {
    assert_eq!(resp.status().as_u16(), status);
    assert!(resp.headers().get("location").is_none(), "no redirect");
    assert!(header(&resp, "content-type").starts_with("text/html"));
    resp.text().await.unwrap()
}

/// GETs `url` in a fresh browser and expects an HTML page with `status`.
async fn page_at(lab: &TestLab, url: impl IntoUrl, status: u16) -> String {
    page(get(&lab.browser(), url).await, status).await
}

/// A 303 to the client's redirect URI, always carrying `iss` (RFC 9207); returns the Location.
fn redirect_to_client(lab: &TestLab, resp: &Response) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let loc = location(resp);
    assert!(loc.starts_with(&format!("{REDIRECT}?")), "{loc}");
    let iss = query_param(&loc, "iss");
    assert_eq!(iss.as_deref(), Some(lab.idp()), "iss in {loc}");
    loc
}

/// GETs `url` plus `state` in a fresh browser; expects an error redirect with `error`.
async fn authz_error(lab: &TestLab, url: &str, error: &str) {
    let resp = get(&lab.browser(), format!("{url}&state={STATE}")).await;
    let loc = redirect_to_client(lab, &resp);
    let param = |name: &str| query_param(&loc, name);
    assert_eq!(param("error").as_deref(), Some(error), "{loc}");
    assert_eq!(param("state").as_deref(), Some(STATE), "state echoed");
    assert!(param("error_description").is_some() && param("code").is_none());
}

/// A login page open in `browser`.
struct Login {
    browser: Client,
    id: String,
    csrf: String,
    html: String,
}

impl Login {
    fn parse(browser: Client, html: String) -> Self {
        let (id, csrf) = (hidden(&html, "login"), hidden(&html, "csrf"));
        Self { browser, id, csrf, html }
    }

    /// Opens the login page of `url` in a fresh browser.
    async fn open(lab: &TestLab, url: &str) -> Self {
        let browser = lab.browser();
        let html = page(get(&browser, url).await, 200).await;
        Self::parse(browser, html)
    }

    /// POSTs a login step (`email` or `code`) with the page's login id and CSRF token.
    async fn post(&self, lab: &TestLab, step: &str, value: &str) -> Response {
        let form = [("login", &*self.id), ("csrf", &*self.csrf), (step, value)];
        let url = format!("{}/login/{step}", lab.idp());
        self.browser.post(url).form(&form).send().await.unwrap()
    }
}

/// Opens the login page and submits alice's email; returns the login and the code page.
async fn at_code_page(lab: &TestLab) -> (Login, String) {
    let login = Login::open(lab, &plain_url(lab)).await;
    let code_page = page(login.post(lab, "email", ALICE).await, 200).await;
    (login, code_page)
}

/// Signs alice in through the pages in `browser`; returns the redirect Location.
async fn sign_in(lab: &TestLab, browser: &Client) -> String {
    lab.login_redirect(browser, &plain_url(lab), ALICE).await
}

/// Signs alice in with a fresh browser and returns the authorization code.
async fn fresh_code(lab: &TestLab) -> String {
    let loc = sign_in(lab, &lab.browser()).await;
    query_param(&loc, "code").expect("code in the redirect")
}

/// Code-grant parameters for the bring-your-own client (client_secret_post).
fn code_params(code: &str) -> Params {
    code_grant(code, REDIRECT, CLIENT, SECRET)
}

/// Redeems a fresh code with `changes` to the standard code-grant parameters.
async fn redeem_with(lab: &TestLab, changes: Changes<'_>) -> Response {
    let params = code_params(&fresh_code(lab).await);
    lab.idp_token(&changed(params, changes)).await
}

/// Redeems `code` and returns the decoded ID token claims.
async fn id_token_claims(lab: &TestLab, code: &str) -> Value {
    let resp = lab.idp_token(&code_params(code)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    decode(body["id_token"].as_str().unwrap()).1
}

/// The `Set-Cookie` headers for cookie `name`.
fn set_cookies(resp: &Response, name: &str) -> Vec<String> {
    let all = resp.headers().get_all("set-cookie").iter();
    let all = all.map(|v| v.to_str().unwrap().to_owned());
    all.filter(|c| c.starts_with(&format!("{name}="))).collect()
}

/// Asserts that `resp` sets cookie `name` to a value, `HttpOnly` and `SameSite=Lax`.
fn assert_secure_cookie(resp: &Response, name: &str) {
    let cookies = set_cookies(resp, name);
    let removal = format!("{name}=;");
    let set = cookies.iter().find(|c| !c.starts_with(&removal));
    let set = set.unwrap_or_else(|| panic!("{name} is not set: {cookies:?}"));
    assert_has(set, &["; HttpOnly", "; SameSite=Lax", "; Path=/"]);
}

fn session_end(lab: &TestLab, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    let query = query.extend_pairs(params).finish();
    format!("{}/session/end?{query}", lab.idp())
}

// --- error pages: never a redirect to an unverified URI ---

#[tokio::test]
async fn unknown_client_gets_an_error_page() {
    let lab = TestLab::start().await;
    let url = lab.authorize_url("nope", REDIRECT, &[("state", STATE)]);
    let html = page_at(&lab, url, 400).await;
    assert_has(&html, &["Unknown application", "nope"]);
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_an_error_page_naming_the_registered_uris() {
    let lab = TestLab::start().await;
    let notes = format!("{}/auth/callback", lab.lab.urls().notes);
    let slash = format!("{REDIRECT}/");
    for uri in ["http://evil.example/cb", &slash, &notes] {
        let changes = [("redirect_uri", Some(uri)), ("state", Some(STATE))];
        let html = page_at(&lab, url_with(&lab, &changes), 400).await;
        assert_has(&html, &["Redirect URI not registered", "Registered"]);
        assert_has(&html, &[REDIRECT]);
    }
}

#[tokio::test]
async fn missing_redirect_uri_gets_an_error_page() {
    let lab = TestLab::start().await;
    let url = url_with(&lab, &[("redirect_uri", None)]);
    assert_has(&page_at(&lab, url, 400).await, &["no redirect_uri"]);
}

// --- error redirects (RFC 6749 §4.1.2.1) ---

#[tokio::test]
async fn missing_code_challenge_is_invalid_request() {
    let lab = TestLab::start().await;
    let url = url_with(&lab, &[("code_challenge", None)]);
    authz_error(&lab, &url, "invalid_request").await;
}

#[tokio::test]
async fn plain_code_challenge_method_is_invalid_request() {
    let lab = TestLab::start().await;
    let method = ("code_challenge_method", Some("plain"));
    let url = url_with(&lab, &[method]);
    authz_error(&lab, &url, "invalid_request").await;
    let url = url_with(&lab, &[method, ("code_challenge", Some(VERIFIER))]);
    authz_error(&lab, &url, "invalid_request").await;
}

#[tokio::test]
async fn response_type_token_is_unsupported_response_type() {
    let lab = TestLab::start().await;
    let url = url_with(&lab, &[("response_type", Some("token"))]);
    authz_error(&lab, &url, "unsupported_response_type").await;
}

#[tokio::test]
async fn scope_without_openid_is_invalid_scope() {
    let lab = TestLab::start().await;
    let url = url_with(&lab, &[("scope", Some("profile email"))]);
    authz_error(&lab, &url, "invalid_scope").await;
}

// --- state and nonce ---

#[tokio::test]
async fn state_and_nonce_are_echoed_when_sent() {
    let lab = TestLab::start().await;
    let extra = [("state", "s-1 &x"), ("nonce", "n-1")];
    let url = lab.authorize_url(CLIENT, REDIRECT, &extra);
    let loc = lab.login_redirect(&lab.browser(), &url, ALICE).await;
    assert!(loc.starts_with(&format!("{REDIRECT}?code=")), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s-1 &x"));
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(lab.idp()));
    let code = query_param(&loc, "code").unwrap();
    assert_eq!(id_token_claims(&lab, &code).await["nonce"], "n-1");
}

#[tokio::test]
async fn state_and_nonce_are_absent_when_not_sent() {
    let lab = TestLab::start().await;
    let loc = sign_in(&lab, &lab.browser()).await;
    assert!(query_param(&loc, "state").is_none(), "{loc}");
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(lab.idp()));
    let code = query_param(&loc, "code").unwrap();
    let claims = id_token_claims(&lab, &code).await;
    assert!(claims.get("nonce").is_none(), "{claims}");
}

// --- the code grant at POST /token ---

#[tokio::test]
async fn wrong_code_verifier_is_invalid_grant() {
    let lab = TestLab::start().await;
    let wrong = format!("{VERIFIER}-wrong");
    let resp = redeem_with(&lab, &[("code_verifier", Some(&wrong))]).await;
    assert_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn reused_code_is_invalid_grant() {
    let lab = TestLab::start().await;
    let params = code_params(&fresh_code(&lab).await);
    let first = lab.idp_token(&params).await;
    assert_eq!(first.status(), StatusCode::OK);
    let access_token = first.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let userinfo = format!("{}/userinfo", lab.idp());
    let before = lab.http.get(&userinfo).bearer_auth(&access_token).send().await.unwrap();
    assert_eq!(before.status(), StatusCode::OK);
    let again = lab.idp_token(&params).await;
    let d = assert_oauth_error(again, 400, "invalid_grant").await;
    assert_has(&d, &["already used", "revoked"]);
    // RFC 6749 §4.1.2: the tokens issued for a replayed code are revoked.
    let after = lab.http.get(&userinfo).bearer_auth(&access_token).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn redirect_uri_mismatch_is_invalid_grant() {
    let lab = TestLab::start().await;
    let other = ("redirect_uri", Some("http://localhost:3000/other"));
    let resp = redeem_with(&lab, &[other]).await;
    assert_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let lab = TestLab::start().await;
    let params = code_params(&fresh_code(&lab).await);
    lab.clock.advance(61);
    let resp = lab.idp_token(&params).await;
    assert_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn code_of_another_client_is_invalid_grant() {
    let lab = TestLab::start().await;
    let id = ("client_id", Some(NOTES_CLIENT));
    let secret = ("client_secret", Some(NOTES_SECRET));
    let resp = redeem_with(&lab, &[id, secret]).await;
    assert_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn missing_code_verifier_is_invalid_request() {
    let lab = TestLab::start().await;
    let resp = redeem_with(&lab, &[("code_verifier", None)]).await;
    assert_oauth_error(resp, 400, "invalid_request").await;
}

#[tokio::test]
async fn client_secret_basic_works_for_the_code_grant() {
    let lab = TestLab::start().await;
    let params = code_params(&fresh_code(&lab).await);
    let params = changed(params, &[("client_id", None), ("client_secret", None)]);
    let token = lab.http.post(format!("{}/token", lab.idp()));
    let token = token.basic_auth(CLIENT, Some(SECRET)).form(&params);
    let resp = token.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let id_token = decode(body["id_token"].as_str().unwrap()).1;
    assert_eq!(id_token["aud"], CLIENT);
}

// --- the login pages ---

#[tokio::test]
async fn login_pages_are_html_and_name_the_app() {
    let lab = TestLab::start().await;
    let (login, code_page) = at_code_page(&lab).await;
    assert_has(&login.html, &[APP_NAME, EMAIL_FORM]);
    assert_has(&code_page, &["6-digit code", ALICE, CODE_FORM, APP_NAME]);
}

#[tokio::test]
async fn a_code_that_is_not_six_digits_rerenders_the_code_page() {
    let lab = TestLab::start().await;
    let (login, _) = at_code_page(&lab).await;
    for bad in ["12345", "1234567", "12a456", ""] {
        let html = page(login.post(&lab, "code", bad).await, 200).await;
        assert_has(&html, &["The code is 6 digits", CODE_FORM]);
    }
    let done = login.post(&lab, "code", "654321").await;
    let loc = redirect_to_client(&lab, &done);
    assert!(query_param(&loc, "code").is_some(), "6 digits work");
}

#[tokio::test]
async fn an_invalid_email_rerenders_the_email_page() {
    let lab = TestLab::start().await;
    let login = Login::open(&lab, &plain_url(&lab)).await;
    let resp = login.post(&lab, "email", "not-an-email").await;
    let html = page(resp, 200).await;
    assert_has(&html, &["Enter an email address like", APP_NAME]);
    assert_has(&html, &[EMAIL_FORM, "value=\"not-an-email\""]);
}

#[tokio::test]
async fn a_wrong_csrf_token_gets_the_expired_page() {
    let lab = TestLab::start().await;
    let mut login = Login::open(&lab, &plain_url(&lab)).await;
    login.csrf.push('x');
    let html = page(login.post(&lab, "email", ALICE).await, 400).await;
    assert_has(&html, &["expired"]);
}

#[tokio::test]
async fn a_form_without_the_login_cookie_is_rejected() {
    let lab = TestLab::start().await;
    let login = Login::open(&lab, &plain_url(&lab)).await;
    let elsewhere = Login::parse(lab.browser(), login.html);
    let html = page(elsewhere.post(&lab, "email", ALICE).await, 400).await;
    assert_has(&html, &["expired"]);
}

#[tokio::test]
async fn login_hint_prefills_the_email() {
    let lab = TestLab::start().await;
    let hint = [("login_hint", "bob@acme.example")];
    let url = lab.authorize_url(CLIENT, REDIRECT, &hint);
    let login = Login::open(&lab, &url).await;
    assert_has(&login.html, &["value=\"bob@acme.example\""]);
}

#[tokio::test]
async fn markup_in_the_email_is_escaped() {
    let lab = TestLab::start().await;
    let evil = "\"><script>alert(1)</script>@x.example";
    let url = lab.authorize_url(CLIENT, REDIRECT, &[("login_hint", evil)]);
    let login = Login::open(&lab, &url).await;
    let code_page = page(login.post(&lab, "email", evil).await, 200).await;
    for html in [&login.html, &code_page] {
        assert!(!html.contains("<script>"), "raw markup in {html}");
        assert!(!html.contains("\"\">"), "attribute broken in {html}");
        assert_has(html, &["alert(1)", "@x.example"]);
        let escaped = html.contains("&#60;script") || html.contains("&lt;script");
        assert!(escaped, "escaped markup in {html}");
    }
}

// --- SSO and prompt ---

#[tokio::test]
async fn a_signed_in_browser_gets_a_code_without_the_login_page() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    sign_in(&lab, &browser).await;
    let again = get(&browser, plain_url(&lab)).await;
    let loc = redirect_to_client(&lab, &again);
    let code = query_param(&loc, "code").expect("a code straight away");
    assert_eq!(id_token_claims(&lab, &code).await["sub"], ALICE);
    let url = lab.authorize_url(CLIENT, REDIRECT, &[("prompt", "login")]);
    let html = page(get(&browser, url).await, 200).await;
    assert_has(&html, &[APP_NAME, EMAIL_FORM]);
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let lab = TestLab::start().await;
    let url = lab.authorize_url(CLIENT, REDIRECT, &[("prompt", "none")]);
    authz_error(&lab, &url, "login_required").await;
}

// --- cookies ---

#[tokio::test]
async fn the_idp_cookies_are_http_only_and_same_site_lax() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let resp = get(&browser, plain_url(&lab)).await;
    assert_secure_cookie(&resp, "xaa_idp_authorize");
    let login = Login::parse(browser, page(resp, 200).await);
    page(login.post(&lab, "email", ALICE).await, 200).await;
    let done = login.post(&lab, "code", "123456").await;
    redirect_to_client(&lab, &done);
    assert_secure_cookie(&done, "xaa_idp_session");
}

// --- /userinfo ---

#[tokio::test]
async fn userinfo_returns_the_user_for_the_idp_access_token() {
    let lab = TestLab::start().await;
    let token = lab.login(ALICE).await.access_token;
    let userinfo = lab.http.get(format!("{}/userinfo", lab.idp()));
    let resp = userinfo.bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "content-type").starts_with("application/json"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["sub"], ALICE);
    assert_eq!(body["email"], ALICE);
    assert_eq!(body["name"], "Alice Adams");
}

#[tokio::test]
async fn userinfo_without_or_with_a_bad_token_is_401() {
    let lab = TestLab::start().await;
    let userinfo = format!("{}/userinfo", lab.idp());
    let none = get(&lab.http, &userinfo).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let challenge = header(&none, "www-authenticate");
    assert_eq!(challenge, "Bearer realm=\"idp\"", "no error attribute");
    let bad = lab.http.get(&userinfo).bearer_auth("not-a-real-token");
    let bad = bad.send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let challenge = header(&bad, "www-authenticate");
    assert!(challenge.starts_with("Bearer realm=\"idp\""), "{challenge}");
    assert_has(&challenge, &["error=\"invalid_token\""]);
}

#[tokio::test]
async fn userinfo_accepts_the_bearer_scheme_in_any_case() {
    let lab = TestLab::start().await;
    let login = lab.login(ALICE).await;
    let resp = lab
        .http
        .get(format!("{}/userinfo", lab.idp()))
        .header("authorization", format!("bearer {}", login.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Signs alice in through the pages in `browser` and redeems the code: her ID token.
async fn signed_in_id_token(lab: &TestLab, browser: &Client) -> String {
    let code = query_param(&sign_in(lab, browser).await, "code").expect("code in the redirect");
    let resp = lab.idp_token(&code_params(&code)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.unwrap()["id_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn session_end_also_accepts_a_form_post() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let hint = signed_in_id_token(&lab, &browser).await;
    let resp = browser
        .post(format!("{}/session/end", lab.idp()))
        .form(&[("id_token_hint", hint.as_str()), ("post_logout_redirect_uri", LOGOUT_TO), ("state", "p")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "http://localhost:3000?state=p");
}

// --- /session/end (OpenID Connect RP-Initiated Logout; the confirmation page: idp_pages.rs) ---

#[tokio::test]
async fn session_end_redirects_clears_the_session_and_forces_a_new_login() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let hint = signed_in_id_token(&lab, &browser).await;
    let client = ("client_id", CLIENT);
    let to = ("post_logout_redirect_uri", LOGOUT_TO);
    let url = session_end(&lab, &[client, ("id_token_hint", &hint), to, ("state", "xyz")]);
    let resp = get(&browser, url).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "http://localhost:3000?state=xyz");
    let cleared = set_cookies(&resp, "xaa_idp_session");
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_has(&cleared[0], &["xaa_idp_session=;", "Max-Age=0"]);
    let html = page(get(&browser, plain_url(&lab)).await, 200).await;
    assert_has(&html, &[APP_NAME, EMAIL_FORM]);
}

#[tokio::test]
async fn session_end_refuses_an_unregistered_post_logout_redirect_uri() {
    let lab = TestLab::start().await;
    let to = ("post_logout_redirect_uri", "http://evil.example/");
    let url = session_end(&lab, &[("client_id", CLIENT), to]);
    let html = page_at(&lab, url, 400).await;
    assert_has(&html, &["not registered", LOGOUT_TO]);
}

#[tokio::test]
async fn session_end_accepts_an_id_token_hint() {
    let lab = TestLab::start().await;
    let id_token = lab.login(ALICE).await.id_token;
    let to = ("post_logout_redirect_uri", LOGOUT_TO);
    let url = session_end(&lab, &[("id_token_hint", id_token.as_str()), to]);
    let resp = get(&lab.browser(), url).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), LOGOUT_TO);
}

#[tokio::test]
async fn session_end_without_parameters_shows_the_signed_out_page() {
    let lab = TestLab::start().await;
    let url = format!("{}/session/end", lab.idp());
    assert_has(&page_at(&lab, url, 200).await, &["signed out"]);
}
