//! The IdP's clients as its token endpoint authenticates them (RFC 6749 §2.3.1, through
//! `xaa_core::oauth::token_endpoint`).

use xaa_core::oauth::token_endpoint::TokenClient;

use crate::config::IdpClient;

impl TokenClient for IdpClient {
    fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    fn secret_matches(&self, presented: &str) -> bool {
        self.client_secret.matches(presented)
    }

    fn grant_types(&self) -> &[String] {
        &self.grant_types
    }
}
