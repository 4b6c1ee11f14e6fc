//! Each resource's ID-JAG re-use policy (lab decision A2). draft-04 lets a client re-submit the
//! same ID-JAG for a new access token when the old one expires (its "Refresh Token" section),
//! RFC 7523 makes `jti` replay protection a MAY, and the MCP profile requires refusing a replayed
//! ID-JAG. So every resource starts single use, and IT may let one accept an ID-JAG again until
//! its `exp`; an MCP server stays single use. The policy itself, and how the metadata publishes
//! it, are [`xaa_core::id_jag_reuse`]'s.
//!
//! The policies live in the database (a configured resource by its position, since its URL
//! follows the lab's ports; a registered one by its URI) and in memory, written to the database
//! first.

use serde::Serialize;
pub use xaa_core::id_jag_reuse::ReusePolicy;
use xaa_core::id_jag_reuse::UnknownPolicy;
use xaa_core::ids::ResourceUri;
use xaa_core::sqlite::DbError;

use crate::config::ProtectedResource;
use crate::state::AsState;

/// One resource's policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceReuse {
    /// The resource (the access token `aud`).
    pub resource: ResourceUri,
    /// Its policy.
    pub policy: ReusePolicy,
    /// An MCP server: single use, and IT cannot switch it.
    pub mcp: bool,
}

impl ResourceReuse {
    /// How pages name its policy: `single use (MCP profile)` for an MCP server.
    pub fn label(&self) -> &'static str {
        match self.mcp {
            true => "single use (MCP profile)",
            false => self.policy.label(),
        }
    }
}

/// Why a re-use policy was not changed.
#[derive(Debug, thiserror::Error)]
pub enum ReuseError {
    /// No such policy.
    #[error(transparent)]
    UnknownPolicy(#[from] UnknownPolicy),
    /// This server does not govern the resource.
    #[error("\"{resource}\" is not a resource of this authorization server (its resources: {governed})")]
    UnknownResource {
        /// The resource asked for.
        resource: String,
        /// The ones it governs, space-separated.
        governed: String,
    },
    /// An MCP server cannot allow re-use.
    #[error("{0} is an MCP server: the MCP profile requires refusing a replayed ID-JAG, so it stays single use")]
    Mcp(ResourceUri),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] DbError),
}

impl AsState {
    /// Where the policy of `resource` is stored: `#i` for the `i`-th configured resource, else
    /// its URI; `None` when this server does not govern it.
    fn reuse_key(&self, resource: &str) -> Option<(String, ProtectedResource)> {
        if let Some(i) = self.config.resources.iter().position(|p| p.resource == resource) {
            return Some((format!("#{i}"), self.config.resources[i].clone()));
        }
        let registered = self.registered_resources.read().ok()?.iter().find(|p| p.resource == resource).cloned()?;
        Some((resource.to_owned(), registered))
    }

    /// The re-use policy of `resource`; `None` when this server does not govern it.
    pub fn reuse_policy(&self, resource: &str) -> Option<ResourceReuse> {
        let (key, governed) = self.reuse_key(resource)?;
        let set = self.reuse.read().ok().and_then(|r| r.get(&key).copied()).unwrap_or_default();
        let policy = if governed.mcp { ReusePolicy::SingleUse } else { set };
        Some(ResourceReuse { resource: governed.resource, policy, mcp: governed.mcp })
    }

    /// The re-use policy of every resource this server governs, in [`AsState::resources`] order.
    pub fn reuse_policies(&self) -> Vec<ResourceReuse> {
        self.resources().iter().filter_map(|r| self.reuse_policy(r.resource.as_str())).collect()
    }

    /// Sets the re-use policy of `resource` (stored first, so a failure changes nothing).
    pub async fn set_reuse_policy(&self, resource: &str, policy: ReusePolicy) -> Result<ResourceReuse, ReuseError> {
        let Some((key, governed)) = self.reuse_key(resource) else {
            let governed = self.resources().iter().map(|r| r.resource.to_string()).collect::<Vec<_>>().join(" ");
            return Err(ReuseError::UnknownResource { resource: resource.to_owned(), governed });
        };
        if governed.mcp && policy != ReusePolicy::SingleUse {
            return Err(ReuseError::Mcp(governed.resource));
        }
        self.store.set_reuse_policy(key.clone(), policy, self.clock.now()).await?;
        if let Ok(mut r) = self.reuse.write() {
            r.insert(key, policy);
        }
        tracing::warn!(resource = %governed.resource, policy = policy.name(), "ID-JAG re-use policy set");
        Ok(ResourceReuse { resource: governed.resource, policy, mcp: governed.mcp })
    }

    /// Forgets the policy of a registered resource before it stops being governed, so one
    /// registered again at the same URI starts single use.
    pub async fn forget_reuse_policy(&self, resource: &str) -> Result<(), DbError> {
        if self.config.resources.iter().any(|p| p.resource == resource) {
            return Ok(());
        }
        self.store.forget_reuse_policy(resource.to_owned()).await?;
        if let Ok(mut r) = self.reuse.write() {
            r.remove(resource);
        }
        Ok(())
    }

    /// Every resource single use again (the lab's reset); returns those that allowed re-use.
    pub async fn reset_reuse_policies(&self) -> Result<Vec<ResourceUri>, DbError> {
        let reusable: Vec<ResourceUri> = self
            .reuse_policies()
            .into_iter()
            .filter(|r| r.policy == ReusePolicy::ReusableUntilExp)
            .map(|r| r.resource)
            .collect();
        self.store.reset_reuse_policies().await?;
        if let Ok(mut r) = self.reuse.write() {
            r.clear();
        }
        Ok(reusable)
    }
}
