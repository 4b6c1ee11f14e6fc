//! A SAML service provider registered at the IdP: its entityID, NameID format and ACS URL, the
//! OAuth client it belongs to, and the checks a registration passes.

use serde::Deserialize;
use xaa_core::ids::ClientId;

/// A NameID format a service provider may register (xaa.dev offers these two; `transient`
/// identifiers cannot name the same user twice, so they are refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum NameIdFormat {
    /// `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`: the user's email address.
    #[serde(rename = "emailAddress")]
    EmailAddress,
    /// `urn:oasis:names:tc:SAML:2.0:nameid-format:persistent`: an opaque identifier per user and SP.
    #[serde(rename = "persistent")]
    Persistent,
}

impl NameIdFormat {
    /// The format's URI.
    pub fn uri(self) -> &'static str {
        match self {
            NameIdFormat::EmailAddress => NAMEID_EMAIL,
            NameIdFormat::Persistent => NAMEID_PERSISTENT,
        }
    }
}

/// `emailAddress` NameID format (SAML 2.0 Core §8.3.2).
pub(crate) const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// `persistent` NameID format (SAML 2.0 Core §8.3.7).
pub(crate) const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

/// A SAML service provider registered at the IdP, tied to one of its OAuth clients: the client
/// that may present this SP's assertions at `POST /token` (draft-04 §4.5: the assertion's
/// Audience maps to a `client_id`, which must be the authenticated client).
#[derive(Clone, Debug, Deserialize)]
pub struct SamlServiceProvider {
    /// The SP's entityID (the assertions' Audience).
    pub entity_id: String,
    /// The IdP OAuth client this SP is.
    pub client_id: ClientId,
    /// The Assertion Consumer Service URL the `SAMLResponse` is posted to (exact match).
    pub acs_url: String,
    /// The NameID format of its assertions.
    pub name_id_format: String,
}

/// Why a SAML service provider cannot be registered.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SamlRegistrationError {
    /// The format is `transient` or unknown.
    #[error(
        "SAML service provider \"{entity_id}\": NameID format \"{format}\" is not supported; use \"emailAddress\" or \"persistent\" (a transient NameID cannot identify the same user at the resource)"
    )]
    NameIdFormat {
        /// The SP.
        entity_id: String,
        /// The format it asked for.
        format: String,
    },
    /// The client does not exist.
    #[error("SAML service provider \"{entity_id}\": no OAuth client \"{client_id}\" at the IdP")]
    UnknownClient {
        /// The SP.
        entity_id: String,
        /// The client it names.
        client_id: String,
    },
    /// The entityID is another SP's, or the client has a fixture SP.
    #[error(
        "SAML service provider \"{entity_id}\": the entityID is another client's SAML service provider, or this client's SP comes from the fixtures"
    )]
    EntityIdTaken {
        /// The SP.
        entity_id: String,
    },
    /// The entityID is empty.
    #[error("a SAML service provider needs an entityID (the Audience of its assertions)")]
    MissingEntityId,
    /// Storage failed.
    #[error("the IdP could not store the SAML service provider: {0}")]
    Storage(String),
    /// The ACS URL is not an absolute http(s) URL.
    #[error("SAML service provider \"{entity_id}\": the ACS URL \"{acs_url}\" is not an absolute http(s) URL")]
    AcsUrl {
        /// The SP.
        entity_id: String,
        /// The URL.
        acs_url: String,
    },
}

impl SamlServiceProvider {
    /// The checks of `check` (in `saml::registry`) that need no client: an entityID, a supported NameID
    /// format and an absolute http(s) ACS URL (for an SP whose client is about to be registered).
    pub fn check_fields(&self) -> Result<NameIdFormat, SamlRegistrationError> {
        if self.entity_id.trim().is_empty() {
            return Err(SamlRegistrationError::MissingEntityId);
        }
        let format = match self.name_id_format.as_str() {
            "emailAddress" | NAMEID_EMAIL => NameIdFormat::EmailAddress,
            "persistent" | NAMEID_PERSISTENT => NameIdFormat::Persistent,
            other => {
                return Err(SamlRegistrationError::NameIdFormat {
                    entity_id: self.entity_id.clone(),
                    format: other.to_owned(),
                });
            }
        };
        if xaa_core::oauth::check_redirect_uri(&self.acs_url).is_err() {
            return Err(SamlRegistrationError::AcsUrl {
                entity_id: self.entity_id.clone(),
                acs_url: self.acs_url.clone(),
            });
        }
        Ok(format)
    }

    /// Its NameID format (checked at registration; an unknown one reads as `emailAddress`).
    pub(crate) fn format(&self) -> NameIdFormat {
        match self.name_id_format.as_str() {
            "persistent" | NAMEID_PERSISTENT => NameIdFormat::Persistent,
            _ => NameIdFormat::EmailAddress,
        }
    }
}
