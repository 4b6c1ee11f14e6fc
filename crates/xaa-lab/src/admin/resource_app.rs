//! Bring your own resource, as xaa.dev's "Test your resource app": a developer registers their own
//! resource server (REST or MCP), governed by the lab's authorization server or by their own, and
//! the lab makes a test requestor for it: an IdP client whose sign-in comes back to the console's
//! explorer, IT's connection from it to the resource, and (lab AS mode) its client at the lab AS.
//!
//! - Lab AS mode: the lab AS governs the resource from now on, so its access tokens carry
//!   `aud` = the resource URL exactly as entered (a trailing slash kept or absent as typed).
//! - Own AS mode: the IdP issues ID-JAGs with `aud` = the developer's issuer and `client_id` = the
//!   client id their authorization server expects, to be validated against the lab IdP's JWKS.

use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use xaa_core::ids::{ClientId, Issuer, ResourceClientId, ResourceUri};
use xaa_core::oauth::MAX_CLIENT_NAME_CHARS;
use xaa_core::secret::Secret;
use xaa_idp::{Connection, IdpClient, Registration, Resource};
use xaa_resource_as::{AsClient, ProtectedResource};

use super::resource_app_request::{NewResourceApp, check};
use super::resource_app_store::ResourceAppStore;
use super::{Admin, AdminError};

/// A registered resource app, with its test requestor's credentials.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ResourceApp {
    /// Its id in the console's URLs (lower-case letters, digits and `-`).
    pub(crate) id: String,
    pub(crate) name: String,
    /// The resource identifier: the base URL exactly as entered.
    pub(crate) base_url: String,
    pub(crate) health_path: String,
    /// What the health check found when it was registered.
    pub(crate) health: String,
    /// Whether the developer's own authorization server governs it (else the lab's).
    pub(crate) own_as: bool,
    /// The authorization server's issuer (the token exchange `audience`, the ID-JAG `aud`).
    pub(crate) issuer: String,
    /// Where step 3 (jwt-bearer) goes.
    pub(crate) token_endpoint: String,
    /// How the token endpoint was found.
    pub(crate) token_endpoint_source: String,
    /// The authorization server's JWKS, when its metadata names one.
    pub(crate) jwks_uri: String,
    /// The test requestor's client id at the authorization server (the ID-JAG `client_id`).
    pub(crate) as_client_id: String,
    /// Its secret there (empty when the developer's AS takes none).
    pub(crate) as_client_secret: String,
    pub(crate) scopes: Vec<String>,
    /// Calls step 4 offers, `METHOD /path`.
    pub(crate) endpoints: Vec<String>,
    /// The MCP server URL, when it is one.
    pub(crate) mcp_url: String,
    /// The MCP resource URIs it exposes.
    pub(crate) mcp_resources: Vec<String>,
    /// The test requestor at the IdP.
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) redirect_uri: String,
    pub(crate) created_at: i64,
}

impl ResourceApp {
    /// The URL of `METHOD /path` at this resource (no double slash between base and path).
    pub(crate) fn url_of(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }
}

/// The registered resource apps: kept in `resource_apps.sqlite`, read once at start-up.
#[derive(Debug)]
pub(crate) struct ResourceApps {
    store: ResourceAppStore,
    apps: RwLock<Vec<ResourceApp>>,
    /// One registration or deletion at a time (the duplicate checks stay true until stored).
    writer: tokio::sync::Mutex<()>,
}

impl ResourceApps {
    /// The apps in `store`; those governed by the lab's AS get its URLs of this run (`lab_issuer`:
    /// a test lab runs on other ports each time, as the IdP's stored connections follow it too).
    pub(crate) fn open(store: ResourceAppStore, lab_issuer: &str) -> Result<Self, xaa_core::sqlite::DbError> {
        let mut apps = store.load()?;
        for app in apps.iter_mut().filter(|a| !a.own_as) {
            app.issuer = lab_issuer.to_owned();
            app.token_endpoint = format!("{lab_issuer}/token");
            app.jwks_uri = format!("{lab_issuer}/jwks");
        }
        Ok(Self { store, apps: RwLock::new(apps), writer: tokio::sync::Mutex::new(()) })
    }

    /// Every registered app, oldest first.
    pub(crate) fn list(&self) -> Vec<ResourceApp> {
        self.apps.read().map(|a| a.clone()).unwrap_or_default()
    }

    /// The app with this id.
    pub(crate) fn get(&self, id: &str) -> Option<ResourceApp> {
        self.apps.read().ok()?.iter().find(|a| a.id == id).cloned()
    }
}

impl Admin {
    /// Governs every stored resource app again (at start-up: the IdP's and the AS's lists of
    /// governed resources live in memory; clients and connections are stored by them).
    pub(crate) fn govern_resource_apps(&self) {
        for app in self.resource_apps.list() {
            self.govern(&app);
        }
    }

