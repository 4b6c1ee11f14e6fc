//! The flow explorer: the lab acting as its own demo requestor (client `lab-explorer`). The user
//! runs the four XAA steps one at a time; each shows the exact HTTP request and response (secrets
//! masked unless revealed), the decoded tokens with every claim explained, the checks the receiving
//! server ran (from the trace), and copyable code.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use xaa_core::ids::ResourceUri;
use xaa_core::oauth::{AuthorizationCodeRequest, GrantRequest, JwtBearerRequest, TokenExchangeRequest};
use xaa_core::redirect::SeeOther;
use xaa_core::secret::{Secret, random_token};
use xaa_core::urn;
use xaa_core::validation::Check;

mod authorization_request;
mod call;
mod hints;
mod mcp;
mod mcp_resources;
pub(crate) mod resource_app;
mod resource_call;
mod response_check;
mod sessions;
mod subject_token;
mod titles;

use super::snippets::SnippetContext;
use super::view::TokenView;
use super::{ConsoleState, csrf_cookie};
use authorization_request::authorization_request;
use call::call;
use response_check::check_resource;
pub(crate) use sessions::Sessions;
use subject_token::Subject;
pub(crate) use titles::step_title;

/// The explorer session cookie.
const EXPLORER_COOKIE: &str = "xaa_console_explorer";
/// Todo API calls step 4 offers.
const ENDPOINTS: &[&str] = &["GET /api/todos", "GET /api/todos/stats", "GET /api/todos/incomplete", "POST /api/todos"];

/// The explorer's client credentials (fixture role `explorer`).
#[derive(Clone, Debug)]
pub(crate) struct ExplorerClient {
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) resource_client_id: String,
    pub(crate) resource_client_secret: Secret,
}

/// One run of the chain, per browser.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chain {
    email: String,
    pending: Option<(String, String, String)>,
    id_token: Option<String>,
    /// The IdP refresh token, when step 1 asked for `offline_access`.
    refresh_token: Option<String>,
    /// Step 1 asked for `offline_access`.
    offline: bool,
    /// Step 2's subject token.
    subject: Subject,
    id_jag: Option<String>,
    access_token: Option<String>,
    endpoint: String,
    /// Step 2 asked for the MCP server rather than the REST API.
    mcp: bool,
    authorize: String,
    records: [Option<StepRecord>; 4],
}

/// What one executed step shows.
#[derive(Clone, Debug)]
pub(crate) struct StepRecord {
    request: String,
    response: String,
    ok: bool,
    status: String,
    tokens: Vec<TokenView>,
    checks: Vec<Check>,
    /// The explorer's own checks of the answer, as a requestor must run them.
    client_checks: Vec<Check>,
    snippets: Vec<(&'static str, String)>,
}

struct StepView {
    n: usize,
    title: &'static str,
    what: &'static str,
    enabled: bool,
    record: Option<StepRecord>,
}

#[derive(Template, WebTemplate)]
#[template(path = "explorer.html")]
struct ExplorerPage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    email: String,
    /// The signed-in user's tenant, as step 1's ID token names it.
    tenant: Option<String>,
    endpoint: String,
    endpoints: Vec<&'static str>,
    mcp: bool,
    refresh: subject_token::View,
    steps: Vec<StepView>,
    masked: bool,
}

fn session_id(jar: &CookieJar) -> Option<String> {
    jar.get(EXPLORER_COOKIE).map(|c| c.value().to_owned())
}

fn chain(st: &ConsoleState, jar: &CookieJar) -> Chain {
    session_id(jar).and_then(|id| st.explorer_sessions.get(&id)).unwrap_or_default()
}

fn save(st: &ConsoleState, jar: CookieJar, chain: Chain) -> CookieJar {
    let (jar, id) = match session_id(&jar) {
        Some(id) => (jar, id),
        None => {
            let id = random_token(24);
            let cookie = Cookie::build((EXPLORER_COOKIE, id.clone()))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(st.secure_cookies);
            (jar.add(cookie), id)
        }
    };
    st.explorer_sessions.put(id, chain);
    jar
}

