//! `GET /.well-known/openid-configuration` (OIDC Discovery 1.0 §3; ID-JAG draft-04 §7.1).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use xaa_core::urn;

use crate::state::IdpState;

pub(crate) async fn openid_configuration(State(st): State<Arc<IdpState>>) -> Json<Value> {
    let iss = st.issuer();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/jwks"),
        "end_session_endpoint": format!("{iss}/session/end"),
        "registration_endpoint": format!("{iss}/register"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [urn::GRANT_AUTHORIZATION_CODE, urn::GRANT_REFRESH_TOKEN, urn::GRANT_TOKEN_EXCHANGE],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", urn::SCOPE_OFFLINE_ACCESS],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified", "name", "tenant"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "identity_chaining_requested_token_types_supported": [urn::TOKEN_TYPE_ID_JAG],
        "token_exchange_subject_token_types_supported": [urn::TOKEN_TYPE_ID_TOKEN, urn::TOKEN_TYPE_SAML2, urn::TOKEN_TYPE_REFRESH_TOKEN],
    }))
}
