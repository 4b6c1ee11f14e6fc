//! Each resource's ID-JAG re-use policy (lab decision A2): the admin page's form and the admin
//! API (`GET, PUT /api/admin/id-jag-reuse`, body `{"resource", "policy"}` with `policy`
//! `single_use` or `reuse_until_exp`). An MCP server is listed as `single use (MCP profile)` and
//! cannot be switched.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use xaa_resource_as::{ResourceReuse, ReusePolicy};

use super::AdminAuth;
use super::api::{bad, body};
use super::pages::{AdminForm, Section, back_to, text};
use crate::console::ConsoleState;

/// A change of one resource's policy.
#[derive(Debug, Deserialize)]
pub(crate) struct ReuseChange {
    /// The resource, exactly as the authorization server governs it.
    resource: String,
    /// `single_use` or `reuse_until_exp`.
    policy: String,
}

/// One resource's policy as the API shows it.
fn reuse_json(r: &ResourceReuse) -> Value {
    json!({ "resource": r.resource, "policy": r.policy.name(), "label": r.label(), "switchable": !r.mcp })
}

/// `GET /api/admin/id-jag-reuse`: every resource of the lab's authorization server.
pub(crate) async fn list(_: AdminAuth, State(st): State<Arc<ConsoleState>>) -> Json<Value> {
    let all: Vec<Value> = st.admin.resource_as.reuse_policies().iter().map(reuse_json).collect();
    Json(json!({ "resources": all }))
}

/// `PUT /api/admin/id-jag-reuse`.
pub(crate) async fn set(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    req: Result<Json<ReuseChange>, JsonRejection>,
) -> Response {
    let change = match body(req) {
        Ok(c) => c,
        Err(e) => return *e,
    };
    match st.admin.set_id_jag_reuse(&change.resource, &change.policy).await {
        Ok(r) => Json(reuse_json(&r)).into_response(),
        Err(e) => bad(e),
    }
}

/// `POST /admin/id-jag-reuse`: the admin page's switch; back to the page with what changed.
pub(crate) async fn set_form(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    AdminForm(form): AdminForm,
) -> Response {
    let resource = text(&form, "resource").unwrap_or_default();
    let policy = text(&form, "policy").unwrap_or_default();
    match st.admin.set_id_jag_reuse(&resource, &policy).await {
        Ok(r) if r.policy == ReusePolicy::ReusableUntilExp => back_to(
            "/admin",
            Section::Reuse,
            true,
            format!(
                "{} is re-usable until exp: the same client may re-submit an ID-JAG for it until the ID-JAG expires.",
                r.resource
            ),
        ),
        Ok(r) => back_to(
            "/admin",
            Section::Reuse,
            true,
            format!("{} is single use: each ID-JAG is accepted once.", r.resource),
        ),
        Err(e) => back_to("/admin", Section::Reuse, false, e.to_string()),
    }
}
