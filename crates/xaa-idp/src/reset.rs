//! The lab's reset, on the IdP's side: the audit log emptied, the fixture policy reseeded and,
//! unless registrations are kept, every client registered at run time (console or RFC 7591)
//! deleted with its connections. On a running IdP ([`IdpState::reset`]) or on the database file
//! of a stopped one ([`reset_database`]).

use rusqlite::params;
use xaa_core::ids::ClientId;
use xaa_core::sqlite::DbError;

use crate::config::Connection;
use crate::registry::ConnectionRow;
use crate::state::IdpState;
use crate::store::Store;

/// A user's Allow belongs to its client: a client registered later under the same id (the same
/// `dcr-…` in deterministic mode) must ask again, as `Store::delete_client` ensures one by one.
const FORGET_CONSENTS_OF_DELETED_CLIENTS: &str =
    "DELETE FROM consents WHERE client_id NOT IN (SELECT client_id FROM clients)";

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
                    tx.execute(FORGET_CONSENTS_OF_DELETED_CLIENTS, [])?;
                    // IT's SAML registrations go with the registrations (the fixtures' stay in saml.json).
                    tx.execute("DELETE FROM saml_service_providers", [])?;
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
        let registered: Vec<ClientId> =
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
        Ok(if keep_registrations { Vec::new() } else { registered.into_iter().map(ClientId::into_string).collect() })
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
            tx.execute(FORGET_CONSENTS_OF_DELETED_CLIENTS, [])?;
            tx.execute("DELETE FROM saml_service_providers", [])?;
            ids
        };
        tx.execute("DELETE FROM audit", [])?;
        tx.execute("DELETE FROM meta WHERE key = ?1", params!["policy_seed"])?;
        tx.commit()?;
        Ok(removed)
    })
}

#[cfg(test)]
mod tests {
    /// A stopped lab's reset forgets the users' Allows of the clients it deletes, so a client
    /// registered later under the same id (deterministic mode repeats `dcr-…` ids) asks again.
    #[test]
    fn a_reset_forgets_the_consents_of_the_clients_it_deletes() {
        let path = std::env::temp_dir().join(format!("xaa-idp-reset-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        drop(crate::store::Store::open(Some(&path)).unwrap());
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "INSERT INTO clients (client_id, client_secret_sha256, name, redirect_uris, post_logout_redirect_uris, created_at)
                 VALUES ('dcr-kept', 's', 'Kept', '[]', '[]', 1);
             INSERT INTO consents VALUES ('alice', 'dcr-kept', 'openid', 1);",
        )
        .unwrap();
        let consents = |c: &rusqlite::Connection| {
            c.query_row("SELECT COUNT(*) FROM consents", [], |r| r.get::<_, i64>(0)).unwrap()
        };
        super::reset_database(&path, true).unwrap();
        assert_eq!(consents(&c), 1, "kept registrations keep their users' Allows");
        assert_eq!(super::reset_database(&path, false).unwrap(), ["dcr-kept"]);
        assert_eq!(consents(&c), 0, "a deleted client's Allows go with it");
        drop(c);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
