//! The admin JSON API. Errors are `{"error", "error_description"}` with 400 (`invalid_request`,
//! or `invalid_redirect_uri` for a refused redirect URI), 404 (unknown client or switch), 401
//! (no admin token) or 500 (`server_error`: the lab's storage failed).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use xaa_faults::{Fault, Switch};
use xaa_idp::AuditFilter;

use super::AdminAuth;
use crate::admin::{AdminError, RegisterRequest};
use crate::console::ConsoleState;

pub(super) fn error(status: StatusCode, code: &str, description: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": code, "error_description": description.to_string()}))).into_response()
}

/// An admin operation's error: 400 with its code for a refused request, 500 `server_error` (logged
/// here, once) when the lab's storage failed.
pub(super) fn bad(e: AdminError) -> Response {
    if e.is_server_error() {
        tracing::error!(error = %e, "admin request failed: storage");
        return error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), e);
    }
    error(StatusCode::BAD_REQUEST, e.code(), e)
}

pub(super) fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, Box<Response>> {
    b.map(|Json(t)| t).map_err(|e| Box::new(error(StatusCode::BAD_REQUEST, "invalid_request", e.body_text())))
}

pub(crate) async fn clients(_: AdminAuth, State(st): State<Arc<ConsoleState>>) -> Json<Value> {
    let a = &st.admin;
    let list: Vec<Value> = a
        .idp
        .clients()
        .into_iter()
        .map(|c| {
            let connections: Vec<_> = a.idp.connections().into_iter().filter(|x| x.client_id == c.client_id).collect();
            json!({
                "client_id": c.client_id,
                "name": c.name,
                "registered": !a.idp.is_fixture_client(&c.client_id),
                "redirect_uris": c.redirect_uris,
                "resource_client_id": connections.first().map(|x| x.resource_client_id.clone()),
                "connections": connections.iter().map(connection_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "clients": list }))
}

pub(super) fn connection_json(c: &xaa_idp::Connection) -> Value {
    json!({
        "tenant": c.tenant,
        "client_id": c.client_id,
        "authorization_server": c.authorization_server,
        "resource": c.resource,
        "scopes": c.scopes,
        "resource_client_id": c.resource_client_id,
        "users": c.users,
    })
}

pub(crate) async fn register(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    req: Result<Json<RegisterRequest>, JsonRejection>,
) -> Response {
    let req = match body(req) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    match st.admin.register(req).await {
        Ok(r) => (StatusCode::CREATED, Json(r.json())).into_response(),
        Err(e) => bad(e),
    }
}

pub(crate) async fn client(_: AdminAuth, State(st): State<Arc<ConsoleState>>, Path(id): Path<String>) -> Response {
    let Some(r) = st.admin.registered(&id) else {
        return error(StatusCode::NOT_FOUND, "not_found", format!("no client \"{id}\""));
    };
    let mut v = r.json();
    v["report_card"] = serde_json::to_value(st.admin.report_cards.card(&id)).unwrap_or_default();
    Json(v).into_response()
}

pub(crate) async fn delete_client(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    Path(id): Path<String>,
) -> Response {
    if st.admin.idp.client(&id).is_none() && st.admin.resource_as.client(&id).is_none() {
        return error(StatusCode::NOT_FOUND, "not_found", format!("no client \"{id}\""));
    }
    match st.admin.unregister(&id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad(e),
    }
}

/// The audit filter of the API and the page.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    pub(crate) client_id: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) outcome: Option<String>,
    pub(crate) tenant: Option<String>,
    pub(crate) format: Option<String>,
    pub(crate) limit: Option<u32>,
}

impl AuditQuery {
    pub(crate) fn filter(&self) -> AuditFilter {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        AuditFilter {
            client_id: given(&self.client_id),
            user: given(&self.user),
            outcome: given(&self.outcome),
            tenant: given(&self.tenant),
            limit: self.limit,
        }
    }
}

pub(crate) async fn audit(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    export_audit(&st, q).await
}

/// The audit log as JSON or CSV (the API, and the export links of the audit page).
pub(crate) async fn export_audit(
    st: &ConsoleState,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "filters: client_id, user, outcome, tenant, format, limit",
        );
    };
    if let Some(t) = q.filter().tenant
        && let Err(e) = st.admin.tenant(Some(&t))
    {
        return bad(e);
    }
    let entries = match st.admin.idp.audit(q.filter()).await {
        Ok(e) => e,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e),
    };
    match q.format.as_deref() {
        Some("csv") => {
            let out = crate::observe::csv::audit_csv(&entries);
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"id-jag-audit.csv\""),
                ],
                out,
            )
                .into_response()
        }
        None | Some("json") => Json(json!({ "entries": entries })).into_response(),
        Some(other) => {
            error(StatusCode::BAD_REQUEST, "invalid_request", format!("format \"{other}\" is unknown: use json or csv"))
        }
    }
}

