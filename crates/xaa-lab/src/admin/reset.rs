//! Reset: the room back to its start for the next group. Every break-it switch off, the lab clock
//! back to the wall clock, the live trace (and the report cards read from it) and the audit log
//! emptied, every resource single use again (lab decision A2), the fixture clients' connections
//! as `policy.json` has them and, unless registrations are kept, every registered requestor
//! deleted at the IdP and at the resource AS. On the running
//! lab ([`Admin::reset`]) or on the data dir of a stopped one ([`reset_data_dir`], `lab reset`);
//! switches, clock and trace live in memory only, so a stopped lab has none to reset.

use std::path::Path;

use serde::Serialize;

use super::{Admin, AdminError};

/// What a reset did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ResetReport {
    /// Whether registered requestors were kept.
    pub keep_registrations: bool,
    /// The switches that were on (all off now).
    pub switches_turned_off: Vec<String>,
    /// How far the lab clock moved to reach the wall clock (seconds).
    pub clock_moved_by: i64,
    /// The IdP clients deleted.
    pub removed_clients: Vec<String>,
    /// The resource-AS clients deleted.
    pub removed_resource_clients: Vec<String>,
    /// The resources that allowed ID-JAG re-use until exp (all single use now, lab decision A2).
    pub single_use_again: Vec<String>,
}

/// The wall clock (NumericDate), whatever the lab clock says.
pub(crate) fn wall_clock() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Admin {
    /// Resets the running lab (see the module documentation).
    pub(crate) async fn reset(&self, keep_registrations: bool) -> Result<ResetReport, AdminError> {
        let switches_turned_off = self.faults.list().iter().map(|s| s.fault.name().to_owned()).collect();
        self.faults.clear_all();
        let clock_moved_by = wall_clock() - self.clock.now();
        self.clock.advance(clock_moved_by);
        self.clock_moved.store(0, std::sync::atomic::Ordering::SeqCst);
        let removed_clients = self.idp.reset(keep_registrations).await?;
        if !keep_registrations {
            self.delete_resource_apps().await?;
        }
        let removed_resource_clients =
            if keep_registrations { Vec::new() } else { self.resource_as.delete_registered_clients().await? };
        let single_use_again =
            self.resource_as.reset_reuse_policies().await?.into_iter().map(|r| r.to_string()).collect();
        self.trace.clear();
        self.report_cards.clear();
        tracing::warn!(keep_registrations, clock_moved_by, "lab reset");
        Ok(ResetReport {
            keep_registrations,
            switches_turned_off,
            clock_moved_by,
            removed_clients,
            removed_resource_clients,
            single_use_again,
        })
    }
}

/// Why `lab reset` refused.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// A lab is running on the data dir, or its lock file cannot be opened.
    #[error(transparent)]
    Locked(#[from] crate::data_lock::LockError),
    /// The data dir holds no lab data.
    #[error("{0} holds no lab data (no idp.sqlite): nothing to reset")]
    Empty(String),
    /// A database could not be changed.
    #[error("{0}: {1}")]
    Storage(String, xaa_core::sqlite::DbError),
}

/// Resets the data dir of a stopped lab; refuses while a lab runs on it. The next start gives
/// the fixture clients the connections of `policy.json`.
pub fn reset_data_dir(dir: &Path, keep_registrations: bool) -> Result<ResetReport, ResetError> {
    let idp = dir.join("idp.sqlite");
    if !idp.exists() {
        return Err(ResetError::Empty(dir.display().to_string()));
    }
    let _lock = crate::data_lock::lock(dir)?;
    let storage = |path: &Path| {
        let path = path.display().to_string();
        move |e| ResetError::Storage(path, e)
    };
    let removed_clients = xaa_idp::reset_database(&idp, keep_registrations).map_err(storage(&idp))?;
    let resource = dir.join("resource.sqlite");
    let removed_resource_clients = match resource.exists() {
        false => Vec::new(),
        true => xaa_resource_as::reset_database(&resource, keep_registrations).map_err(storage(&resource))?,
    };
    let resource_apps = dir.join("resource_apps.sqlite");
    if !keep_registrations && resource_apps.exists() {
        super::resource_app_store::reset_database(&resource_apps).map_err(storage(&resource_apps))?;
    }
    Ok(ResetReport { keep_registrations, removed_clients, removed_resource_clients, ..ResetReport::default() })
}
