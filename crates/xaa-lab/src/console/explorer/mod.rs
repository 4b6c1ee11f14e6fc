//! The flow explorer: the lab acting as a requestor, one XAA step at a time, against a [`Target`]:
//! the lab's todo API or its MCP server (as its own requestor, client `lab-explorer`), or a
//! developer's registered resource app (as that app's test requestor). Each step shows the exact
//! HTTP request and response (secrets masked unless revealed), the decoded tokens with every claim
//! explained, the checks the receiving server ran (from the trace), the explorer's own checks,
//! hints when a developer's server refused, and copyable code.
//!
//! | path | what |
//! | --- | --- |
//! | `GET /explorer` | the lab's page: its todo API, or its MCP server (step 2 chooses) |
//! | `GET /explorer/resources/{id}` | resource app `{id}`'s page (404 for an unknown app) |
//! | `POST {page}/start`, `GET {page}/callback` | step 1: the sign-in at the IdP, and back |
//! | `POST {page}/step/{n}` | steps 2 to 4 |
//! | `POST /explorer/reset` | the lab's "Start over" |
//!
//! Every form carries the console's CSRF token; a form without it sends the browser back, having
//! run nothing.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use serde::Deserialize;
use xaa_core::secret::Secret;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};
use xaa_web::redirect::SeeOther;

mod acting_as;
mod call;
mod chain;
mod grants;
pub(crate) mod hints;
mod http;
mod mcp;
mod sign_in;
mod step;
mod subject_token;
mod target;

use super::ConsoleState;
use crate::admin::ResourceApp;
use crate::console::reuse::ReuseView;
pub(crate) use acting_as::callback_uri;
pub(crate) use chain::Sessions;
use chain::{Chain, Lost};
use sign_in::Callback;
pub(crate) use step::step_title;
use step::{Step, StepView};
use target::Target;

/// The explorer session cookie.
const EXPLORER_COOKIE: &str = "xaa_console_explorer";

/// The explorer's client credentials (fixture role `explorer`).
#[derive(Clone, Debug)]
pub(crate) struct ExplorerClient {
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) resource_client_id: String,
    pub(crate) resource_client_secret: Secret,
}

/// The explorer's routes: the lab's page and each resource app's, with the same steps below them.
pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/explorer", get(page))
        .route("/explorer/start", post(start))
        .route("/explorer/callback", get(callback))
        .route("/explorer/step/{n}", post(step))
        .route("/explorer/reset", post(reset))
        .route("/explorer/as", post(acting_as::choose))
        .route("/explorer/resources/{id}", get(page))
        .route("/explorer/resources/{id}/start", post(start))
        .route("/explorer/resources/{id}/callback", get(callback))
        .route("/explorer/resources/{id}/step/{n}", post(step))
}

/// What a request's path names: the resource app `id` (none: the lab's page) and the step `n`.
#[derive(Debug, Deserialize)]
struct At {
    id: Option<String>,
    n: Option<usize>,
}

#[derive(Template, WebTemplate)]
#[template(path = "explorer.html")]
struct ExplorerPage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    /// The resource app explored; none: the lab's todo API and MCP server.
    app: Option<ResourceApp>,
    /// The page's path: its forms post below it.
    path: String,
    email: String,
    /// The signed-in user's tenant, as step 1's ID token names it (the lab's page).
    tenant: Option<String>,
    /// Step 2 chose the lab's MCP server.
    mcp: bool,
    refresh: subject_token::View,
    /// Step 4's choice, and what it offers: the endpoints step 3's token is for, and those that
    /// will refuse it (the lab's other resource).
    endpoint: String,
    endpoints: Vec<String>,
    refused_endpoints: Vec<String>,
    steps: Vec<StepView>,
    masked: bool,
    /// This browser's run is gone: why.
    lost: Option<Lost>,
    /// Step 1's ID token has expired by the lab clock: when (step 2 offers to sign in again).
    id_token_expired: Option<String>,
    /// The ID-JAG re-use policy of the target's resource, shown at step 3 (none when the
    /// developer's own authorization server answers step 3).
    reuse: Option<ReuseView>,
    reuse_decision: String,
    reuse_why: &'static str,
    /// The participant's app the lab's page runs as: its name and client id.
    acting_as: Option<(String, String)>,
    /// Why the last "run as your app" was refused.
    as_error: Option<String>,
}

/// The page's query: `?lost=…` after a step posted to a run the explorer no longer holds.
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    lost: String,
    /// `?as_error=…` after a refused "run as your app".
    #[serde(default)]
    as_error: String,
}

