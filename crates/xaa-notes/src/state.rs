//! The notes app's shared state.

use std::sync::Arc;

use xaa_core::clock::SharedClock;
use xaa_core::http_client::LazyClient;
use xaa_core::sqlite::DbError;

use crate::config::NotesConfig;
use crate::oauth_http::CallLog;
use crate::store::Store;

/// State shared by every notes handler.
pub struct NotesState {
    pub(crate) config: NotesConfig,
    pub(crate) store: Store,
    pub(crate) http: Arc<LazyClient>,
    pub(crate) clock: SharedClock,
    pub(crate) calls: Option<Arc<dyn CallLog>>,
    /// The IdP's discovered metadata (with its JWKS), fetched on first sign-in.
    pub(crate) provider: tokio::sync::RwLock<Option<crate::oidc::Metadata>>,
}

impl std::fmt::Debug for NotesState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotesState").field("base_url", &self.config.base_url).finish_non_exhaustive()
    }
}

impl NotesState {
    /// Builds the notes app, storing its state in `db_path` (in memory when `None`); its outbound
    /// calls are told to `calls` when given.
    pub fn new(
        config: NotesConfig,
        db_path: Option<&std::path::Path>,
        http: Arc<LazyClient>,
        clock: SharedClock,
        calls: Option<Arc<dyn CallLog>>,
    ) -> Result<Arc<Self>, DbError> {
        Ok(Arc::new(Self {
            config,
            store: Store::open(db_path)?,
            http,
            clock,
            calls,
            provider: tokio::sync::RwLock::new(None),
        }))
    }
}
