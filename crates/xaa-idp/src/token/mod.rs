//! `POST /token`: client authentication, then the grant: `authorization_code` (OIDC),
//! `refresh_token` (RFC 6749 §6) or RFC 8693 token exchange (ID or refresh token → ID-JAG).

mod authorization_code;
mod break_it;
mod id_token;
mod refresh_token;
mod token_exchange;

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use xaa_core::oauth::token_endpoint::{self, TokenEndpoint};
use xaa_core::oauth::{
    AuthorizationCodeRequest, ErrorCode, OAuthError, RefreshTokenRequest, TokenExchangeRequest, TokenRequest,
};
use xaa_core::urn;
use xaa_core::validation::CheckLog;

use crate::audit::AuditEntry;
use crate::config::IdpClient;
use crate::state::IdpState;

pub(crate) async fn token(State(st): State<Arc<IdpState>>, req: Result<TokenRequest, OAuthError>) -> Response {
    let mut checks = CheckLog::new();
    let mut audit = None;
    let result = match req {
        Ok(req) => {
            audit = AuditEntry::for_exchange(&req, st.clock.now());
            let mut endpoint = IdpTokenEndpoint { st: &st, audit: audit.as_mut() };
            token_endpoint::handle(&mut endpoint, &req, &mut checks).await
        }
        Err(e) => Err(e),
    };
    if let Some(mut entry) = audit {
        entry.record_outcome(result.as_ref().err());
        if let Err(e) = st.store.append_audit(entry, st.config.audit_retention).await {
            tracing::error!(error = %e, "the audit log could not be written");
        }
    }
    token_endpoint::answer("IdP", result, checks)
}

/// The IdP's grants, and the audit entry of a token exchange.
struct IdpTokenEndpoint<'a> {
    st: &'a IdpState,
    audit: Option<&'a mut AuditEntry>,
}

impl TokenEndpoint for IdpTokenEndpoint<'_> {
    type Client = IdpClient;

    fn client(&self, client_id: &str) -> Option<IdpClient> {
        self.st.client(client_id)
    }

    fn authenticated(&mut self, client: &IdpClient) {
        if let Some(a) = self.audit.as_deref_mut() {
            a.authenticated(client.client_id.as_str());
        }
    }

    async fn grant(
        &mut self,
        client: IdpClient,
        grant_type: &str,
        req: &TokenRequest,
        checks: &mut CheckLog,
    ) -> Result<Response, OAuthError> {
        let st = self.st;
        match (grant_type, self.audit.as_deref_mut()) {
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
}

/// A storage failure mapped to `server_error` (the lab's fault, logged once here).
pub(crate) fn storage(e: xaa_core::sqlite::DbError) -> OAuthError {
    tracing::error!(error = %e, "IdP storage failed");
    OAuthError::server_error("the IdP could not read or write its storage")
}