    fn govern(&self, app: &ResourceApp) {
        let resource = ResourceUri::new(app.base_url.as_str());
        let governed = Resource { resource: resource.clone(), scopes: app.scopes.clone() };
        self.idp.govern(&Issuer::new(app.issuer.as_str()), &app.name, governed);
        if !app.own_as {
            let mcp = !app.mcp_url.is_empty();
            self.resource_as.govern(ProtectedResource { resource, scopes: app.scopes.clone(), mcp });
        }
    }

    fn ungovern(&self, app: &ResourceApp) {
        self.idp.ungovern(&app.issuer, &app.base_url);
        if !app.own_as {
            self.resource_as.ungovern(&app.base_url);
        }
    }

    /// Registers a resource app and its test requestor; nothing is kept when any part is refused.
    pub(crate) async fn register_resource_app(&self, req: NewResourceApp) -> Result<ResourceApp, AdminError> {
        let req = check(req)?;
        let _writer = self.resource_apps.writer.lock().await;
        let known = self.resource_apps.list();
        if let Some(same) = known.iter().find(|a| a.name.eq_ignore_ascii_case(&req.name)) {
            return Err(AdminError::new(format!(
                "a resource app named \"{}\" is registered already: choose another name, or delete it first",
                same.name
            )));
        }
        let lab_issuer = self.urls.authorization_server.clone();
        if req.own_as.as_ref().is_some_and(|o| o.issuer == lab_issuer) {
            return Err(AdminError::new(format!(
                "{lab_issuer} is the lab's own authorization server: choose \"the lab's authorization server\" instead"
            )));
        }
        let issuer = req.own_as.as_ref().map(|o| o.issuer.clone()).unwrap_or_else(|| lab_issuer.clone());
        let governed = self.idp.authorization_servers();
        let taken = governed.iter().filter(|s| s.issuer == issuer).flat_map(|s| &s.resources);
        if taken.into_iter().any(|r| r.resource == req.base_url) {
            return Err(AdminError::new(format!(
                "the resource \"{}\" is governed by {issuer} already: give your resource another URL, or delete the app that registered it",
                req.base_url
            )));
        }

        let slug: String = super::register::slug(&req.name).chars().take(20).collect();
        let id = format!("{slug}-{}", self.readable_suffix(4));
        let client_id = format!("{id}-tester");
        let redirect_uri = format!("{}/explorer/resources/{id}/callback", self.urls.console);
        let (as_client_id, as_client_secret) = match &req.own_as {
            Some(o) => (o.target_client_id.clone(), o.client_secret.clone()),
            None => (format!("{client_id}-at-{slug}"), self.entropy.token(24)),
        };
        let app = ResourceApp {
            id: id.clone(),
            name: req.name.clone(),
            base_url: req.base_url.clone(),
            health_path: req.health_path.clone(),
            health: req.health.clone(),
            own_as: req.own_as.is_some(),
            issuer: issuer.clone(),
            token_endpoint: req
                .own_as
                .as_ref()
                .map(|o| o.token_endpoint.clone())
                .unwrap_or_else(|| format!("{lab_issuer}/token")),
            token_endpoint_source: req
                .own_as
                .as_ref()
                .map(|o| o.token_endpoint_source.clone())
                .unwrap_or_else(|| "the lab's authorization server".into()),
            jwks_uri: req.own_as.as_ref().map(|o| o.jwks_uri.clone()).unwrap_or_else(|| format!("{lab_issuer}/jwks")),
            as_client_id: as_client_id.clone(),
            as_client_secret: as_client_secret.clone(),
            scopes: req.scopes.clone(),
            endpoints: req.endpoints.clone(),
            mcp_url: req.mcp_url.clone(),
            mcp_resources: req.mcp_resources.clone(),
            client_id: client_id.clone(),
            client_secret: self.entropy.token(24),
            redirect_uri: redirect_uri.clone(),
            created_at: self.clock.now(),
        };
        let idp_client = IdpClient {
            client_id: ClientId::new(client_id.as_str()),
            client_secret: Secret::new(app.client_secret.clone()).into(),
            name: format!("{} tester", app.name).chars().take(MAX_CLIENT_NAME_CHARS).collect(),
            redirect_uris: vec![redirect_uri],
            post_logout_redirect_uris: Vec::new(),
            grant_types: Vec::new(),
            registration: Registration::It,
        };
        self.idp.register_client(idp_client).await?;
        if !app.own_as {
            let as_client = AsClient {
                client_id: ResourceClientId::new(as_client_id.as_str()),
                client_secret: Secret::new(as_client_secret),
                grant_types: Vec::new(),
            };
            match self.resource_as.register_client(as_client).await {
                Ok(true) => {}
                Ok(false) => {
                    let exists = AdminError::new(format!("client \"{as_client_id}\" exists at the AS"));
                    return Err(self.undo(&client_id, exists).await);
                }
                Err(e) => return Err(self.undo(&client_id, e.into()).await),
            }
        }
        // One connection in every tenant: whoever the developer signs in as, the test runs.
        let connections: Vec<Connection> = self
            .idp
            .tenants()
            .all()
            .iter()
            .map(|tenant| Connection {
                tenant: tenant.id.clone(),
                client_id: ClientId::new(client_id.as_str()),
                authorization_server: Issuer::new(issuer.as_str()),
                resource: ResourceUri::new(app.base_url.as_str()),
                scopes: app.scopes.clone(),
                resource_client_id: ResourceClientId::new(as_client_id.as_str()),
                users: Vec::new(),
            })
            .collect();
        let added = self
            .idp
            .update_connections(|policy| {
                policy.extend(connections);
                Ok::<_, AdminError>(())
            })
            .await;
        let stored = match added {
            Ok(()) => self.resource_apps.store.insert(app.clone()).await.map_err(AdminError::from),
            Err(e) => Err(e),
        };
        match stored {
            Ok(true) => {}
            Ok(false) => {
                return Err(self.undo_app(&app, AdminError::new("the app's id or name was taken meanwhile")).await);
            }
            Err(e) => return Err(self.undo_app(&app, e).await),
        }
        self.govern(&app);
        if let Ok(mut apps) = self.resource_apps.apps.write() {
            apps.push(app.clone());
        }
        tracing::info!(resource_app.id = %id, resource = %app.base_url, aud = %app.issuer, client.id = %client_id, "resource app registered");
        Ok(app)
    }

