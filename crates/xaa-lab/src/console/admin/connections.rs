//! IT's connection policy, one tenant at a time: the admin page's grant and revoke forms and the
//! admin API's list, grant and revoke (`/api/admin/connections`, `tenant` in the body or query;
//! the default tenant when absent).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AdminAuth;
use super::api::{bad, body, connection_json, error};
use super::pages::{AdminForm, Section, back_to, text};
use crate::admin::ConnectionChange;
use crate::console::ConsoleState;

pub(crate) async fn grant_form(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    AdminForm(form): AdminForm,
) -> Response {
    let tenant = text(&form, "tenant");
    let to = tenant_page(tenant.as_deref());
    let change = ConnectionChange {
        tenant,
        client_id: text(&form, "client_id").unwrap_or_default(),
        authorization_server: text(&form, "authorization_server"),
        resource: text(&form, "resource"),
        scopes: form.values("scopes").map(str::to_owned).collect(),
        users: None,
        resource_client_id: text(&form, "resource_client_id"),
    };
    match st.admin.grant(change).await {
        Ok(c) => back_to(
            &to,
            Section::Connections,
            true,
            format!(
                "\"{}\" may now get \"{}\" at {} for tenant {}'s users.",
                c.client_id,
                c.scopes.join(" "),
                c.resource,
                c.tenant
            ),
        ),
        Err(e) => back_to(&to, Section::Connections, false, e.to_string()),
    }
}

/// The overview showing `tenant`'s connections (the page a policy form returns to).
fn tenant_page(tenant: Option<&str>) -> String {
    match tenant {
        Some(t) => format!("/admin?tenant={}", form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()),
        None => "/admin".into(),
    }
}

pub(crate) async fn revoke_form(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    AdminForm(form): AdminForm,
) -> Response {
    let client_id = text(&form, "client_id").unwrap_or_default();
    let tenant = text(&form, "tenant");
    let to = tenant_page(tenant.as_deref());
    let revoked = match st.admin.tenant(tenant.as_deref()) {
        Ok(t) => st.admin.revoke(&t.id, &client_id, text(&form, "resource").as_deref()).await,
        Err(e) => Err(e),
    };
    match revoked {
        Ok(_) => back_to(
            &to,
            Section::Connections,
            true,
            format!("Revoked: \"{client_id}\"'s next token exchange gets invalid_target."),
        ),
        Err(e) => back_to(&to, Section::Connections, false, e.to_string()),
    }
}

/// `?tenant=`: whose policy (default: the default tenant).
#[derive(Deserialize)]
pub(crate) struct TenantQuery {
    tenant: Option<String>,
}

/// One tenant's connections.
pub(crate) async fn list(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    q: Result<Query<TenantQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "the only parameter is ?tenant=…");
    };
    let tenant = match st.admin.tenant(q.tenant.as_deref()) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let of_tenant: Vec<Value> =
        st.admin.idp.connections().iter().filter(|c| c.tenant == tenant.id).map(connection_json).collect();
    Json(json!({ "tenant": tenant.id, "connections": of_tenant })).into_response()
}

pub(crate) async fn grant(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    req: Result<Json<ConnectionChange>, JsonRejection>,
) -> Response {
    let change = match body(req) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    match st.admin.grant(change).await {
        Ok(c) => Json(connection_json(&c)).into_response(),
        Err(e) => bad(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct RevokeQuery {
    client_id: String,
    resource: Option<String>,
    tenant: Option<String>,
}

pub(crate) async fn revoke(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    q: Result<Query<RevokeQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "say which connection: ?client_id=…[&resource=…][&tenant=…]",
        );
    };
    let tenant = match st.admin.tenant(q.tenant.as_deref()) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    match st.admin.revoke(&tenant.id, &q.client_id, q.resource.as_deref()).await {
        Ok(n) => Json(json!({ "revoked": n })).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, "not_found", e),
    }
}