/// When `id_token`'s `exp` has passed by the lab clock `now`: its date.
fn expired_at(id_token: &str, now: i64) -> Option<String> {
    let jwt = xaa_core::jose::unverified::UnverifiedJwt::parse(id_token).ok()?;
    let exp = jwt.unverified_claims().get("exp")?.as_i64()?;
    (exp <= now).then(|| xaa_core::claims::numeric_date(exp))
}

fn session_id(jar: &CookieJar) -> Option<String> {
    jar.get(EXPLORER_COOKIE).map(|c| c.value().to_owned())
}

/// This browser's session id, when the lab issued it since it started.
fn current_session(st: &ConsoleState, jar: &CookieJar) -> Option<String> {
    session_id(jar).filter(|id| st.explorer_sessions.issued_here(id))
}

/// Whether this browser's session id is from before the lab restarted (its run died with it).
fn restarted(st: &ConsoleState, jar: &CookieJar) -> bool {
    session_id(jar).is_some_and(|id| !st.explorer_sessions.issued_here(&id))
}

/// A path naming no registered resource app: 404, and where to register one.
#[derive(Debug)]
struct UnknownApp(String);

impl IntoResponse for UnknownApp {
    fn into_response(self) -> Response {
        let msg = format!("There is no resource app \"{}\". Register yours at /resources.", self.0);
        (StatusCode::NOT_FOUND, msg).into_response()
    }
}

/// This browser's chain against the target `at` names; an unknown resource app is a 404.
fn load(st: &ConsoleState, jar: &CookieJar, at: &At) -> Result<Chain, UnknownApp> {
    let target = match &at.id {
        Some(id) => {
            let app = st.admin.resource_apps.get(id).ok_or_else(|| UnknownApp(id.clone()))?;
            Target::ResourceApp(Box::new(app))
        }
        None => Target::default(),
    };
    let stored = current_session(st, jar).and_then(|s| st.explorer_sessions.get(&target.session_key(&s)));
    let mut chain = stored.unwrap_or_default();
    // The lab's chain keeps the target step 2 chose; a resource app's runs against the app as
    // registered now.
    if !target.is_lab() {
        chain.target = target;
    }
    Ok(chain)
}

fn save(st: &ConsoleState, jar: CookieJar, chain: Chain) -> CookieJar {
    let (jar, id) = match current_session(st, &jar) {
        Some(id) => (jar, id),
        None => {
            let id = st.explorer_sessions.new_id();
            let cookie = xaa_web::cookie::http_only(EXPLORER_COOKIE, id.clone(), SameSite::Lax, st.secure_cookies);
            (jar.add(cookie), id)
        }
    };
    st.explorer_sessions.put(chain.target.session_key(&id), chain);
    jar
}

/// `GET /explorer`, `GET /explorer/resources/{id}`.
async fn page(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    token: CsrfToken,
    Path(at): Path<At>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, UnknownApp> {
    let c = load(&st, &jar, &at)?;
    let csrf = token.value().to_owned();
    let lab = c.target.is_lab();
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let lost = if restarted(&st, &jar) {
        Some(Lost::Restarted)
    } else {
        Lost::from_param(&query.lost).filter(|_| c.record_of(Step::SignIn).is_none())
    };
    let page = ExplorerPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf,
        app: c.target.app().cloned(),
        path: c.target.path(),
        email: c.email.clone(),
        tenant: c.id_token.as_deref().filter(|_| lab).and_then(|t| crate::console::tenant::of_id_token(&st, t)),
        mcp: c.target.is_mcp_server(),
        refresh: subject_token::View::of(&c),
        endpoint: if c.endpoint.is_empty() { c.target.first_endpoint() } else { c.endpoint.clone() },
        endpoints: c.target.endpoints().into_iter().filter(|e| c.target.token_fits(e)).collect(),
        refused_endpoints: c.target.endpoints().into_iter().filter(|e| !c.target.token_fits(e)).collect(),
        steps: StepView::all(&c),
        masked: !st.trace.reveals_secrets(),
        lost,
        id_token_expired: c.id_token.as_deref().and_then(|t| expired_at(t, st.clock.now())),
        reuse: c
            .target
            .lab_serves(Step::JwtBearer)
            .then(|| st.admin.resource_as.reuse_policy(c.target.resource(&st.urls).as_str()))
            .flatten()
            .map(|r| ReuseView::from(&r)),
        reuse_decision: crate::console::reuse::decision(),
        reuse_why: crate::console::reuse::WHY,
        acting_as: c.acting_as.as_ref().filter(|_| lab).map(|a| (a.name.clone(), a.client.client_id.clone())),
        as_error: acting_as::Refused::from_param(&query.as_error).map(|r| r.text(&acting_as::callback_uri(&st))),
    };
    Ok((jar, token, page).into_response())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn id_token(exp: i64) -> String {
        use base64::Engine;
        let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", b64(json!({ "alg": "RS256", "typ": "JWT" })), b64(json!({ "exp": exp })))
    }

    #[test]
    fn an_id_token_past_its_exp_is_expired() {
        assert_eq!(expired_at(&id_token(1_000), 999), None);
        assert_eq!(expired_at(&id_token(1_000), 1_000).as_deref(), Some("1970-01-01 00:16:40 UTC"));
        assert_eq!(expired_at("not a jwt", 5), None);
    }
}

