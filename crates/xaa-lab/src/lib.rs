//! # xaa-lab: the XAA lab as a library and the `lab` binary
//!
//! [`Lab::start`] binds every component on loopback, derives the URLs from the bound ports,
//! builds the mock IdP, the resource authorization server, the todo API and the console from the
//! fixtures and keys, and serves them (over HTTPS with a lab CA when `tls` is set).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let lab = xaa_lab::Lab::start(xaa_lab::LabConfig::for_tests()).await?;
//! println!("IdP issuer: {}", lab.urls().idp);
//! lab.shutdown(std::time::Duration::from_secs(1)).await;
//! # Ok(()) }
//! ```

mod admin;
mod config;
pub mod conformance;
mod connections;
mod console;
pub mod data_lock;
mod env_file;
mod fixtures;
mod handle;
pub mod mint;
pub mod observe;
mod outbound;
pub mod private_file;
pub mod public_host;
mod saml_key;
mod start;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;

pub use admin::{ResetError, ResetReport, reset_data_dir};
pub use config::{
    DEFAULT_JOINS_PER_MINUTE, DEFAULT_MAX_JOINS, DETERMINISTIC_EPOCH, LabConfig, LabLifetimes, Ports, Storage, Urls,
};
pub use connections::ConnectionLimits;
pub use env_file::EnvFile;
pub use fixtures::{ClientRole, FixtureEdit, Fixtures, LabKeys, Requestor};
pub use handle::LabHandle;
pub use start::{Lab, StartError};
/// The break-it switches ([`LabHandle`] turns them on and off).
pub use xaa_faults as faults;

/// The IdP's protocol and configuration types a lab's user names: IT's connection policy, the
/// clients [`LabHandle`] reads and registers, token lifetimes and audit retention for [`LabConfig`].
pub mod idp {
    pub use xaa_idp::{
        AuditRetention, AuthorizationServer, Connection, IdpClient, Lifetimes, Registration, RegistryError, Resource,
        User,
    };
}

/// The resource authorization server's types [`LabHandle`] returns: its clients and the resources
/// it issues access tokens for.
pub mod resource_as {
    pub use xaa_resource_as::{AsClient, ProtectedResource};
}
