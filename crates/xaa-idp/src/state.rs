//! The IdP's shared state: configuration, keys, the client registry and the connection policy
//! (both changeable while it runs), storage, clock, entropy and the break-it switches.

use std::sync::{Arc, RwLock};

use xaa_core::clock::SharedClock;
use xaa_core::ids::{ClientId, Issuer};
use xaa_core::jose::{KeySet, SigningKey};
use xaa_core::secret::{ClientSecret, SharedEntropy};
use xaa_core::sqlite::DbError;
use xaa_faults::SharedFaults;

use crate::audit::{AuditEntry, AuditFilter};
use crate::config::{Connection, IdpClient, IdpConfig, Registration, User};
use crate::keys::{IdpKeys, PublishedKey, Rotation};
use crate::store::Store;
use crate::tenant::{Tenant, Tenants};

/// State shared by every IdP handler.
#[derive(Debug)]
pub struct IdpState {
    pub(crate) config: IdpConfig,
    pub(crate) keys: IdpKeys,
    pub(crate) store: Store,
    pub(crate) clock: SharedClock,
    pub(crate) entropy: SharedEntropy,
    pub(crate) faults: SharedFaults,
    pub(crate) clients: RwLock<Vec<IdpClient>>,
    pub(crate) connections: RwLock<Vec<Connection>>,
    /// Serialises changes of the policy (read, change, store, publish), so none is lost.
    pub(crate) policy_writer: tokio::sync::Mutex<()>,
    /// Authorization servers and resources registered at run time (see [`IdpState::govern`]).
    pub(crate) registered_servers: RwLock<Vec<crate::config::AuthorizationServer>>,
    /// The SAML signing key and certificate (see `saml`).
    pub(crate) saml_key: crate::saml::SamlKeySlot,
    /// The HMAC key of the login transaction cookies (see `login_transaction`), made at start.
    pub(crate) login_key: Vec<u8>,
}

/// Why a registry change was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A client with this id exists.
    #[error("a client with id \"{0}\" already exists")]
    Exists(String),
    /// No such client.
    #[error("no client with id \"{0}\"")]
    Unknown(String),
    /// Fixture clients are part of the lab's configuration.
    #[error("client \"{0}\" comes from the fixtures and cannot be deleted")]
    Fixture(String),
    /// Open registration holds its maximum of clients.
    #[error("open registration is full ({0} clients)")]
    Full(usize),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] DbError),
}

