//! [`TestLab`]: the whole lab as a fixture for integration tests, on ephemeral loopback ports, in
//! memory, with a clock that only moves when told. Its helpers walk the real protocol (the IdP's
//! login pages, the code grant with PKCE, the token exchange, jwt-bearer, the todo API), never a
//! shortcut that skips validation. Dropping it stops every component.
//!
//! This example runs as a doc test (`cargo test -p xaa-lab --features testing --doc`); Node and
//! Python test suites drive the `lab` binary instead (`examples/node`, `examples/python`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), xaa_lab::testing::TestLabError> {
//! use xaa_lab::testing::{TestLab, TestLabError};
//!
//! let lab = TestLab::builder().user("dana@acme.example", "Dana Doe").start().await?;
//! let signed_in = lab.sign_in("my-requestor", "dana@acme.example").await?;
//! let id_jag = lab.exchange("my-requestor", &signed_in.id_token, "todos.read").await?;
//! let access_token = lab.jwt_bearer("my-requestor", &id_jag).await?;
//! let todos = lab.todos(&access_token).await?;
//! assert_eq!(todos["success"], true);
//!
//! lab.clock.advance(7200 + 61); // past the access token's lifetime and leeway, without sleeping
//! let refused = lab.todos(&access_token).await;
//! assert!(matches!(refused, Err(TestLabError::Refused { status: 401, .. })));
//!
//! // Every failure on demand: a break-it switch, here for one requestor only.
//! use xaa_lab::faults::Fault;
//! lab.break_it(Fault::IdJagWrongTyp, &["my-requestor", "my-requestor-at-todo0"]);
//! let signed_in = lab.sign_in("my-requestor", "dana@acme.example").await?;
//! let id_jag = lab.exchange("my-requestor", &signed_in.id_token, "todos.read").await?;
//! let refused = lab.jwt_bearer("my-requestor", &id_jag).await;
//! assert!(matches!(refused, Err(TestLabError::Refused { step: "jwt-bearer", status: 400, .. })));
//! lab.mend(Fault::IdJagWrongTyp);
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use xaa_core::clock::{Clock, ManualClock};
use xaa_core::oauth::{
    AuthorizationCodeRequest, GrantRequest, JwtBearerRequest, SubjectTokenType, TokenExchangeRequest,
};
use xaa_idp::User;

use crate::config::LabConfig;
use crate::fixtures::{FixtureEdit, Fixtures, Requestor};
use crate::handle::LabHandle;
use crate::outbound::connector;
use crate::start::{Lab, StartError};

/// Why a test-lab step failed.
#[derive(Debug, thiserror::Error)]
pub enum TestLabError {
    /// The lab did not start.
    #[error("the lab did not start: {0}")]
    Start(#[from] StartError),
    /// A request could not be made or its answer read.
    #[error("{0}")]
    Http(String),
    /// A server refused: which step, its status and body.
    #[error("{step} refused with {status}: {body}")]
    Refused {
        /// The step.
        step: &'static str,
        /// HTTP status.
        status: u16,
        /// The body as returned.
        body: String,
    },
    /// The fixtures have no such client.
    #[error("no client '{0}' in the fixtures")]
    UnknownClient(String),
}

fn http_err(e: impl std::fmt::Display) -> TestLabError {
    TestLabError::Http(e.to_string())
}

/// Builds a [`TestLab`].
#[derive(Debug)]
pub struct TestLabBuilder {
    config: LabConfig,
    clock_at: Option<i64>,
    edits: Vec<FixtureEdit>,
}

/// Tokens from a sign-in.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The ID token.
    pub id_token: String,
    /// The IdP access token (for `/userinfo`).
    pub access_token: String,
}

/// A running lab for tests.
#[derive(Debug)]
pub struct TestLab {
    /// The lab: URLs, fixtures, IT's policy, the break-it switches, the trace (through its methods).
    pub lab: LabHandle,
    /// The clock every component uses; advance it to show expiry.
    pub clock: Arc<ManualClock>,
    /// A client with no cookies that does not follow redirects (and trusts the lab CA in TLS mode).
    pub http: reqwest::Client,
    tls: Option<native_tls::TlsConnector>,
}

static TLS_DIRS: AtomicU64 = AtomicU64::new(0);

