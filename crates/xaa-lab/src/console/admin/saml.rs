//! `PUT /api/admin/clients/{id}/saml`: IT registers (or replaces) the SAML service provider of an
//! existing client, as xaa.dev's SAML tab does: entityID, ACS URL and NameID format
//! (`emailAddress` or `persistent`; `transient` is refused). Errors are the admin API's
//! `{"error", "error_description"}`: 404 for an unknown client, 400 `invalid_request` otherwise.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use xaa_idp::{SamlRegistrationError, SamlServiceProvider};

use super::AdminAuth;
use crate::console::ConsoleState;

/// The request body.
#[derive(Deserialize)]
pub(crate) struct SamlRegistration {
    entity_id: String,
    acs_url: String,
    name_id_format: String,
}

fn error(status: StatusCode, code: &str, description: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": code, "error_description": description.to_string()}))).into_response()
}

pub(crate) async fn put_saml(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    Path(id): Path<String>,
    body: Result<Json<SamlRegistration>, JsonRejection>,
) -> Response {
    let idp = &st.admin.idp;
    if idp.client(&id).is_none() {
        return error(StatusCode::NOT_FOUND, "not_found", format!("no client \"{id}\""));
    }
    let r = match body {
        Ok(Json(r)) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_request", e.body_text()),
    };
    let sp = SamlServiceProvider {
        entity_id: r.entity_id,
        client_id: id,
        acs_url: r.acs_url,
        name_id_format: r.name_id_format,
    };
    match idp.register_saml_service_provider(sp.clone()).await {
        Ok(()) => Json(json!({
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
