//! The IdP tenant an admin request acts on: every connection belongs to one tenant's IT, so the
//! policy pages and the admin API take a `tenant`, the default tenant when absent (the requests
//! of a single-tenant lab keep working unchanged).

use xaa_idp::Tenant;

use super::{Admin, AdminError};

impl Admin {
    /// The tenant `given` names (trimmed), the default tenant when it is absent or empty; an
    /// unknown id is refused, naming the tenants there are.
    pub(crate) fn tenant(&self, given: Option<&str>) -> Result<Tenant, AdminError> {
        let tenants = self.idp.tenants();
        match given.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(tenants.default_tenant().clone()),
            Some(id) => tenants.get(id).cloned().ok_or_else(|| {
                let ids: Vec<&str> = tenants.all().iter().map(|t| t.id.as_str()).collect();
                AdminError::new(format!("no tenant \"{id}\" at the IdP (tenants: {})", ids.join(", ")))
            }),
        }
    }
}
