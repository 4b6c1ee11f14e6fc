//! The lab console (:4400): the home page (actors, steps, links, `.env`), the live trace of every
//! request grouped into flows, and the token inspector.
//!
//! | path | what |
//! | --- | --- |
//! | `GET /` | home |
//! | `GET /trace` | live trace (filter `client`, `user`); streams through `GET /trace/events` (SSE) |
//! | `GET /trace.json` | the filtered trace as JSON, paged like `/trace` (`before`); `ETag` and `304` |
//! | `GET /trace/flows/{id}`, `/trace/flows/{id}/json`, `/trace/flows/{id}/mermaid` | one flow: diagram, JSON, Mermaid |
//! | `GET /inspect`, `POST /inspect` | token inspector (CSRF protected) |
//! | `GET /join`, `POST /join`, `GET /join/registered` | participants register their own requestor with the join code (CSRF protected); the credentials are shown after the redirect, to that browser only |
//! | `GET /exercises`, `GET /exercises/{switch}` | one "predict, run, explain" exercise per break-it switch, and `id-jag-reuse` for the re-use policy |
//! | `/admin…`, `/api/admin/…` | IT admin pages and JSON API (admin token; see [`admin`]) |
//! | `GET /explorer`, `POST /explorer/start`, `GET /explorer/callback`, `POST /explorer/step/{n}`, `POST /explorer/reset`, `POST /explorer/as` | the flow explorer against the lab's todo API or MCP server (see [`explorer`]) |
//! | `GET, POST /resources`, `GET /resources/{id}`, `POST /resources/{id}/delete` | "Test your resource app": register your own resource (join code) |
//! | `POST /resources/{id}/check`, `GET /resources/{id}/conformance.json`, `…/conformance.xml` | its conformance checks (`lab check`), the last run as JSON and JUnit XML |
//! | `GET /explorer/resources/{id}`, `POST …/start`, `GET …/callback`, `POST …/step/{n}` | the same explorer against a registered resource app |

mod admin;
mod exercises;
pub(crate) mod explorer;
mod inspect;
mod join;
pub(crate) mod lab_status;
pub(crate) mod resources;
mod reuse;
mod shown_once;
mod snippets;
mod tenant;
mod trace;
mod view;

pub(crate) use explorer::{ExplorerClient, Sessions};
pub(crate) use shown_once::ShownOnce;

use std::path::PathBuf;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use axum_extra::extract::cookie::SameSite;
use xaa_core::clock::SharedClock;
use xaa_core::jose::KeySet;
use xaa_idp::User;

use crate::config::Urls;
use crate::env_file::EnvFile;

/// What the console shows and uses.
pub(crate) struct ConsoleState {
    pub(crate) urls: Urls,
    pub(crate) env: EnvFile,
    pub(crate) ca_cert: Option<PathBuf>,
    pub(crate) users: Vec<User>,
    pub(crate) trace: Arc<crate::observe::trace::Trace>,
    /// Trace rows rendered for the live pages.
    pub(crate) trace_rows: trace::RowCache,
    /// Trace pages rendered once per change of the trace, behind their own concurrency limit.
    pub(crate) trace_pages: trace::Rendered,
    pub(crate) as_keys: KeySet,
    pub(crate) admin: crate::admin::Admin,
    pub(crate) admin_token: String,
    /// Browser sessions signed in to the admin pages (random ids, never the token itself).
    pub(crate) admin_sessions: std::sync::Mutex<std::collections::HashSet<String>>,
    pub(crate) clock: SharedClock,
    pub(crate) secure_cookies: bool,
    pub(crate) explorer: ExplorerClient,
    pub(crate) explorer_sessions: Sessions,
    /// Secrets a registration hands over to the page after its redirect.
    pub(crate) shown_once: ShownOnce,
    /// The calls the resource wizard may still make this minute to servers people name.
    pub(crate) probes: resources::probe::Budget,
    /// Whether those calls may reach link-local and metadata addresses (`--allow-link-local`).
    pub(crate) allow_link_local: bool,
    pub(crate) http: Arc<xaa_core::http_client::LazyClient>,
    /// The fixtures (the user and requestor the conformance checks' tokens name).
    pub(crate) fixtures: Arc<crate::fixtures::Fixtures>,
    /// The last conformance run of each resource app.
    pub(crate) conformance: resources::check::Runs,
}

