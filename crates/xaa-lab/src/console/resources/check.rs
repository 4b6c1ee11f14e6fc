//! "Run the conformance checks" on a resource app's page: the same checks as `lab check`
//! ([`crate::conformance`]), against the app's own servers. A resource governed by the lab's
//! authorization server gets the resource checks with the lab's access tokens (REST, and MCP when
//! it has an MCP server); one governed by the developer's own authorization server gets the
//! authorization server checks with the lab IdP's ID-JAGs, and the resource checks that need no
//! token. The last run of each app is kept in memory, shown on its page, as JSON
//! (`/resources/{id}/conformance.json`) and JUnit XML (`…/conformance.xml`), and on the room.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use xaa_core::clock::{Clock, SystemClock};
use xaa_web::csrf::{CsrfRejection, CsrfToken};
use xaa_web::redirect::SeeOther;

use crate::admin::ResourceApp;
use crate::conformance::as_server::{AsTarget, ClientAuth};
use crate::conformance::resource::ResourceTarget;
use crate::conformance::{LabParty, Report, as_server, resource};
use crate::console::ConsoleState;

/// What the JSON and JUnit URLs answer before the first run (or for an app that does not exist).
const NOT_RUN: &str = "no conformance run of this resource app yet: press Run the conformance checks on its page";

/// The last run of each resource app, and the apps being checked now.
#[derive(Debug, Default)]
pub(crate) struct Runs {
    last: Mutex<HashMap<String, Arc<LastRun>>>,
    running: Mutex<HashSet<String>>,
}

/// One run: its reports, or why it could not run.
#[derive(Debug)]
pub(crate) struct LastRun {
    /// When it ran (the wall clock, as the console shows times).
    pub(crate) at: String,
    pub(crate) reports: Vec<Report>,
    /// Why a part could not run (the lab could not mint, or make HTTP calls).
    pub(crate) errors: Vec<String>,
}

impl LastRun {
    /// `✓ 25 · ✗ 1 · ! 2 · – 0`.
    pub(crate) fn counts(&self) -> (usize, usize, usize, usize) {
        self.reports
            .iter()
            .map(Report::summary)
            .fold((0, 0, 0, 0), |(p, f, w, s), x| (p + x.passed, f + x.failed, w + x.warnings, s + x.skipped))
    }

    /// Whether every MUST was met and every part ran.
    pub(crate) fn passed(&self) -> bool {
        self.errors.is_empty() && self.reports.iter().all(Report::passed)
    }
}

impl Runs {
    /// The last run of app `id`.
    pub(crate) fn last(&self, id: &str) -> Option<Arc<LastRun>> {
        self.last.lock().ok()?.get(id).cloned()
    }
}

/// The first `GET /path` among the app's endpoints, else its base URL.
fn rest_endpoint(app: &ResourceApp) -> String {
    app.endpoints
        .iter()
        .find_map(|e| e.strip_prefix("GET ").map(|p| app.url_of(p.trim())))
        .unwrap_or_else(|| app.base_url.clone())
}

/// What to check for `app`: its authorization server (when it is the developer's own), its REST
/// API, its MCP server.
pub(crate) fn targets(app: &ResourceApp) -> (Option<AsTarget>, Vec<ResourceTarget>) {
    let scope = app.scopes.join(" ");
    let own_as = app.own_as.then(|| AsTarget {
        token_endpoint: app.token_endpoint.clone(),
        audience: app.issuer.clone(),
        client_id: app.as_client_id.clone(),
        client_secret: Some(app.as_client_secret.clone()).filter(|s| !s.is_empty()),
        auth: ClientAuth::Basic,
        resource: Some(app.base_url.clone()),
        scope: Some(scope.clone()).filter(|s| !s.is_empty()),
        mcp: !app.mcp_url.is_empty(),
    });
    let mut resources = vec![ResourceTarget {
        resource: app.base_url.clone(),
        endpoint: rest_endpoint(app),
        mcp: false,
        scope: scope.clone(),
        sibling: None,
        with_tokens: !app.own_as,
    }];
    if !app.mcp_url.is_empty() {
        resources.push(ResourceTarget {
            resource: app.mcp_url.clone(),
            endpoint: app.mcp_url.clone(),
            mcp: true,
            scope,
            sibling: None,
            with_tokens: !app.own_as,
        });
    }
    (own_as, resources)
}

