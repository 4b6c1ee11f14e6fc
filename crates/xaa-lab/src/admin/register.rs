//! Registering a requestor, as xaa.dev's "Developer > Register Client" does: one IdP client, one
//! resource-AS client and IT's connection between them, with the `.env` the tutorial's app reads.

use serde::{Deserialize, Serialize};
use xaa_core::ids::{ClientId, Issuer, ResourceClientId, ResourceUri};
use xaa_core::oauth::{MAX_CLIENT_NAME_CHARS, MAX_LIST_MEMBERS, check_redirect_uris};
use xaa_core::secret::Secret;
use xaa_idp::{Connection, IdpClient, Registration};
use xaa_resource_as::AsClient;

use super::{Admin, AdminError};
use crate::env_file::EnvFile;
use crate::fixtures::{ClientRole, IdpClientFixture, Requestor};

/// What to register.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct RegisterRequest {
    /// Application name.
    pub(crate) name: String,
    /// Exact redirect URIs.
    pub(crate) redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    #[serde(default)]
    pub(crate) post_logout_redirect_uris: Vec<String>,
    /// The resource to connect (default: the todo API).
    #[serde(default)]
    pub(crate) resource: Option<String>,
    /// Scopes of the connection (default: every scope of the resource).
    #[serde(default)]
    pub(crate) scopes: Option<Vec<String>>,
    /// The tenant whose IT grants the connection (default: the default tenant).
    #[serde(default)]
    pub(crate) tenant: Option<String>,
}

/// What the console and the admin API show for a registered client's IdP secret after its
/// registration: the IdP keeps only the secret's SHA-256 (`xaa_core::secret::ClientSecret`).
pub(crate) const SHOWN_ONCE: &str = "shown once at registration; delete the app and register it again to get a new one";

/// A registered requestor: both credential pairs, the connection and the `.env`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Registered {
    pub(crate) name: String,
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: String,
    pub(crate) resource_client_id: ResourceClientId,
    pub(crate) resource_client_secret: String,
    pub(crate) authorization_server: Issuer,
    pub(crate) resource: ResourceUri,
    pub(crate) scopes: Vec<String>,
    /// The tenant of the connection shown (the default tenant's when it has one there).
    pub(crate) tenant: String,
    pub(crate) env: EnvFile,
}

impl Registered {
    /// The `.env` as text.
    pub(crate) fn dotenv(&self) -> String {
        self.env.to_dotenv()
    }

    /// As the admin API answers it: every field, plus the `.env` as text (`dotenv`).
    pub(crate) fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["dotenv"] = self.dotenv().into();
        v
    }
}

/// A readable id part from an application name: lower-case letters, digits and `-`, at most 24.
pub(super) fn slug(name: &str) -> String {
    let s: String =
        name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect::<String>();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    let s: String = s.chars().take(24).collect();
    if s.is_empty() { "app".into() } else { s }
}

