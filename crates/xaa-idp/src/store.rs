//! The IdP's SQLite storage. SQL lives only here; every statement is parameterised.

use rusqlite::{OptionalExtension, params};
use xaa_core::ids::ClientId;
use xaa_core::sqlite::{Db, DbError};

/// An authorization request waiting for the user to log in.
#[derive(Clone, Debug)]
pub(crate) struct AuthRequest {
    pub(crate) client_id: ClientId,
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: String,
    pub(crate) scope: String,
    /// `prompt=consent` (OIDC Core §3.1.2.1): ask an openly registered client's user again.
    pub(crate) consent_prompt: bool,
}

/// A login in progress.
#[derive(Clone, Debug)]
pub(crate) struct Login {
    pub(crate) request: AuthRequest,
    pub(crate) email: Option<String>,
    pub(crate) created_at: i64,
}

/// An issued authorization code, as redeemed.
#[derive(Clone, Debug)]
pub(crate) struct CodeGrant {
    pub(crate) request: AuthRequest,
    pub(crate) email: String,
    pub(crate) auth_time: i64,
    pub(crate) expires_at: i64,
    pub(crate) already_used: bool,
}

/// A refresh token as stored (looked up by the hash of its value).
#[derive(Clone, Debug)]
pub(crate) struct RefreshGrant {
    /// The family: the hash of the authorization code the first token of the chain came from.
    pub(crate) code_hash: String,
    pub(crate) client_id: ClientId,
    pub(crate) email: String,
    pub(crate) scope: String,
    pub(crate) auth_time: i64,
    pub(crate) expires_at: i64,
    /// Already rotated: presenting it again is reuse.
    pub(crate) used: bool,
}

/// An IdP access token to write.
#[derive(Clone, Debug)]
pub(crate) struct NewAccessToken {
    pub(crate) hash: String,
    pub(crate) code_hash: String,
    pub(crate) client_id: ClientId,
    pub(crate) email: String,
    pub(crate) scope: String,
    pub(crate) expires_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Store {
    pub(crate) db: Db,
}

impl Store {
    pub(crate) fn open(path: Option<&std::path::Path>) -> Result<Self, DbError> {
        let db = Db::open(path, include_str!("schema.sql"))?;
        db.ensure_column("clients", "grant_types", "TEXT NOT NULL DEFAULT '[]'")?;
        if db.ensure_column("clients", "open_registration", "INTEGER NOT NULL DEFAULT 0")? {
            // Clients stored before the column: open registration made every `dcr-` id, the console
            // never does (a console app named "DCR …" errs on the safe side: its users are asked).
            db.call_now(|c| c.execute("UPDATE clients SET open_registration = 1 WHERE client_id LIKE 'dcr-%'", []))?;
        }
        db.ensure_column("logins", "consent_prompt", "INTEGER NOT NULL DEFAULT 0")?;
        db.ensure_column("audit", "tenant", "TEXT NOT NULL DEFAULT ''")?;
        // Forms' CSRF tokens were stored with each pending login and logout before they were bound
        // to the browser's CSRF cookie.
        db.drop_column("logins", "csrf")?;
        db.drop_column("logouts", "csrf")?;
        move_connections_into_tenants(&db)?;
        hash_stored_client_secrets(&db)?;
        Ok(Self { db })
    }

