//! The resource authorization server's paths.

mod dpop;
mod introspection;
mod jwt_bearer;
mod metadata;
mod registration;
pub(crate) mod replay;
mod saml_subject;
mod tenant;
mod token;
#[cfg(test)]
mod token_dpop_tests;
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
        .route("/favicon.ico", get(|| async { xaa_web::not_found::favicon('A', "#7048e8") }))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(xaa_web::not_found::redirect_trailing_slash))
        .layer(axum::middleware::map_response(xaa_web::nosniff::nosniff))
        .with_state(state)
}

/// A path the authorization server does not serve: a page for a browser, JSON for a program.
async fn not_found(
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    xaa_web::not_found::answer(&method, &uri, &headers, |path| xaa_web::not_found::ApiNotFound {
        server: "resource authorization server",
        about: "It turns ID-JAGs into access tokens at its token endpoint (POST /token).",
        path,
        links: &[("its metadata (RFC 8414)", "/.well-known/oauth-authorization-server"), ("its keys", "/jwks")],
    })
}

/// The URL of the token endpoint, as the metadata names it and a DPoP proof's `htu` must be.
pub(crate) fn token_endpoint(st: &AsState) -> String {
    format!("{}/token", st.config.issuer)
}