fn switch_json(s: &Switch) -> Value {
    json!({
        "name": s.fault.name(),
        "component": s.fault.component(),
        "effect": s.fault.effect(),
        "clients": s.clients,
        "delay_ms": s.delay_ms,
    })
}

pub(crate) async fn switches(_: AdminAuth, State(st): State<Arc<ConsoleState>>) -> Json<Value> {
    let on = st.admin.faults.list();
    let all: Vec<Value> = Fault::ALL
        .into_iter()
        .map(|f| {
            let s = on.iter().find(|s| s.fault == f);
            json!({
                "name": f.name(),
                "component": f.component(),
                "effect": f.effect(),
                "on": s.is_some(),
                "clients": s.map(|s| s.clients.clone()).unwrap_or_default(),
                "delay_ms": s.map(|s| s.delay_ms).unwrap_or(0),
            })
        })
        .collect();
    Json(json!({ "switches": all }))
}

/// Turning a switch on: for every client, or for one requestor.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct SwitchOn {
    /// Either client id of the requestor (empty: every client).
    #[serde(default)]
    pub(crate) client_id: Option<String>,
    /// The delay of `todo-api-slow` (default 2000 ms).
    #[serde(default)]
    pub(crate) delay_ms: Option<u64>,
}

/// Turns `name` on (shared by the page and the API).
pub(crate) fn turn_on(st: &ConsoleState, name: &str, on: &SwitchOn) -> Result<Switch, (StatusCode, String)> {
    let fault = Fault::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        (StatusCode::NOT_FOUND, format!("no switch \"{name}\" (switches: {})", names.join(", ")))
    })?;
    let clients = match on.client_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => Vec::new(),
        Some(c) => {
            let ids = st.admin.requestor_ids(c);
            let known = st.admin.idp.client(c).is_some() || ids.len() > 1;
            if !known {
                return Err((StatusCode::BAD_REQUEST, format!("no client \"{c}\" at the IdP or in a connection")));
            }
            ids
        }
    };
    let delay_ms = match fault {
        Fault::TodoApiSlow => on.delay_ms.unwrap_or(2000).min(60_000),
        _ => 0,
    };
    let switch = Switch { fault, clients, delay_ms };
    st.admin.faults.set(switch.clone());
    tracing::warn!(switch = fault.name(), clients = ?switch.clients, "break-it switch on");
    Ok(switch)
}

/// Turns `fault` off (shared by the page and the API); `false` when it was not on.
pub(crate) fn turn_off(st: &ConsoleState, fault: Fault) -> bool {
    tracing::warn!(switch = fault.name(), "break-it switch off");
    st.admin.faults.clear(fault)
}

pub(crate) async fn switch_on(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    // No body turns the switch on for every client; a body is `{"client_id"?, "delay_ms"?}`.
    let on = match body.iter().all(u8::is_ascii_whitespace) {
        true => SwitchOn::default(),
        false => match serde_json::from_slice::<SwitchOn>(&body) {
            Ok(o) => o,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("the body must be {{\"client_id\"?: string, \"delay_ms\"?: number}}: {e}"),
                );
            }
        },
    };
    match turn_on(&st, &name, &on) {
        Ok(s) => Json(switch_json(&s)).into_response(),
        Err((status, m)) => {
            error(status, if status == StatusCode::NOT_FOUND { "not_found" } else { "invalid_request" }, m)
        }
    }
}

