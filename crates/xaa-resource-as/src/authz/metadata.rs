//! Authorization server metadata (RFC 8414; draft-04 §7.2; RFC 9449 §5.1 for DPoP) and its JWKS.
//! The OpenID path serves the same document because the tutorial's requestor discovers the AS
//! through it (as on xaa.dev).
//!
//! Besides the members RFC 8414 and draft-04 define, it carries one of the lab's own,
//! [`id_jag_reuse::METADATA_MEMBER`]: each governed resource's ID-JAG re-use policy (lab decision
//! A2), read when the document is asked for, so a requestor can show which applies to it.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use xaa_core::{dpop, id_jag_reuse, urn};

use crate::state::AsState;

fn metadata(st: &AsState) -> Value {
    let iss = &st.config.issuer;
    let resources = st.resources();
    let mut scopes: Vec<&str> = Vec::new();
    for s in resources.iter().flat_map(|r| r.scopes.iter().map(String::as_str)) {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    json!({
        "issuer": iss,
        "token_endpoint": super::token_endpoint(st),
        "jwks_uri": format!("{iss}/jwks"),
        "introspection_endpoint": format!("{iss}/token/introspection"),
        "registration_endpoint": format!("{iss}/register"),
        "grant_types_supported": [urn::GRANT_JWT_BEARER],
        "authorization_grant_profiles_supported": [urn::GRANT_PROFILE_ID_JAG],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": scopes,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "dpop_signing_alg_values_supported": dpop::DPOP_ALGS,
        id_jag_reuse::METADATA_MEMBER: id_jag_reuse::metadata_member(
            st.reuse_policies().iter().map(|r| (r.resource.as_str(), r.policy))
        ),
    })
}

pub(crate) async fn oauth_authorization_server(State(st): State<Arc<AsState>>) -> Json<Value> {
    Json(metadata(&st))
}

pub(crate) async fn openid_configuration(State(st): State<Arc<AsState>>) -> Json<Value> {
    Json(metadata(&st))
}

pub(crate) async fn jwks(State(st): State<Arc<AsState>>) -> Json<Value> {
    Json(st.key_set.to_jwks())
}
