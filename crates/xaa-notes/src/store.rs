//! The notes app's SQLite storage. SQL lives only here; every statement is parameterised.

use rusqlite::{OptionalExtension, params};
use xaa_core::id_jag_reuse::{Published, ReusePolicy};
use xaa_core::sqlite::{Db, DbError};

/// A sign-in in progress (the `state` is its key).
#[derive(Clone, Debug)]
pub(crate) struct PendingLogin {
    pub(crate) nonce: String,
    pub(crate) pkce_verifier: String,
    pub(crate) return_to: String,
    pub(crate) created_at: i64,
}

/// A signed-in session.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) id_hash: String,
    pub(crate) sub: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) id_token: String,
    pub(crate) id_token_exp: i64,
    pub(crate) access_token: Option<CachedToken>,
}

/// The cached todo-API access token of a session.
#[derive(Clone, Debug)]
pub(crate) struct CachedToken {
    pub(crate) token: String,
    pub(crate) expires_at: i64,
    pub(crate) scope: String,
    /// The ID-JAG re-use policy the authorization server's metadata published for the token's
    /// resource right before the grant (lab decision A2).
    pub(crate) reuse: Published,
}

/// How `access_reuse` stores what the metadata published: the policy's name, the JSON of a value
/// not understood, or NULL when it said nothing.
fn reuse_column(p: &Published) -> Option<String> {
    match p {
        Published::Policy(p) => Some(p.name().to_owned()),
        Published::Unknown(v) => Some(v.clone()),
        Published::Unsaid => None,
    }
}

/// What an `access_reuse` column holds ([`reuse_column`]).
fn reuse_of(column: Option<String>) -> Published {
    match column {
        None => Published::Unsaid,
        Some(v) => ReusePolicy::from_name(&v).map_or(Published::Unknown(v), Published::Policy),
    }
}

/// A note.
#[derive(Clone, Debug)]
pub(crate) struct Note {
    pub(crate) id: i64,
    pub(crate) title: String,
    pub(crate) body: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Store {
    db: Db,
}

impl Store {
    pub(crate) fn open(path: Option<&std::path::Path>) -> Result<Self, DbError> {
        let db = Db::open(path, include_str!("schema.sql"))?;
        // Sessions made before forms' CSRF tokens were bound to the session cookie stored one.
        db.drop_column("sessions", "csrf")?;
        // Sessions made before Lab Notes read the ID-JAG re-use policy have none.
        db.ensure_column("sessions", "access_reuse", "TEXT")?;
        Ok(Self { db })
    }

    pub(crate) async fn insert_login(&self, state: String, login: PendingLogin) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                c.execute("DELETE FROM logins WHERE created_at < ?1", params![login.created_at - 3600])?;
                c.execute(
                    "INSERT INTO logins (state, nonce, pkce_verifier, return_to, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![state, login.nonce, login.pkce_verifier, login.return_to, login.created_at],
                )
                .map(drop)
            })
            .await
    }

    /// Removes and returns the sign-in with this `state` (each is usable once).
    pub(crate) async fn take_login(&self, state: String) -> Result<Option<PendingLogin>, DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let login = tx
                    .query_row(
                        "SELECT nonce, pkce_verifier, return_to, created_at FROM logins WHERE state = ?1",
                        params![state],
                        |r| {
                            Ok(PendingLogin {
                                nonce: r.get(0)?,
                                pkce_verifier: r.get(1)?,
                                return_to: r.get(2)?,
                                created_at: r.get(3)?,
                            })
                        },
                    )
                    .optional()?;
                tx.execute("DELETE FROM logins WHERE state = ?1", params![state])?;
                tx.commit()?;
                Ok(login)
            })
            .await
    }

    pub(crate) async fn insert_session(&self, s: Session, expires_at: i64) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                c.execute("DELETE FROM sessions WHERE expires_at < ?1", params![expires_at - 2 * 86400])?;
                c.execute(
                    "INSERT INTO sessions (id_hash, sub, email, name, id_token, id_token_exp, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![s.id_hash, s.sub, s.email, s.name, s.id_token, s.id_token_exp, expires_at],
                )
                .map(drop)
            })
            .await
    }

    pub(crate) async fn session(&self, id_hash: String, now: i64) -> Result<Option<Session>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT id_hash, sub, email, name, id_token, id_token_exp, access_token, access_token_exp, access_scope,
                            access_reuse
                     FROM sessions WHERE id_hash = ?1 AND expires_at > ?2",
                    params![id_hash, now],
                    |r| {
                        let token: Option<String> = r.get(6)?;
                        Ok(Session {
                            id_hash: r.get(0)?,
                            sub: r.get(1)?,
                            email: r.get(2)?,
                            name: r.get(3)?,
                            id_token: r.get(4)?,
                            id_token_exp: r.get(5)?,
                            access_token: match token {
                                Some(token) => Some(CachedToken {
                                    token,
                                    expires_at: r.get(7)?,
                                    scope: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                                    reuse: reuse_of(r.get(9)?),
                                }),
                                None => None,
                            },
                        })
                    },
                )
                .optional()
            })
            .await
    }

    pub(crate) async fn delete_session(&self, id_hash: String) -> Result<(), DbError> {
        self.db.call(move |c| c.execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash]).map(drop)).await
    }

    /// Caches (or with `None` forgets) the session's access token.
    pub(crate) async fn cache_access_token(&self, id_hash: String, token: Option<CachedToken>) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                let (t, exp, scope, reuse) = match token {
                    Some(t) => (Some(t.token), Some(t.expires_at), Some(t.scope), reuse_column(&t.reuse)),
                    None => (None, None, None, None),
                };
                c.execute(
                    "UPDATE sessions SET access_token = ?2, access_token_exp = ?3, access_scope = ?4, access_reuse = ?5
                     WHERE id_hash = ?1",
                    params![id_hash, t, exp, scope, reuse],
                )
                .map(drop)
            })
            .await
    }

    pub(crate) async fn notes(&self, sub: String) -> Result<Vec<Note>, DbError> {
        self.db
            .call(move |c| {
                let mut stmt =
                    c.prepare("SELECT id, title, body FROM notes WHERE sub = ?1 ORDER BY updated_at DESC, id DESC")?;
                stmt.query_map(params![sub], row_to_note)?.collect()
            })
            .await
    }

    pub(crate) async fn create_note(&self, sub: String, title: String, body: String, now: i64) -> Result<i64, DbError> {
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO notes (sub, title, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![sub, title, body, now],
                )?;
                Ok(c.last_insert_rowid())
            })
            .await
    }

    /// Saves a note; `false` when the user has no such note.
    pub(crate) async fn update_note(
        &self,
        sub: String,
        id: i64,
        title: String,
        body: String,
        now: i64,
    ) -> Result<bool, DbError> {
        self.db
            .call(move |c| {
                let n = c.execute(
                    "UPDATE notes SET title = ?3, body = ?4, updated_at = ?5 WHERE sub = ?1 AND id = ?2",
                    params![sub, id, title, body, now],
                )?;
                Ok(n == 1)
            })
            .await
    }

    pub(crate) async fn delete_note(&self, sub: String, id: i64) -> Result<bool, DbError> {
        self.db
            .call(move |c| Ok(c.execute("DELETE FROM notes WHERE sub = ?1 AND id = ?2", params![sub, id])? == 1))
            .await
    }
}

