//! `POST /token/introspection` (RFC 7662): for authenticated clients; inactive tokens answer only
//! `{"active": false}`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xaa_core::oauth::{OAuthError, TokenRequest, no_store_json};
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
        Some(c) => no_store_json(&json!({
            "active": true, "scope": c.scope, "client_id": c.client_id, "sub": c.sub, "aud": c.aud,
            "iss": c.iss, "exp": c.exp, "iat": c.iat, "jti": c.jti, "token_type": "Bearer", "app_org": c.app_org,
        })),
        None => no_store_json(&json!({ "active": false })),
    }
}
