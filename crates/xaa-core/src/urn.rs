//! Exact protocol strings. Every component uses these constants; tests pin them.

/// RFC 8693 token exchange grant type.
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 7523 JWT bearer grant type.
pub const GRANT_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// RFC 6749 authorization code grant type.
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
/// RFC 6749 §6 refresh token grant type.
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
/// OIDC Core §11 scope that asks for a refresh token.
pub const SCOPE_OFFLINE_ACCESS: &str = "offline_access";
/// Requested and issued token type of an ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant §4.3).
pub const TOKEN_TYPE_ID_JAG: &str = "urn:ietf:params:oauth:token-type:id-jag";
/// Subject token type of an OpenID Connect ID token (RFC 8693 §3).
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// Subject token type of a SAML 2.0 assertion (RFC 8693 §3).
pub const TOKEN_TYPE_SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
/// Subject token type of a refresh token (RFC 8693 §3).
pub const TOKEN_TYPE_REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
/// JOSE `typ` of an ID-JAG (draft §3.1).
pub const TYP_ID_JAG: &str = "oauth-id-jag+jwt";
/// JOSE `typ` of a JWT access token (RFC 9068 §2.1).
pub const TYP_ACCESS_TOKEN: &str = "at+jwt";
/// JOSE `typ` of a client authentication assertion (draft-ietf-oauth-rfc7523bis).
pub const TYP_CLIENT_AUTH: &str = "client-authentication+jwt";
/// JOSE `typ` of a DPoP proof (RFC 9449 §4.2), compared exactly.
pub const TYP_DPOP: &str = "dpop+jwt";
/// JOSE `typ` the lab's IdP puts on ID tokens.
pub const TYP_ID_TOKEN: &str = "JWT";
/// Authorization grant profile advertised by the resource AS (draft §7.2).
pub const GRANT_PROFILE_ID_JAG: &str = "urn:ietf:params:oauth:grant-profile:id-jag";
/// `token_type` of a token-exchange response carrying an ID-JAG (draft §4.3.4).
pub const TOKEN_TYPE_N_A: &str = "N_A";
/// `token_type` of an access token response (RFC 6750).
pub const TOKEN_TYPE_BEARER: &str = "Bearer";
/// `token_type` of a DPoP-bound access token (RFC 9449 §5), and its `Authorization` scheme (§7.1).
pub const TOKEN_TYPE_DPOP: &str = "DPoP";
/// The ID-JAG draft, as cited in error descriptions.
pub const DRAFT: &str = "draft-ietf-oauth-identity-assertion-authz-grant-04";
