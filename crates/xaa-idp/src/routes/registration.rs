//! `POST /register`: RFC 7591 dynamic client registration at the IdP. Open registration, as a
//! local lab's should be, up to [`crate::IdpConfig::max_open_registrations`] clients (then
//! `403 access_denied`); a registered client has no connection until IT grants one, so it can
//! sign users in (each user is asked for consent first: IT did not approve it) but every token
//! exchange answers `invalid_target` until then.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use xaa_core::ids::ClientId;
use xaa_core::oauth::registration_endpoint::{self, OpenRegistration, StoreRefusal};
use xaa_core::oauth::{ClientMetadata, Registrar, RegistrationError, RegistrationRequest};
use xaa_core::secret::Secret;

use crate::config::{IdpClient, Registration};
use crate::state::{IdpState, RegistryError};

pub(crate) async fn register(
    State(st): State<Arc<IdpState>>,
    req: Result<RegistrationRequest, RegistrationError>,
) -> Response {
    registration_endpoint::register(st.as_ref(), req).await
}

impl OpenRegistration for IdpState {
    const REGISTRAR: Registrar = Registrar::IdentityProvider;
    const SERVER: &'static str = "the IdP";

    fn random_token(&self, bytes: usize) -> String {
        self.entropy.token(bytes)
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    async fn store(&self, metadata: &ClientMetadata, client_id: &str, secret: Secret) -> Result<(), StoreRefusal> {
        let client = IdpClient {
            client_id: ClientId::new(client_id),
            client_secret: xaa_core::secret::ClientSecret::hash_of(&secret),
            name: metadata.client_name.clone().unwrap_or_default(),
            redirect_uris: metadata.redirect_uris.clone(),
            post_logout_redirect_uris: metadata.post_logout_redirect_uris.clone(),
            grant_types: metadata.grant_types.clone(),
            registration: Registration::Open,
        };
        self.register_open_client(client).await.map_err(|e| match e {
            RegistryError::Full(max) => StoreRefusal::Full(max),
            other => StoreRefusal::Storage(Box::new(other)),
        })
    }
}