impl Admin {
    /// Registers a requestor; nothing is kept when any part is refused. The name, redirect URIs and
    /// scopes obey RFC 7591 registration's size limits (`xaa_core::oauth::MAX_LIST_MEMBERS`, …).
    pub(crate) async fn register(&self, req: RegisterRequest) -> Result<Registered, AdminError> {
        let name = req.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_CLIENT_NAME_CHARS {
            return Err(AdminError::new(format!(
                "the application name must have 1 to {MAX_CLIENT_NAME_CHARS} characters"
            )));
        }
        let clean = |v: Vec<String>| -> Vec<String> {
            v.into_iter().map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()).collect()
        };
        let redirect_uris = clean(req.redirect_uris);
        let post_logout = clean(req.post_logout_redirect_uris);
        if redirect_uris.is_empty() {
            return Err(AdminError::redirect_uri("at least one redirect URI is required (matched exactly at sign-in)"));
        }
        check_redirect_uris("redirect_uris", &redirect_uris)
            .and_then(|()| check_redirect_uris("post_logout_redirect_uris", &post_logout))
            .map_err(|e| AdminError::redirect_uri(e.error_description))?;
        let tenant = self.tenant(req.tenant.as_deref())?.id;
        let server = self
            .lab_authorization_server()
            .ok_or_else(|| AdminError::new("the lab has no resource authorization server in its policy"))?;
        let resource = match &req.resource {
            Some(r) if !r.trim().is_empty() => server
                .resources
                .iter()
                .find(|x| x.resource == r.trim())
                .ok_or_else(|| AdminError::new(format!("\"{r}\" is not a resource of {}", server.issuer)))?,
            _ => server.resources.first().ok_or_else(|| AdminError::new("the authorization server has no resource"))?,
        };
        let scopes = match req.scopes {
            Some(s) if s.len() > MAX_LIST_MEMBERS => {
                return Err(AdminError::new(format!(
                    "scopes has {} members; this server accepts at most {MAX_LIST_MEMBERS}",
                    s.len()
                )));
            }
            Some(s) if !s.is_empty() => {
                if let Some(bad) = s.iter().find(|x| !resource.scopes.contains(x)) {
                    return Err(AdminError::new(format!(
                        "scope \"{bad}\" is not defined by {} (its scopes: {})",
                        resource.resource,
                        resource.scopes.join(" ")
                    )));
                }
                s
            }
            Some(_) => return Err(AdminError::new("choose at least one scope")),
            None => resource.scopes.clone(),
        };

