//! The IdP's shared state.

use std::sync::{Arc, RwLock};

use xaa_core::clock::SharedClock;
use xaa_core::jose::{KeySet, SigningKey};
use xaa_core::secret::SharedEntropy;
use xaa_core::sqlite::DbError;

use crate::config::{Connection, IdpConfig};
use crate::store::Store;

/// State shared by every IdP handler.
#[derive(Debug)]
pub struct IdpState {
    pub(crate) config: IdpConfig,
    pub(crate) signing_key: SigningKey,
    pub(crate) key_set: KeySet,
    pub(crate) store: Store,
    pub(crate) clock: SharedClock,
    pub(crate) entropy: SharedEntropy,
    connections: RwLock<Vec<Connection>>,
}

impl IdpState {
    /// Builds the IdP with its signing key, storing its state in `db_path` (in memory when `None`);
    /// codes, ids and `jti`s come from `entropy`.
    pub fn new(
        config: IdpConfig,
        signing_key: SigningKey,
        db_path: Option<&std::path::Path>,
        clock: SharedClock,
        entropy: SharedEntropy,
    ) -> Result<Arc<Self>, DbError> {
        let key_set = KeySet::from_signing_keys([&signing_key]);
        let connections = RwLock::new(config.connections.clone());
        Ok(Arc::new(Self { store: Store::open(db_path)?, config, signing_key, key_set, clock, entropy, connections }))
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The public keys that verify this IdP's tokens.
    pub fn public_keys(&self) -> &KeySet {
        &self.key_set
    }

    /// The current connection policy.
    pub fn connections(&self) -> Vec<Connection> {
        self.connections.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// Replaces the connection policy; the next token exchange uses it.
    pub fn set_connections(&self, connections: Vec<Connection>) {
        if let Ok(mut c) = self.connections.write() {
            *c = connections;
        }
    }
}