pub(crate) async fn switch_off(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    Path(name): Path<String>,
) -> Response {
    let Some(fault) = Fault::from_name(&name) else {
        return error(StatusCode::NOT_FOUND, "not_found", format!("no switch \"{name}\""));
    };
    let was_on = turn_off(&st, fault);
    Json(json!({ "name": fault.name(), "was_on": was_on })).into_response()
}

pub(crate) fn clock_json(st: &ConsoleState) -> Value {
    let now = st.admin.clock.now();
    let wall = crate::admin::wall_clock();
    json!({ "now": now, "offset_seconds": now - wall })
}

pub(crate) async fn clock(_: AdminAuth, State(st): State<Arc<ConsoleState>>) -> Json<Value> {
    Json(clock_json(&st))
}

#[derive(Deserialize)]
pub(crate) struct Advance {
    advance: i64,
}

pub(crate) async fn advance_clock(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    req: Result<Json<Advance>, JsonRejection>,
) -> Response {
    let a = match body(req) {
        Ok(a) => a,
        Err(e) => return *e,
    };
    match st.admin.advance_clock(a.advance) {
        Ok(_) => Json(clock_json(&st)).into_response(),
        Err(e) => bad(e),
    }
}

pub(crate) async fn keys(_: AdminAuth, State(st): State<Arc<ConsoleState>>) -> Json<Value> {
    Json(json!({ "keys": st.admin.idp.published_keys() }))
}

/// Every other `/api/admin/…` path: a JSON 404, like every refusal of this API.
pub(crate) async fn unknown(uri: axum::http::Uri) -> Response {
    error(StatusCode::NOT_FOUND, "not_found", format!("no admin API at {} (see the README)", uri.path()))
}

pub(crate) async fn rotate(_: AdminAuth, State(st): State<Arc<ConsoleState>>) -> Response {
    let admin = st.clone();
    match tokio::task::spawn_blocking(move || admin.admin.rotate_idp_key()).await {
        Ok(Ok(r)) => Json(json!(r)).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e),
    }
}

#[derive(Deserialize)]
pub(crate) struct ResetRequest {
    /// Keep registered requestors (their clients and connections).
    #[serde(default)]
    keep_registrations: bool,
}

pub(crate) async fn reset(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    req: Result<Json<ResetRequest>, JsonRejection>,
) -> Response {
    let r = match body(req) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    match st.admin.reset(r.keep_registrations).await {
        Ok(report) => Json(json!(report)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the reset failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::ResourceAppStore;

    async fn answer(resp: Response) -> (StatusCode, Value) {
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// A real storage failure (the table under a store was dropped) is the server's fault: 500
    /// `server_error`, never the 400 `invalid_request` of a refused request.
    #[tokio::test]
    async fn a_storage_failure_answers_500_server_error() {
        let path = std::env::temp_dir().join(format!("xaa-admin-storage-failure-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let store = ResourceAppStore::open(Some(&path)).unwrap();
        rusqlite::Connection::open(&path).unwrap().execute_batch("DROP TABLE resource_apps").unwrap();
        let failure = store.delete("a-1".into()).await.unwrap_err();
        let _ = std::fs::remove_file(&path);

        let (status, body) = answer(bad(AdminError::from(failure))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"], "server_error");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.starts_with("storage failure: ") && description.contains("resource_apps"), "{body}");
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    }

    /// A client's mistake keeps its 4xx and its exact body.
    #[tokio::test]
    async fn a_refused_request_keeps_its_400_and_body() {
        let (status, body) = answer(bad(AdminError::new("choose at least one scope"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, json!({"error": "invalid_request", "error_description": "choose at least one scope"}));
        let (status, body) = answer(bad(AdminError::redirect_uri("at least one redirect URI is required"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": "invalid_redirect_uri", "error_description": "at least one redirect URI is required"})
        );
        let fixture = xaa_idp::RegistryError::Fixture("notes".into());
        let (status, body) = answer(bad(fixture.into())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_description"], "client \"notes\" comes from the fixtures and cannot be deleted");
    }
}
