//! IT registers (or replaces) the SAML service provider of an existing client, as xaa.dev's SAML
//! tab does: entityID, ACS URL and NameID format (`emailAddress` or `persistent`; `transient` is
//! refused). Two doors to [`Admin::register_saml`](crate::admin::Admin::register_saml):
//!
//! * `PUT /api/admin/clients/{id}/saml` (JSON). Errors are the admin API's
//!   `{"error", "error_description"}`: 404 for an unknown client, 400 `invalid_request` otherwise.
//! * `POST /admin/clients/{id}/saml`, the form on the client's page (CSRF token, same origin); it
//!   redirects back to the page with the outcome, or the IdP's exact refusal, as its message.
//!
//! An SP cannot be removed on its own (the admin API has no such call); deleting the client
//! removes it.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xaa_core::oauth::FormParams;
use xaa_idp::SamlRegistrationError;

use super::AdminAuth;
use super::pages::{AdminForm, back, text};
use crate::admin::SamlRequest;
use crate::console::ConsoleState;

fn error(status: StatusCode, code: &str, description: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": code, "error_description": description.to_string()}))).into_response()
}

pub(crate) async fn put_saml(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    Path(id): Path<String>,
    body: Result<Json<SamlRequest>, JsonRejection>,
) -> Response {
    let idp = &st.admin.idp;
    if idp.client(&id).is_none() {
        return error(StatusCode::NOT_FOUND, "not_found", format!("no client \"{id}\""));
    }
    let r = match body {
        Ok(Json(r)) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_request", e.body_text()),
    };
    match st.admin.register_saml(&id, &r).await {
        Ok(sp) => Json(json!({
            "client_id": sp.client_id,
            "entity_id": sp.entity_id,
            "acs_url": sp.acs_url,
            "name_id_format": sp.name_id_format,
            "idp_metadata": format!("{}/saml/metadata", idp.issuer()),
        }))
        .into_response(),
        Err(e @ SamlRegistrationError::Storage(_)) => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e),
        Err(e) => error(StatusCode::BAD_REQUEST, "invalid_request", e),
    }
}

/// The SAML fields of a form (`saml_entity_id`, `saml_acs_url`, `saml_name_id_format`), or `None`
/// when neither the entityID nor the ACS URL is filled in (the section is optional).
pub(super) fn saml_fields(form: &FormParams) -> Option<SamlRequest> {
    let entity_id = text(form, "saml_entity_id");
    let acs_url = text(form, "saml_acs_url");
    if entity_id.is_none() && acs_url.is_none() {
        return None;
    }
    Some(SamlRequest {
        entity_id: entity_id.unwrap_or_default(),
        acs_url: acs_url.unwrap_or_default(),
        name_id_format: text(form, "saml_name_id_format").unwrap_or_default(),
    })
}

/// `POST /admin/clients/{id}/saml`: the client page's form registers or replaces its SP.
pub(crate) async fn saml_form(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    if st.admin.idp.client(&id).is_none() {
        return back("/admin", false, format!("There is no client \"{id}\"."));
    }
    let page = format!("/admin/clients/{id}");
    let r = saml_fields(&form).unwrap_or_default();
    match st.admin.register_saml(&id, &r).await {
        Ok(sp) => back(
            &page,
            true,
            format!("SAML service provider \"{}\" is registered for \"{id}\" (ACS {}).", sp.entity_id, sp.acs_url),
        ),
        Err(e) => back(&page, false, e.to_string()),
    }
}