        let client_id = ClientId::new(format!("{}-{}", slug(&name), self.readable_suffix(4)));
        let resource_client_id = ResourceClientId::new(format!("{client_id}-at-todo0"));
        // The IdP keeps only its hash: this answer is the one place the secret is shown.
        let secret = Secret::new(self.entropy.token(24));
        let idp_client = IdpClient {
            client_id: client_id.clone(),
            client_secret: secret.clone().into(),
            name,
            redirect_uris,
            post_logout_redirect_uris: post_logout,
            grant_types: Vec::new(),
            registration: Registration::It,
        };
        self.idp.register_client(idp_client).await?;
        let as_client = AsClient {
            client_id: resource_client_id.clone(),
            client_secret: Secret::new(self.entropy.token(24)),
            grant_types: Vec::new(),
        };
        match self.resource_as.register_client(as_client).await {
            Ok(true) => {}
            Ok(false) => {
                let exists = AdminError::new(format!("client \"{resource_client_id}\" exists at the AS"));
                return Err(self.undo(client_id.as_str(), exists).await);
            }
            Err(e) => return Err(self.undo(client_id.as_str(), e.into()).await),
        }
        let connection = Connection {
            client_id: client_id.clone(),
            authorization_server: server.issuer.clone(),
            resource: resource.resource.clone(),
            scopes,
            resource_client_id: resource_client_id.clone(),
            users: Vec::new(),
            tenant,
        };
        let added = self
            .idp
            .update_connections(|policy| {
                policy.push(connection);
                Ok::<_, AdminError>(())
            })
            .await;
        if let Err(e) = added {
            let _ = self.resource_as.delete_client(resource_client_id.as_str()).await;
            return Err(self.undo(client_id.as_str(), e).await);
        }
        tracing::info!(client.id = %client_id, resource.client_id = %resource_client_id, "requestor registered");
        self.registered_showing(client_id.as_str(), Some(&secret))
            .ok_or_else(|| AdminError::new("the registration could not be read back"))
    }

    /// Removes a half-made registration's IdP client and returns the error.
    pub(super) async fn undo(&self, client_id: &str, error: AdminError) -> AdminError {
        let _ = self.idp.delete_client(client_id).await;
        error
    }

    /// A registered (or fixture) requestor's credentials and `.env`, from the live registries. A
    /// registered client's IdP secret is known only as its hash: [`SHOWN_ONCE`] stands for it.
    pub(crate) fn registered(&self, client_id: &str) -> Option<Registered> {
        self.registered_showing(client_id, None)
    }

    /// [`Self::registered`], showing `secret` (just made) as the IdP client secret.
    fn registered_showing(&self, client_id: &str, secret: Option<&Secret>) -> Option<Registered> {
        let idp = self.idp.client(client_id)?;
        let shown = secret.or(idp.client_secret.plain()).cloned().unwrap_or_else(|| Secret::new(SHOWN_ONCE));
        let default_tenant = &self.idp.tenants().default_tenant().id;
        let mut connections: Vec<_> = self.idp.connections().into_iter().filter(|c| c.client_id == client_id).collect();
        connections.sort_by_key(|c| c.tenant != *default_tenant);
        let connection = connections.into_iter().next();
        // Its AS client: the one its connection names, else the one registration made for it;
        // none (empty) for an IdP client IT has not connected yet.
        let resource_client_id = connection
            .as_ref()
            .map(|c| c.resource_client_id.clone())
            .or_else(|| {
                Some(ResourceClientId::new(format!("{client_id}-at-todo0")))
                    .filter(|id| self.resource_as.client(id).is_some())
            })
            .unwrap_or_default();
        let at_as = self.resource_as.client(&resource_client_id);
        let requestor = Requestor {
            role: ClientRole::Other,
            name: idp.name.clone(),
            idp: IdpClientFixture {
                client_id: idp.client_id.clone(),
                client_secret: shown.clone(),
                redirect_uris: idp.redirect_uris.clone(),
                post_logout_redirect_uris: idp.post_logout_redirect_uris.clone(),
            },
            resource_as: at_as.clone().unwrap_or(AsClient {
                client_id: resource_client_id.clone(),
                client_secret: Secret::new(""),
                grant_types: Vec::new(),
            }),
        };
        Some(Registered {
            name: idp.name.clone(),
            client_id: idp.client_id.clone(),
            client_secret: shown.expose().to_owned(),
            resource_client_id,
            resource_client_secret: at_as.map(|c| c.client_secret.expose().to_owned()).unwrap_or_default(),
            authorization_server: connection.as_ref().map(|c| c.authorization_server.clone()).unwrap_or_default(),
            resource: connection.as_ref().map(|c| c.resource.clone()).unwrap_or_default(),
            tenant: connection.as_ref().map(|c| c.tenant.clone()).unwrap_or_default(),
            scopes: connection.map(|c| c.scopes).unwrap_or_default(),
            env: EnvFile::new(&self.urls, &requestor),
        })
    }

    /// Deletes a registered requestor: its IdP client and its connections, and the AS client
    /// that registration made for it (`<id>-at-todo0`) unless another connection still names it.
    /// An AS client registered on its own (RFC 7591) stays; deleting it by its own id (it is no
    /// IdP client) frees its open-registration slot at the AS.
    pub(crate) async fn unregister(&self, client_id: &str) -> Result<(), AdminError> {
        self.refuse_resource_app_client(client_id)?;
        if self.idp.client(client_id).is_none() && self.resource_as.client(client_id).is_some() {
            return self.unregister_at_resource_as(client_id).await;
        }
        let made_for_it = format!("{client_id}-at-todo0");
        self.idp.delete_client(client_id).await?;
        let still_named = self.idp.connections().iter().any(|c| c.resource_client_id == made_for_it);
        if !still_named {
            self.resource_as.delete_client(&made_for_it).await?;
        }
        tracing::warn!(client.id = %client_id, "requestor deleted");
        Ok(())
    }

    /// Deletes a client registered only at the resource AS, unless a connection still names it.
    async fn unregister_at_resource_as(&self, client_id: &str) -> Result<(), AdminError> {
        if let Some(c) = self.idp.connections().iter().find(|c| c.resource_client_id == client_id) {
            return Err(AdminError::new(format!(
                "\"{client_id}\" is the resource AS client of \"{}\"'s connection: revoke that connection first",
                c.client_id
            )));
        }
        if !self.resource_as.delete_client(client_id).await? {
            return Err(AdminError::new(format!(
                "client \"{client_id}\" comes from the fixtures and cannot be deleted"
            )));
        }
        tracing::warn!(resource.client_id = %client_id, "resource AS client deleted");
        Ok(())
    }
}