/// The console's CSRF cookie: every console form carries the token bound to it (see
/// [`xaa_web::csrf`]); SameSite=Strict, as the console is never reached from another site's form.
pub(crate) const CSRF_COOKIE: &str = "xaa_console_csrf";

impl xaa_web::csrf::CsrfConfig for ConsoleState {
    fn csrf(&self) -> xaa_web::csrf::Csrf {
        xaa_web::csrf::Csrf::own_cookie(CSRF_COOKIE, SameSite::Strict, self.secure_cookies)
    }
}

/// The non-empty lines of a form's textarea (or of repeated fields) `name`, trimmed.
pub(crate) fn form_lines(form: &xaa_core::oauth::FormParams, name: &str) -> Vec<String> {
    form.values(name).flat_map(|v| v.lines()).map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    lab_status: crate::console::lab_status::LabStatus,
    urls: Urls,
    dotenv: String,
    ca_cert: Option<String>,
    /// Named users with their tenant's label.
    users: Vec<(User, String)>,
    tenants: Vec<xaa_idp::Tenant>,
}

pub(crate) fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/trace", get(trace::page))
        .route("/trace/events", get(trace::events))
        .route("/trace.json", get(trace::export))
        .route("/trace/flows/{id}", get(trace::flow))
        .route("/trace/flows/{id}/json", get(trace::flow_json))
        .route("/trace/flows/{id}/mermaid", get(trace::flow_mermaid))
        .route("/inspect", get(inspect::form).post(inspect::analyse))
        .route("/exercises", get(exercises::index))
        .route("/exercises/{name}", get(exercises::page))
        .route("/join", get(join::form).post(join::join))
        .route("/join/registered", get(join::registered))
        .route("/resources", get(resources::page).post(resources::register))
        .route("/resources/{id}", get(resources::app))
        .route("/resources/{id}/delete", axum::routing::post(resources::delete))
        .route("/resources/{id}/check", axum::routing::post(resources::check::start))
        .route("/resources/{id}/conformance.json", get(resources::check::json))
        .route("/resources/{id}/conformance.xml", get(resources::check::junit))
        .merge(explorer::routes())
        .merge(admin::routes())
        .route("/favicon.ico", get(|| async { xaa_web::not_found::favicon('X', "#1f2333") }))
        .method_not_allowed_fallback(admin::method_not_allowed)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(xaa_web::not_found::redirect_trailing_slash))
        .layer(axum::middleware::from_fn(xaa_web::same_origin::same_origin))
        .layer(axum::middleware::map_response(xaa_web::nosniff::nosniff))
        .with_state(Arc::new(state))
}

/// A path the console does not serve, for a browser.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    lab_status: lab_status::LabStatus,
    path: String,
}

/// The fallback of every route: a `404` page with a way back for a browser, JSON for a program.
async fn not_found(
    State(st): State<Arc<ConsoleState>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    xaa_web::not_found::answer(&method, &uri, &headers, |path| NotFoundPage {
        lab_status: lab_status::LabStatus::of(&st),
        path,
    })
}

async fn home(State(st): State<Arc<ConsoleState>>) -> HomePage {
    HomePage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        urls: st.urls.clone(),
        dotenv: st.env.to_dotenv(),
        ca_cert: st.ca_cert.as_ref().map(|p| p.display().to_string()),
        users: st.users.iter().map(|u| (u.clone(), tenant::label(&st, &u.email))).collect(),
        tenants: st.admin.idp.tenants().all().to_vec(),
    }
}
