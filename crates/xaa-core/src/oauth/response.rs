//! Token endpoint success responses.

use serde::Serialize;

use crate::claims::OneOrMany;
use crate::ids::ResourceUri;

/// RFC 8693 §2.2.1 response carrying an ID-JAG (draft §4.3.4). No refresh token, ever.
#[derive(Clone, Debug, Serialize)]
pub struct TokenExchangeResponse {
    /// The ID-JAG (the field name is historical: it is not an access token).
    pub access_token: String,
    /// Always `urn:ietf:params:oauth:token-type:id-jag`.
    pub issued_token_type: &'static str,
    /// Always `N_A`.
    pub token_type: &'static str,
    /// Lifetime of the ID-JAG in seconds.
    pub expires_in: i64,
    /// Granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Granted resource(s), the same set as the ID-JAG's `resource` claim (post-04 candidate C1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<OneOrMany<ResourceUri>>,
}

/// RFC 6749 §5.1 access token response (also the OIDC code-grant response with `id_token`).
#[derive(Clone, Debug, Serialize)]
pub struct AccessTokenResponse {
    /// The access token.
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to a DPoP key (RFC 9449 §5).
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: i64,
    /// Granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The ID token (the IdP's code and refresh grants).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The IdP's refresh token (`offline_access`, RFC 6749 §5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The resource the access token is restricted to (post-04 candidate C1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceUri>,
}
