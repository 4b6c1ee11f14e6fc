//! The IdP's clients as its token endpoint authenticates them (RFC 6749 §2.3.1, through
//! `xaa_core::oauth::token_endpoint`).

use xaa_core::oauth::token_endpoint::TokenClient;
use xaa_core::secret::Secret;

use crate::config::IdpClient;

impl TokenClient for IdpClient {
    fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    fn client_secret(&self) -> &Secret {
        &self.client_secret
    }

    fn grant_types(&self) -> &[String] {
        &self.grant_types
    }
}
