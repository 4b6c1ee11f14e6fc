//! The token endpoint both servers share (RFC 6749 §3.2): authenticate the client (§2.3.1) and
//! record it as the first check, read `grant_type`, refuse a grant the client did not register
//! (RFC 7591 §2), run the server's grant; then answer with the grant's `no-store` JSON or the
//! RFC 6749 §5.2 error, logged once, with the checks attached to the response.
//!
//! A server supplies only what differs: how it finds a client ([`TokenEndpoint::client`]) and
//! its grants ([`TokenEndpoint::grant`]); the IdP also hears of the authenticated client
//! ([`TokenEndpoint::authenticated`]) for its audit log.

use axum::response::{IntoResponse, Response};

use super::{OAuthError, PresentedClient, TokenRequest, check_registered_grant};
use crate::validation::CheckLog;

/// The section client authentication is recorded under.
const CLIENT_AUTH: &crate::spec::Reference = &crate::spec::RFC6749_2_3_1;

/// A registered client, as a token endpoint needs it.
pub trait TokenClient {
    /// Its `client_id`.
    fn client_id(&self) -> &str;
    /// Whether `presented` is its secret (`client_secret_basic` / `client_secret_post`), compared
    /// in constant time (see [`crate::secret::ClientSecret`]).
    fn secret_matches(&self, presented: &str) -> bool;
    /// The grant types it registered (RFC 7591 §2); empty: every grant the server supports.
    fn grant_types(&self) -> &[String];
}

/// One server's token endpoint: its clients and its grants.
pub trait TokenEndpoint {
    /// The server's clients.
    type Client: TokenClient;

    /// The registered client `client_id`, if any.
    fn client(&self, client_id: &str) -> Option<Self::Client>;

    /// Told once the client is authenticated (before its grant runs).
    fn authenticated(&mut self, _client: &Self::Client) {}

    /// Runs `grant_type` for the authenticated `client`; a grant the server does not offer is
    /// `unsupported_grant_type`.
    fn grant(
        &mut self,
        client: Self::Client,
        grant_type: &str,
        req: &TokenRequest,
        checks: &mut CheckLog,
    ) -> impl Future<Output = Result<Response, OAuthError>> + Send;
}

/// Authenticates the client that sent `req` (RFC 6749 §2.3.1).
pub fn authenticate<E: TokenEndpoint>(endpoint: &E, req: &TokenRequest) -> Result<E::Client, OAuthError> {
    let presented = PresentedClient::from_request(req.authorization.as_deref(), &req.params)?;
    let client = endpoint.client(&presented.client_id);
    presented.authenticate(client.as_ref().map(|c| |secret: &str| c.secret_matches(secret)))?;
    client.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
}

/// Client authentication, `grant_type`, then the server's grant, each step recorded in `checks`.
pub async fn handle<E: TokenEndpoint>(
    endpoint: &mut E,
    req: &TokenRequest,
    checks: &mut CheckLog,
) -> Result<Response, OAuthError> {
    let client = authenticate(endpoint, req).inspect_err(|e| {
        checks.fail("client", CLIENT_AUTH, e.description.clone());
    })?;
    checks.pass("client", CLIENT_AUTH, format!("client '{}' authenticated", client.client_id()));
    endpoint.authenticated(&client);
    let grant_type = req.params.required("grant_type")?;
    check_registered_grant(client.client_id(), client.grant_types(), grant_type)?;
    endpoint.grant(client, grant_type, req, checks).await
}

/// The answer: the grant's response, or the refusal logged once as `"{server} token request
/// refused"`. The checks ride along in the response's extensions (where the lab's trace reads them).
pub fn answer(server: &str, result: Result<Response, OAuthError>, checks: CheckLog) -> Response {
    let mut resp = result.unwrap_or_else(|e| {
        tracing::info!(error = e.code.as_str(), description = %e.description, "{server} token request refused");
        e.into_response()
    });
    resp.extensions_mut().insert(checks);
    resp
}