impl IdpState {
    /// Builds the IdP with its signing key, storing its state in `db_path` (in memory when `None`);
    /// codes, ids and `jti`s come from `entropy`. Clients registered earlier and the connection
    /// policy as IT last set it are read back from the database.
    pub fn new(
        config: IdpConfig,
        signing_key: SigningKey,
        db_path: Option<&std::path::Path>,
        clock: SharedClock,
        entropy: SharedEntropy,
        faults: SharedFaults,
    ) -> Result<Arc<Self>, DbError> {
        let store = Store::open(db_path)?;
        store.purge_audit_now(config.audit_retention, clock.now())?;
        let fixture_ids: Vec<ClientId> = config.clients.iter().map(|c| c.client_id.clone()).collect();
        let mut clients = config.clients.clone();
        clients.extend(store.registered_clients()?.into_iter().filter(|c| !fixture_ids.contains(&c.client_id)));
        let connections = store.load_connections(
            &config.connections,
            &fixture_ids,
            &config.authorization_servers,
            &config.tenants.default_tenant().id,
        )?;
        Ok(Arc::new(Self {
            store,
            keys: IdpKeys::new(signing_key),
            config,
            clock,
            entropy: entropy.clone(),
            faults,
            clients: RwLock::new(clients),
            connections: RwLock::new(connections),
            policy_writer: tokio::sync::Mutex::new(()),
            registered_servers: RwLock::default(),
            saml_key: Default::default(),
            login_key: entropy.token(32).into_bytes(),
        }))
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &Issuer {
        &self.config.issuer
    }

    /// The public keys that verify this IdP's tokens now (the signing key and retired keys whose
    /// tokens may still be live).
    pub fn public_keys(&self) -> Arc<KeySet> {
        self.keys.published(self.clock.now())
    }

    /// The key signing this IdP's tokens now: the lab's conformance checks (`lab check as`) sign
    /// their ID-JAGs with it. Security: lab keys only.
    pub fn signing_key(&self) -> Arc<SigningKey> {
        self.keys.signing()
    }

    /// The published keys and their status.
    pub fn published_keys(&self) -> Vec<PublishedKey> {
        self.keys.describe(self.clock.now())
    }

    /// Rotates the signing key: `key` signs from now on; the previous key stays in the JWKS until
    /// every token it signed has expired (the longest ID token or ID-JAG lifetime, plus leeway).
    pub fn rotate_key(&self, key: SigningKey) -> Rotation {
        let now = self.clock.now();
        let l = &self.config.lifetimes;
        let retire_at = now + l.id_token.max(l.id_jag) + xaa_core::JWT_LEEWAY;
        let r = self.keys.rotate(key, now, retire_at);
        tracing::info!(kid = %r.kid, previous = %r.previous_kid, until = r.previous_published_until, "IdP signing key rotated");
        r
    }

    /// Every client: the fixtures' and those registered since.
    pub fn clients(&self) -> Vec<IdpClient> {
        self.clients.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// The IdP's tenants.
    pub fn tenants(&self) -> &Tenants {
        &self.config.tenants
    }

    /// The tenant of the user who signs in with `email` (named users: their fixture's tenant).
    pub fn tenant_of(&self, email: &str) -> &Tenant {
        self.user(email).tenant(&self.config.tenants)
    }

    /// The user who signed in with `email`: a fixture user, or one made up for any other address.
    pub(crate) fn user(&self, email: &str) -> User {
        User::for_email(&self.config.users, email)
    }

    /// The client with this id: a [`ClientId`], or its text as presented (never a client's id at
    /// a resource AS).
    pub fn client<Id: ?Sized>(&self, client_id: &Id) -> Option<IdpClient>
    where
        ClientId: PartialEq<Id>,
    {
        self.clients.read().ok()?.iter().find(|c| c.client_id == *client_id).cloned()
    }

    /// The requestor (IdP client id) that `client_id` belongs to: itself when it is an IdP client,
    /// else the IdP client whose connection names it as its client at a resource AS.
    pub fn requestor_of(&self, client_id: &str) -> Option<ClientId> {
        if self.clients.read().ok()?.iter().any(|c| c.client_id == client_id) {
            return Some(ClientId::new(client_id));
        }
        let connections = self.connections.read().ok()?;
        connections.iter().find(|c| c.resource_client_id == client_id).map(|c| c.client_id.clone())
    }

    /// Whether the client comes from the fixtures (rather than a registration).
    pub fn is_fixture_client<Id: ?Sized>(&self, client_id: &Id) -> bool
    where
        ClientId: PartialEq<Id>,
    {
        self.config.client(client_id).is_some()
    }

    /// Registers a client for IT (kept in the database; no cap).
    pub async fn register_client(&self, client: IdpClient) -> Result<(), RegistryError> {
        self.insert_client(client, None).await
    }

    /// Registers a client through open RFC 7591 registration: refused with
    /// [`RegistryError::Full`] while [`IdpConfig::max_open_registrations`] such clients exist.
    pub(crate) async fn register_open_client(&self, client: IdpClient) -> Result<(), RegistryError> {
        self.insert_client(client, Some(self.config.max_open_registrations)).await
    }

    async fn insert_client(&self, client: IdpClient, open_cap: Option<usize>) -> Result<(), RegistryError> {
        // How it is registered decides whether its users are asked for consent (stored as such).
        // Only the secret's hash is kept, here as in the database: it was shown at registration.
        let client = IdpClient {
            registration: Registration::stored(open_cap.is_some()),
            client_secret: ClientSecret::Sha256(client.client_secret.sha256()),
            ..client
        };
        if self.client(&client.client_id).is_some() {
            return Err(RegistryError::Exists(client.client_id.into_string()));
        }
        if !self.store.insert_client(client.clone(), self.clock.now(), open_cap).await? {
            return Err(RegistryError::Full(self.config.max_open_registrations));
        }
        if let Ok(mut c) = self.clients.write() {
            c.push(client);
        }
        Ok(())
    }

    /// Deletes a registered client and its connections.
    pub async fn delete_client(&self, client_id: &str) -> Result<(), RegistryError> {
        if self.is_fixture_client(client_id) {
            return Err(RegistryError::Fixture(client_id.to_owned()));
        }
        let _policy = self.policy_writer.lock().await;
        if !self.store.delete_client(client_id.to_owned()).await? {
            return Err(RegistryError::Unknown(client_id.to_owned()));
        }
        if let Ok(mut c) = self.clients.write() {
            c.retain(|c| c.client_id != client_id);
        }
        if let Ok(mut c) = self.connections.write() {
            c.retain(|c| c.client_id != client_id);
        }
        Ok(())
    }

    /// The current connection policy.
    pub fn connections(&self) -> Vec<Connection> {
        self.connections.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// Replaces the connection policy (kept in the database); the next token exchange uses it.
    pub async fn set_connections(&self, connections: Vec<Connection>) -> Result<(), DbError> {
        self.update_connections(|c| {
            *c = connections;
            Ok::<_, DbError>(())
        })
        .await
    }

    /// Changes the connection policy with `change`, one change at a time: concurrent changes
    /// (two registrations at once) never lose each other's connections. Nothing changes when
    /// `change` fails or the database cannot store the result.
    pub async fn update_connections<T, E: From<DbError>>(
        &self,
        change: impl FnOnce(&mut Vec<Connection>) -> Result<T, E>,
    ) -> Result<T, E> {
        let _policy = self.policy_writer.lock().await;
        let mut policy = self.connections();
        let out = change(&mut policy)?;
        self.store.save_connections(policy.clone()).await?;
        if let Ok(mut c) = self.connections.write() {
            *c = policy;
        }
        Ok(out)
    }

    /// The audit log, newest first.
    pub async fn audit(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>, DbError> {
        self.store.audit(filter).await
    }

    /// The break-it switches this IdP obeys.
    pub fn faults(&self) -> &SharedFaults {
        &self.faults
    }
}
