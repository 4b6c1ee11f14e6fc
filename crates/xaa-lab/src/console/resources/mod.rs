//! "Test your resource app" (`/resources`), a wizard like xaa.dev's, on one page that works
//! without JavaScript: (1) name, base URL and health path, checked with one `GET` (5 s; a failed
//! check is shown with "Connect anyway"); (2) the authorization server, the lab's or the
//! developer's own (its token endpoint discovered, see [`probe`]); (3) scopes and endpoints;
//! (4) whether it is an MCP server; (5) the test requestor the lab makes, with its credentials.
//! Changing resource apps takes the classroom's join code (as `/join` does), asked first; every
//! form carries the console's CSRF token. A registration answers `303` to the app's page
//! (post/redirect/get), which shows the test requestor's secrets to the browser that registered
//! (see [`super::shown_once`]). Each app then runs in the explorer at `/explorer/resources/{id}`.

pub(crate) mod check;
pub(crate) mod probe;

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use xaa_core::oauth::FormParams;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};
use xaa_web::redirect::SeeOther;

use super::lab_status::LabStatus;
use super::shown_once::Shown;
use super::{ConsoleState, form_lines};
use crate::admin::{JoinRefused, NewResourceApp, OwnAs, ResourceApp};

/// The wizard's fields, as typed (shown again when something is refused).
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields {
    name: String,
    base_url: String,
    health_path: String,
    own_as: bool,
    issuer: String,
    target_client_id: String,
    as_client_secret: String,
    scopes: String,
    endpoints: String,
    mcp: bool,
    mcp_url: String,
    mcp_resources: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "resources.html")]
struct WizardPage {
    lab_status: LabStatus,
    csrf: String,
    lab_issuer: String,
    error: Option<String>,
    /// The failed health check, offered with "Connect anyway".
    health: Option<String>,
    f: Fields,
    apps: Vec<ResourceApp>,
}

#[derive(Template, WebTemplate)]
#[template(path = "resource_app.html")]
struct AppPage {
    lab_status: LabStatus,
    csrf: String,
    app: ResourceApp,
    /// Whether the secrets are shown (only right after registering).
    fresh: bool,
    /// The discovery attempts, right after registering an app with its own AS.
    tried: Vec<String>,
    /// Its last conformance run.
    checks: Option<Arc<check::LastRun>>,
}

/// A wizard form, with whether its CSRF token is this browser's (a refused one is shown again).
pub(crate) type WizardForm = Result<CsrfForm<Bytes>, CsrfRejection<Bytes, BytesRejection>>;

fn example() -> Fields {
    Fields {
        health_path: "/health".into(),
        scopes: "todos.read".into(),
        endpoints: "GET /api/todos".into(),
        ..Fields::default()
    }
}

fn wizard(st: &ConsoleState, csrf: String, error: Option<String>, health: Option<String>, f: Fields) -> WizardPage {
    WizardPage {
        lab_status: LabStatus::of(st),
        csrf,
        lab_issuer: st.urls.authorization_server.clone(),
        error,
        health,
        f,
        apps: st.admin.resource_apps.list(),
    }
}

/// `GET /resources`: the registered apps and the wizard.
pub(crate) async fn page(State(st): State<Arc<ConsoleState>>, csrf: CsrfToken) -> Response {
    let page = wizard(&st, csrf.value().to_owned(), None, None, example());
    (csrf, page).into_response()
}

fn fields(form: &FormParams) -> Fields {
    let field = |name: &str| form.single(name).ok().flatten().unwrap_or("").trim().to_owned();
    Fields {
        name: field("name"),
        base_url: field("base_url"),
        health_path: field("health_path"),
        own_as: field("authorization_server") == "own",
        issuer: field("issuer"),
        target_client_id: field("target_client_id"),
        as_client_secret: field("as_client_secret"),
        scopes: form_lines(form, "scopes").join("\n"),
        endpoints: form_lines(form, "endpoints").join("\n"),
        mcp: field("mcp") == "yes",
        mcp_url: field("mcp_url"),
        mcp_resources: form_lines(form, "mcp_resources").join("\n"),
    }
}

fn request(f: &Fields, health: String) -> NewResourceApp {
    let lines = |s: &str| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    NewResourceApp {
        name: f.name.clone(),
        base_url: f.base_url.clone(),
        health_path: f.health_path.clone(),
        health,
        own_as: f.own_as.then(|| OwnAs {
            issuer: f.issuer.clone(),
            target_client_id: f.target_client_id.clone(),
            client_secret: f.as_client_secret.clone(),
            ..OwnAs::default()
        }),
        scopes: f.scopes.split_whitespace().map(str::to_owned).collect(),
        endpoints: lines(&f.endpoints),
        mcp_url: if f.mcp { f.mcp_url.clone() } else { String::new() },
        mcp_resources: if f.mcp { lines(&f.mcp_resources) } else { Vec::new() },
    }
}