    /// Stores a pending login (once: a login's email form sent twice stores it once).
    pub(crate) async fn insert_login(&self, id: String, r: AuthRequest, now: i64) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                // Housekeeping: logins are good for LOGIN_TTL, codes for a minute; drop the stale ones.
                c.execute("DELETE FROM logins WHERE created_at < ?1", params![now - crate::authorization_request::LOGIN_TTL])?;
                c.execute("DELETE FROM codes WHERE expires_at < ?1", params![now - 3600])?;
                c.execute("DELETE FROM sessions WHERE expires_at < ?1", params![now])?;
                c.execute("DELETE FROM access_tokens WHERE expires_at < ?1", params![now])?;
                c.execute("DELETE FROM refresh_tokens WHERE expires_at < ?1", params![now])?;
                c.execute(
                    "INSERT INTO logins (id, client_id, redirect_uri, state, nonce, code_challenge, scope, created_at, consent_prompt)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT(id) DO NOTHING",
                    params![
                        id,
                        r.client_id,
                        r.redirect_uri,
                        r.state,
                        r.nonce,
                        r.code_challenge,
                        r.scope,
                        now,
                        r.consent_prompt
                    ],
                )
                .map(drop)
            })
            .await
    }

    pub(crate) async fn login(&self, id: String) -> Result<Option<Login>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT client_id, redirect_uri, state, nonce, code_challenge, scope, email, created_at, consent_prompt
                     FROM logins WHERE id = ?1",
                    params![id],
                    |r| {
                        Ok(Login {
                            request: AuthRequest {
                                client_id: r.get(0)?,
                                redirect_uri: r.get(1)?,
                                state: r.get(2)?,
                                nonce: r.get(3)?,
                                code_challenge: r.get(4)?,
                                scope: r.get(5)?,
                                consent_prompt: r.get(8)?,
                            },
                            email: r.get(6)?,
                            created_at: r.get(7)?,
                        })
                    },
                )
                .optional()
            })
            .await
    }

    pub(crate) async fn set_login_email(&self, id: String, email: String) -> Result<(), DbError> {
        self.db
            .call(move |c| c.execute("UPDATE logins SET email = ?2 WHERE id = ?1", params![id, email]).map(drop))
            .await
    }

    /// Ends a login: the login row is deleted, and the session and code are written, in one transaction.
    pub(crate) async fn complete_login(
        &self,
        login_id: String,
        session_hash: Option<(String, i64)>,
        code_hash: String,
        grant: CodeGrant,
    ) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM logins WHERE id = ?1", params![login_id])?;
                if let Some((hash, expires_at)) = session_hash {
                    tx.execute(
                        "INSERT INTO sessions (id_hash, email, auth_time, expires_at) VALUES (?1, ?2, ?3, ?4)",
                        params![hash, grant.email, grant.auth_time, expires_at],
                    )?;
                }
                insert_code(&tx, &code_hash, &grant)?;
                tx.commit()
            })
            .await
    }

    pub(crate) async fn insert_code(&self, code_hash: String, grant: CodeGrant) -> Result<(), DbError> {
        self.db.call(move |c| insert_code(c, &code_hash, &grant)).await
    }

    /// Marks the code used and returns it as it was (so a second redemption is seen as such).
    pub(crate) async fn redeem_code(&self, code_hash: String) -> Result<Option<CodeGrant>, DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let grant = tx
                    .query_row(
                        "SELECT client_id, redirect_uri, code_challenge, nonce, scope, email, auth_time, expires_at, used
                         FROM codes WHERE code_hash = ?1",
                        params![code_hash],
                        |r| {
                            Ok(CodeGrant {
                                request: AuthRequest {
                                    client_id: r.get(0)?,
                                    redirect_uri: r.get(1)?,
                                    state: None,
                                    code_challenge: r.get(2)?,
                                    nonce: r.get(3)?,
                                    scope: r.get(4)?,
                                    consent_prompt: false,
                                },
                                email: r.get(5)?,
                                auth_time: r.get(6)?,
                                expires_at: r.get(7)?,
                                already_used: r.get::<_, i64>(8)? != 0,
                            })
                        },
                    )
                    .optional()?;
                tx.execute("UPDATE codes SET used = 1 WHERE code_hash = ?1", params![code_hash])?;
                tx.commit()?;
                Ok(grant)
            })
            .await
    }

    /// The live session with this id hash: `(email, auth_time)`.
    pub(crate) async fn session(&self, id_hash: String, now: i64) -> Result<Option<(String, i64)>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT email, auth_time FROM sessions WHERE id_hash = ?1 AND expires_at > ?2",
                    params![id_hash, now],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .await
    }

    /// Starts a session for a user who signed in while their login stays open (for consent).
    pub(crate) async fn insert_session(
        &self,
        id_hash: String,
        email: String,
        auth_time: i64,
        expires_at: i64,
    ) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO sessions (id_hash, email, auth_time, expires_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id_hash, email, auth_time, expires_at],
                )
                .map(drop)
            })
            .await
    }

    /// Ends a login without a code (the user denied consent).
    pub(crate) async fn delete_login(&self, id: String) -> Result<(), DbError> {
        self.db.call(move |c| c.execute("DELETE FROM logins WHERE id = ?1", params![id]).map(drop)).await
    }

    pub(crate) async fn delete_session(&self, id_hash: String) -> Result<(), DbError> {
        self.db.call(move |c| c.execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash]).map(drop)).await
    }

    /// Writes the code grant's access token and, with `offline_access`, its refresh token, together.
    pub(crate) async fn insert_code_tokens(
        &self,
        access: NewAccessToken,
        refresh: Option<(String, RefreshGrant)>,
    ) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                insert_access_token(&tx, &access)?;
                if let Some((hash, grant)) = refresh {
                    insert_refresh_token(&tx, &hash, &grant)?;
                }
                tx.commit()
            })
            .await
    }

    /// The refresh token with this hash, whatever its state (the caller tells unknown, rotated,
    /// expired and another client's apart).
    pub(crate) async fn refresh_token(&self, hash: String) -> Result<Option<RefreshGrant>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT code_hash, client_id, email, scope, auth_time, expires_at, used
                     FROM refresh_tokens WHERE token_hash = ?1",
                    params![hash],
                    |r| {
                        Ok(RefreshGrant {
                            code_hash: r.get(0)?,
                            client_id: r.get(1)?,
                            email: r.get(2)?,
                            scope: r.get(3)?,
                            auth_time: r.get(4)?,
                            expires_at: r.get(5)?,
                            used: r.get::<_, i64>(6)? != 0,
                        })
                    },
                )
                .optional()
            })
            .await
    }

    /// Rotation, all or nothing: marks `old_hash` used and writes its successor and the new access
    /// token. `false` (nothing written) when `old_hash` was rotated meanwhile: a concurrent reuse.
    pub(crate) async fn rotate_refresh_token(
        &self,
        old_hash: String,
        new: (String, RefreshGrant),
        access: NewAccessToken,
    ) -> Result<bool, DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let marked = tx.execute(
                    "UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?1 AND used = 0",
                    params![old_hash],
                )?;
                if marked != 1 {
                    return Ok(false);
                }
                insert_refresh_token(&tx, &new.0, &new.1)?;
                insert_access_token(&tx, &access)?;
                tx.commit()?;
                Ok(true)
            })
            .await
    }

    /// Revokes the access and refresh tokens descended from a code (RFC 6749 §4.1.2 for a replayed
    /// code; OAuth 2.0 Security BCP §4.14.2 for a reused refresh token).
    pub(crate) async fn revoke_tokens_of_code(&self, code_hash: String) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM access_tokens WHERE code_hash = ?1", params![code_hash])?;
                tx.execute("DELETE FROM refresh_tokens WHERE code_hash = ?1", params![code_hash])?;
                tx.commit()
            })
            .await
    }

    /// The live access token with this hash: `(email, scope)`.
    pub(crate) async fn access_token(&self, hash: String, now: i64) -> Result<Option<(String, String)>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT email, scope FROM access_tokens WHERE token_hash = ?1 AND expires_at > ?2",
                    params![hash, now],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .await
    }
}

