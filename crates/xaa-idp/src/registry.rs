//! Run-time registrations the IdP keeps in its database: clients registered in the console or by
//! RFC 7591, and the connection policy as IT last set it.

use rusqlite::params;
use xaa_core::sqlite::DbError;

use crate::config::{AuthorizationServer, Connection, IdpClient};
use crate::store::Store;

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn from_json<T: serde::de::DeserializeOwned + Default>(s: String) -> T {
    serde_json::from_str(&s).unwrap_or_default()
}

impl Store {
    /// Clients registered at run time.
    pub(crate) fn registered_clients(&self) -> Result<Vec<IdpClient>, DbError> {
        self.db.call_now(|c| {
            let mut st = c.prepare(
                "SELECT client_id, client_secret, name, redirect_uris, post_logout_redirect_uris, grant_types
                 FROM clients ORDER BY created_at, client_id",
            )?;
            let rows = st.query_map([], |r| {
                Ok(IdpClient {
                    client_id: r.get(0)?,
                    client_secret: xaa_core::secret::Secret::new(r.get::<_, String>(1)?),
                    name: r.get(2)?,
                    redirect_uris: from_json(r.get(3)?),
                    post_logout_redirect_uris: from_json(r.get(4)?),
                    grant_types: from_json(r.get(5)?),
                })
            })?;
            rows.collect()
        })
    }

