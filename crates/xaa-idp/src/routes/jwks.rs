//! `GET /jwks`: the IdP's public signing keys (RFC 7517), the signing key and the retired keys whose tokens may still be live.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::state::IdpState;

pub(crate) async fn jwks(State(st): State<Arc<IdpState>>) -> Json<Value> {
    Json(st.public_keys().to_jwks())
}
