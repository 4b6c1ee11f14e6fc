//! The one test fixture: a lab on ephemeral ports with a manual clock, a browser-like client
//! (cookie jar, no redirects), and helpers that walk the real flow step by step.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Response, StatusCode};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
pub use xaa_core::ids::{Issuer, ResourceUri};
use xaa_core::jose::SigningKey;
pub use xaa_core::oauth::{GrantRequest, JwtBearerRequest, SubjectTokenType, TokenExchangeRequest};
use xaa_lab::{LabConfig, LabKeys};

/// The bring-your-own client of the fixtures.
pub const CLIENT: &str = "my-requestor";
pub const SECRET: &str = "my-requestor-secret-not-for-production";
pub const RESOURCE_CLIENT: &str = "my-requestor-at-todo0";
pub const RESOURCE_SECRET: &str = "my-requestor-at-todo0-secret-not-for-production";
pub const REDIRECT: &str = "http://localhost:3000/auth/callback";
/// The lab's notes app (a second client with its own connection).
pub const NOTES_CLIENT: &str = "lab-notes";
pub const NOTES_SECRET: &str = "lab-notes-secret-not-for-production";
pub const NOTES_RESOURCE_CLIENT: &str = "lab-notes-at-todo0";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-lab-verifier";

/// The library's [`xaa_lab::testing::TestLab`] (fields `lab`, `clock`, `http` through `Deref`),
/// with the helpers these tests share.
pub struct TestLab(pub xaa_lab::testing::TestLab);

impl std::ops::Deref for TestLab {
    type Target = xaa_lab::testing::TestLab;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Tokens from a login.
pub struct Login {
    pub id_token: String,
    pub access_token: String,
}

impl TestLab {
    pub async fn start() -> Self {
        Self(xaa_lab::testing::TestLab::builder().start().await.expect("lab starts"))
    }

    pub async fn start_tls() -> Self {
        Self(xaa_lab::testing::TestLab::builder().tls(true).start().await.expect("lab starts"))
    }

    /// A lab on ephemeral ports, in memory, with a manual clock, adjusted by `adjust`.
    pub async fn start_configured(adjust: impl FnOnce(&mut LabConfig)) -> Self {
        Self(xaa_lab::testing::TestLab::builder().configure(adjust).start().await.expect("lab starts"))
    }

    pub fn idp(&self) -> &str {
        &self.lab.urls().idp
    }
    pub fn authz(&self) -> &str {
        &self.lab.urls().authorization_server
    }
    pub fn api(&self) -> &str {
        &self.lab.urls().todo_api
    }

    /// The authorize URL for `client` with PKCE, plus `extra` parameters.
    pub fn authorize_url(&self, client: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", client)
            .append_pair("redirect_uri", redirect)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid profile email")
            .append_pair("code_challenge", &challenge(VERIFIER))
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
        format!("{}/authorize?{}", self.idp(), q.finish())
    }

    /// Drives the login pages in `browser` (email, then code) and returns the redirect `Location`.
    pub async fn login_redirect(&self, browser: &reqwest::Client, authorize_url: &str, email: &str) -> String {
        login_via_pages(self.idp(), browser, authorize_url, email).await
    }

    /// The notes app's base URL.
    pub fn console(&self) -> &str {
        &self.lab.urls().console
    }
    /// A request to the console's admin API with the admin token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.console())).bearer_auth(self.lab.admin_token())
    }
    pub fn notes(&self) -> &str {
        &self.lab.urls().notes
    }

