//! Shared state of the two routers.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use xaa_core::clock::SharedClock;
use xaa_core::dpop::ReplayStore;
use xaa_core::ids::{Issuer, ResourceClientId};
use xaa_core::jose::{KeySet, SigningKey};
use xaa_core::key_source::KeySource;
use xaa_core::secret::SharedEntropy;
use xaa_core::sqlite::DbError;
use xaa_faults::SharedFaults;

use crate::config::{AsClient, ResourceAsConfig, TodoApiConfig};
use crate::reuse::ReusePolicy;
use crate::store::Store;

/// State of the resource authorization server.
pub struct AsState {
    pub(crate) config: ResourceAsConfig,
    pub(crate) signing_key: SigningKey,
    pub(crate) key_set: KeySet,
    pub(crate) idp_keys: Arc<dyn KeySource>,
    pub(crate) store: Store,
    pub(crate) clock: SharedClock,
    pub(crate) entropy: SharedEntropy,
    pub(crate) faults: SharedFaults,
    /// The `jti`s of the DPoP proofs its token endpoint accepted (RFC 9449 §11.1).
    pub(crate) dpop_proofs: ReplayStore,
    clients: RwLock<Vec<AsClient>>,
    /// Resources registered at run time (see [`AsState::govern`]).
    pub(crate) registered_resources: RwLock<Vec<crate::config::ProtectedResource>>,
    /// The ID-JAG re-use policies IT set, by storage key (see [`crate::reuse`]).
    pub(crate) reuse: RwLock<HashMap<String, ReusePolicy>>,
}

impl std::fmt::Debug for AsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsState").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

/// The lab components every role shares: clock, entropy and break-it switches.
#[derive(Clone, Debug)]
pub struct Shared {
    /// The clock.
    pub clock: SharedClock,
    /// Where ids and `jti`s come from.
    pub entropy: SharedEntropy,
    /// The break-it switches.
    pub faults: SharedFaults,
}

impl AsState {
    /// Builds the authorization server: it signs with `signing_key` and finds IdP keys through
    /// `idp_keys`. Clients registered and re-use policies set earlier are read back from `store`.
    pub fn new(
        config: ResourceAsConfig,
        signing_key: SigningKey,
        idp_keys: Arc<dyn KeySource>,
        store: Store,
        shared: Shared,
    ) -> Result<Arc<Self>, DbError> {
        let key_set = KeySet::from_signing_keys([&signing_key]);
        store.move_todos_into_tenant(&config.default_tenant)?;
        let mut clients = config.clients.clone();
        let registered = store.registered_clients()?;
        clients.extend(registered.into_iter().filter(|r| !config.clients.iter().any(|c| c.client_id == r.client_id)));
        let reuse = store.reuse_policies()?.into_iter().collect();
        Ok(Arc::new(Self {
            config,
            signing_key,
            key_set,
            idp_keys,
            store,
            clock: shared.clock,
            entropy: shared.entropy,
            faults: shared.faults,
            dpop_proofs: ReplayStore::default(),
            clients: RwLock::new(clients),
            registered_resources: RwLock::default(),
            reuse: RwLock::new(reuse),
        }))
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &Issuer {
        &self.config.issuer
    }

    /// The public keys that verify this server's access tokens.
    pub fn public_keys(&self) -> &KeySet {
        &self.key_set
    }

    /// The key signing this server's access tokens: the lab's conformance checks (`lab check
    /// resource`) sign their access tokens with it. Security: lab keys only.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The client with this id: a [`ResourceClientId`], or its text as presented (never a
    /// client's id at the IdP).
    pub fn client<Id: ?Sized>(&self, client_id: &Id) -> Option<AsClient>
    where
        ResourceClientId: PartialEq<Id>,
    {
        self.clients.read().ok()?.iter().find(|c| c.client_id == *client_id).cloned()
    }

    /// Registers a client for IT (kept in the database; no cap); `false` when the id is taken.
    pub async fn register_client(&self, client: AsClient) -> Result<bool, DbError> {
        self.insert_client(client, None).await
    }

    /// Registers a client through open RFC 7591 registration; `false` when the id is taken or
    /// [`ResourceAsConfig::max_open_registrations`] such clients exist.
    pub(crate) async fn register_open_client(&self, client: AsClient) -> Result<bool, DbError> {
        self.insert_client(client, Some(self.config.max_open_registrations)).await
    }

    async fn insert_client(&self, client: AsClient, open_cap: Option<usize>) -> Result<bool, DbError> {
        if self.client(&client.client_id).is_some()
            || !self.store.insert_client(client.clone(), self.clock.now(), open_cap).await?
        {
            return Ok(false);
        }
        if let Ok(mut c) = self.clients.write() {
            c.push(client);
        }
        Ok(true)
    }

    /// Deletes every client registered at run time (the lab's reset); returns their ids.
    pub async fn delete_registered_clients(&self) -> Result<Vec<String>, DbError> {
        let gone = self.store.delete_registered_clients().await?;
        if let Ok(mut c) = self.clients.write() {
            c.retain(|c| self.config.clients.iter().any(|f| f.client_id == c.client_id));
        }
        Ok(gone)
    }

    /// Deletes a client registered at run time; `false` when there is none with this id (fixture
    /// clients are never deleted).
    pub async fn delete_client(&self, client_id: &str) -> Result<bool, DbError> {
        if self.config.clients.iter().any(|c| c.client_id == client_id) {
            return Ok(false);
        }
        let gone = self.store.delete_client(client_id.to_owned()).await?;
        if let Ok(mut c) = self.clients.write() {
            c.retain(|c| c.client_id != client_id);
        }
        Ok(gone)
    }
}

/// State of the todo API.
#[derive(Debug)]
pub struct TodoState {
    pub(crate) config: TodoApiConfig,
    pub(crate) as_keys: KeySet,
    pub(crate) store: Store,
    pub(crate) clock: SharedClock,
    pub(crate) faults: SharedFaults,
    /// The `jti`s of the DPoP proofs it accepted with DPoP-bound tokens (RFC 9449 §11.1).
    pub(crate) dpop_proofs: ReplayStore,
}

impl TodoState {
    /// Builds the todo API; it verifies access tokens with `as_keys`, the authorization server's
    /// public keys, and obeys the todo API's break-it switches.
    pub fn new(
        config: TodoApiConfig,
        as_keys: KeySet,
        store: Store,
        clock: SharedClock,
        faults: SharedFaults,
    ) -> Arc<Self> {
        Arc::new(Self { config, as_keys, store, clock, faults, dpop_proofs: ReplayStore::default() })
    }
}
