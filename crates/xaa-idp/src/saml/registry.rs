//! The SAML service providers: the fixtures' (`saml.json`) and those IT registered at run time
//! for an existing client (admin API; one SP per client, kept in `idp.sqlite`). An SP whose client
//! is gone is no SP.

use rusqlite::{OptionalExtension, params};
use xaa_core::sqlite::DbError;

use super::{NameIdFormat, SamlRegistrationError, SamlServiceProvider};
use crate::config::IdpClient;
use crate::state::IdpState;
use crate::store::Store;

/// A `saml_service_providers` row (entity_id, client_id, acs_url, name_id_format).
fn sp_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SamlServiceProvider> {
    Ok(SamlServiceProvider {
        entity_id: r.get(0)?,
        client_id: r.get(1)?,
        acs_url: r.get(2)?,
        name_id_format: r.get(3)?,
    })
}

impl Store {
    async fn saml_sp(&self, entity_id: String) -> Result<Option<SamlServiceProvider>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT entity_id, client_id, acs_url, name_id_format FROM saml_service_providers WHERE entity_id = ?1",
                    params![entity_id],
                    sp_row,
                )
                .optional()
            })
            .await
    }

    async fn saml_sp_of_client(&self, client_id: String) -> Result<Option<SamlServiceProvider>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT entity_id, client_id, acs_url, name_id_format FROM saml_service_providers WHERE client_id = ?1",
                    params![client_id],
                    sp_row,
                )
                .optional()
            })
            .await
    }

    /// Stores `sp` as its client's SP (replacing the client's previous one); `false` when another
    /// client's SP has this entityID.
    async fn put_saml_sp(&self, sp: SamlServiceProvider) -> Result<bool, DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let owner: Option<String> = tx
                    .query_row(
                        "SELECT client_id FROM saml_service_providers WHERE entity_id = ?1",
                        params![sp.entity_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if owner.is_some_and(|o| o != sp.client_id) {
                    return Ok(false);
                }
                tx.execute("DELETE FROM saml_service_providers WHERE client_id = ?1", params![sp.client_id])?;
                tx.execute(
                    "INSERT INTO saml_service_providers (entity_id, client_id, acs_url, name_id_format) VALUES (?1, ?2, ?3, ?4)",
                    params![sp.entity_id, sp.client_id, sp.acs_url, sp.name_id_format],
                )?;
                tx.commit()?;
                Ok(true)
            })
            .await
    }
}

impl IdpState {
    /// The SAML service provider with this entityID, if its client exists.
    pub(crate) async fn saml_service_provider(&self, entity_id: &str) -> Result<Option<SamlServiceProvider>, DbError> {
        let fixture = self.config.saml_service_providers.iter().find(|s| s.entity_id == entity_id).cloned();
        let sp = match fixture {
            Some(sp) => Some(sp),
            None => self.store.saml_sp(entity_id.to_owned()).await?,
        };
        Ok(sp.filter(|sp| self.client(&sp.client_id).is_some()))
    }

    /// The SAML service provider of this client (from the fixtures or registered by IT), if any.
    pub async fn saml_service_provider_of_client(
        &self,
        client_id: &str,
    ) -> Result<Option<SamlServiceProvider>, DbError> {
        let fixture = self.config.saml_service_providers.iter().find(|s| s.client_id == client_id).cloned();
        let sp = match fixture {
            Some(sp) => Some(sp),
            None => self.store.saml_sp_of_client(client_id.to_owned()).await?,
        };
        Ok(sp.filter(|sp| self.client(&sp.client_id).is_some()))
    }

    /// Registers (or replaces) the SAML service provider of an existing client: it needs an entityID
    /// (nobody else's), the format `emailAddress` or `persistent` and an absolute http(s) ACS URL.
    pub async fn register_saml_service_provider(&self, sp: SamlServiceProvider) -> Result<(), SamlRegistrationError> {
        sp.check(&self.clients())?;
        let taken = || SamlRegistrationError::EntityIdTaken { entity_id: sp.entity_id.clone() };
        if self.config.saml_service_providers.iter().any(|s| s.entity_id == sp.entity_id || s.client_id == sp.client_id)
        {
            return Err(taken());
        }
        match self.store.put_saml_sp(sp.clone()).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(taken()),
            Err(e) => Err(SamlRegistrationError::Storage(e.to_string())),
        }
    }
}

impl SamlServiceProvider {
    /// Checks a registration against the IdP's clients; returns its NameID format.
    pub fn check(&self, clients: &[IdpClient]) -> Result<NameIdFormat, SamlRegistrationError> {
        let format = self.check_fields()?;
        if !clients.iter().any(|c| c.client_id == self.client_id) {
            return Err(SamlRegistrationError::UnknownClient {
                entity_id: self.entity_id.clone(),
                client_id: self.client_id.to_string(),
            });
        }
        Ok(format)
    }
}
