//! `POST /register`: RFC 7591 dynamic client registration at the resource authorization server
//! (grant `urn:ietf:params:oauth:grant-type:jwt-bearer`, with the draft-04 §8 grant-profile
//! metadata), open up to [`crate::ResourceAsConfig::max_open_registrations`] clients (then
//! `403 access_denied`). The IdP must still be told this client id (the ID-JAG `client_id`),
//! which is IT's connection policy.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use xaa_core::oauth::{Registrar, RegistrationError, RegistrationRequest, registered, registration_response};
use xaa_core::secret::Secret;

use crate::config::AsClient;
use crate::state::AsState;

pub(crate) async fn register(
    State(st): State<Arc<AsState>>,
    req: Result<RegistrationRequest, RegistrationError>,
) -> Response {
    let metadata = match req.and_then(|RegistrationRequest(m)| m.validate(Registrar::ResourceAuthorizationServer)) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let client_id = format!("dcr-{}", st.entropy.token(9));
    let secret = st.entropy.token(24);
    let client = AsClient {
        client_id: client_id.clone(),
        client_secret: Secret::new(secret.clone()),
        grant_types: metadata.grant_types.clone(),
    };
    match st.register_open_client(client).await {
        Ok(true) => {}
        // The id is random (72 bits): not stored means full.
        Ok(false) => {
            let max = st.config.max_open_registrations;
            tracing::warn!(max, "open registration is full");
            return RegistrationError::open_registration_full(max).into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "client registration failed");
            return xaa_core::oauth::OAuthError::server_error("the authorization server could not store the client")
                .into_response();
        }
    }
    tracing::info!(client.id = %client_id, "client registered (RFC 7591)");
    registered(registration_response(&metadata, &client_id, &secret, st.clock.now()))
}
