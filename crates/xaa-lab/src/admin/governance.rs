//! IT governance of app-to-app connections: grant, narrow (or widen) and revoke. The IdP applies
//! the new policy to the next token exchange: a revoked connection answers `invalid_target`, a
//! narrowed one `invalid_scope` for the scopes taken away.

use serde::Deserialize;
use xaa_core::ids::{ClientId, ResourceClientId};
use xaa_idp::Connection;

use super::{Admin, AdminError};

/// A connection to create or change.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct ConnectionChange {
    /// The tenant whose policy changes (default: the default tenant).
    #[serde(default)]
    pub(crate) tenant: Option<String>,
    /// The requestor's IdP client id.
    pub(crate) client_id: String,
    /// The resource AS issuer (default: the lab's).
    #[serde(default)]
    pub(crate) authorization_server: Option<String>,
    /// The resource (default: the AS's first, the todo API).
    #[serde(default)]
    pub(crate) resource: Option<String>,
    /// The scopes allowed from now on.
    pub(crate) scopes: Vec<String>,
    /// Users assigned to the connection (empty: everyone).
    #[serde(default)]
    pub(crate) users: Option<Vec<String>>,
    /// The requestor's client id at the AS (default: the one it already has).
    #[serde(default)]
    pub(crate) resource_client_id: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Admin {
    /// Grants a connection in a tenant, or changes the scopes and users of an existing one.
    pub(crate) async fn grant(&self, change: ConnectionChange) -> Result<Connection, AdminError> {
        let tenant = self.tenant(change.tenant.as_deref())?.id;
        let client_id = change.client_id.trim();
        if self.idp.client(client_id).is_none() {
            return Err(AdminError::new(format!("no client \"{client_id}\" is registered at the IdP")));
        }
        let issuer = given(&change.authorization_server).unwrap_or(&self.urls.authorization_server);
        let server = self
            .authorization_servers
            .iter()
            .find(|s| s.issuer == issuer)
            .ok_or_else(|| AdminError::new(format!("\"{issuer}\" is not an authorization server the IdP knows")))?;
        let resource = match given(&change.resource) {
            Some(r) => server
                .resources
                .iter()
                .find(|x| x.resource == r)
                .ok_or_else(|| AdminError::new(format!("\"{r}\" is not a resource of {issuer}")))?,
            None => server.resources.first().ok_or_else(|| AdminError::new(format!("{issuer} has no resource")))?,
        };
        let scopes: Vec<String> = change.scopes.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if scopes.is_empty() {
            return Err(AdminError::new("choose at least one scope (to take every scope away, revoke the connection)"));
        }
        if let Some(bad) = scopes.iter().find(|s| !resource.scopes.contains(s)) {
            return Err(AdminError::new(format!(
                "scope \"{bad}\" is not defined by {} (its scopes: {})",
                resource.resource,
                resource.scopes.join(" ")
            )));
        }
        let users = change
            .users
            .clone()
            .map(|u| u.into_iter().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()).collect::<Vec<_>>());
        let lab_as = issuer == self.urls.authorization_server;
        let connection = self
            .idp
            .update_connections(|policy| {
                let existing = policy.iter().position(|c| {
                    c.tenant == tenant
                        && c.client_id == client_id
                        && c.authorization_server == issuer
                        && c.resource == resource.resource
                });
                let known = policy.iter().find(|c| c.client_id == client_id).map(|c| c.resource_client_id.clone());
                // Registration names the AS client `<id>-at-todo0`: found again after a revoke.
                let registered_pair = Some(ResourceClientId::new(format!("{client_id}-at-todo0")))
                    .filter(|id| self.resource_as.client(id).is_some());
                let resource_client_id = match (given(&change.resource_client_id), known.or(registered_pair)) {
                    (Some(id), _) => ResourceClientId::new(id),
                    (None, Some(id)) => id,
                    (None, None) => {
                        return Err(AdminError::new(format!(
                            "say which client id \"{client_id}\" has at {issuer} (resource_client_id): the IdP puts it in the ID-JAG"
                        )));
                    }
                };
                if lab_as && self.resource_as.client(&resource_client_id).is_none() {
                    return Err(AdminError::new(format!(
                        "the authorization server {issuer} has no client \"{resource_client_id}\": register it there first"
                    )));
                }
                let connection = Connection {
                    client_id: ClientId::new(client_id),
                    authorization_server: server.issuer.clone(),
                    resource: resource.resource.clone(),
                    scopes,
                    resource_client_id,
                    users: users.or_else(|| existing.map(|i| policy[i].users.clone())).unwrap_or_default(),
                    tenant: tenant.clone(),
                };
                match existing {
                    Some(i) => policy[i] = connection.clone(),
                    None => policy.push(connection.clone()),
                }
                Ok(connection)
            })
            .await?;
        tracing::info!(
            tenant = %connection.tenant, client.id = %connection.client_id, scopes = %connection.scopes.join(" "),
            "connection granted"
        );
        Ok(connection)
    }

    /// Revokes a requestor's connection to `resource` in `tenant` (every connection of it there
    /// when `None`).
    pub(crate) async fn revoke(
        &self,
        tenant: &str,
        client_id: &str,
        resource: Option<&str>,
    ) -> Result<usize, AdminError> {
        let removed = self
            .idp
            .update_connections(|policy| {
                let before = policy.len();
                policy.retain(|c| {
                    !(c.tenant == tenant
                        && c.client_id == client_id
                        && resource.is_none_or(|r| r.is_empty() || c.resource == r))
                });
                match before - policy.len() {
                    0 => Err(AdminError::new(format!("client \"{client_id}\" has no such connection"))),
                    n => Ok(n),
                }
            })
            .await?;
        tracing::info!(tenant, client.id = %client_id, removed, "connection revoked");
        Ok(removed)
    }
}