    /// Removes a half-made app's clients (and with the IdP client, its connection).
    async fn undo_app(&self, app: &ResourceApp, error: AdminError) -> AdminError {
        if !app.own_as {
            let _ = self.resource_as.delete_client(&app.as_client_id).await;
        }
        let _ = self.idp.delete_client(&app.client_id).await;
        error
    }

    /// Deletes a resource app: its test requestor at the IdP (with its connection), its client at
    /// the lab AS, and the lab's governance of its resource (with its ID-JAG re-use policy).
    pub(crate) async fn delete_resource_app(&self, id: &str) -> Result<ResourceApp, AdminError> {
        let _writer = self.resource_apps.writer.lock().await;
        let app = self.resource_apps.get(id).ok_or_else(|| AdminError::new(format!("no resource app \"{id}\"")))?;
        // First: a failure leaves the app registered, single use at worst (the safe direction).
        if !app.own_as {
            self.resource_as.forget_reuse_policy(&app.base_url).await?;
        }
        self.resource_apps.store.delete(app.id.clone()).await?;
        if let Ok(mut apps) = self.resource_apps.apps.write() {
            apps.retain(|a| a.id != app.id);
        }
        self.ungovern(&app);
        // Already gone when IT deleted the client on the admin pages, or a reset did.
        let _ = self.idp.delete_client(&app.client_id).await;
        if !app.own_as {
            let _ = self.resource_as.delete_client(&app.as_client_id).await;
        }
        tracing::warn!(resource_app.id = %app.id, "resource app deleted");
        Ok(app)
    }

    /// Deletes every resource app (the reset without keeping registrations); returns their ids.
    pub(crate) async fn delete_resource_apps(&self) -> Result<Vec<String>, AdminError> {
        let mut gone = Vec::new();
        for app in self.resource_apps.list() {
            gone.push(self.delete_resource_app(&app.id).await?.id);
        }
        Ok(gone)
    }
}

impl Admin {
    /// A registration with the classroom's join code (as `/join` registers requestors): counted
    /// against the same cap and rate; a refused registration gives its place back.
    pub(crate) async fn register_resource_app_with_code(
        &self,
        code: &str,
        req: NewResourceApp,
    ) -> Result<ResourceApp, super::JoinRefused> {
        let now = self.clock.now();
        self.join.reserve(code, now)?;
        self.register_resource_app(req).await.map_err(|e| {
            self.join.release(now);
            super::JoinRefused::Invalid(e.to_string())
        })
    }

    /// Refuses to delete a resource app's test client on its own (the app would be left without
    /// it): the app is deleted as a whole, at `/resources/{id}`.
    pub(crate) fn refuse_resource_app_client(&self, client_id: &str) -> Result<(), AdminError> {
        let apps = self.resource_apps.list();
        match apps.iter().find(|a| a.client_id == client_id || (!a.own_as && a.as_client_id == client_id)) {
            Some(app) => Err(AdminError::new(format!(
                "\"{client_id}\" is the test client of the resource app \"{}\": delete the app at /resources/{}",
                app.name, app.id
            ))),
            None => Ok(()),
        }
    }

    /// Whether `code` is the classroom's join code (the right to change resource apps).
    pub(crate) fn join_code_matches(&self, code: &str) -> bool {
        Secret::new(self.join.code()).matches(code.trim())
    }
}