impl TestLabBuilder {
    /// Serves HTTPS with a lab CA created for this test lab.
    pub fn tls(mut self, on: bool) -> Self {
        self.config.tls = on;
        if on {
            let n = TLS_DIRS.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("xaa-testlab-tls-{}-{n}", std::process::id()));
            self.config.tls_dir = Some(dir);
        }
        self
    }

    /// Starts the clock at `now` (NumericDate) instead of the current time.
    pub fn clock_at(mut self, now: i64) -> Self {
        self.clock_at = Some(now);
        self
    }

    /// Deterministic mode (see [`LabConfig::deterministic`]): a fixed clock and seeded ids, so two
    /// labs built alike issue byte-identical tokens for the same calls.
    pub fn deterministic(mut self, seed: u64) -> Self {
        self.config = self.config.deterministic(seed);
        self.clock_at.get_or_insert(crate::DETERMINISTIC_EPOCH);
        self
    }

    /// Token lifetimes (e.g. [`crate::LabLifetimes::short`]).
    pub fn lifetimes(mut self, lifetimes: crate::LabLifetimes) -> Self {
        self.config.lifetimes = lifetimes;
        self
    }

    /// Adds a named user.
    pub fn user(self, email: &str, name: &str) -> Self {
        let user = User { email: email.to_owned(), name: name.to_owned(), tenant: None };
        self.fixtures(move |f| f.users.push(user.clone()))
    }

    /// Changes the fixtures (clients, connections, users, seed todos) after their URLs are known.
    pub fn fixtures(mut self, edit: impl Fn(&mut Fixtures) + Send + Sync + 'static) -> Self {
        self.edits.push(FixtureEdit::new(edit));
        self
    }

    /// Changes anything else in the configuration.
    pub fn configure(mut self, adjust: impl FnOnce(&mut LabConfig)) -> Self {
        adjust(&mut self.config);
        self
    }

    /// Starts the lab; returns once every component listens.
    pub async fn start(mut self) -> Result<TestLab, TestLabError> {
        let now = self
            .clock_at
            .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0));
        let clock = Arc::new(ManualClock::new(now));
        self.config.clock = clock.clone();
        self.config.fixture_edits = self.edits;
        let lab = Lab::start(self.config).await?;
        let tls = connector(lab.ca_cert_pem());
        let http = client_with(tls.clone(), false);
        Ok(TestLab { lab, clock, http, tls })
    }
}

impl TestLab {
    /// A builder: ephemeral ports, in memory, embedded fixtures, the current time on a manual clock.
    pub fn builder() -> TestLabBuilder {
        TestLabBuilder { config: LabConfig::for_tests(), clock_at: None, edits: Vec::new() }
    }

    /// The lab clock's time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Turns a break-it switch on for `clients` (their IdP and resource-AS ids; empty: every client),
    /// as the console's admin page does. [`xaa_faults::Fault::TodoApiSlow`] waits 2 s.
    pub fn break_it(&self, fault: xaa_faults::Fault, clients: &[&str]) {
        let delay_ms = if fault == xaa_faults::Fault::TodoApiSlow { 2000 } else { 0 };
        let clients = clients.iter().map(|c| (*c).to_owned()).collect();
        self.lab.set_switch(xaa_faults::Switch { fault, clients, delay_ms });
    }

    /// Turns a break-it switch off.
    pub fn mend(&self, fault: xaa_faults::Fault) {
        self.lab.clear_switch(fault);
    }

    /// A fresh browser-like client: its own cookie jar, no redirects, the lab CA trusted.
    pub fn browser(&self) -> reqwest::Client {
        client_with(self.tls.clone(), true)
    }

    fn requestor(&self, client_id: &str) -> Result<&Requestor, TestLabError> {
        self.lab
            .fixtures()
            .requestors
            .iter()
            .find(|r| r.idp.client_id == client_id)
            .ok_or_else(|| TestLabError::UnknownClient(client_id.to_owned()))
    }

    /// Signs `email` in to `client_id` the way a browser would: authorize with PKCE, the IdP's
    /// email and code pages, then the code grant at the token endpoint.
    pub async fn sign_in(&self, client_id: &str, email: &str) -> Result<SignedIn, TestLabError> {
        let r = self.requestor(client_id)?;
        let redirect = r.idp.redirect_uris.first().cloned().unwrap_or_default();
        let verifier = xaa_core::secret::random_token(32);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", &redirect)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid profile email")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let browser = self.browser();
        let authorize = format!("{}/authorize?{query}", self.lab.urls().idp);
        let location = login_via_pages(&self.lab.urls().idp, &browser, &authorize, email).await?;
        let code = location
            .split_once('?')
            .and_then(|(_, q)| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "code"))
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| TestLabError::Http(format!("no code in {location}")))?;
        let body = self
            .post(
                "code grant",
                &format!("{}/token", self.lab.urls().idp),
                AuthorizationCodeRequest { code, redirect_uri: redirect, code_verifier: verifier }
                    .to_form_posting(client_id, r.idp.client_secret.expose()),
            )
            .await?;
        Ok(SignedIn { id_token: string(&body, "id_token")?, access_token: string(&body, "access_token")? })
    }

    /// The RFC 8693 token exchange of `id_token` for an ID-JAG for the todo API; returns the ID-JAG.
    pub async fn exchange(&self, client_id: &str, id_token: &str, scope: &str) -> Result<String, TestLabError> {
        let r = self.requestor(client_id)?;
        let urls = self.lab.urls();
        let body = self
            .post(
                "token exchange",
                &format!("{}/token", urls.idp),
                TokenExchangeRequest::for_id_jag(
                    id_token,
                    SubjectTokenType::IdToken,
                    urls.authorization_server_issuer(),
                    urls.todo_api_resource(),
                    scope,
                )
                .to_form_posting(client_id, r.idp.client_secret.expose()),
            )
            .await?;
        string(&body, "access_token")
    }

    /// The RFC 7523 jwt-bearer grant with `client_id`'s resource-AS credentials; returns the access token.
    pub async fn jwt_bearer(&self, client_id: &str, id_jag: &str) -> Result<String, TestLabError> {
        let r = self.requestor(client_id)?;
        let body = self
            .post(
                "jwt-bearer",
                &format!("{}/token", self.lab.urls().authorization_server),
                JwtBearerRequest::new(id_jag)
                    .to_form_posting(r.resource_as.client_id.as_str(), r.resource_as.client_secret.expose()),
            )
            .await?;
        string(&body, "access_token")
    }

    /// `GET /api/todos` with `access_token`.
    pub async fn todos(&self, access_token: &str) -> Result<Value, TestLabError> {
        let resp = self
            .http
            .get(format!("{}/api/todos", self.lab.urls().todo_api))
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(http_err)?;
        answer("todo API", resp).await
    }

    /// Posts a token request's form.
    async fn post(
        &self,
        step: &'static str,
        url: &str,
        form: Vec<(&'static str, String)>,
    ) -> Result<Value, TestLabError> {
        let resp = self.http.post(url).form(&form).send().await.map_err(http_err)?;
        answer(step, resp).await
    }
}

