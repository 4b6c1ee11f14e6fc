//! Every IdP path is wired here.

pub(crate) mod authorize;
mod consent;
mod discovery;
mod jwks;
mod login;
mod registration;
mod session_end;
mod userinfo;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::IdpState;

/// The IdP's router.
pub fn router(state: Arc<IdpState>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/jwks", get(jwks::jwks))
        .route("/authorize", get(authorize::authorize))
        .merge(
            // The login, consent and sign-out forms: posted only by the IdP's own pages.
            Router::new()
                .route("/login/email", post(login::email))
                .route("/login/code", post(login::code))
                .route("/consent", post(consent::decide))
                .route("/session/end", get(session_end::end_session).post(session_end::end_session_form))
                .route("/session/end/confirm", post(session_end::confirm))
                .route_layer(axum::middleware::from_fn(xaa_web::same_origin::same_origin)),
        )
        .route("/token", post(crate::token::token))
        .route("/register", post(registration::register))
        .route("/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .route("/saml/metadata", get(crate::saml::metadata))
        .route("/saml/sso", get(crate::saml::sso::redirect_binding).post(crate::saml::sso::post_binding))
        .route("/favicon.ico", get(|| async { xaa_web::not_found::favicon('I', "#3b5bdb") }))
        .fallback(crate::pages::not_found)
        .layer(axum::middleware::from_fn(xaa_web::not_found::redirect_trailing_slash))
        .layer(axum::middleware::map_response(xaa_web::nosniff::nosniff))
        .with_state(state)
}