/// A database from before client secrets were hashed keeps registered clients' secrets in
/// `clients.client_secret`: each is replaced by its SHA-256 in `client_secret_sha256`, and the
/// plaintext column dropped, in one transaction (a failure leaves the database as it was). Then
/// `VACUUM` rewrites the file and the checkpoint empties the WAL, so no copy of a secret stays.
fn hash_stored_client_secrets(db: &Db) -> Result<(), DbError> {
    db.call_now(|c| {
        let has = |c: &rusqlite::Connection, column: &str| {
            c.prepare("SELECT 1 FROM pragma_table_info('clients') WHERE name = ?1")?.exists([column])
        };
        if !has(c, "client_secret")? {
            return Ok(());
        }
        let tx = c.transaction()?;
        if !has(&tx, "client_secret_sha256")? {
            tx.execute_batch("ALTER TABLE clients ADD COLUMN client_secret_sha256 TEXT NOT NULL DEFAULT ''")?;
        }
        let plaintext: Vec<(String, String)> = {
            let mut st = tx.prepare("SELECT client_id, client_secret FROM clients")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
        };
        for (client_id, secret) in plaintext {
            tx.execute(
                "UPDATE clients SET client_secret_sha256 = ?2 WHERE client_id = ?1",
                params![client_id, xaa_core::secret::sha256_b64(&secret)],
            )?;
        }
        tx.execute_batch("ALTER TABLE clients DROP COLUMN client_secret")?;
        tx.commit()?;
        c.execute_batch("VACUUM")?;
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    })
}

