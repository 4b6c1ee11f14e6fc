//! The explorer against a developer's own resource (`/explorer/resources/{id}`): the four steps as
//! that resource app's test requestor. Step 2 asks the IdP for an ID-JAG with `audience` = the
//! chosen authorization server and `resource` = the resource; step 3 redeems it at the lab AS or at
//! the developer's discovered token endpoint; step 4 calls any of the registered endpoints (switch
//! and call again without signing in again) and, on 401/403, shows [`hints`].

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use xaa_core::claims::{TokenKind, explain};
use xaa_core::ids::{Issuer, ResourceUri};
use xaa_core::jose::unverified::UnverifiedJwt;
use xaa_core::oauth::{
    AuthorizationCodeRequest, GrantRequest, JwtBearerRequest, SubjectTokenType, TokenExchangeRequest,
};
use xaa_core::redirect::SeeOther;
use xaa_core::validation::Check;

use super::authorization_request::authorization_request;
use super::hints::{Answer, Expected, hints};
use super::mcp_resources::{MCP_LIST, list_resources};
use super::resource_call::{Outgoing, call_out};
use super::response_check::check_resource;
use super::titles::TITLES;
use super::{Callback, Chain, StepForm, StepView, call, checked, save, session_id};
use crate::admin::ResourceApp;
use crate::console::view::TokenView;
use crate::console::{ConsoleState, csrf_cookie};

#[derive(Template, WebTemplate)]
#[template(path = "explorer_resource.html")]
struct ResourcePage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    app: ResourceApp,
    email: String,
    endpoint: String,
    endpoints: Vec<String>,
    steps: Vec<StepView>,
    masked: bool,
}

/// This browser's chain for resource app `id` (kept beside its main explorer chain).
fn key(jar: &CookieJar, id: &str) -> Option<String> {
    session_id(jar).map(|s| format!("{s} resource-app {id}"))
}

fn chain(st: &ConsoleState, jar: &CookieJar, id: &str) -> Chain {
    key(jar, id).and_then(|k| st.explorer_sessions.get(&k)).unwrap_or_default()
}

fn store(st: &ConsoleState, jar: CookieJar, id: &str, c: Chain) -> CookieJar {
    let jar = if session_id(&jar).is_none() { save(st, jar, Chain::default()) } else { jar };
    if let Some(k) = key(&jar, id) {
        st.explorer_sessions.put(k, c);
    }
    jar
}

fn back(id: &str, step: usize) -> Response {
    SeeOther::to(&format!("/explorer/resources/{id}#step-{step}")).into_response()
}

/// What step 4 can call: the registered endpoints, then the MCP server's resource list.
fn endpoints(app: &ResourceApp) -> Vec<String> {
    let mut all = app.endpoints.clone();
    if !app.mcp_url.is_empty() {
        all.push(MCP_LIST.to_owned());
    }
    all
}

fn missing(id: &str) -> Response {
    let msg = format!("There is no resource app \"{id}\". Register yours at /resources.");
    (StatusCode::NOT_FOUND, msg).into_response()
}

/// `GET /explorer/resources/{id}`.
pub(crate) async fn page(State(st): State<Arc<ConsoleState>>, jar: CookieJar, Path(id): Path<String>) -> Response {
    let Some(app) = st.admin.resource_apps.get(&id) else { return missing(&id) };
    let (jar, csrf) = csrf_cookie(&st, jar);
    let c = chain(&st, &jar, &id);
    let have = [true, c.id_token.is_some(), c.id_jag.is_some(), c.access_token.is_some()];
    let whats = [
        TITLES[0].1,
        "RFC 8693 at the IdP: audience is your resource's authorization server, resource is your base URL, scope your scopes.",
        "RFC 7523 at your resource's authorization server (the lab's, or yours at its discovered token endpoint).",
        "Your endpoint, with the access token as a bearer token. On 401 or 403 the explorer says what your middleware most likely got wrong.",
    ];
    let titles = [TITLES[0].0, TITLES[1].0, TITLES[2].0, "Call your resource"];
    let steps = (0..4)
        .map(|i| StepView {
            n: i + 1,
            title: titles[i],
            what: whats[i],
            enabled: have[i],
            record: c.records[i].clone(),
        })
        .collect();
    let endpoint = if c.endpoint.is_empty() { app.endpoints.first().cloned().unwrap_or_default() } else { c.endpoint };
    let endpoints = endpoints(&app);
    let page = ResourcePage {
        endpoints,
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf,
        app,
        email: c.email,
        endpoint,
        steps,
        masked: !st.trace.reveals_secrets(),
    };
    (jar, page).into_response()
}