#[derive(Deserialize)]
pub(crate) struct StepForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    endpoint: String,
    /// Step 2's resource on the lab's page: `mcp` for the todo API's MCP server, else the REST API.
    #[serde(default)]
    target: String,
    /// Step 1's "also get a refresh token" checkbox.
    #[serde(default)]
    offline: String,
    /// Step 2's subject token: `refresh_token`, else the ID token.
    #[serde(default)]
    subject: String,
}

/// A step's form, with whether its CSRF token is this browser's.
pub(crate) type StepInput = Result<CsrfForm<Form<StepForm>>, CsrfRejection<Form<StepForm>>>;

fn checked(form: StepInput) -> Option<StepForm> {
    form.ok().map(|CsrfForm(Form(f))| f)
}

/// Back to step `n` of `target`'s page.
fn back(target: &Target, n: usize) -> Response {
    SeeOther::to(&format!("{}#step-{n}", target.path())).into_response()
}

/// Step 1, part one: a fresh chain, and the browser sent to the IdP's login pages.
async fn start(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    Path(at): Path<At>,
    form: StepInput,
) -> Result<Response, UnknownApp> {
    let c = load(&st, &jar, &at)?;
    let Some(f) = checked(form) else { return Ok(back(&c.target, 1)) };
    let c = sign_in::start(&st, &c, f.email.trim(), subject_token::ticked(&f.offline));
    let authorize = SeeOther::to(&c.authorize);
    Ok((save(&st, jar, c), authorize).into_response())
}

/// Step 1, part two: the IdP's redirect; the code is redeemed and recorded.
async fn callback(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    Path(at): Path<At>,
    Query(cb): Query<Callback>,
) -> Result<Response, UnknownApp> {
    let mut c = load(&st, &jar, &at)?;
    let back = back(&c.target, 1);
    if !sign_in::come_back(&st, &mut c, cb).await {
        return Ok(back);
    }
    Ok((save(&st, jar, c), back).into_response())
}

/// Steps 2 to 4; one whose token is missing sends the browser back to the step before it.
async fn step(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    Path(at): Path<At>,
    form: StepInput,
) -> Result<Response, UnknownApp> {
    let mut c = load(&st, &jar, &at)?;
    let n = at.n.unwrap_or(0);
    let Some(f) = checked(form) else { return Ok(back(&c.target, n)) };
    let Some(step) = Step::from_number(n) else { return Ok(back(&c.target, 1)) };
    if !c.can_run(step) {
        // A step posted from a page whose run the explorer no longer holds: say so.
        let session = current_session(&st, &jar);
        let held = session.as_ref().is_some_and(|s| st.explorer_sessions.get(&c.target.session_key(s)).is_some());
        if step > Step::SignIn && !held {
            let lost = if restarted(&st, &jar) { Lost::Restarted } else { Lost::Forgotten };
            return Ok(SeeOther::to(&format!("{}?lost={}#step-1", c.target.path(), lost.param())).into_response());
        }
        return Ok(back(&c.target, step.before().number()));
    }
    match step {
        Step::SignIn => return Ok(back(&c.target, 1)),
        Step::TokenExchange => grants::token_exchange(&st, &mut c, &f.subject, &f.target).await,
        Step::JwtBearer => grants::jwt_bearer(&st, &mut c).await,
        Step::Call => call::call_resource(&st, &mut c, &f.endpoint).await,
    }
    let back = back(&c.target, n);
    Ok((save(&st, jar, c), back).into_response())
}

/// "Start over" on the lab's page: forgets the token chain.
async fn reset(State(st): State<Arc<ConsoleState>>, jar: CookieJar, form: StepInput) -> Response {
    let lab = Target::default();
    if checked(form).is_some() {
        // The run as the same requestor: one's app stays chosen.
        let kept = current_session(&st, &jar).and_then(|s| st.explorer_sessions.get(&lab.session_key(&s)));
        let jar = save(&st, jar, kept.unwrap_or_default().anew(lab.clone()));
        return (jar, back(&lab, 1)).into_response();
    }
    back(&lab, 1)
}