/// `POST /resources`: checks, health check, discovery, then the registration.
pub(crate) async fn register(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    csrf: CsrfToken,
    form: WizardForm,
) -> Response {
    let (body, genuine) = match form {
        Ok(CsrfForm(body)) => (body, true),
        Err(CsrfRejection::Forged(body)) => (body, false),
        Err(CsrfRejection::Unreadable(e)) => return e.into_response(),
    };
    let form = FormParams::parse(&body);
    let token = csrf.value().to_owned();
    let f = fields(&form);
    let refuse = |status: StatusCode, error: String| {
        let page = wizard(&st, token.clone(), Some(error), None, f.clone());
        (status, csrf.clone(), page).into_response()
    };
    if !genuine {
        return refuse(StatusCode::BAD_REQUEST, "This page was open too long; press Register again.".into());
    }
    let code = form.single("join_code").ok().flatten().unwrap_or("");
    if !st.admin.join_code_matches(code) {
        return refuse(StatusCode::FORBIDDEN, JoinRefused::WrongCode.to_string());
    }
    // Refuse what cannot work before calling anyone's server.
    let mut req = match crate::admin::check_resource_app(request(&f, String::new())) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("The registration was refused: {e}.")),
    };
    let http = match st.http.get() {
        Ok(h) => h.clone(),
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, format!("The lab cannot make HTTP calls: {e}")),
    };
    let health_url = format!("{}{}", req.base_url.trim_end_matches('/'), req.health_path);
    // Only servers the lab may call, and only as many calls a minute as the room shares.
    let named =
        [Some(&health_url), req.own_as.as_ref().map(|o| &o.issuer), Some(&req.mcp_url).filter(|u| !u.is_empty())];
    for url in named.into_iter().flatten() {
        if let Err(e) = crate::outbound::check_destination(url, st.allow_link_local).await {
            return refuse(StatusCode::BAD_REQUEST, format!("The registration was refused: {e}."));
        }
    }
    let calls = if req.own_as.is_some() { 3 } else { 1 };
    if let Err(retry_in) = st.probes.take(calls, st.clock.now()) {
        let message = format!(
            "The wizard calls people's servers at most {} times a minute, for the whole room. Try again in {retry_in} s.",
            probe::PROBES_PER_MINUTE
        );
        let mut resp = refuse(StatusCode::TOO_MANY_REQUESTS, message);
        if let Ok(v) = HeaderValue::from_str(&retry_in.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let health = probe::health(&http, &health_url).await;
    let anyway = form.single("connect_anyway").ok().flatten() == Some("1");
    if !health.ok && !anyway {
        let page = wizard(&st, token.clone(), None, Some(health.text), f.clone());
        return (csrf, page).into_response();
    }
    req.health = if health.ok { health.text } else { format!("{} (connected anyway)", health.text) };
    let mut tried = Vec::new();
    if let Some(own) = &mut req.own_as {
        let found = probe::discover(&http, &own.issuer).await;
        own.token_endpoint = found.token_endpoint;
        own.token_endpoint_source = found.source;
        own.jwks_uri = found.jwks_uri;
        tried = found.tried;
        // What the developer's metadata names is called later (steps 3 and the checks).
        for url in [&own.token_endpoint, &own.jwks_uri].into_iter().filter(|u| !u.is_empty()) {
            if let Err(e) = crate::outbound::check_destination(url, st.allow_link_local).await {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!("The registration was refused: its metadata names {e}."),
                );
            }
        }
    }
    match st.admin.register_resource_app_with_code(code, req).await {
        Ok(app) => {
            // Post/redirect/get: the app's page shows the secrets to this browser for a while.
            let shown = Shown::ResourceApp { id: app.id.clone(), tried };
            let jar = st.shown_once.hand_over(jar, st.secure_cookies, st.clock.now(), shown);
            (jar, SeeOther::to(&format!("/resources/{}", app.id))).into_response()
        }
        Err(e) => super::join::refused(e, refuse),
    }
}

fn not_found(st: &ConsoleState, csrf: CsrfToken, id: &str) -> Response {
    let error = format!("There is no resource app \"{id}\" (deleted, or never registered). Register yours here.");
    let page = wizard(st, csrf.value().to_owned(), Some(error), None, example());
    (StatusCode::NOT_FOUND, csrf, page).into_response()
}

/// `GET /resources/{id}`: one app; its secrets only to the browser that registered it, for a
/// while after (see [`super::shown_once`]).
pub(crate) async fn app(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Response {
    let Some(app) = st.admin.resource_apps.get(&id) else { return not_found(&st, csrf, &id) };
    let checks = st.conformance.last(&app.id);
    let shown = st.shown_once.resource_app(&jar, st.clock.now(), &app.id);
    let page = AppPage {
        lab_status: LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        app,
        fresh: shown.is_some(),
        tried: shown.unwrap_or_default(),
        checks,
    };
    let mut resp = (csrf, page).into_response();
    // The page may hold the test requestor's secrets.
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `POST /resources/{id}/delete`: the app, its test requestor's clients and its connection go.
pub(crate) async fn delete(
    State(st): State<Arc<ConsoleState>>,
    csrf: CsrfToken,
    Path(id): Path<String>,
    form: WizardForm,
) -> Response {
    let Some(app) = st.admin.resource_apps.get(&id) else { return not_found(&st, csrf, &id) };
    let (body, genuine) = match form {
        Ok(CsrfForm(body)) => (body, true),
        Err(CsrfRejection::Forged(body)) => (body, false),
        Err(CsrfRejection::Unreadable(e)) => return e.into_response(),
    };
    let form = FormParams::parse(&body);
    let refuse = |status: StatusCode, error: String| {
        let page = wizard(&st, csrf.value().to_owned(), Some(error), None, example());
        (status, csrf.clone(), page).into_response()
    };
    if !genuine {
        return refuse(StatusCode::BAD_REQUEST, "This page was open too long; press Delete again.".into());
    }
    if !st.admin.join_code_matches(form.single("join_code").ok().flatten().unwrap_or("")) {
        return refuse(StatusCode::FORBIDDEN, JoinRefused::WrongCode.to_string());
    }
    match st.admin.delete_resource_app(&app.id).await {
        Ok(_) => SeeOther::to("/resources#registered").into_response(),
        Err(e) => refuse(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