    /// Signs `email` in to the lab's notes app in a fresh browser (cookie jar): notes → IdP login
    /// pages → callback. Returns the browser, signed in.
    pub async fn notes_login(&self, email: &str) -> reqwest::Client {
        let browser = self.browser();
        let start = browser.get(format!("{}/auth/login", self.notes())).send().await.unwrap();
        assert_eq!(start.status(), StatusCode::SEE_OTHER, "the notes app sends the browser to the IdP");
        let callback = self.login_redirect(&browser, &location(&start), email).await;
        assert!(callback.starts_with(&format!("{}/auth/callback?", self.notes())), "{callback}");
        let done = browser.get(&callback).send().await.unwrap();
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "the callback signs in");
        assert_eq!(location(&done), "/notes");
        browser
    }

    /// `GET {notes}{path}` in `browser`; returns status and HTML.
    pub async fn notes_page(&self, browser: &reqwest::Client, path: &str) -> (StatusCode, String) {
        let resp = browser.get(format!("{}{path}", self.notes())).send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    /// Logs `email` in to `client` through the real pages and code grant.
    pub async fn login_as(&self, client: &str, secret: &str, redirect: &str, email: &str) -> Login {
        let browser = self.browser();
        let loc = self.login_redirect(&browser, &self.authorize_url(client, redirect, &[]), email).await;
        let code = query_param(&loc, "code").expect("code in the redirect");
        let resp = self
            .http
            .post(format!("{}/token", self.idp()))
            .form(&code_grant(&code, redirect, client, secret))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        Login {
            id_token: body["id_token"].as_str().unwrap().to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Logs `email` in to the bring-your-own client (the library's real sign-in).
    pub async fn login(&self, email: &str) -> Login {
        let s = self.0.sign_in(CLIENT, email).await.expect("sign-in");
        Login { id_token: s.id_token, access_token: s.access_token }
    }

    /// The standard token-exchange parameters for `id_token`.
    pub fn exchange_params(&self, id_token: &str) -> Vec<(String, String)> {
        let exchange = TokenExchangeRequest::for_id_jag(
            id_token,
            SubjectTokenType::IdToken,
            Issuer::new(self.authz()),
            ResourceUri::new(self.api()),
            "todos.read todos.write",
        );
        owned(exchange.to_form_posting(CLIENT, SECRET))
    }

    /// POSTs a form to the IdP token endpoint.
    pub async fn idp_token(&self, params: &[(String, String)]) -> Response {
        self.http.post(format!("{}/token", self.idp())).form(params).send().await.unwrap()
    }

    /// POSTs a form to the resource AS token endpoint.
    pub async fn as_token(&self, params: &[(String, String)]) -> Response {
        self.http.post(format!("{}/token", self.authz())).form(params).send().await.unwrap()
    }

    /// Token exchange with the standard parameters; returns the ID-JAG.
    pub async fn id_jag(&self, id_token: &str) -> String {
        self.0.exchange(CLIENT, id_token, "todos.read todos.write").await.expect("token exchange")
    }

    /// jwt-bearer parameters for `assertion` with the bring-your-own resource client.
    pub fn bearer_params(&self, assertion: &str) -> Vec<(String, String)> {
        owned(JwtBearerRequest::new(assertion).to_form_posting(RESOURCE_CLIENT, RESOURCE_SECRET))
    }

    /// jwt-bearer grant; returns the access token.
    pub async fn access_token(&self, id_jag: &str) -> String {
        self.0.jwt_bearer(CLIENT, id_jag).await.expect("jwt-bearer")
    }

    /// Login, exchange and jwt-bearer: an access token for `email`.
    pub async fn full_chain(&self, email: &str) -> String {
        let login = self.login(email).await;
        let jag = self.id_jag(&login.id_token).await;
        self.access_token(&jag).await
    }

    /// A todo-API request `method path` with `token` as the bearer token.
    pub fn todo(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.api())).bearer_auth(token)
    }

    /// `GET path` on the todo API, as JSON.
    pub async fn todo_json(&self, path: &str, token: &str) -> Value {
        self.todo(reqwest::Method::GET, path, token).send().await.unwrap().json().await.unwrap()
    }

    /// The IdP's OpenID Connect discovery document.
    pub async fn idp_discovery(&self) -> Value {
        let url = format!("{}/.well-known/openid-configuration", self.idp());
        self.http.get(url).send().await.unwrap().json().await.unwrap()
    }

    /// Creates a todo; returns the response.
    pub async fn create_todo(&self, token: &str, title: &str) -> Response {
        self.todo(reqwest::Method::POST, "/api/todos", token).json(&json!({ "title": title })).send().await.unwrap()
    }

    /// Valid ID-JAG claims for the bring-your-own client, as the IdP would mint them now.
    pub fn id_jag_claims(&self) -> Map<String, Value> {
        let now = self.now();
        json!({
            "iss": self.idp(), "sub": "alice@acme.example", "aud": self.authz(),
            "client_id": RESOURCE_CLIENT, "jti": xaa_core::secret::random_token(16),
            "exp": now + 300, "iat": now, "resource": self.api(), "scope": "todos.read todos.write",
        })
        .as_object()
        .unwrap()
        .clone()
    }
}

/// Drives the IdP's login pages in `browser`; returns the redirect `Location` (panics on refusal).
pub async fn login_via_pages(idp: &str, browser: &reqwest::Client, authorize_url: &str, email: &str) -> String {
    xaa_lab::testing::login_via_pages(idp, browser, authorize_url, email).await.expect("login pages")
}

/// A browser-like client: cookie jar, no redirects, trusting the lab CA when given.
pub fn client(ca: Option<&[u8]>) -> reqwest::Client {
    xaa_lab::testing::browser_client(ca, true)
}

/// The lab's own keys (the same files `lab` embeds).
pub fn lab_keys() -> LabKeys {
    LabKeys::load(None).unwrap()
}

/// A key nobody trusts, generated once per test process.
pub fn untrusted_key(kid: &str) -> SigningKey {
    SigningKey::generate(kid).unwrap()
}

/// Signs `claims` with `key` and header `typ`.
pub fn sign(key: &SigningKey, typ: &str, claims: &Map<String, Value>) -> String {
    key.sign(typ, claims).unwrap()
}

/// A JWT with an arbitrary header and a fake signature (for alg none / HS256 / crit cases).
pub fn forge(header: Value, claims: &Map<String, Value>, signature: &str) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.{}", enc(&header), enc(&Value::Object(claims.clone())), signature)
}

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Decodes a JWT's header and payload without verifying (tests only).
pub fn decode(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    let dec = |p: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    (dec(parts[0]), dec(parts[1]))
}

pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The page a console form's `303 See Other` sends `browser` to (post/redirect/get); any other
/// answer as it came. `base`: the console's origin.
pub async fn see_other(browser: &reqwest::Client, base: &str, resp: Response) -> Response {
    if resp.status() != StatusCode::SEE_OTHER {
        return resp;
    }
    let to = location(&resp);
    browser.get(format!("{base}{to}")).send().await.unwrap()
}

pub fn location(resp: &Response) -> String {
    resp.headers().get("location").expect("Location header").to_str().unwrap().to_owned()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Replaces (or with `None` removes) every occurrence of parameter `name`.
/// Code-grant parameters (PKCE with [`VERIFIER`]) with `client_secret_post` credentials.
pub fn code_grant(code: &str, redirect_uri: &str, client: &str, secret: &str) -> Vec<(String, String)> {
    let request = xaa_core::oauth::AuthorizationCodeRequest {
        code: code.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        code_verifier: VERIFIER.to_owned(),
    };
    owned(request.to_form_posting(client, secret))
}

/// Refresh-grant parameters with `client_secret_post` credentials.
pub fn refresh_grant(refresh_token: &str, client: &str, secret: &str) -> Vec<(String, String)> {
    let request = xaa_core::oauth::RefreshTokenRequest { refresh_token: refresh_token.to_owned(), scope: None };
    owned(request.to_form_posting(client, secret))
}

/// A request's form as owned pairs a test can edit with [`with`].
pub fn owned(form: Vec<(&'static str, String)>) -> Vec<(String, String)> {
    form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

pub fn with(params: &[(String, String)], name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = params.iter().filter(|(k, _)| k != name).cloned().collect();
    if let Some(v) = value {
        out.push((name.to_owned(), v.to_owned()));
    }
    out
}

/// Asserts an RFC 6749 §5.2 error: status, `error`, `Cache-Control: no-store`, JSON body.
/// Returns the `error_description`.
pub async fn assert_oauth_error(resp: Response, status: u16, error: &str) -> String {
    assert_eq!(resp.status().as_u16(), status, "HTTP status");
    assert_eq!(resp.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));
    assert_eq!(resp.headers().get("pragma").map(|v| v.to_str().unwrap()), Some("no-cache"));
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], error, "error code in {body}");
    let description = body["error_description"].as_str().expect("error_description").to_owned();
    // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
    let wire_safe = description.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
    assert!(wire_safe, "error_description outside the RFC 6749 §5.2 character set: {description:?}");
    assert_eq!(body.as_object().unwrap().len(), 2, "only error and error_description: {body}");
    description
}
