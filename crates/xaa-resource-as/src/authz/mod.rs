//! The resource authorization server's paths.

mod introspection;
mod jwt_bearer;
mod metadata;
mod registration;
pub(crate) mod replay;
mod saml_subject;
mod tenant;
mod token;
#[cfg(test)]
mod token_endpoint_tests;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AsState;

/// The authorization server's router.
pub fn router(state: Arc<AsState>) -> Router {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata::oauth_authorization_server))
        .route("/.well-known/openid-configuration", get(metadata::openid_configuration))
        .route("/jwks", get(metadata::jwks))
        .route("/token", post(token::token))
        .route("/token/introspection", post(introspection::introspect))
        .route("/register", post(registration::register))
        .with_state(state)
}
