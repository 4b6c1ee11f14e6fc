//! The IdP's configuration: issuer, clients, users, the connection policy and token lifetimes.

use serde::Deserialize;
use xaa_core::ids::{ClientId, Issuer, ResourceClientId, ResourceUri, Subject};
use xaa_core::secret::ClientSecret;

use crate::tenant::{Tenant, Tenants};

/// Everything the IdP needs to start.
#[derive(Clone, Debug)]
pub struct IdpConfig {
    /// Issuer identifier, e.g. `http://localhost:4401` (no trailing slash; used verbatim everywhere).
    pub issuer: Issuer,
    /// Registered OIDC clients.
    pub clients: Vec<IdpClient>,
    /// Named users (any other email may log in too, with derived claims).
    pub users: Vec<User>,
    /// The tenants the users belong to; the first is the default.
    pub tenants: Tenants,
    /// Resource authorization servers this IdP issues ID-JAGs for, with the resources they govern.
    pub authorization_servers: Vec<AuthorizationServer>,
    /// Which client may reach which authorization server, resource and scopes.
    pub connections: Vec<Connection>,
    /// Token lifetimes.
    pub lifetimes: Lifetimes,
    /// Whether cookies carry the `Secure` attribute (TLS mode).
    pub secure_cookies: bool,
    /// How many clients open RFC 7591 registration may hold
    /// ([`xaa_core::oauth::DEFAULT_MAX_OPEN_REGISTRATIONS`] by default).
    pub max_open_registrations: usize,
    /// How much of the audit log to keep.
    pub audit_retention: crate::AuditRetention,
    /// SAML service providers (each an OAuth client's SP; checked with [`crate::SamlServiceProvider::check`]).
    pub saml_service_providers: Vec<crate::saml::SamlServiceProvider>,
}

/// An OIDC client of the IdP.
#[derive(Clone, Debug, Deserialize)]
pub struct IdpClient {
    /// Client id at the IdP.
    pub client_id: ClientId,
    /// Client secret (client_secret_basic / client_secret_post): the value for configured
    /// clients, only its hash for clients registered at run time.
    pub client_secret: ClientSecret,
    /// Human name shown on the login page.
    pub name: String,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types it registered (RFC 7591 §2); empty means every grant this IdP supports.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Who registered it: IT (fixtures, console) or the client itself (open RFC 7591 registration).
    #[serde(skip)]
    pub registration: Registration,
}

/// How a client came to the IdP, which decides whether its users are asked for consent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Registration {
    /// By IT: the fixtures, the console's admin pages or its API. IT approved the app, so users
    /// are not asked (as in an enterprise IdP, where admin consent stands for the user's).
    #[default]
    It,
    /// By the client itself at the open `POST /register` (RFC 7591), with nobody's approval: each
    /// user is asked for consent before the app gets a code.
    Open,
}

impl Registration {
    /// From `idp.sqlite`'s `clients.open_registration`.
    pub(crate) fn stored(open_registration: bool) -> Self {
        if open_registration { Registration::Open } else { Registration::It }
    }
}

/// A named user.
#[derive(Clone, Debug, Deserialize)]
pub struct User {
    /// Email address (the login name).
    pub email: String,
    /// Display name.
    pub name: String,
    /// The id of the tenant the user belongs to (`None`: by the email's domain, else the default).
    #[serde(default)]
    pub tenant: Option<String>,
}

/// A resource authorization server known to the IdP (an `audience` it accepts).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct AuthorizationServer {
    /// Its issuer identifier: the exact `audience` value, and the ID-JAG `aud`.
    pub issuer: Issuer,
    /// Human name.
    pub name: String,
    /// The protected resources it governs.
    pub resources: Vec<Resource>,
}

/// A protected resource governed by an authorization server.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Resource {
    /// Its RFC 8707 resource identifier.
    pub resource: ResourceUri,
    /// The scopes it defines.
    pub scopes: Vec<String>,
}

/// One governed app-to-app connection: the admin policy that replaces user consent in XAA.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Connection {
    /// The requesting client's id at the IdP.
    pub client_id: ClientId,
    /// The resource authorization server's issuer (the `audience` of the token exchange).
    pub authorization_server: Issuer,
    /// The protected resource (RFC 8707 resource indicator) governed by that AS.
    pub resource: ResourceUri,
    /// Scopes the client may obtain at that resource.
    pub scopes: Vec<String>,
    /// The client's id **at the resource AS**, put in the ID-JAG `client_id` claim.
    pub resource_client_id: ResourceClientId,
    /// Users (emails) assigned to this connection; empty means every user.
    #[serde(default)]
    pub users: Vec<String>,
    /// The tenant whose IT granted it: it applies to that tenant's users only.
    pub tenant: String,
}

/// Token lifetimes in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// ID token (xaa.dev: ~10 min).
    pub id_token: i64,
    /// IdP access token for `/userinfo`.
    pub access_token: i64,
    /// ID-JAG (draft examples and xaa.dev: 300 s).
    pub id_jag: i64,
    /// Authorization code.
    pub code: i64,
    /// SSO session.
    pub session: i64,
    /// Refresh token (`offline_access`): absolute, counted from sign-in; rotation keeps the end.
    pub refresh_token: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self { id_token: 600, access_token: 600, id_jag: 300, code: 60, session: 8 * 3600, refresh_token: 8 * 3600 }
    }
}

impl IdpConfig {
    /// The client with this id (a [`ClientId`] or its text).
    pub fn client<Id: ?Sized>(&self, client_id: &Id) -> Option<&IdpClient>
    where
        ClientId: PartialEq<Id>,
    {
        self.clients.iter().find(|c| c.client_id == *client_id)
    }
}

impl User {
    /// The named user with this email, or one with a name derived from the address
    /// (`jane.doe@x` → "Jane Doe"), so any email can log in.
    pub fn for_email(users: &[User], email: &str) -> User {
        if let Some(u) = users.iter().find(|u| u.email.eq_ignore_ascii_case(email)) {
            return u.clone();
        }
        let local = email.split('@').next().unwrap_or(email);
        let name = local
            .split(['.', '_', '-', '+'])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut c = p.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        User { email: email.to_lowercase(), name, tenant: None }
    }

    /// The user's tenant among `tenants` (see [`Tenants::of`]).
    pub fn tenant<'t>(&self, tenants: &'t Tenants) -> &'t Tenant {
        tenants.of(&self.email, self.tenant.as_deref())
    }

    /// The subject identifier: the lower-cased email, as xaa.dev does (stable and readable).
    pub fn sub(&self) -> Subject {
        Subject::new(self.email.to_lowercase())
    }
}
