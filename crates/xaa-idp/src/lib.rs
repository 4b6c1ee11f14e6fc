//! # xaa-idp: the lab's mock enterprise IdP
//!
//! An OpenID Provider with email + one-time-code login, and an RFC 8693 token-exchange endpoint
//! that mints ID-JAGs (draft-ietf-oauth-identity-assertion-authz-grant-04 §4.3) under an admin
//! connection policy. Endpoints (all relative to the issuer):
//!
//! | path | what |
//! | --- | --- |
//! | `GET /.well-known/openid-configuration` | OIDC Discovery metadata |
//! | `GET /jwks` | public signing keys |
//! | `GET /authorize` | authorization code flow (PKCE S256 required) → login pages |
//! | `POST /login/email`, `POST /login/code` | the two login steps (CSRF protected) |
//! | `POST /consent` | the user's Allow or Deny for a self-registered client (CSRF protected; see `consent`) |
//! | `POST /token` | `authorization_code` and token exchange (ID token → ID-JAG) |
//! | `GET /userinfo` | OIDC UserInfo with the IdP access token |
//! | `GET /session/end` | RP-initiated logout; without an `id_token_hint` of the signed-in user, a confirmation page |
//! | `POST /session/end/confirm` | the confirmation's form (CSRF protected) |
//! | `POST /register` | RFC 7591 dynamic client registration (with the draft-04 §8 grant-profile metadata) |
//! | `GET /saml/metadata`, `GET`/`POST /saml/sso` | the SAML 2.0 IdP (see `saml`) |
//!
//! It must not know anything about the resource AS but its issuer, resources and scopes, which
//! come from the policy.

mod audit;
mod authorization_request;
mod authorization_response;
mod client_auth;
mod config;
mod consent;
mod governed;
mod keys;
mod login_transaction;
mod logout;
mod pages;
mod policy;
mod registry;
mod reset;
mod routes;
mod saml;
mod session;
mod state;
mod store;
mod tenant;
mod token;

pub use audit::{AuditEntry, AuditFilter, AuditRetention};
pub use config::{AuthorizationServer, Connection, IdpClient, IdpConfig, Lifetimes, Registration, Resource, User};
pub use keys::{PublishedKey, Rotation};
pub use login_transaction::AUTHORIZE_COOKIE;
pub use reset::reset_database;
pub use routes::router;
pub use saml::{
    NameIdFormat, SamlCredentialError, SamlRegistrationError, SamlServiceProvider, entity_id as saml_entity_id,
};
pub use session::{CSRF_COOKIE, LOGIN_COOKIE, SESSION_COOKIE};
pub use state::{IdpState, RegistryError};
pub use tenant::{Tenant, Tenants, TenantsError};
