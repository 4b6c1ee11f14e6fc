//! `POST /register`: RFC 7591 dynamic client registration at the IdP. Open registration, as a
//! local lab's should be, up to [`crate::IdpConfig::max_open_registrations`] clients (then
//! `403 access_denied`); a registered client has no connection until IT grants one, so it can
//! sign users in (each user is asked for consent first: IT did not approve it) but every token
//! exchange answers `invalid_target` until then.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use xaa_core::oauth::{Registrar, RegistrationError, RegistrationRequest, registered, registration_response};
use xaa_core::secret::Secret;

use crate::config::{IdpClient, Registration};
use crate::state::{IdpState, RegistryError};

pub(crate) async fn register(
    State(st): State<Arc<IdpState>>,
    req: Result<RegistrationRequest, RegistrationError>,
) -> Response {
    let metadata = match req.and_then(|RegistrationRequest(m)| m.validate(Registrar::IdentityProvider)) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let client_id = format!("dcr-{}", st.entropy.token(9));
    let secret = st.entropy.token(24);
    let client = IdpClient {
        client_id: client_id.clone(),
        client_secret: Secret::new(secret.clone()),
        name: metadata.client_name.clone().unwrap_or_default(),
        redirect_uris: metadata.redirect_uris.clone(),
        post_logout_redirect_uris: metadata.post_logout_redirect_uris.clone(),
        grant_types: metadata.grant_types.clone(),
        registration: Registration::Open,
    };
    match st.register_open_client(client).await {
        Ok(()) => {}
        Err(RegistryError::Full(max)) => {
            tracing::warn!(max, "open registration is full");
            return RegistrationError::open_registration_full(max).into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "client registration failed");
            return xaa_core::oauth::OAuthError::server_error("the IdP could not store the client").into_response();
        }
    }
    tracing::info!(client.id = %client_id, "client registered (RFC 7591)");
    registered(registration_response(&metadata, &client_id, &secret, st.clock.now()))
}
