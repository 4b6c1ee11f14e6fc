//! `POST /token`: client authentication, then the grant: `authorization_code` (OIDC),
//! `refresh_token` (RFC 6749 §6) or RFC 8693 token exchange (ID or refresh token → ID-JAG).

mod authorization_code;
mod break_it;
mod id_token;
mod refresh_token;
mod token_exchange;

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use xaa_core::oauth::{
    AuthorizationCodeRequest, ErrorCode, OAuthError, RefreshTokenRequest, TokenExchangeRequest, TokenRequest,
};
use xaa_core::urn;
use xaa_core::validation::CheckLog;

use crate::audit::AuditEntry;
use crate::state::IdpState;

/// Client authentication, as every token endpoint records it (RFC 6749 §2.3.1).
const CLIENT_AUTH: &str = "RFC 6749 §2.3.1";

pub(crate) async fn token(State(st): State<Arc<IdpState>>, req: Result<TokenRequest, OAuthError>) -> Response {
    let mut checks = CheckLog::new();
    let mut audit = None;
    let result = match req {
        Ok(req) => {
            audit = AuditEntry::for_exchange(&req, st.clock.now());
            handle(&st, &req, &mut checks, audit.as_mut()).await
        }
        Err(e) => Err(e),
    };
    if let Some(mut entry) = audit {
        entry.record_outcome(result.as_ref().err());
        if let Err(e) = st.store.append_audit(entry, st.config.audit_retention).await {
            tracing::error!(error = %e, "the audit log could not be written");
        }
    }
    let resp = match result {
        Ok(resp) => resp,
        Err(e) => {
            tracing::info!(error = e.code.as_str(), description = %e.description, "IdP token request refused");
            e.into_response()
        }
    };
    // What the IdP checked, for the lab's trace.
    xaa_core::trace::report(&checks);
    resp
}

async fn handle(
    st: &IdpState,
    req: &TokenRequest,
    checks: &mut CheckLog,
    mut audit: Option<&mut AuditEntry>,
) -> Result<Response, OAuthError> {
    let client = crate::client_auth::authenticate(st, req).inspect_err(|e| {
        checks.fail("client", CLIENT_AUTH, e.description.clone());
    })?;
    checks.pass("client", CLIENT_AUTH, format!("client '{}' authenticated", client.client_id));
    if let Some(a) = audit.as_deref_mut() {
        a.authenticated(&client.client_id);
    }
    let grant_type = req.params.required("grant_type")?;
    xaa_core::oauth::check_registered_grant(&client.client_id, &client.grant_types, grant_type)?;
    match (grant_type, audit) {
        (urn::GRANT_AUTHORIZATION_CODE, _) => {
            let request = AuthorizationCodeRequest::from_form(&req.params)?;
            authorization_code::grant(st, &client, &request, checks).await
        }
        (urn::GRANT_REFRESH_TOKEN, _) => {
            refresh_token::grant(st, &client, &RefreshTokenRequest::from_form(&req.params)?, checks).await
        }
        (urn::GRANT_TOKEN_EXCHANGE, Some(audit)) => {
            let request = TokenExchangeRequest::from_form(&req.params)?;
            token_exchange::grant(st, &client, request, checks, audit).await
        }
        (other, _) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type \"{other}\" is not supported here; use \"{}\", \"{}\" or \"{}\"",
                urn::GRANT_AUTHORIZATION_CODE,
                urn::GRANT_REFRESH_TOKEN,
                urn::GRANT_TOKEN_EXCHANGE
            ),
        )),
    }
}

/// A storage failure mapped to `server_error` (the lab's fault, logged once here).
pub(crate) fn storage(e: xaa_core::sqlite::DbError) -> OAuthError {
    tracing::error!(error = %e, "IdP storage failed");
    OAuthError::server_error("the IdP could not read or write its storage")
}
