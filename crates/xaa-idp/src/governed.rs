//! Authorization servers and resources registered while the IdP runs (the console's "bring your
//! own resource"): the policy treats them like the configured ones, so a connection can name a
//! developer's own resource at the lab's authorization server, or their own authorization server.

use xaa_core::ids::Issuer;

use crate::config::{AuthorizationServer, Resource};
use crate::state::IdpState;

impl IdpState {
    /// Every authorization server this IdP issues ID-JAGs for, with the resources each governs:
    /// the configured ones, with the registered resources added to the server of the same issuer
    /// (a registered issuer the configuration lacks is added after them).
    pub fn authorization_servers(&self) -> Vec<AuthorizationServer> {
        let mut all = self.config.authorization_servers.clone();
        let Ok(registered) = self.registered_servers.read() else { return all };
        for r in registered.iter() {
            match all.iter_mut().find(|s| s.issuer == r.issuer) {
                Some(s) => s.resources.extend(r.resources.iter().cloned()),
                None => all.push(r.clone()),
            }
        }
        all
    }

    /// Starts issuing ID-JAGs for `resource` at the authorization server `issuer` (named `name`
    /// when the IdP does not know it yet). In memory: the caller keeps its registrations and calls
    /// this again at start-up.
    pub fn govern(&self, issuer: &Issuer, name: &str, resource: Resource) {
        if let Ok(mut r) = self.registered_servers.write() {
            r.push(AuthorizationServer { issuer: issuer.clone(), name: name.to_owned(), resources: vec![resource] });
        }
    }

    /// Forgets one registration of `resource` at `issuer` (configured servers and resources stay).
    pub fn ungovern(&self, issuer: &str, resource: &str) {
        if let Ok(mut r) = self.registered_servers.write()
            && let Some(i) =
                r.iter().position(|s| s.issuer == issuer && s.resources.iter().any(|x| x.resource == resource))
        {
            r.remove(i);
        }
    }
}
