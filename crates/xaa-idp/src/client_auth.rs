//! Authenticating a client at the token endpoint (RFC 6749 §2.3.1).

use xaa_core::oauth::{OAuthError, PresentedClient, TokenRequest};

use crate::config::{IdpClient, IdpConfig};

/// Checks the presented credentials against the registered clients.
pub(crate) fn authenticate<'c>(config: &'c IdpConfig, req: &TokenRequest) -> Result<&'c IdpClient, OAuthError> {
    let presented = PresentedClient::from_request(req.authorization.as_deref(), &req.params)?;
    let client = config.client(&presented.client_id);
    presented.authenticate(client.map(|c| &c.client_secret))?;
    client.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
}