async fn run(st: &ConsoleState, app: &ResourceApp) -> LastRun {
    // The servers under test keep their own time, not the lab clock a teacher may have moved.
    let wall = SystemClock::new();
    let at = xaa_core::claims::numeric_date(wall.now());
    let mut errors = Vec::new();
    let mut reports = Vec::new();
    let http = match st.http.get() {
        Ok(h) => h.clone(),
        Err(e) => return LastRun { at, reports, errors: vec![format!("the lab cannot make HTTP calls: {e}")] },
    };
    let idp_key = st.admin.idp.signing_key();
    let lab = LabParty {
        urls: &st.urls,
        fixtures: &st.fixtures,
        keys: crate::mint::Signers { idp: &idp_key, resource_as: st.admin.resource_as.signing_key() },
        now: wall.now(),
        entropy: st.admin.entropy.as_ref(),
    };
    let (own_as, resources) = targets(app);
    if let Some(target) = own_as {
        match as_server::run(&http, lab, &target).await {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(format!("authorization server checks: {e}")),
        }
    }
    for target in resources {
        match resource::run(&http, lab, &target).await {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(format!("resource checks: {e}")),
        }
    }
    LastRun { at, reports, errors }
}

/// `POST /resources/{id}/check`: runs the checks (one run per app at a time), then sends the
/// browser back to the app's page, at the results.
pub(crate) async fn start(
    State(st): State<Arc<ConsoleState>>,
    csrf: CsrfToken,
    Path(id): Path<String>,
    form: super::WizardForm,
) -> Response {
    let Some(app) = st.admin.resource_apps.get(&id) else { return super::not_found(&st, csrf, &id) };
    match form {
        Ok(_) => {}
        Err(CsrfRejection::Unreadable(e)) => return e.into_response(),
        Err(CsrfRejection::Forged(_)) => {
            let error = "This page was open too long; press Run the conformance checks again.".to_owned();
            let page = super::wizard(&st, csrf.value().to_owned(), Some(error), None, super::example());
            return (StatusCode::BAD_REQUEST, csrf, page).into_response();
        }
    }
    let fresh = st.conformance.running.lock().map(|mut r| r.insert(id.clone())).unwrap_or(false);
    if fresh {
        let last = run(&st, &app).await;
        if let Ok(mut runs) = st.conformance.last.lock() {
            runs.insert(id.clone(), Arc::new(last));
        }
        if let Ok(mut running) = st.conformance.running.lock() {
            running.remove(&id);
        }
    }
    SeeOther::to(&format!("/resources/{id}#conformance")).into_response()
}

/// `GET /resources/{id}/conformance.json`: the last run as JSON.
pub(crate) async fn json(State(st): State<Arc<ConsoleState>>, Path(id): Path<String>) -> Response {
    let Some(last) = st.conformance.last(&id) else {
        let body = serde_json::json!({ "error": "not_found", "error_description": NOT_RUN });
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    };
    let body = serde_json::json!({
        "at": last.at,
        "passed": last.passed(),
        "errors": last.errors,
        "reports": last.reports.iter().map(Report::json).collect::<Vec<_>>(),
    });
    axum::Json(body).into_response()
}

/// `GET /resources/{id}/conformance.xml`: the last run as JUnit XML.
pub(crate) async fn junit(State(st): State<Arc<ConsoleState>>, Path(id): Path<String>) -> Response {
    let Some(last) = st.conformance.last(&id) else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], NOT_RUN).into_response();
    };
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], Report::junit(&last.reports)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(own_as: bool, mcp_url: &str) -> ResourceApp {
        ResourceApp {
            base_url: "http://localhost:5000".into(),
            own_as,
            issuer: "http://localhost:5001".into(),
            token_endpoint: "http://localhost:5001/oauth/token".into(),
            as_client_id: "lab-at-mine".into(),
            as_client_secret: String::new(),
            scopes: vec!["notes.read".into(), "notes.write".into()],
            endpoints: vec!["POST /api/notes".into(), "GET /api/notes".into()],
            mcp_url: mcp_url.into(),
            ..ResourceApp::default()
        }
    }

    #[test]
    fn a_lab_governed_app_gets_the_resource_checks_with_tokens() {
        let (own, resources) = targets(&app(false, "http://localhost:5000/mcp"));
        assert!(own.is_none());
        let r: Vec<(String, String, bool, bool)> =
            resources.iter().map(|t| (t.resource.clone(), t.endpoint.clone(), t.mcp, t.with_tokens)).collect();
        assert_eq!(
            r,
            [
                ("http://localhost:5000".into(), "http://localhost:5000/api/notes".into(), false, true),
                ("http://localhost:5000/mcp".into(), "http://localhost:5000/mcp".into(), true, true),
            ]
        );
        assert_eq!(resources[0].scope, "notes.read notes.write");
    }

    #[test]
    fn an_app_with_its_own_as_gets_the_as_checks_and_the_tokenless_resource_checks() {
        let (own, resources) = targets(&app(true, ""));
        let own = own.unwrap();
        assert_eq!(
            (own.token_endpoint.as_str(), own.audience.as_str(), own.client_id.as_str()),
            ("http://localhost:5001/oauth/token", "http://localhost:5001", "lab-at-mine")
        );
        assert_eq!((own.client_secret, own.resource.as_deref()), (None, Some("http://localhost:5000")));
        assert_eq!(resources.len(), 1);
        assert!(!resources[0].with_tokens);
    }
}
