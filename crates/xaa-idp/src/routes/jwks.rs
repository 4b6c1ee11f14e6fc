//! `GET /jwks`: the IdP's public signing keys (RFC 7517), derived from its private keys at start.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::state::IdpState;

pub(crate) async fn jwks(State(st): State<Arc<IdpState>>) -> Json<Value> {
    Json(st.key_set.to_jwks())
}