pub(crate) async fn page(State(st): State<Arc<ConsoleState>>, jar: CookieJar) -> Response {
    let (jar, csrf) = csrf_cookie(&st, jar);
    let c = chain(&st, &jar);
    let have = [true, c.id_token.is_some(), c.id_jag.is_some(), c.access_token.is_some()];
    let steps = (0..4)
        .map(|i| StepView {
            n: i + 1,
            title: titles::TITLES[i].0,
            what: titles::TITLES[i].1,
            enabled: have[i],
            record: c.records[i].clone(),
        })
        .collect();
    let first = if c.mcp { mcp::ACTIONS[0] } else { ENDPOINTS[0] };
    let endpoint = if c.endpoint.is_empty() { first.to_owned() } else { c.endpoint.clone() };
    let page = ExplorerPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf,
        email: c.email.clone(),
        tenant: c.id_token.as_deref().and_then(|t| crate::console::tenant::of_id_token(&st, t)),
        endpoint,
        endpoints: ENDPOINTS.iter().chain(&mcp::ACTIONS).copied().collect(),
        mcp: c.mcp,
        refresh: subject_token::View::of(&c),
        steps,
        masked: !st.trace.reveals_secrets(),
    };
    (jar, page).into_response()
}

#[derive(Deserialize)]
pub(crate) struct StepForm {
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    endpoint: String,
    /// Step 2's resource: `mcp` for the todo API's MCP server, else the REST API.
    #[serde(default)]
    target: String,
    /// Step 1's "also get a refresh token" checkbox.
    #[serde(default)]
    offline: String,
    /// Step 2's subject token: `refresh_token`, else the ID token.
    #[serde(default)]
    subject: String,
}

fn checked(jar: &CookieJar, form: Result<Form<StepForm>, FormRejection>) -> Option<StepForm> {
    let Form(f) = form.ok()?;
    let expected = jar.get(super::CSRF_COOKIE).map(|c| c.value().to_owned())?;
    Secret::new(expected).matches(&f.csrf).then_some(f)
}

fn back(step: usize) -> Response {
    SeeOther::to(&format!("/explorer#step-{step}")).into_response()
}

/// Step 1, part one: a fresh chain, and the browser sent to the IdP's login pages.
pub(crate) async fn start(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    let Some(f) = checked(&jar, form) else { return back(1) };
    let email = f.email.trim().to_owned();
    let offline = subject_token::ticked(&f.offline);
    let (authorize, pending) = authorization_request(
        &st.urls.idp,
        &st.explorer.client_id,
        &st.redirect_uri(),
        subject_token::scope(offline),
        &email,
    );
    let pending = Some(pending);
    let chain = Chain { email, pending, offline, authorize: authorize.clone(), ..Chain::default() };
    let jar = save(&st, jar, chain);
    (jar, SeeOther::to(&authorize)).into_response()
}

#[derive(Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl Callback {
    /// Step 1's record when the IdP redirected back with an error or a foreign `state`.
    fn refused(self, snippets: Vec<(&'static str, String)>) -> StepRecord {
        let why = self
            .error
            .map(|e| format!("error {e}: {}", self.error_description.unwrap_or_default()))
            .unwrap_or_else(|| "an unexpected state".into());
        StepRecord {
            request: String::new(),
            response: format!("The IdP redirected back with {why}"),
            ok: false,
            status: "refused".into(),
            tokens: vec![],
            checks: vec![],
            client_checks: vec![],
            snippets,
        }
    }
}

/// Step 1, part two: the IdP's redirect; the code is redeemed and recorded.
pub(crate) async fn callback(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    Query(cb): Query<Callback>,
) -> Response {
    let mut c = chain(&st, &jar);
    let Some((state, _nonce, verifier)) = c.pending.take() else { return back(1) };
    if cb.state.as_deref() != Some(state.as_str()) || cb.error.is_some() {
        c.records[0] = Some(cb.refused(subject_token::code(&st, 1, c.offline, Subject::IdToken)));
        return (save(&st, jar, c), back(1)).into_response();
    }
    let code = cb.code.unwrap_or_default();
    let form = AuthorizationCodeRequest { code, redirect_uri: st.redirect_uri(), code_verifier: verifier }.to_form();
    let basic = Some((st.explorer.client_id.clone(), st.explorer.client_secret.expose().to_owned()));
    let (mut record, body) = call(&st, 1, "POST", &format!("{}/token", st.urls.idp), form, basic, None).await;
    record.request = format!(
        "# The browser was sent to the IdP (then signed in on its pages):\nGET {}\n\n# The code it brought back was redeemed:\n{}",
        c.authorize, record.request
    );
    record.snippets = subject_token::code(&st, 1, c.offline, Subject::IdToken);
    c.id_token = body.as_ref().and_then(|b| b["id_token"].as_str()).map(str::to_owned);
    c.refresh_token = body.as_ref().and_then(|b| b["refresh_token"].as_str()).map(str::to_owned);
    c.records = [Some(record), None, None, None];
    c.id_jag = None;
    c.access_token = None;
    (save(&st, jar, c), back(1)).into_response()
}