async fn answer(step: &'static str, resp: reqwest::Response) -> Result<Value, TestLabError> {
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(http_err)?;
    if status != 200 {
        return Err(TestLabError::Refused { step, status, body: text });
    }
    serde_json::from_str(&text).map_err(http_err)
}

fn string(body: &Value, field: &str) -> Result<String, TestLabError> {
    body[field].as_str().map(str::to_owned).ok_or_else(|| TestLabError::Http(format!("no {field} in {body}")))
}

/// Drives the IdP's login pages in `browser`: the authorize URL shows the email page, then the
/// code page (any 6 digits), then, for an app that registered itself (open RFC 7591 registration),
/// the consent page, where it allows the app; returns the `Location` the login ends with.
pub async fn login_via_pages(
    idp: &str,
    browser: &reqwest::Client,
    authorize_url: &str,
    email: &str,
) -> Result<String, TestLabError> {
    let page = browser.get(authorize_url).send().await.map_err(http_err)?;
    if page.status() != 200 {
        let status = page.status().as_u16();
        return Err(TestLabError::Refused { step: "authorize", status, body: page.text().await.unwrap_or_default() });
    }
    let html = page.text().await.map_err(http_err)?;
    let (login, csrf) = (hidden(&html, "login")?, hidden(&html, "csrf")?);
    let code_page = browser
        .post(format!("{idp}/login/email"))
        .form(&[("login", login.as_str()), ("csrf", csrf.as_str()), ("email", email)])
        .send()
        .await
        .map_err(http_err)?;
    if code_page.status() != 200 {
        return Err(TestLabError::Refused {
            step: "login email",
            status: code_page.status().as_u16(),
            body: String::new(),
        });
    }
    let done = browser
        .post(format!("{idp}/login/code"))
        .form(&[("login", login.as_str()), ("csrf", csrf.as_str()), ("code", "123456")])
        .send()
        .await
        .map_err(http_err)?;
    let done = if done.status() == 200 {
        let body = done.text().await.map_err(http_err)?;
        if !body.contains("action=\"/consent\"") {
            return Err(TestLabError::Refused { step: "login code", status: 200, body });
        }
        browser
            .post(format!("{idp}/consent"))
            .form(&[("login", login.as_str()), ("csrf", csrf.as_str()), ("decision", "allow")])
            .send()
            .await
            .map_err(http_err)?
    } else {
        done
    };
    done.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned).ok_or_else(|| {
        TestLabError::Refused { step: "login code", status: done.status().as_u16(), body: String::new() }
    })
}

fn hidden(html: &str, name: &str) -> Result<String, TestLabError> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).ok_or_else(|| TestLabError::Http(format!("no hidden field {name} in the page")))?;
    Ok(html[start + marker.len()..].split('"').next().unwrap_or_default().to_owned())
}

/// A client that does not follow redirects, with a cookie jar when `cookies`, trusting only `ca`
/// (PEM): the lab is all it calls.
pub fn browser_client(ca: Option<&[u8]>, cookies: bool) -> reqwest::Client {
    client_with(connector(ca), cookies)
}

fn client_with(tls: Option<native_tls::TlsConnector>, cookies: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(cookies);
    let builder = match tls {
        Some(connector) => builder.tls_backend_preconfigured(connector),
        None => builder,
    };
    builder.build().unwrap_or_default()
}