fn row_to_note(r: &rusqlite::Row<'_>) -> rusqlite::Result<Note> {
    Ok(Note { id: r.get(0)?, title: r.get(1)?, body: r.get(2)? })
}

#[cfg(test)]
mod tests {
    use xaa_core::id_jag_reuse::{Published, ReusePolicy};

    /// A cached token keeps what the metadata published for it, whatever that was.
    #[tokio::test]
    async fn a_cached_token_keeps_the_re_use_policy_published_for_it() {
        let store = super::Store::open(None).unwrap();
        let session = super::Session {
            id_hash: "s".into(),
            sub: "alice".into(),
            email: "alice@x".into(),
            name: "Alice".into(),
            id_token: "t".into(),
            id_token_exp: 50,
            access_token: None,
        };
        store.insert_session(session, 100).await.unwrap();
        for reuse in [
            Published::Policy(ReusePolicy::ReusableUntilExp),
            Published::Policy(ReusePolicy::SingleUse),
            Published::Unsaid,
            Published::Unknown("\"twice\"".into()),
        ] {
            let token =
                super::CachedToken { token: "at".into(), expires_at: 90, scope: "s".into(), reuse: reuse.clone() };
            store.cache_access_token("s".into(), Some(token)).await.unwrap();
            let read = store.session("s".into(), 10).await.unwrap().unwrap().access_token.unwrap();
            assert_eq!(read.reuse, reuse);
        }
    }

    /// A `notes.sqlite` of a lab from before forms' tokens were bound to the session cookie: its
    /// sessions table loses the `csrf` column, and new sessions are stored and read back.
    #[tokio::test]
    async fn sessions_stored_with_a_csrf_column_migrate() {
        let path = std::env::temp_dir().join(format!("xaa-notes-csrf-column-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, csrf TEXT NOT NULL, sub TEXT NOT NULL,
                 email TEXT NOT NULL, name TEXT NOT NULL, id_token TEXT NOT NULL, id_token_exp INTEGER NOT NULL,
                 access_token TEXT, access_token_exp INTEGER, access_scope TEXT, expires_at INTEGER NOT NULL);
             INSERT INTO sessions VALUES ('old', 'token', 'bob', 'bob@x', 'Bob', 't', 5, NULL, NULL, NULL, 100);",
        )
        .unwrap();
        drop(old);
        let store = super::Store::open(Some(&path)).unwrap();
        assert_eq!(store.session("old".into(), 50).await.unwrap().map(|s| s.sub).as_deref(), Some("bob"));
        let new = super::Session {
            id_hash: "new".into(),
            sub: "alice".into(),
            email: "alice@x".into(),
            name: "Alice".into(),
            id_token: "t".into(),
            id_token_exp: 5,
            access_token: None,
        };
        store.insert_session(new, 100).await.unwrap();
        assert_eq!(store.session("new".into(), 50).await.unwrap().map(|s| s.sub).as_deref(), Some("alice"));
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
