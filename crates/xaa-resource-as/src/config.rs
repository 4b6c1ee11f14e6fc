//! Configuration of the resource authorization server and the todo API.

use serde::Deserialize;
use xaa_core::ids::{Issuer, ResourceClientId, ResourceUri};
use xaa_core::secret::Secret;

/// The resource authorization server.
#[derive(Clone, Debug)]
pub struct ResourceAsConfig {
    /// Issuer identifier, e.g. `http://localhost:4402` (the only acceptable ID-JAG `aud`).
    pub issuer: Issuer,
    /// IdP issuers whose ID-JAGs are accepted (exact strings).
    pub trusted_issuers: Vec<Issuer>,
    /// The tenant of an ID-JAG without a `tenant` claim (the IdP's default tenant): access tokens
    /// name the user `{tenant}:{sub}`.
    pub default_tenant: String,
    /// OAuth clients of this authorization server (distinct from their IdP clients).
    pub clients: Vec<AsClient>,
    /// Protected resources this server issues tokens for; the first is the default (lab decision A12).
    pub resources: Vec<ProtectedResource>,
    /// Access token lifetime in seconds (xaa.dev: 7200).
    pub access_token_lifetime: i64,
    /// How many clients open RFC 7591 registration may hold
    /// ([`xaa_core::oauth::DEFAULT_MAX_OPEN_REGISTRATIONS`] by default).
    pub max_open_registrations: usize,
    /// SAML issuers trusted in the `sub_id` of SAML-derived ID-JAGs (draft-04 §3.2), per IdP.
    pub saml_trust: Vec<SamlTrust>,
}

/// A SAML issuer whose `sub_id`s the ID-JAGs of one IdP may carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlTrust {
    /// The IdP's issuer (the ID-JAG `iss`).
    pub idp_issuer: Issuer,
    /// Its SAML issuer (entityID), e.g. `{idp}/saml`.
    pub saml_issuer: String,
    /// The IdP tenants whose SAML-derived grants are accepted (an ID-JAG without a `tenant`
    /// claim is the IdP's single, default tenant).
    pub tenants: Vec<String>,
}

/// A client registered at the resource authorization server.
#[derive(Clone, Debug, Deserialize)]
pub struct AsClient {
    /// Client id at this server (xaa.dev shape: `{idp client}-at-todo0`).
    pub client_id: ResourceClientId,
    /// Client secret.
    pub client_secret: Secret,
    /// Grant types it registered (RFC 7591 §2); empty means every grant this server supports.
    #[serde(default)]
    pub grant_types: Vec<String>,
}

/// A protected resource governed by this authorization server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectedResource {
    /// Its resource identifier (the access token `aud`).
    pub resource: ResourceUri,
    /// The scopes it defines.
    pub scopes: Vec<String>,
    /// Whether it is an MCP server: the MCP profile requires refusing a replayed ID-JAG, so its
    /// re-use policy is single use and cannot be switched (lab decision A2).
    pub mcp: bool,
}

/// The todo API.
#[derive(Clone, Debug)]
pub struct TodoApiConfig {
    /// Its resource identifier: its base URL, e.g. `http://localhost:4403`.
    pub resource: ResourceUri,
    /// The issuer of the access tokens it accepts.
    pub authorization_server: Issuer,
    /// Todos every new user starts with.
    pub seed_todos: Vec<SeedTodo>,
}

/// A todo every new user starts with.
#[derive(Clone, Debug, Deserialize)]
pub struct SeedTodo {
    /// Title.
    pub title: String,
    /// Whether it starts completed.
    #[serde(default)]
    pub completed: bool,
}
