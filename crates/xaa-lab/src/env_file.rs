//! The `.env` of the bring-your-own requestor, with the variable names the tutorial's NestJS app
//! reads (`oktadev/okta-js-xaa-requestor-example`, `.env.example`).

use serde::Serialize;

use crate::config::Urls;
use crate::fixtures::Requestor;

/// The `.env` values, in the order they are printed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct EnvFile {
    /// IdP issuer (OIDC discovery base).
    pub IDP_URL: String,
    /// Resource AS issuer: the token-exchange `audience`.
    pub AUTH_SERVER_URL: String,
    /// Todo API: the token-exchange `resource` and the API base.
    pub TODO_RESOURCE_SERVER: String,
    /// The requestor's redirect URI.
    pub REDIRECT_URI: String,
    /// IdP client id.
    pub CLIENT_ID: String,
    /// IdP client secret.
    pub CLIENT_SECRET: String,
    /// Resource-AS client id.
    pub RESOURCE_CLIENT_ID: String,
    /// Resource-AS client secret.
    pub RESOURCE_CLIENT_SECRET: String,
    /// Session secret for the requestor's own cookies.
    pub SESSION_SECRET: String,
}

impl EnvFile {
    /// The `.env` for `requestor` against the lab at `urls`.
    pub fn new(urls: &Urls, requestor: &Requestor) -> Self {
        Self {
            IDP_URL: urls.idp.clone(),
            AUTH_SERVER_URL: urls.authorization_server.clone(),
            TODO_RESOURCE_SERVER: urls.todo_api.clone(),
            REDIRECT_URI: requestor.idp.redirect_uris.first().cloned().unwrap_or_default(),
            CLIENT_ID: requestor.idp.client_id.to_string(),
            CLIENT_SECRET: requestor.idp.client_secret.expose().to_owned(),
            RESOURCE_CLIENT_ID: requestor.resource_as.client_id.to_string(),
            RESOURCE_CLIENT_SECRET: requestor.resource_as.client_secret.expose().to_owned(),
            SESSION_SECRET: "xaa-lab-session-secret-change-me-outside-the-lab".to_owned(),
        }
    }

    /// `NAME=value` lines, ready to paste into `.env`.
    pub fn to_dotenv(&self) -> String {
        self.pairs().iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }

    /// Name/value pairs in order.
    pub fn pairs(&self) -> [(&'static str, &str); 9] {
        [
            ("IDP_URL", &self.IDP_URL),
            ("AUTH_SERVER_URL", &self.AUTH_SERVER_URL),
            ("TODO_RESOURCE_SERVER", &self.TODO_RESOURCE_SERVER),
            ("REDIRECT_URI", &self.REDIRECT_URI),
            ("CLIENT_ID", &self.CLIENT_ID),
            ("CLIENT_SECRET", &self.CLIENT_SECRET),
            ("RESOURCE_CLIENT_ID", &self.RESOURCE_CLIENT_ID),
            ("RESOURCE_CLIENT_SECRET", &self.RESOURCE_CLIENT_SECRET),
            ("SESSION_SECRET", &self.SESSION_SECRET),
        ]
    }
}