/// `POST /explorer/resources/{id}/start`: sign-in as the app's test requestor.
pub(crate) async fn start(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    Path(id): Path<String>,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    let Some(app) = st.admin.resource_apps.get(&id) else { return missing(&id) };
    let Some(f) = checked(&jar, form) else { return back(&id, 1) };
    let email = f.email.trim().to_owned();
    let (authorize, pending) =
        authorization_request(&st.urls.idp, &app.client_id, &app.redirect_uri, "openid email profile", &email);
    let c = Chain { email, pending: Some(pending), authorize: authorize.clone(), ..Chain::default() };
    (store(&st, jar, &id, c), SeeOther::to(&authorize)).into_response()
}

/// `GET /explorer/resources/{id}/callback`: the code redeemed with the test requestor's credentials.
pub(crate) async fn callback(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    Path(id): Path<String>,
    Query(cb): Query<Callback>,
) -> Response {
    let Some(app) = st.admin.resource_apps.get(&id) else { return missing(&id) };
    let mut c = chain(&st, &jar, &id);
    let Some((state, _nonce, verifier)) = c.pending.take() else { return back(&id, 1) };
    if cb.state.as_deref() != Some(state.as_str()) || cb.error.is_some() {
        c.records[0] = Some(cb.refused(vec![]));
        return (store(&st, jar, &id, c), back(&id, 1)).into_response();
    }
    let code = cb.code.unwrap_or_default();
    let form =
        AuthorizationCodeRequest { code, redirect_uri: app.redirect_uri.clone(), code_verifier: verifier }.to_form();
    let basic = Some((app.client_id.clone(), app.client_secret.clone()));
    let (mut record, body) = call(&st, 1, "POST", &format!("{}/token", st.urls.idp), form, basic, None).await;
    record.request = format!(
        "# The browser was sent to the IdP (then signed in on its pages):\nGET {}\n\n# The code it brought back was redeemed:\n{}",
        c.authorize, record.request
    );
    record.snippets = vec![];
    c.id_token = body.as_ref().and_then(|b| b["id_token"].as_str()).map(str::to_owned);
    c.records = [Some(record), None, None, None];
    c.id_jag = None;
    c.access_token = None;
    (store(&st, jar, &id, c), back(&id, 1)).into_response()
}

/// A JWT's JOSE header as JSON (empty when it is none).
fn header_of(jwt: &str) -> serde_json::Map<String, serde_json::Value> {
    let decoded = jwt.split('.').next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok());
    decoded.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// A JWT decoded for the page (not verified: the receiving server verifies it).
fn token_view(field: &str, jwt: &str) -> Option<TokenView> {
    let parsed = UnverifiedJwt::parse(jwt).ok()?;
    let typ = parsed.header().typ.clone().unwrap_or_default().to_ascii_lowercase();
    let kind = if typ.ends_with("oauth-id-jag+jwt") { TokenKind::IdJag } else { TokenKind::AccessToken };
    let header = serde_json::Value::Object(header_of(jwt)).to_string();
    let claims = parsed
        .unverified_claims()
        .iter()
        .map(|(k, v)| {
            let (meaning, spec) = explain(kind, k);
            (k.clone(), v.to_string(), meaning, spec)
        })
        .collect();
    Some(TokenView { field: field.to_owned(), kind: kind.label().to_owned(), header, claims })
}

