//! Shared state of the two routers.

use std::sync::Arc;

use xaa_core::clock::SharedClock;
use xaa_core::jose::{KeySet, SigningKey};
use xaa_core::key_source::KeySource;
use xaa_core::secret::SharedEntropy;

use crate::config::{ResourceAsConfig, TodoApiConfig};
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
}

impl std::fmt::Debug for AsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsState").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

impl AsState {
    /// Builds the authorization server: it signs with `signing_key` and finds IdP keys through `idp_keys`.
    pub fn new(
        config: ResourceAsConfig,
        signing_key: SigningKey,
        idp_keys: Arc<dyn KeySource>,
        store: Store,
        clock: SharedClock,
        entropy: SharedEntropy,
    ) -> Arc<Self> {
        let key_set = KeySet::from_signing_keys([&signing_key]);
        Arc::new(Self { config, signing_key, key_set, idp_keys, store, clock, entropy })
    }

    /// The public keys that verify this server's access tokens.
    pub fn public_keys(&self) -> &KeySet {
        &self.key_set
    }
}

/// State of the todo API.
#[derive(Debug)]
pub struct TodoState {
    pub(crate) config: TodoApiConfig,
    pub(crate) as_keys: KeySet,
    pub(crate) store: Store,
    pub(crate) clock: SharedClock,
}

impl TodoState {
    /// Builds the todo API; it verifies access tokens with `as_keys`, the authorization server's public keys.
    pub fn new(config: TodoApiConfig, as_keys: KeySet, store: Store, clock: SharedClock) -> Arc<Self> {
        Arc::new(Self { config, as_keys, store, clock })
    }
}
