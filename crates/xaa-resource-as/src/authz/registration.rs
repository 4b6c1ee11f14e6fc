//! `POST /register`: RFC 7591 dynamic client registration at the resource authorization server
//! (grant `urn:ietf:params:oauth:grant-type:jwt-bearer`, with the draft-04 §8 grant-profile
//! metadata), open up to [`crate::ResourceAsConfig::max_open_registrations`] clients (then
//! `403 access_denied`). The IdP must still be told this client id (the ID-JAG `client_id`),
//! which is IT's connection policy.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use xaa_core::ids::ResourceClientId;
use xaa_core::oauth::registration_endpoint::{self, OpenRegistration, StoreRefusal};
use xaa_core::oauth::{ClientMetadata, Registrar, RegistrationError, RegistrationRequest};
use xaa_core::secret::Secret;

use crate::config::AsClient;
use crate::state::AsState;

pub(crate) async fn register(
    State(st): State<Arc<AsState>>,
    req: Result<RegistrationRequest, RegistrationError>,
) -> Response {
    registration_endpoint::register(st.as_ref(), req).await
}

impl OpenRegistration for AsState {
    const REGISTRAR: Registrar = Registrar::ResourceAuthorizationServer;
    const SERVER: &'static str = "the authorization server";

    fn random_token(&self, bytes: usize) -> String {
        self.entropy.token(bytes)
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    async fn store(&self, metadata: &ClientMetadata, client_id: &str, secret: Secret) -> Result<(), StoreRefusal> {
        let client = AsClient {
            client_id: ResourceClientId::new(client_id),
            client_secret: secret,
            grant_types: metadata.grant_types.clone(),
        };
        match self.register_open_client(client).await {
            Ok(true) => Ok(()),
            // The id is random (72 bits): not stored means full.
            Ok(false) => Err(StoreRefusal::Full(self.config.max_open_registrations)),
            Err(e) => Err(StoreRefusal::Storage(Box::new(e))),
        }
    }
}
