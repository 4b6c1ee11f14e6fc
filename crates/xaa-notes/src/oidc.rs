//! Sign-in at the IdP as an OpenID Connect relying party, with the `openidconnect` crate:
//! discovery, authorization code + PKCE (S256) + `state` + `nonce`, and full ID token verification
//! (signature with the discovered JWKS, `iss`, `aud`, `exp` on the lab clock, `nonce`).

use chrono::{DateTime, TimeZone, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
    CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::oauth_http::{OAuthHttp, OAuthHttpError, OidcHttpError};
use crate::state::NotesState;

/// Why signing in at the IdP failed (the sign-in pages show these texts).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignInError {
    /// The configured IdP issuer is not a URL.
    #[error("{0}")]
    IssuerUrl(#[source] openidconnect::url::ParseError),
    /// The app's redirect URI is not a URL.
    #[error("{0}")]
    RedirectUri(#[source] openidconnect::url::ParseError),
    /// The app's HTTP client could not be had.
    #[error("{0}")]
    Http(#[from] OAuthHttpError),
    /// OpenID Connect discovery at the issuer failed.
    #[error("OpenID Connect discovery at {issuer} failed: {}", chain(.source))]
    Discovery {
        /// The issuer discovered.
        issuer: String,
        /// Why.
        #[source]
        source: openidconnect::DiscoveryError<OidcHttpError>,
    },
    /// The discovered metadata names no token endpoint.
    #[error("the IdP metadata has no token_endpoint")]
    NoTokenEndpoint,
    /// The client cannot make a code exchange (its metadata lacks a token endpoint).
    #[error("{0}")]
    CodeExchange(#[source] openidconnect::ConfigurationError),
    /// The token endpoint refused the authorization code (or could not be reached).
    #[error("the IdP refused the authorization code: {}", chain(.0))]
    CodeRefused(
        #[source]
        openidconnect::RequestTokenError<
            OidcHttpError,
            openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
        >,
    ),
    /// The token response has no ID token.
    #[error("the IdP returned no ID token")]
    NoIdToken,
    /// The ID token failed verification, also with freshly discovered keys.
    #[error("the ID token failed verification: {source} (first attempt: {first})")]
    IdToken {
        /// Why it failed with the fresh metadata.
        #[source]
        source: openidconnect::ClaimsVerificationError,
        /// Why it failed with the cached metadata.
        first: openidconnect::ClaimsVerificationError,
    },
}

/// The discovery field for RP-Initiated Logout 1.0 §2.1, which the core metadata type lacks.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct LogoutMetadata {
    end_session_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for LogoutMetadata {}

/// The IdP's OpenID Provider metadata, with `end_session_endpoint`.
pub(crate) type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// What a verified ID token says about the user.
#[derive(Clone, Debug)]
pub(crate) struct SignedIn {
    pub(crate) id_token: String,
    pub(crate) sub: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) expires_at: i64,
}

/// A sign-in request to send the browser to.
#[derive(Debug)]
pub(crate) struct LoginRequest {
    pub(crate) url: String,
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) pkce_verifier: String,
}

/// The IdP's metadata, discovered once (or again when `refresh` is set, e.g. after key rotation).
async fn provider(st: &NotesState, refresh: bool) -> Result<Metadata, SignInError> {
    if !refresh && let Some(p) = st.provider.read().await.as_ref() {
        return Ok(p.clone());
    }
    let issuer = IssuerUrl::new(st.config.idp_issuer.to_string()).map_err(SignInError::IssuerUrl)?;
    let http = OAuthHttp::of(st)?;
    let metadata = Metadata::discover_async(issuer, &http)
        .await
        .map_err(|source| SignInError::Discovery { issuer: st.config.idp_issuer.to_string(), source })?;
    *st.provider.write().await = Some(metadata.clone());
    Ok(metadata)
}

/// The IdP's token endpoint, from discovery.
pub(crate) async fn token_endpoint(st: &NotesState) -> Result<String, SignInError> {
    let p = provider(st, false).await?;
    p.token_endpoint().map(|u| u.to_string()).ok_or(SignInError::NoTokenEndpoint)
}

/// The IdP's end-session endpoint (RP-initiated logout), from discovery.
pub(crate) async fn end_session_endpoint(st: &NotesState) -> Option<String> {
    provider(st, false).await.ok()?.additional_metadata().end_session_endpoint.clone()
}

/// Builds the authorization request.
pub(crate) async fn login_request(st: &NotesState) -> Result<LoginRequest, SignInError> {
    let metadata = provider(st, false).await?;
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(st.config.client_id.to_string()), None)
        .set_redirect_uri(RedirectUrl::new(st.config.redirect_uri()).map_err(SignInError::RedirectUri)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    Ok(LoginRequest {
        url: url.to_string(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
    })
}

/// Redeems `code` and verifies the ID token against `nonce`. On a signature failure the
/// metadata and JWKS are discovered again once (the IdP may have rotated its key).
pub(crate) async fn redeem(
    st: &NotesState,
    code: &str,
    pkce_verifier: &str,
    nonce: &str,
) -> Result<SignedIn, SignInError> {
    let metadata = provider(st, false).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(st.config.client_id.to_string()),
        Some(ClientSecret::new(st.config.client_secret.expose().to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(st.config.redirect_uri()).map_err(SignInError::RedirectUri)?);
    let http = OAuthHttp::of(st)?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(SignInError::CodeExchange)?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
        .request_async(&http)
        .await
        .map_err(SignInError::CodeRefused)?;
    let id_token = tokens.id_token().ok_or(SignInError::NoIdToken)?;
    let nonce = Nonce::new(nonce.to_owned());
    let clock = st.clock.clone();
    let now = move || -> DateTime<Utc> { Utc.timestamp_opt(clock.now(), 0).single().unwrap_or_default() };
    let verified = match id_token.claims(&client.id_token_verifier().set_time_fn(now.clone()), &nonce) {
        Ok(c) => c.clone(),
        Err(first) => {
            let metadata = provider(st, true).await?;
            let client =
                CoreClient::from_provider_metadata(metadata, ClientId::new(st.config.client_id.to_string()), None);
            id_token
                .claims(&client.id_token_verifier().set_time_fn(now), &nonce)
                .map_err(|source| SignInError::IdToken { source, first })?
                .clone()
        }
    };
    let email = verified.email().map(|e| e.as_str().to_owned()).unwrap_or_default();
    let name =
        verified.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()).unwrap_or_else(|| email.clone());
    Ok(SignedIn {
        id_token: id_token.to_string(),
        sub: verified.subject().as_str().to_owned(),
        email,
        name,
        expires_at: verified.expiration().timestamp(),
    })
}

/// `e`'s text and its sources' texts, `: `-separated, down to the transport failure (whose text
/// already says what failed in words a person understands).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = if s.is::<OidcHttpError>() { None } else { s.source() };
    }
    text
}
