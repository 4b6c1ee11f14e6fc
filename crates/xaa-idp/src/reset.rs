//! The lab's reset, on the IdP's side: the audit log emptied, the fixture policy reseeded and,
//! unless registrations are kept, every client registered at run time (console or RFC 7591)
//! deleted with its connections. On a running IdP ([`IdpState::reset`]) or on the database file
//! of a stopped one ([`reset_database`]).

use rusqlite::params;
use xaa_core::sqlite::DbError;

use crate::config::Connection;
use crate::registry::ConnectionRow;
use crate::state::IdpState;
use crate::store::Store;

impl Store {
    /// In one transaction: empties the audit log, deletes registered clients unless `keep`, and
    /// replaces the policy with `connections`.
    async fn reset(&self, keep_registrations: bool, connections: Vec<Connection>) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM audit", [])?;
                if !keep_registrations {
                    tx.execute("DELETE FROM clients", [])?;
                }
                tx.execute("DELETE FROM connections", [])?;
                for row in connections.iter().map(ConnectionRow::from) {
                    row.insert(&tx)?;
                }
                tx.commit()
            })
            .await
    }
}

impl IdpState {
    /// Resets the IdP: empties the audit log and gives the fixture clients their connections of
    /// the fixtures again; registered clients keep theirs with `keep_registrations`, else they
    /// are deleted. Returns the ids of the deleted clients.
    pub async fn reset(&self, keep_registrations: bool) -> Result<Vec<String>, DbError> {
        let _policy = self.policy_writer.lock().await;
        let registered: Vec<String> =
            self.clients().into_iter().map(|c| c.client_id).filter(|id| !self.is_fixture_client(id)).collect();
        let mut policy = self.config.connections.clone();
        if keep_registrations {
            policy.extend(self.connections().into_iter().filter(|c| registered.contains(&c.client_id)));
        }
        self.store.reset(keep_registrations, policy.clone()).await?;
        if !keep_registrations && let Ok(mut c) = self.clients.write() {
            c.retain(|c| !registered.contains(&c.client_id));
        }
        if let Ok(mut c) = self.connections.write() {
            *c = policy;
        }
        tracing::warn!(keep_registrations, removed = registered.len(), "IdP reset");
        Ok(if keep_registrations { Vec::new() } else { registered })
    }
}

/// Resets the IdP database at `path` while no IdP runs on it: empties the audit log, deletes the
/// fixture clients' stored connections and forgets which fixture policy was seeded (so the next
/// start gives them the fixtures' connections again) and, unless `keep_registrations`, deletes
/// every registered client with its connections. Returns the ids of the deleted clients.
pub fn reset_database(path: &std::path::Path, keep_registrations: bool) -> Result<Vec<String>, DbError> {
    let store = Store::open(Some(path))?;
    store.db.call_now(move |c| {
        let tx = c.transaction()?;
        let removed = if keep_registrations {
            tx.execute("DELETE FROM connections WHERE client_id NOT IN (SELECT client_id FROM clients)", [])?;
            Vec::new()
        } else {
            let ids = {
                let mut st = tx.prepare("SELECT client_id FROM clients ORDER BY created_at, client_id")?;
                st.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?
            };
            tx.execute("DELETE FROM clients", [])?;
            tx.execute("DELETE FROM connections", [])?;
            ids
        };
        tx.execute("DELETE FROM audit", [])?;
        tx.execute("DELETE FROM meta WHERE key = ?1", params!["policy_seed"])?;
        tx.commit()?;
        Ok(removed)
    })
}
