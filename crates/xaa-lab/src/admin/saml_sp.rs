//! A requestor's SAML service provider, as xaa.dev's SAML tab registers it: entityID, ACS URL and
//! NameID format. One code path for the admin API (`PUT /api/admin/clients/{id}/saml`), the
//! registration form's optional SAML part and the client page's form; the IdP does the checking.

use serde::Deserialize;
use xaa_core::ids::ClientId;
use xaa_idp::{SamlRegistrationError, SamlServiceProvider};

use super::register::RegisterRequest;
use super::{Admin, AdminError, Registered};

/// The SP to register for a client.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct SamlRequest {
    /// The SP's entityID (its assertions' Audience).
    pub(crate) entity_id: String,
    /// Where the IdP posts the `SAMLResponse` (exact match).
    pub(crate) acs_url: String,
    /// `emailAddress` or `persistent`.
    pub(crate) name_id_format: String,
}

impl SamlRequest {
    /// As the IdP's registration of `client_id`'s SP.
    fn for_client(&self, client_id: &str) -> SamlServiceProvider {
        SamlServiceProvider {
            entity_id: self.entity_id.trim().to_owned(),
            client_id: ClientId::new(client_id),
            acs_url: self.acs_url.trim().to_owned(),
            name_id_format: self.name_id_format.trim().to_owned(),
        }
    }
}

impl Admin {
    /// Registers (or replaces) the SAML service provider of the existing client `client_id`.
    pub(crate) async fn register_saml(
        &self,
        client_id: &str,
        r: &SamlRequest,
    ) -> Result<SamlServiceProvider, SamlRegistrationError> {
        let sp = r.for_client(client_id);
        self.idp.register_saml_service_provider(sp.clone()).await?;
        tracing::info!(client.id = %client_id, saml.entity_id = %sp.entity_id, "SAML service provider registered");
        Ok(sp)
    }

    /// Registers a requestor and, when `saml` is given, its SAML service provider. The SP's fields
    /// are checked before anything is created; an SP refused afterwards (its entityID taken)
    /// undoes the whole registration, so nothing is half-registered.
    pub(crate) async fn register_with_saml(
        &self,
        req: RegisterRequest,
        saml: Option<&SamlRequest>,
    ) -> Result<Registered, AdminError> {
        if let Some(s) = saml {
            s.for_client("").check_fields().map_err(|e| AdminError::new(e.to_string()))?;
        }
        let registered = self.register(req).await?;
        if let Some(s) = saml
            && let Err(e) = self.register_saml(registered.client_id.as_str(), s).await
        {
            if let Err(undo) = self.unregister(registered.client_id.as_str()).await {
                tracing::error!(client.id = %registered.client_id, error = %undo, "could not undo a registration");
            }
            return Err(e.into());
        }
        Ok(registered)
    }

    /// The SAML service provider of `client_id`, if it has one (none when it cannot be read).
    pub(crate) async fn saml_service_provider(&self, client_id: &str) -> Option<SamlServiceProvider> {
        self.idp.saml_service_provider_of_client(client_id).await.ok().flatten()
    }
}
