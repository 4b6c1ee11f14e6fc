//! IT administration of the lab, behind the console's admin pages and JSON API: registering
//! requestors, governing their connections, each resource's ID-JAG re-use policy, the break-it
//! switches, the lab clock, IdP key rotation, the requestors' report cards and the reset. Every operation lives here once; the pages and the
//! API only translate.

mod governance;
mod join;
mod register;
pub(crate) mod report_card;
mod reset;
mod resource_app;
mod resource_app_request;
mod resource_app_store;
mod reuse;
mod saml_sp;
mod tenants;

use std::sync::Arc;

use xaa_core::clock::SharedClock;
use xaa_core::secret::SharedEntropy;
use xaa_faults::SharedFaults;
use xaa_idp::{AuthorizationServer, IdpState};
use xaa_resource_as::AsState;

use crate::config::Urls;

pub(crate) use governance::ConnectionChange;
pub(crate) use join::{JoinDesk, JoinRefused};
pub(crate) use register::{RegisterRequest, Registered};
pub(crate) use report_card::ReportCards;
pub(crate) use reset::wall_clock;
pub use reset::{ResetError, ResetReport, reset_data_dir};
pub(crate) use resource_app::{ResourceApp, ResourceApps};
pub(crate) use resource_app_request::{NewResourceApp, OwnAs, check as check_resource_app};
pub(crate) use resource_app_store::ResourceAppStore;
pub(crate) use saml_sp::SamlRequest;

/// What the admin operations act on.
pub(crate) struct Admin {
    pub(crate) urls: Urls,
    pub(crate) idp: Arc<IdpState>,
    pub(crate) resource_as: Arc<AsState>,
    pub(crate) authorization_servers: Vec<AuthorizationServer>,
    pub(crate) faults: SharedFaults,
    pub(crate) clock: SharedClock,
    pub(crate) entropy: SharedEntropy,
    pub(crate) report_cards: Arc<ReportCards>,
    pub(crate) trace: Arc<crate::observe::trace::Trace>,
    /// How far IT has moved the lab clock, in seconds (the console's banner shows it while not 0).
    pub(crate) clock_moved: std::sync::atomic::AtomicI64,
    /// The classroom's join code and its limits.
    pub(crate) join: JoinDesk,
    /// The registered resource apps ("bring your own resource").
    pub(crate) resource_apps: ResourceApps,
    /// The token lifetimes the lab runs with (what the clock's steps expire).
    pub(crate) lifetimes: crate::LabLifetimes,
}

/// Why an admin operation did not happen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminError {
    /// The request was refused: the message says what to change.
    #[error("{message}")]
    Refused {
        /// The API's error code: `invalid_redirect_uri` for a redirect URI (as RFC 7591 §3.2.2
        /// says it), else `invalid_request`.
        code: &'static str,
        /// What to change.
        message: String,
    },
    /// The lab's storage failed: the server's fault, not the request's.
    #[error("{0}")]
    Storage(#[source] xaa_core::sqlite::DbError),
    /// The IdP could not store a SAML service provider: the server's fault, not the request's.
    #[error("{0}")]
    SamlStorage(#[source] xaa_idp::SamlRegistrationError),
}

impl From<xaa_core::sqlite::DbError> for AdminError {
    fn from(e: xaa_core::sqlite::DbError) -> Self {
        Self::Storage(e)
    }
}

impl From<xaa_idp::RegistryError> for AdminError {
    fn from(e: xaa_idp::RegistryError) -> Self {
        match e {
            xaa_idp::RegistryError::Storage(e) => Self::Storage(e),
            refused => Self::new(refused.to_string()),
        }
    }
}

impl From<xaa_idp::SamlRegistrationError> for AdminError {
    fn from(e: xaa_idp::SamlRegistrationError) -> Self {
        match e {
            e @ xaa_idp::SamlRegistrationError::Storage(_) => Self::SamlStorage(e),
            refused => Self::new(refused.to_string()),
        }
    }
}

impl AdminError {
    pub(crate) fn new(m: impl Into<String>) -> Self {
        Self::Refused { code: "invalid_request", message: m.into() }
    }

    /// A refused redirect or post-logout redirect URI.
    pub(crate) fn redirect_uri(m: impl Into<String>) -> Self {
        Self::Refused { code: "invalid_redirect_uri", message: m.into() }
    }

    /// The API's error code (`server_error` for a storage failure).
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Refused { code, .. } => code,
            Self::Storage(_) | Self::SamlStorage(_) => "server_error",
        }
    }

    /// Whether the server, not the request, is at fault.
    pub(crate) fn is_server_error(&self) -> bool {
        matches!(self, Self::Storage(_) | Self::SamlStorage(_))
    }
}

impl Admin {
    /// The resource AS this lab runs (the one registrations connect to).
    pub(crate) fn lab_authorization_server(&self) -> Option<&AuthorizationServer> {
        self.authorization_servers.iter().find(|s| s.issuer == self.urls.authorization_server)
    }

    /// Both client ids of the requestor whose IdP or resource-AS client id is `id` (for scoping
    /// a switch to one requestor); `[id]` when no connection links it to another.
    pub(crate) fn requestor_ids(&self, id: &str) -> Vec<String> {
        let mut ids = vec![id.to_owned()];
        for c in self.idp.connections() {
            if c.client_id == id && !ids.iter().any(|i| c.resource_client_id == *i) {
                ids.push(c.resource_client_id.to_string());
            }
            if c.resource_client_id == id && !ids.iter().any(|i| c.client_id == *i) {
                ids.push(c.client_id.to_string());
            }
        }
        ids
    }

    /// A random suffix for ids people read and type: lower-case letters and digits only.
    pub(crate) fn readable_suffix(&self, bytes: usize) -> String {
        self.entropy.token(bytes).to_lowercase().replace(['-', '_'], "x")
    }

    /// Moves the lab clock by `seconds` (at most ten years either way); returns the new time.
    pub(crate) fn advance_clock(&self, seconds: i64) -> Result<i64, AdminError> {
        if seconds.unsigned_abs() > 10 * 365 * 86_400 {
            return Err(AdminError::new("move the clock by at most ten years (315360000 s) either way"));
        }
        self.clock.advance(seconds);
        self.clock_moved.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
        let now = self.clock.now();
        tracing::warn!(seconds, now, "lab clock moved");
        Ok(now)
    }

    /// Rotates the IdP's signing key to a freshly generated one (the lab's one RSA generator).
    pub(crate) fn rotate_idp_key(&self) -> Result<xaa_idp::Rotation, AdminError> {
        let kid = format!("idp-rotated-{}", self.readable_suffix(6));
        let key = xaa_core::jose::SigningKey::generate(&kid).map_err(|e| AdminError::new(e.to_string()))?;
        Ok(self.idp.rotate_key(key))
    }
}
