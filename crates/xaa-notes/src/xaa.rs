//! The two XAA exchanges, from the requestor's side:
//!
//! 1. RFC 8693 token exchange at the IdP: the user's ID token → an ID-JAG for the resource
//!    authorization server (`audience`) and the todo API (`resource`);
//! 2. RFC 7523 jwt-bearer at that authorization server, with the app's *resource-AS* credentials:
//!    the ID-JAG → an access token.
//!
//! The access token is cached in the session until shortly before it expires; the exchanges run
//! again only then (or when the user asks for a fresh token).
//!
//! Right before each grant the app reads the authorization server's RFC 8414 metadata: its token
//! endpoint, and what the lab's own member [`id_jag_reuse::METADATA_MEMBER`] says of the target
//! resource's ID-JAG re-use policy (lab decision A2), which the pages show beside the token. The app
//! never re-submits an ID-JAG, so it works under either policy; no specification defines such a
//! member, so the pages say it is the lab's.

use serde_json::Value;
use xaa_core::id_jag_reuse;
use xaa_core::ids::ResourceUri;
use xaa_core::oauth::{GrantRequest, JwtBearerRequest, SubjectTokenType, TokenExchangeRequest};
use xaa_core::urn;

use crate::oauth_http::{OAuthHttp, OAuthHttpError};
use crate::state::NotesState;
use crate::store::{CachedToken, Session};

/// A cached access token is replaced this many seconds before it expires.
pub(crate) const REFRESH_MARGIN: i64 = 60;

/// Which call of the chain failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Token exchange at the IdP.
    TokenExchange,
    /// jwt-bearer at the resource authorization server.
    JwtBearer,
    /// The todo API itself.
    TodoApi,
    /// The todo API's MCP server.
    Mcp,
}

impl Step {
    pub(crate) fn title(self) -> &'static str {
        match self {
            Step::TokenExchange => "Token exchange at the IdP",
            Step::JwtBearer => "JWT bearer grant at the todo app's authorization server",
            Step::TodoApi => "Call to the todo API",
            Step::Mcp => "Call to the todo MCP server",
        }
    }
}

/// Why there are no todos to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum XaaError {
    /// The ID token expired: the user must sign in at the IdP again.
    SignInAgain,
    /// A server refused, with its OAuth (or bearer) error.
    Refused { step: Step, status: u16, error: String, description: String },
    /// A server could not be reached or answered nonsense.
    Unreachable { step: Step, detail: String },
    /// A server answered 200 with a token for a resource the app did not ask for: the token was
    /// discarded unused (post-04 candidate C1).
    WrongResource { step: Step, detail: String },
}

impl XaaError {
    /// One sentence on what this means and what to do.
    pub(crate) fn hint(&self) -> &'static str {
        match self {
            XaaError::SignInAgain => "Your sign-in at the IdP has expired. Sign in again to reach your todos.",
            XaaError::Unreachable { .. } => "The server did not answer. Is the lab still running? Your notes are safe.",
            XaaError::WrongResource { .. } => {
                "The server answered with a token for a resource this app did not ask for, so the app threw the token away without using it. Your notes are safe; try again with a fresh token."
            }
            XaaError::Refused { error, step, .. } => match (error.as_str(), step) {
                ("invalid_target", _) => {
                    "IT has not connected this app to the todo app, or revoked the connection. An administrator must grant it at the IdP; your notes are unaffected."
                }
                ("invalid_scope", _) => {
                    "The connection IT granted does not cover the scopes this app asks for (todos.read todos.write)."
                }
                ("invalid_client", _) => "The app's client credentials were refused. Check its configuration.",
                ("invalid_grant", Step::TokenExchange) => "The IdP no longer accepts your sign-in. Sign in again.",
                ("invalid_grant", _) => "The authorization server refused the ID-JAG. Get a fresh token to try again.",
                ("insufficient_scope", _) => "The access token does not allow this action.",
                ("invalid_token", _) => "The todo API refused the access token. Get a fresh token to try again.",
                ("temporarily_unavailable", _) => {
                    "The todo API is down for now (it asked to retry later). Your notes are safe; try again in a moment."
                }
                _ => "The request was refused. The error below says why.",
            },
        }
    }
}

