//! OAuth 2.0 wire types: error responses (RFC 6749 §5.2), token responses, form parameters
//! (RFC 6749 §3.2) and client credentials (RFC 6749 §2.3).

#[cfg(feature = "axum")]
mod axum;
mod client_auth;
mod error;
mod form;
mod grant_request;
mod registration;
#[cfg(feature = "axum")]
pub mod registration_endpoint;
mod registration_limits;
mod response;
#[cfg(feature = "axum")]
pub mod token_endpoint;

#[cfg(feature = "axum")]
pub use axum::{RegistrationRequest, TokenRequest, no_store_json, registered};
pub use client_auth::{ClientAuthMethod, PresentedClient};
pub use error::{ErrorCode, OAuthError, wire_safe};
pub use form::FormParams;
pub use grant_request::{
    AuthorizationCodeRequest, GrantRequest, JwtBearerRequest, RefreshTokenRequest, SubjectTokenType,
    TokenExchangeRequest,
};
pub use registration::{
    ClientMetadata, Registrar, RegistrationError, check_redirect_uri, check_registered_grant, registration_response,
};
pub use registration_limits::{
    DEFAULT_MAX_OPEN_REGISTRATIONS, MAX_CLIENT_NAME_CHARS, MAX_LIST_MEMBERS, MAX_OTHER_MEMBER_BYTES, MAX_OTHER_MEMBERS,
    MAX_REGISTRATION_BYTES, MAX_SCOPE_BYTES, MAX_URI_BYTES, check_redirect_uris,
};
pub use response::{AccessTokenResponse, TokenExchangeResponse};

/// Largest token-request body the lab accepts (an ID token or ID-JAG is a few KiB).
pub const MAX_TOKEN_REQUEST_BYTES: usize = 64 * 1024;
