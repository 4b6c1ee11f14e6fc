//! `POST /token`: client authentication, then the jwt-bearer grant (the only grant here).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use xaa_core::oauth::token_endpoint::{self, TokenClient, TokenEndpoint};
use xaa_core::oauth::{ErrorCode, JwtBearerRequest, OAuthError, TokenRequest};
use xaa_core::urn;
use xaa_core::validation::CheckLog;

use crate::config::AsClient;
use crate::state::AsState;

pub(crate) async fn token(State(st): State<Arc<AsState>>, req: Result<TokenRequest, OAuthError>) -> Response {
    let mut checks = CheckLog::new();
    let result = match req {
        Ok(req) => token_endpoint::handle(&mut AsTokenEndpoint(&st), &req, &mut checks).await,
        Err(e) => Err(e),
    };
    token_endpoint::answer("authorization server", result, checks)
}

/// The authorization server's one grant: jwt-bearer.
struct AsTokenEndpoint<'a>(&'a AsState);

impl TokenEndpoint for AsTokenEndpoint<'_> {
    type Client = AsClient;

    fn client(&self, client_id: &str) -> Option<AsClient> {
        self.0.client(client_id)
    }

    async fn grant(
        &mut self,
        client: AsClient,
        grant_type: &str,
        req: &TokenRequest,
        checks: &mut CheckLog,
    ) -> Result<Response, OAuthError> {
        match grant_type {
            urn::GRANT_JWT_BEARER => {
                let request = JwtBearerRequest::from_form(&req.params)?;
                let proof = super::dpop::token_request_proof(self.0, req, checks)?;
                super::jwt_bearer::grant(self.0, &client, &request, proof.as_ref(), checks).await
            }
            other => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type \"{other}\" is not supported here; use \"{}\" ({})",
                    urn::GRANT_JWT_BEARER,
                    xaa_core::spec::RFC7523_2_1
                ),
            )),
        }
    }
}

/// Authenticates a client of this authorization server (RFC 6749 §2.3.1).
pub(crate) fn authenticate(st: &AsState, req: &TokenRequest) -> Result<AsClient, OAuthError> {
    token_endpoint::authenticate(&AsTokenEndpoint(st), req)
}

impl TokenClient for AsClient {
    fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    fn secret_matches(&self, presented: &str) -> bool {
        self.client_secret.matches(presented)
    }

    fn grant_types(&self) -> &[String] {
        &self.grant_types
    }
}