/// What the exchanges ask for: a resource (RFC 8707) and scopes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    /// The resource identifier (the access token's `aud`).
    pub(crate) resource: &'a ResourceUri,
    /// The scopes, space-separated.
    pub(crate) scope: &'a str,
}

/// An access token for the todo API: the cached one, or a new one from both exchanges.
pub(crate) async fn access_token(st: &NotesState, session: &Session, fresh: bool) -> Result<CachedToken, XaaError> {
    let now = st.clock.now();
    if !fresh && let Some(cached) = session.access_token.as_ref().filter(|t| now < t.expires_at - REFRESH_MARGIN) {
        return Ok(cached.clone());
    }
    if now >= session.id_token_exp {
        return Err(XaaError::SignInAgain);
    }
    let target = Target { resource: &st.config.todo_api, scope: &st.config.scopes };
    let id_jag = token_exchange(st, session, target).await?;
    let token = jwt_bearer(st, &id_jag, target).await?;
    st.store
        .cache_access_token(session.id_hash.clone(), Some(token.clone()))
        .await
        .map_err(|e| XaaError::Unreachable { step: Step::JwtBearer, detail: e.to_string() })?;
    Ok(token)
}

/// A new access token for `target` from both exchanges (not cached: only the todo API's is).
pub(crate) async fn fresh_token_for(
    st: &NotesState,
    session: &Session,
    target: Target<'_>,
) -> Result<CachedToken, XaaError> {
    if st.clock.now() >= session.id_token_exp {
        return Err(XaaError::SignInAgain);
    }
    let id_jag = token_exchange(st, session, target).await?;
    jwt_bearer(st, &id_jag, target).await
}

/// Forgets the session's cached access token (the next call runs both exchanges).
pub(crate) async fn forget_token(st: &NotesState, session: &Session) -> Result<(), xaa_core::sqlite::DbError> {
    st.store.cache_access_token(session.id_hash.clone(), None).await
}

async fn token_exchange(st: &NotesState, session: &Session, target: Target<'_>) -> Result<String, XaaError> {
    let step = Step::TokenExchange;
    let endpoint =
        crate::oidc::token_endpoint(st).await.map_err(|e| XaaError::Unreachable { step, detail: e.to_string() })?;
    let c = &st.config;
    let exchange = TokenExchangeRequest::for_id_jag(
        session.id_token.as_str(),
        SubjectTokenType::IdToken,
        c.authorization_server.clone(),
        target.resource.clone(),
        target.scope,
    );
    let form = exchange.to_form_posting(c.client_id.as_str(), c.client_secret.expose());
    let body = post_form(st, step, &endpoint, &form).await?;
    if body["issued_token_type"] != urn::TOKEN_TYPE_ID_JAG || body["token_type"] != urn::TOKEN_TYPE_N_A {
        return Err(XaaError::Unreachable {
            step,
            detail: format!(
                "the IdP answered without an ID-JAG (issued_token_type {}, token_type {})",
                body["issued_token_type"], body["token_type"]
            ),
        });
    }
    check_resource(target, step, &body)?;
    string(&body, "access_token", step)
}

async fn jwt_bearer(st: &NotesState, id_jag: &str, target: Target<'_>) -> Result<CachedToken, XaaError> {
    let step = Step::JwtBearer;
    let (endpoint, meta) = as_metadata(st).await.map_err(|e| XaaError::Unreachable { step, detail: e.to_string() })?;
    let c = &st.config;
    let form =
        JwtBearerRequest::new(id_jag).to_form_posting(c.resource_client_id.as_str(), c.resource_client_secret.expose());
    let body = post_form(st, step, &endpoint, &form).await?;
    check_resource(target, step, &body)?;
    let expires_in = body["expires_in"].as_i64().unwrap_or(300);
    Ok(CachedToken {
        token: string(&body, "access_token", step)?,
        expires_at: st.clock.now() + expires_in,
        scope: body["scope"].as_str().unwrap_or_default().to_owned(),
        reuse: id_jag_reuse::published(&meta, target.resource.as_str()),
    })
}