fn insert_code(c: &rusqlite::Connection, code_hash: &str, g: &CodeGrant) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO codes (code_hash, client_id, redirect_uri, code_challenge, nonce, scope, email, auth_time, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            code_hash,
            g.request.client_id,
            g.request.redirect_uri,
            g.request.code_challenge,
            g.request.nonce,
            g.request.scope,
            g.email,
            g.auth_time,
            g.expires_at
        ],
    )
    .map(drop)
}

fn insert_access_token(c: &rusqlite::Connection, a: &NewAccessToken) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO access_tokens (token_hash, code_hash, client_id, email, scope, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![a.hash, a.code_hash, a.client_id, a.email, a.scope, a.expires_at],
    )
    .map(drop)
}

fn insert_refresh_token(c: &rusqlite::Connection, hash: &str, g: &RefreshGrant) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO refresh_tokens (token_hash, code_hash, client_id, email, scope, auth_time, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![hash, g.code_hash, g.client_id, g.email, g.scope, g.auth_time, g.expires_at],
    )
    .map(drop)
}

/// Gives the `connections` table of a lab from before tenants its `tenant` column, part of the
/// primary key (so one client may have a connection in each tenant): the table is rebuilt in one
/// transaction, its rows in their order with tenant `''` (the default tenant's, assigned by
/// [`Store::load_connections`]).
fn move_connections_into_tenants(db: &xaa_core::sqlite::Db) -> Result<(), DbError> {
    db.call_now(|c| {
        let has = c.prepare("SELECT 1 FROM pragma_table_info('connections') WHERE name = 'tenant'")?.exists([])?;
        if has {
            return Ok(());
        }
        let tx = c.transaction()?;
        tx.execute_batch(
            "ALTER TABLE connections RENAME TO connections_before_tenants;
             CREATE TABLE connections (
                 tenant               TEXT NOT NULL,
                 client_id            TEXT NOT NULL,
                 authorization_server TEXT NOT NULL,
                 resource             TEXT NOT NULL,
                 scopes               TEXT NOT NULL,
                 resource_client_id   TEXT NOT NULL,
                 users                TEXT NOT NULL,
                 PRIMARY KEY (tenant, client_id, authorization_server, resource)
             );
             INSERT INTO connections (tenant, client_id, authorization_server, resource, scopes, resource_client_id, users)
                 SELECT '', client_id, authorization_server, resource, scopes, resource_client_id, users
                 FROM connections_before_tenants ORDER BY rowid;
             DROP TABLE connections_before_tenants;",
        )?;
        tx.commit()
    })
}
