//! The notes app's configuration: where the IdP, authorization server and todo API are, and its
//! two sets of credentials (one at the IdP, one at the resource authorization server).

use xaa_core::ids::{ClientId, Issuer, ResourceClientId, ResourceUri};
use xaa_core::secret::Secret;

/// Everything the notes app needs.
#[derive(Clone, Debug)]
pub struct NotesConfig {
    /// Its own base URL, e.g. `http://localhost:4404` (redirect URI = `{base_url}/auth/callback`).
    pub base_url: String,
    /// The IdP issuer (OIDC discovery).
    pub idp_issuer: Issuer,
    /// The resource authorization server's issuer: the token-exchange `audience`.
    pub authorization_server: Issuer,
    /// The todo API: the token-exchange `resource` and the API base URL.
    pub todo_api: ResourceUri,
    /// Client id at the IdP.
    pub client_id: ClientId,
    /// Client secret at the IdP.
    pub client_secret: Secret,
    /// Client id at the resource authorization server.
    pub resource_client_id: ResourceClientId,
    /// Client secret at the resource authorization server.
    pub resource_client_secret: Secret,
    /// Scopes asked for at the todo API.
    pub scopes: String,
    /// Whether cookies carry `Secure` (TLS mode).
    pub secure_cookies: bool,
    /// Print tokens and secrets in full in the OAuth HTTP log.
    pub reveal_secrets: bool,
}

impl NotesConfig {
    /// The registered redirect URI.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.base_url)
    }
}