/// A token response may name the resources its token is for; they must be among those asked for
/// (only the target's), else the token is discarded before any use (post-04 candidate C1).
fn check_resource(target: Target<'_>, step: Step, body: &Value) -> Result<(), XaaError> {
    xaa_core::resource::check_response(body, &[target.resource.as_str()]).map(drop).map_err(|detail| {
        tracing::warn!(step = step.title(), %detail, "discarded a token issued for a resource not asked for");
        let mut sentence = detail.to_string();
        if let Some(first) = sentence.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        XaaError::WrongResource { step, detail: format!("{sentence}.") }
    })
}

/// Why the authorization server's token endpoint could not be found (shown as the detail of an
/// unreachable jwt-bearer step).
#[derive(Debug, thiserror::Error)]
pub(crate) enum AsMetadataError {
    /// The app's HTTP client could not be had, or the metadata request got no answer.
    #[error("{0}")]
    Http(#[from] OAuthHttpError),
    /// The metadata request could not be built.
    #[error("{0}")]
    Request(#[source] reqwest::Error),
    /// The answer is not a JSON document.
    #[error("{url}: {source}")]
    NotJson {
        /// The metadata URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The metadata names another issuer (RFC 8414 §3.3).
    #[error("{url} names issuer {named}, not {issuer}")]
    WrongIssuer {
        /// The metadata URL.
        url: String,
        /// The `issuer` it names (JSON, `null` when absent).
        named: Value,
        /// The issuer configured.
        issuer: String,
    },
    /// The metadata names no token endpoint.
    #[error("{url} has no token_endpoint")]
    NoTokenEndpoint {
        /// The metadata URL.
        url: String,
    },
}

/// The authorization server's token endpoint and its whole RFC 8414 metadata, whose `issuer` must be
/// the one configured (RFC 8414 §3.3). Read before every grant, so the re-use policy it publishes
/// is the one that applies to that grant.
async fn as_metadata(st: &NotesState) -> Result<(String, Value), AsMetadataError> {
    let issuer = &st.config.authorization_server;
    let url = format!("{issuer}/.well-known/oauth-authorization-server");
    let http = OAuthHttp::of(st)?;
    let req = http.client().get(&url).build().map_err(AsMetadataError::Request)?;
    let resp = http.send(req).await?;
    let meta: Value = match resp.json().await {
        Ok(meta) => meta,
        Err(source) => return Err(AsMetadataError::NotJson { url, source }),
    };
    if meta["issuer"].as_str() != Some(issuer.as_str()) {
        let named = meta["issuer"].clone();
        return Err(AsMetadataError::WrongIssuer { url, named, issuer: issuer.to_string() });
    }
    match meta["token_endpoint"].as_str() {
        Some(endpoint) => Ok((endpoint.to_owned(), meta)),
        None => Err(AsMetadataError::NoTokenEndpoint { url }),
    }
}

async fn post_form(st: &NotesState, step: Step, url: &str, form: &[(&str, String)]) -> Result<Value, XaaError> {
    let unreachable = |detail: String| XaaError::Unreachable { step, detail };
    let http = OAuthHttp::of(st).map_err(|e| unreachable(e.to_string()))?;
    let req = http.client().post(url).form(form).build().map_err(|e| unreachable(e.to_string()))?;
    let resp = http.send(req).await.map_err(|e| unreachable(e.to_string()))?;
    answer(step, resp).await
}

/// A 2xx answer's JSON body, or the refusal it carries (`error`, `error_description`).
pub(crate) async fn answer(step: Step, resp: reqwest::Response) -> Result<Value, XaaError> {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        return Ok(body);
    }
    Err(XaaError::Refused {
        step,
        status,
        error: body["error"].as_str().unwrap_or("(no error code)").to_owned(),
        description: body["error_description"].as_str().unwrap_or("").to_owned(),
    })
}

fn string(body: &Value, field: &str, step: Step) -> Result<String, XaaError> {
    body[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| XaaError::Unreachable { step, detail: format!("the response has no {field}") })
}
