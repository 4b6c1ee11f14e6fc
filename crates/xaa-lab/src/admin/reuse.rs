//! IT's ID-JAG re-use policy of each resource the lab's authorization server governs (lab
//! decision A2): single use, as the MCP profile requires, or re-usable until `exp`, as draft-04
//! allows. The resource AS keeps the policy and refuses what it must; this only translates.

use xaa_resource_as::{ResourceReuse, ReuseError, ReusePolicy};

use super::{Admin, AdminError};

impl From<ReuseError> for AdminError {
    fn from(e: ReuseError) -> Self {
        match e {
            ReuseError::Storage(e) => Self::Storage(e),
            refused => Self::new(refused.to_string()),
        }
    }
}

impl Admin {
    /// Sets the policy named `policy` (`single_use` or `reuse_until_exp`) for `resource`.
    pub(crate) async fn set_id_jag_reuse(&self, resource: &str, policy: &str) -> Result<ResourceReuse, AdminError> {
        let policy = ReusePolicy::parse(policy.trim()).map_err(ReuseError::from)?;
        Ok(self.resource_as.set_reuse_policy(resource.trim(), policy).await?)
    }
}
