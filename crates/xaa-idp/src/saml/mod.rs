//! The IdP as a SAML 2.0 identity provider (SAML 2.0 Core and Bindings, OASIS 2005), for the
//! draft-ietf-oauth-identity-assertion-authz-grant-04 §4.5 path: a SAML service provider signs a
//! user in here, receives a signed assertion at its ACS URL, and its OAuth client presents that
//! assertion at `POST /token` (`subject_token_type` `urn:ietf:params:oauth:token-type:saml2`) for
//! an ID-JAG carrying `sub_id` (draft-04 §3.2).
//!
//! | path | what |
//! | --- | --- |
//! | `GET /saml/metadata` | the IdP's SAML metadata (entityID `{issuer}/saml`, signing certificate) |
//! | `GET` / `POST /saml/sso` | AuthnRequest (HTTP-Redirect or HTTP-POST binding) → login pages → auto-posted `SAMLResponse` |
//!
//! Everything is pure Rust: the XML is read by one hardened parser ([`xml`]: size-capped, no
//! DTD), written by formatting with escaping, and signed and verified by [`xml_signature`]
//! (exclusive canonicalization from `bergshamra-c14n`, RSA through the `openssl` crate that
//! josekit links anyway). No libxml2, no xmlsec1, no bindgen.

mod assertion;
mod authn_request;
mod credential;
mod metadata;
mod records;
mod registry;
mod service_provider;
pub(crate) mod sso;
pub(crate) mod subject_token;
mod xml;
mod xml_signature;

pub use credential::SamlCredentialError;
pub(crate) use credential::SamlKeySlot;
pub(crate) use metadata::metadata;
pub(crate) use service_provider::{NAMEID_EMAIL, NAMEID_PERSISTENT};
pub use service_provider::{NameIdFormat, SamlRegistrationError, SamlServiceProvider};

/// How long an issued assertion may be presented (`NotOnOrAfter` − `IssueInstant`), in seconds.
pub(crate) const ASSERTION_LIFETIME: i64 = 300;

/// The IdP's SAML entityID (and the `Issuer` of its assertions): `{issuer}/saml`.
pub fn entity_id(issuer: &str) -> String {
    format!("{issuer}/saml")
}
