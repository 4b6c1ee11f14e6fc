//! Run-time registrations the IdP keeps in its database: clients registered in the console or by
//! RFC 7591, and the connection policy as IT last set it.

use rusqlite::params;
use xaa_core::ids::ClientId;
use xaa_core::sqlite::DbError;

use crate::config::{AuthorizationServer, Connection, IdpClient, Registration};
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
                "SELECT client_id, client_secret_sha256, name, redirect_uris, post_logout_redirect_uris, grant_types, open_registration
                 FROM clients ORDER BY created_at, client_id",
            )?;
            let rows = st.query_map([], |r| {
                Ok(IdpClient {
                    client_id: r.get(0)?,
                    client_secret: xaa_core::secret::ClientSecret::Sha256(r.get(1)?),
                    name: r.get(2)?,
                    redirect_uris: from_json(r.get(3)?),
                    post_logout_redirect_uris: from_json(r.get(4)?),
                    grant_types: from_json(r.get(5)?),
                    registration: Registration::stored(r.get(6)?),
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
                if !xaa_core::sqlite::below_open_registration_cap(c, open_cap)? {
                    return Ok(false);
                }
                c.execute(
                    "INSERT INTO clients (client_id, client_secret_sha256, name, redirect_uris, post_logout_redirect_uris,
                                          grant_types, created_at, open_registration)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        client.client_id,
                        client.client_secret.sha256(),
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

    /// Deletes a registered client, its connections and its users' consents, in one transaction.
    pub(crate) async fn delete_client(&self, client_id: String) -> Result<bool, DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let n = tx.execute("DELETE FROM clients WHERE client_id = ?1", params![client_id])?;
                tx.execute("DELETE FROM connections WHERE client_id = ?1", params![client_id])?;
                tx.execute("DELETE FROM consents WHERE client_id = ?1", params![client_id])?;
                tx.execute("DELETE FROM saml_service_providers WHERE client_id = ?1", params![client_id])?;
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
    ///
    /// Connections moved from a lab before tenants (tenant `''`) become the default tenant's.
    pub(crate) fn load_connections(
        &self,
        fixtures: &[Connection],
        fixture_clients: &[ClientId],
        servers: &[AuthorizationServer],
        default_tenant: &str,
    ) -> Result<Vec<Connection>, DbError> {
        let urls: Vec<(String, Vec<String>)> = servers
            .iter()
            .map(|s| (s.issuer.to_string(), s.resources.iter().map(|r| r.resource.to_string()).collect()))
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
            tx.execute("UPDATE connections SET tenant = ?1 WHERE tenant = ''", params![default_tenant])?;
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
                    "SELECT client_id, authorization_server, resource, scopes, resource_client_id, users, tenant
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
                        tenant: r.get(6)?,
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
    tenant: String,
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
            tenant: c.tenant.clone(),
            client_id: c.client_id.to_string(),
            authorization_server: c.authorization_server.to_string(),
            resource: c.resource.to_string(),
            scopes: json(&c.scopes),
            resource_client_id: c.resource_client_id.to_string(),
            users: json(&c.users),
        }
    }
}

impl ConnectionRow {
    pub(crate) fn insert(&self, c: &rusqlite::Connection) -> rusqlite::Result<()> {
        c.execute(
            "INSERT OR REPLACE INTO connections (client_id, authorization_server, resource, scopes, resource_client_id, users, tenant)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                self.client_id,
                self.authorization_server,
                self.resource,
                self.scopes,
                self.resource_client_id,
                self.users,
                self.tenant
            ],
        )
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Registration;
    use crate::store::Store;

    /// An `idp.sqlite` of a lab from before the `open_registration` column: its self-registered
    /// clients (always `dcr-…`) are read as open registrations, the console's as IT's; the next
    /// start changes nothing.
    #[test]
    fn clients_stored_before_the_open_registration_column_are_classified() {
        let path = std::env::temp_dir().join(format!("xaa-idp-registration-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE clients (client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, name TEXT NOT NULL,
                 redirect_uris TEXT NOT NULL, post_logout_redirect_uris TEXT NOT NULL, created_at INTEGER NOT NULL);
             CREATE TABLE logins (id TEXT PRIMARY KEY, csrf TEXT NOT NULL, client_id TEXT NOT NULL,
                 redirect_uri TEXT NOT NULL, state TEXT, nonce TEXT, code_challenge TEXT NOT NULL, scope TEXT NOT NULL,
                 email TEXT, created_at INTEGER NOT NULL);
             INSERT INTO clients VALUES ('dcr-abc123', 's', 'Self', '[\"http://a/cb\"]', '[]', 1);
             INSERT INTO clients VALUES ('workshop-app-x1y2', 's', 'Workshop', '[\"http://a/cb\"]', '[]', 2);",
        )
        .unwrap();
        drop(old);
        let store = Store::open(Some(&path)).unwrap();
        let clients = store.registered_clients().unwrap();
        let registrations: Vec<(&str, Registration)> =
            clients.iter().map(|c| (c.client_id.as_str(), c.registration)).collect();
        assert_eq!(registrations, [("dcr-abc123", Registration::Open), ("workshop-app-x1y2", Registration::It)]);
        drop(store);
        store_it_registered(&path, "dcr-console-app-z9");
        let again = Store::open(Some(&path)).unwrap().registered_clients().unwrap();
        let registrations: Vec<(&str, Registration)> =
            again.iter().map(|c| (c.client_id.as_str(), c.registration)).collect();
        assert_eq!(registrations[2], ("dcr-console-app-z9", Registration::It), "filled in once, at the migration");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// An `idp.sqlite` of a lab from before tenants: its connections table gets the `tenant`
    /// column (part of the key), a registered client's connection becomes the default tenant's
    /// and keeps its scopes, and a second tenant can then hold a connection of the same client.
    #[test]
    fn connections_stored_before_tenants_become_the_default_tenants() {
        use xaa_core::ids::{ClientId, Issuer, ResourceClientId, ResourceUri};

        use crate::config::Connection;
        let path = std::env::temp_dir().join(format!("xaa-idp-tenants-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE connections (client_id TEXT NOT NULL, authorization_server TEXT NOT NULL,
                 resource TEXT NOT NULL, scopes TEXT NOT NULL, resource_client_id TEXT NOT NULL, users TEXT NOT NULL,
                 PRIMARY KEY (client_id, authorization_server, resource));
             INSERT INTO connections VALUES ('app-x1', 'https://as', 'https://api', '[\"r\"]', 'app-x1-at-todo0', '[]');",
        )
        .unwrap();
        drop(old);
        let store = Store::open(Some(&path)).unwrap();
        let loaded = store.load_connections(&[], &[], &[], "customer1").unwrap();
        let mine = Connection {
            client_id: ClientId::new("app-x1"),
            authorization_server: Issuer::new("https://as"),
            resource: ResourceUri::new("https://api"),
            scopes: vec!["r".into()],
            resource_client_id: ResourceClientId::new("app-x1-at-todo0"),
            users: Vec::new(),
            tenant: "customer1".into(),
        };
        assert_eq!(loaded, std::slice::from_ref(&mine));
        let other = Connection { tenant: "customer2".into(), scopes: vec!["w".into()], ..mine.clone() };
        block_on(store.save_connections(vec![mine.clone(), other.clone()]));
        drop(store);
        let again = Store::open(Some(&path)).unwrap().load_connections(&[], &[], &[], "customer1").unwrap();
        assert_eq!(again, [mine, other], "one client, a connection in each tenant");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// An `idp.sqlite` from before client secrets were hashed: opening it keeps only each
    /// registered client's SHA-256, the client still authenticates with its secret, and no byte of
    /// the secret stays in the database or its WAL.
    #[test]
    fn plaintext_client_secrets_are_hashed_on_open() {
        use xaa_core::secret::{ClientSecret, sha256_b64};
        let path = std::env::temp_dir().join(format!("xaa-idp-plaintext-{}.sqlite", std::process::id()));
        let files = |path: &std::path::Path| {
            ["", "-wal", "-shm"].map(|s| std::path::PathBuf::from(format!("{}{s}", path.display())))
        };
        files(&path).iter().for_each(|f| drop(std::fs::remove_file(f)));
        let secret = "plaintext-secret-of-an-older-lab-x7Qz";
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
        old.execute_batch(&format!(
            "CREATE TABLE clients (client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, name TEXT NOT NULL,
                 redirect_uris TEXT NOT NULL, post_logout_redirect_uris TEXT NOT NULL, created_at INTEGER NOT NULL);
             INSERT INTO clients VALUES ('workshop-app-x1y2', '{secret}', 'Workshop', '[\"http://a/cb\"]', '[]', 2);"
        ))
        .unwrap();
        drop(old);
        let store = Store::open(Some(&path)).unwrap();
        let clients = store.registered_clients().unwrap();
        assert_eq!(clients[0].client_secret, ClientSecret::Sha256(sha256_b64(secret)));
        assert!(clients[0].client_secret.matches(secret) && !clients[0].client_secret.matches("s"));
        drop(store);
        for f in files(&path) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{} holds the secret", f.display());
        }
        let again = Store::open(Some(&path)).unwrap().registered_clients().unwrap();
        assert_eq!(again[0].client_secret, clients[0].client_secret, "hashed once");
        files(&path).iter().for_each(|f| drop(std::fs::remove_file(f)));
    }

    fn block_on<T>(f: impl std::future::Future<Output = Result<T, xaa_core::sqlite::DbError>>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f).unwrap()
    }

    /// A console registration stored by today's lab (open_registration = 0).
    fn store_it_registered(path: &std::path::Path, id: &str) {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute(
            "INSERT INTO clients (client_id, client_secret_sha256, name, redirect_uris, post_logout_redirect_uris, created_at)
             VALUES (?1, 's', 'Console', '[]', '[]', 3)",
            [id],
        )
        .unwrap();
    }
}