/// Steps 2-4.
pub(crate) async fn step(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    Path(n): Path<usize>,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    let Some(f) = checked(&jar, form) else { return back(n) };
    let mut c = chain(&st, &jar);
    let ex = &st.explorer;
    match n {
        2 => {
            let Some(_) = &c.id_token else { return back(1) };
            let Some(subject_token) = subject_token::choose(&st, &mut c, &f.subject) else {
                return (save(&st, jar, c), back(2)).into_response();
            };
            if c.mcp != (f.target == "mcp") {
                c.mcp = !c.mcp;
                c.endpoint.clear();
            }
            let (resource, scope) = if c.mcp {
                (mcp::server_url(&st), mcp::SCOPE)
            } else {
                (st.urls.todo_api.clone(), "todos.read todos.write")
            };
            let exchange = TokenExchangeRequest::for_id_jag(
                subject_token,
                c.subject.token_type(),
                st.urls.authorization_server_issuer(),
                ResourceUri::new(resource.as_str()),
                scope,
            );
            let form = exchange.to_form_posting(&ex.client_id, ex.client_secret.expose());
            let (mut record, body) = call(&st, 2, "POST", &format!("{}/token", st.urls.idp), form, None, None).await;
            check_resource(&resource, &mut record, body.as_ref());
            record.snippets = subject_token::code(&st, 2, c.offline, c.subject);
            c.id_jag = body.as_ref().filter(|_| record.ok).and_then(|b| b["access_token"].as_str()).map(str::to_owned);
            c.records[1] = Some(record);
            c.records[2] = None;
            c.records[3] = None;
            c.access_token = None;
        }
        3 => {
            let Some(id_jag) = c.id_jag.clone() else { return back(2) };
            let form = JwtBearerRequest::new(id_jag)
                .to_form_posting(&ex.resource_client_id, ex.resource_client_secret.expose());
            let url = format!("{}/token", st.urls.authorization_server);
            let (mut record, body) = call(&st, 3, "POST", &url, form, None, None).await;
            let resource = if c.mcp { mcp::server_url(&st) } else { st.urls.todo_api.clone() };
            check_resource(&resource, &mut record, body.as_ref());
            c.access_token =
                body.as_ref().filter(|_| record.ok).and_then(|b| b["access_token"].as_str()).map(str::to_owned);
            c.records[2] = Some(record);
            c.records[3] = None;
        }
        4 => {
            let Some(token) = c.access_token.clone() else { return back(3) };
            if let Some(action) = mcp::ACTIONS.iter().find(|a| **a == f.endpoint) {
                c.records[3] = Some(mcp::call(&st, &token, action).await);
                c.endpoint = (*action).to_owned();
                return (save(&st, jar, c), back(n)).into_response();
            }
            let endpoint = ENDPOINTS.iter().find(|e| **e == f.endpoint).copied().unwrap_or(ENDPOINTS[0]);
            let (method, path) = endpoint.split_once(' ').unwrap_or(("GET", "/api/todos"));
            let url = format!("{}{path}", st.urls.todo_api);
            let json = (method == "POST").then(|| serde_json::json!({ "title": "Created from the flow explorer" }));
            let (record, _) = call(&st, 4, method, &url, Vec::new(), None, Some((token, json))).await;
            c.endpoint = endpoint.to_owned();
            c.records[3] = Some(record);
        }
        _ => return back(1),
    }
    (save(&st, jar, c), back(n)).into_response()
}

/// "Start over": forgets the token chain.
pub(crate) async fn reset(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    if checked(&jar, form).is_some() {
        let jar = save(&st, jar, Chain::default());
        return (jar, back(1)).into_response();
    }
    back(1)
}

impl ConsoleState {
    fn redirect_uri(&self) -> String {
        format!("{}/explorer/callback", self.urls.console)
    }

    fn snippet_context<'a>(&'a self, endpoint: &'a str) -> SnippetContext<'a> {
        SnippetContext {
            idp: &self.urls.idp,
            authorization_server: &self.urls.authorization_server,
            todo_api: &self.urls.todo_api,
            redirect_uri: "http://localhost:3000/auth/callback",
            endpoint: if endpoint.is_empty() { "/api/todos" } else { endpoint },
            offline: false,
            subject_token_type: urn::TOKEN_TYPE_ID_TOKEN,
        }
    }
}
