//! Protected resources registered while the server runs (the console's "bring your own resource"):
//! governed exactly like the configured ones, so an access token's `aud` can be a developer's own
//! resource identifier, byte for byte as they entered it.

use crate::config::ProtectedResource;
use crate::state::AsState;

impl AsState {
    /// Every resource this server governs: the configured ones (the first is the default), then
    /// the registered ones.
    pub fn resources(&self) -> Vec<ProtectedResource> {
        let mut all = self.config.resources.clone();
        if let Ok(r) = self.registered_resources.read() {
            all.extend(r.iter().cloned());
        }
        all
    }

    /// Starts governing `resource` (in memory; the caller keeps its registrations and calls this
    /// again at start-up).
    pub fn govern(&self, resource: ProtectedResource) {
        if let Ok(mut r) = self.registered_resources.write() {
            r.push(resource);
        }
    }

    /// Stops governing one registration of the resource `resource` (configured ones stay).
    pub fn ungovern(&self, resource: &str) {
        if let Ok(mut r) = self.registered_resources.write()
            && let Some(i) = r.iter().position(|p| p.resource == resource)
        {
            r.remove(i);
        }
    }
}