/// `POST /explorer/resources/{id}/step/{n}`: steps 2 to 4.
pub(crate) async fn step(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    Path((id, n)): Path<(String, usize)>,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    let Some(app) = st.admin.resource_apps.get(&id) else { return missing(&id) };
    let Some(f) = checked(&jar, form) else { return back(&id, n) };
    let mut c = chain(&st, &jar, &id);
    match n {
        2 => {
            let Some(id_token) = c.id_token.clone() else { return back(&id, 1) };
            let exchange = TokenExchangeRequest::for_id_jag(
                id_token,
                SubjectTokenType::IdToken,
                Issuer::new(app.issuer.as_str()),
                ResourceUri::new(app.base_url.as_str()),
                app.scopes.join(" "),
            );
            let form = exchange.to_form_posting(&app.client_id, &app.client_secret);
            let (mut record, body) = call(&st, 2, "POST", &format!("{}/token", st.urls.idp), form, None, None).await;
            record.snippets = vec![];
            check_resource(&app.base_url, &mut record, body.as_ref());
            c.id_jag = body.as_ref().filter(|_| record.ok).and_then(|b| b["access_token"].as_str()).map(str::to_owned);
            c.records = [c.records[0].take(), Some(record), None, None];
            c.access_token = None;
        }
        3 => {
            let Some(id_jag) = c.id_jag.clone() else { return back(&id, 2) };
            let mut form = JwtBearerRequest::new(id_jag).to_form();
            form.push(("client_id", app.as_client_id.clone()));
            if !app.as_client_secret.is_empty() {
                form.push(("client_secret", app.as_client_secret.clone()));
            }
            let (mut record, body) = if app.own_as {
                let out = Outgoing { form, ..Outgoing::default() };
                let (mut record, answered) = call_out(&st, "POST", &app.token_endpoint, out).await;
                if let Some(t) = answered.json.as_ref().and_then(|b| b["access_token"].as_str()) {
                    record.tokens.extend(token_view("access_token", t));
                }
                (record, answered.json)
            } else {
                call(&st, 3, "POST", &app.token_endpoint, form, None, None).await
            };
            record.snippets = vec![];
            check_resource(&app.base_url, &mut record, body.as_ref());
            c.access_token =
                body.as_ref().filter(|_| record.ok).and_then(|b| b["access_token"].as_str()).map(str::to_owned);
            c.records[2] = Some(record);
            c.records[3] = None;
        }
        4 => {
            let Some(token) = c.access_token.clone() else { return back(&id, 3) };
            let endpoints = endpoints(&app);
            let endpoint =
                endpoints.iter().find(|e| **e == f.endpoint).or(endpoints.first()).cloned().unwrap_or_default();
            let (mut record, answered) = if endpoint == MCP_LIST {
                list_resources(&st, &app.mcp_url, &token).await
            } else {
                let (method, path) = endpoint.split_once(' ').unwrap_or(("GET", "/"));
                let json = matches!(method, "POST" | "PUT" | "PATCH").then(|| serde_json::json!({}));
                let out = Outgoing { bearer: Some(&token), json, ..Outgoing::default() };
                call_out(&st, method, &app.url_of(path), out).await
            };
            record.tokens.extend(token_view("Authorization", &token));
            if let Ok(jwt) = UnverifiedJwt::parse(&token) {
                let header = header_of(&token);
                let expected = Expected {
                    resource: &app.base_url,
                    issuer: &app.issuer,
                    jwks_uri: &app.jwks_uri,
                    now: st.clock.now(),
                };
                let answer = Answer { status: answered.status, www_authenticate: answered.www_authenticate.as_deref() };
                for h in hints(&header, jwt.unverified_claims(), answer, expected) {
                    record.client_checks.push(Check { name: h.check, passed: false, detail: h.text, spec: h.spec });
                }
            }
            c.endpoint = endpoint;
            c.records[3] = Some(record);
        }
        _ => return back(&id, 1),
    }
    (store(&st, jar, &id, c), back(&id, n)).into_response()
}
