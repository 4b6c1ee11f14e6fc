//! `POST /token`: client authentication, then the jwt-bearer grant (the only grant here).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use xaa_core::oauth::{ErrorCode, JwtBearerRequest, OAuthError, PresentedClient, TokenRequest};
use xaa_core::urn;
use xaa_core::validation::CheckLog;

use crate::config::AsClient;
use crate::state::AsState;

pub(crate) async fn token(State(st): State<Arc<AsState>>, req: Result<TokenRequest, OAuthError>) -> Response {
    let mut checks = CheckLog::new();
    let result = match req {
        Ok(req) => handle(&st, &req, &mut checks).await,
        Err(e) => Err(e),
    };
    let resp = result.unwrap_or_else(|e| {
        tracing::info!(error = e.code.as_str(), description = %e.description, "authorization server token request refused");
        e.into_response()
    });
    // What the authorization server checked, for the lab's trace.
    xaa_core::trace::report(&checks);
    resp
}

async fn handle(st: &AsState, req: &TokenRequest, checks: &mut CheckLog) -> Result<Response, OAuthError> {
    let client = authenticate(st, req).inspect_err(|e| {
        checks.fail("client", "RFC 6749 §2.3.1", e.description.clone());
    })?;
    checks.pass("client", "RFC 6749 §2.3.1", format!("client '{}' authenticated", client.client_id));
    let grant_type = req.params.required("grant_type")?;
    xaa_core::oauth::check_registered_grant(&client.client_id, &client.grant_types, grant_type)?;
    match grant_type {
        urn::GRANT_JWT_BEARER => {
            let request = JwtBearerRequest::from_form(&req.params)?;
            super::jwt_bearer::grant(st, &client, &request, req.dpop_proof, checks).await
        }
        other => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type \"{other}\" is not supported here; use \"{}\" (RFC 7523 §2.1)", urn::GRANT_JWT_BEARER),
        )),
    }
}

/// Authenticates a client of this authorization server (RFC 6749 §2.3.1).
pub(crate) fn authenticate(st: &AsState, req: &TokenRequest) -> Result<AsClient, OAuthError> {
    let presented = PresentedClient::from_request(req.authorization.as_deref(), &req.params)?;
    let client = st.client(&presented.client_id);
    presented.authenticate(client.as_ref().map(|c| &c.client_secret))?;
    client.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
}
