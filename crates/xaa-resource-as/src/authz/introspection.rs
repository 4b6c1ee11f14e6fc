//! `POST /token/introspection` (RFC 7662): for authenticated clients; inactive tokens answer only
//! `{"active": false}`; a DPoP-bound token answers `token_type` `DPoP` and its `cnf`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xaa_core::oauth::{OAuthError, TokenRequest, no_store_json};
use xaa_core::urn;
use xaa_core::validation::CheckLog;
use xaa_core::validation::access_token::{AccessTokenExpectations, validate_access_token};

use crate::state::AsState;

pub(crate) async fn introspect(State(st): State<Arc<AsState>>, req: Result<TokenRequest, OAuthError>) -> Response {
    let req = match req {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = super::token::authenticate(&st, &req) {
        return e.into_response();
    }
    let token = match req.params.required("token") {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let now = st.clock.now();
    let active = st.resources().iter().find_map(|r| {
        let expect = AccessTokenExpectations { issuer: &st.config.issuer, audience: &r.resource, now, leeway: 0 };
        validate_access_token(token, expect, &st.key_set, &mut CheckLog::new()).ok()
    });
    match active {
        Some(c) => {
            // A DPoP-bound token is reported as such, with the key it is bound to (RFC 9449 §6.2).
            let token_type = if c.cnf.is_some() { urn::TOKEN_TYPE_DPOP } else { urn::TOKEN_TYPE_BEARER };
            let mut body = json!({
                "active": true, "scope": c.scope, "client_id": c.client_id, "sub": c.sub, "aud": c.aud,
                "iss": c.iss, "exp": c.exp, "iat": c.iat, "jti": c.jti, "token_type": token_type, "app_org": c.app_org,
            });
            if let Some(cnf) = c.cnf {
                body["cnf"] = json!(cnf);
            }
            no_store_json(&body)
        }
        None => no_store_json(&json!({ "active": false })),
    }
}