    /// Stores a client. With `open_cap`, it is an open (RFC 7591) registration: stored only while
    /// fewer than `open_cap` open registrations exist (checked and inserted under the one
    /// connection's lock, so concurrent registrations cannot pass the cap); `false` when full.
    pub(crate) async fn insert_client(
        &self,
        client: IdpClient,
        now: i64,
        open_cap: Option<usize>,
    ) -> Result<bool, DbError> {
        self.db
            .call(move |c| {
                if let Some(cap) = open_cap {
                    let open: i64 =
                        c.query_row("SELECT COUNT(*) FROM clients WHERE open_registration = 1", [], |r| r.get(0))?;
                    if usize::try_from(open).unwrap_or(usize::MAX) >= cap {
                        return Ok(false);
                    }
                }
                c.execute(
                    "INSERT INTO clients (client_id, client_secret, name, redirect_uris, post_logout_redirect_uris,
                                          grant_types, created_at, open_registration)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        client.client_id,
                        client.client_secret.expose(),
                        client.name,
                        json(&client.redirect_uris),
                        json(&client.post_logout_redirect_uris),
                        json(&client.grant_types),
                        now,
                        open_cap.is_some()
                    ],
                )?;
                Ok(true)
            })
            .await
    }

    /// Deletes a registered client and its connections, in one transaction.
    pub(crate) async fn delete_client(&self, client_id: String) -> Result<bool, DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let n = tx.execute("DELETE FROM clients WHERE client_id = ?1", params![client_id])?;
                tx.execute("DELETE FROM connections WHERE client_id = ?1", params![client_id])?;
                tx.commit()?;
                Ok(n > 0)
            })
            .await
    }

    /// The stored policy; when the fixture policy differs from the one it was seeded from, the
    /// fixture clients' connections are replaced by the fixtures' (registered clients' stay).
    ///
    /// The authorization servers' URLs are remembered too: when they changed since (other ports),
    /// the stored connections follow them, matched by position in the configuration.
    pub(crate) fn load_connections(
        &self,
        fixtures: &[Connection],
        fixture_clients: &[String],
        servers: &[AuthorizationServer],
    ) -> Result<Vec<Connection>, DbError> {
        let urls: Vec<(String, Vec<String>)> = servers
            .iter()
            .map(|s| (s.issuer.clone(), s.resources.iter().map(|r| r.resource.clone()).collect()))
            .collect();
        // The fixture policy as written, whatever ports the servers have this time.
        let portable = |mut row: ConnectionRow| {
            for (i, (issuer, resources)) in urls.iter().enumerate() {
                if row.authorization_server == *issuer {
                    row.authorization_server = format!("{{server {i}}}");
                }
                for (j, r) in resources.iter().enumerate() {
                    if row.resource == *r {
                        row.resource = format!("{{server {i} resource {j}}}");
                    }
                }
            }
            row
        };
        let seed = json(&fixtures.iter().map(|c| portable(ConnectionRow::from(c))).collect::<Vec<_>>());
        let fixtures: Vec<ConnectionRow> = fixtures.iter().map(ConnectionRow::from).collect();
        let fixture_clients = fixture_clients.to_vec();
        self.db.call_now(move |c| {
            let tx = c.transaction()?;
            let before: Option<String> =
                tx.query_row("SELECT value FROM meta WHERE key = 'server_urls'", [], |r| r.get(0)).ok();
            let before: Vec<(String, Vec<String>)> = before.map(from_json).unwrap_or_default();
            if before.len() == urls.len() {
                for ((old_iss, old_res), (new_iss, new_res)) in before.iter().zip(&urls) {
                    tx.execute(
                        "UPDATE connections SET authorization_server = ?2 WHERE authorization_server = ?1",
                        params![old_iss, new_iss],
                    )?;
                    for (old, new) in old_res.iter().zip(new_res) {
                        tx.execute("UPDATE connections SET resource = ?2 WHERE resource = ?1", params![old, new])?;
                    }
                }
            }
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('server_urls', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![json(&urls)],
            )?;
            let stored: Option<String> =
                tx.query_row("SELECT value FROM meta WHERE key = 'policy_seed'", [], |r| r.get(0)).ok();
            if stored.as_deref() != Some(seed.as_str()) {
                for client in &fixture_clients {
                    tx.execute("DELETE FROM connections WHERE client_id = ?1", params![client])?;
                }
                for row in &fixtures {
                    row.insert(&tx)?;
                }
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('policy_seed', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![seed],
                )?;
            }
            let out = {
                let mut st = tx.prepare(
                    "SELECT client_id, authorization_server, resource, scopes, resource_client_id, users
                     FROM connections ORDER BY rowid",
                )?;
                let rows = st.query_map([], |r| {
                    Ok(Connection {
                        client_id: r.get(0)?,
                        authorization_server: r.get(1)?,
                        resource: r.get(2)?,
                        scopes: from_json(r.get(3)?),
                        resource_client_id: r.get(4)?,
                        users: from_json(r.get(5)?),
                    })
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            tx.commit()?;
            Ok(out)
        })
    }

    /// Replaces the stored policy with `connections`, in one transaction.
    pub(crate) async fn save_connections(&self, connections: Vec<Connection>) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM connections", [])?;
                for row in connections.iter().map(ConnectionRow::from) {
                    row.insert(&tx)?;
                }
                tx.commit()
            })
            .await
    }
}

#[derive(serde::Serialize)]
pub(crate) struct ConnectionRow {
    client_id: String,
    authorization_server: String,
    resource: String,
    scopes: String,
    resource_client_id: String,
    users: String,
}

impl From<&Connection> for ConnectionRow {
    fn from(c: &Connection) -> Self {
        Self {
            client_id: c.client_id.clone(),
            authorization_server: c.authorization_server.clone(),
            resource: c.resource.clone(),
            scopes: json(&c.scopes),
            resource_client_id: c.resource_client_id.clone(),
            users: json(&c.users),
        }
    }
}

impl ConnectionRow {
    pub(crate) fn insert(&self, c: &rusqlite::Connection) -> rusqlite::Result<()> {
        c.execute(
            "INSERT OR REPLACE INTO connections (client_id, authorization_server, resource, scopes, resource_client_id, users)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                self.client_id,
                self.authorization_server,
                self.resource,
                self.scopes,
                self.resource_client_id,
                self.users
            ],
        )
        .map(drop)
    }
}
