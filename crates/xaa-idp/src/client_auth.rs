//! Authenticating a client at the token endpoint (RFC 6749 §2.3.1).

use xaa_core::oauth::{OAuthError, PresentedClient, TokenRequest};

use crate::config::IdpClient;
use crate::state::IdpState;

/// Checks the presented credentials against the registered clients.
pub(crate) fn authenticate(st: &IdpState, req: &TokenRequest) -> Result<IdpClient, OAuthError> {
    let presented = PresentedClient::from_request(req.authorization.as_deref(), &req.params)?;
    let client = st.client(&presented.client_id);
    presented.authenticate(client.as_ref().map(|c| &c.client_secret))?;
    client.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
}
