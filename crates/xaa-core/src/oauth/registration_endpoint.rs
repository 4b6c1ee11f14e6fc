//! `POST /register` as both servers serve it (RFC 7591 §3): the metadata validated for the
//! server's [`Registrar`], a fresh `client_id` (`dcr-…`) and secret, the client stored, and the
//! §3.2.1 answer; open registration is capped (`403 access_denied` when full) and a storage
//! failure is `500 server_error`, logged once. Each server supplies only how it stores a client.

use axum::response::{IntoResponse, Response};

use super::{ClientMetadata, OAuthError, Registrar, RegistrationError, RegistrationRequest, registered};
use crate::secret::Secret;

/// Why a client could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreRefusal {
    /// Open registration holds its maximum of clients.
    #[error("open registration is full ({0} clients)")]
    Full(usize),
    /// Storage failed.
    #[error("storage failed: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// One server's open registration.
pub trait OpenRegistration {
    /// Which grants its clients may register.
    const REGISTRAR: Registrar;
    /// The server, as a refusal names it ("the IdP").
    const SERVER: &'static str;

    /// A fresh random token of `bytes` bytes, base64url (client ids and secrets).
    fn random_token(&self, bytes: usize) -> String;
    /// Now, in seconds (the lab clock): `client_id_issued_at`.
    fn now(&self) -> i64;
    /// Stores the client.
    fn store(
        &self,
        metadata: &ClientMetadata,
        client_id: &str,
        secret: Secret,
    ) -> impl Future<Output = Result<(), StoreRefusal>> + Send;
}

/// Registers the client `req` describes.
pub async fn register<R: OpenRegistration>(
    registry: &R,
    req: Result<RegistrationRequest, RegistrationError>,
) -> Response {
    let metadata = match req.and_then(|RegistrationRequest(m)| m.validate(R::REGISTRAR)) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let client_id = format!("dcr-{}", registry.random_token(9));
    let secret = registry.random_token(24);
    match registry.store(&metadata, &client_id, Secret::new(secret.clone())).await {
        Ok(()) => {}
        Err(StoreRefusal::Full(max)) => {
            tracing::warn!(max, "open registration is full");
            return RegistrationError::open_registration_full(max).into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "client registration failed");
            return OAuthError::server_error(format!("{} could not store the client", R::SERVER)).into_response();
        }
    }
    tracing::info!(client.id = %client_id, "client registered (RFC 7591)");
    registered(super::registration_response(&metadata, &client_id, &secret, registry.now()))
}
